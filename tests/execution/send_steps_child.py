"""Child of the send-path kill -9 test: one 3-leg list through the Router and the journal's
intent log, SIGKILLed by itself at a given step.

    python send_steps_child.py SPEC.json

SPEC: {"journal": path, "venue": v, "rest": url, "step": STEP}. STEP: ``before_intent``,
``after_intent`` (the record written, nothing sent), ``leg0``..``leg2`` (the legs go one after
the other; killed once leg k is at the venue, later legs never leave), ``answer0``..``answer2``
(killed right after the router handed leg k's answer to the journal, before it is committed).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from typing import Any

import aiohttp

from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Order, OrderType, Side

SIDES = (Side.BUY, Side.SELL, Side.BUY)


def legs(ids: ClientIdFactory, venue: str) -> list[Order]:
    """Three market legs of 0.001 BTC/USDT (buy, sell, buy)."""
    opp = ids.next_opportunity()
    return [Order(ids.make(opp, k), venue, "BTC/USDT", SIDES[k], OrderType.MARKET,
                  Decimal("0.001"), None, opp, k) for k in range(3)]


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


async def main(spec: dict[str, Any]) -> None:
    step: str = spec["step"]
    journal = await Journal.open(spec["journal"], synchronous="NORMAL", intent_log=True)
    route = VenueRoute(spec["venue"], make_client(spec["venue"], Credentials.simulator(),
                                                  spec["rest"]), timeout_s=30.0)
    await route.start()
    router = Router({spec["venue"]: route}, journal, visibility_window_s=0.5)
    ids = ClientIdFactory()
    orders = legs(ids, spec["venue"])
    assert await journal.prepare_ids(orders[0].client_id)
    log = journal.intent_log
    assert log is not None
    append = log.append

    def hooked_append(os_: Any) -> int:
        if step == "before_intent":
            die()
        slot = append(os_)
        if step == "after_intent":
            die()
        return slot

    log.append = hooked_append  # type: ignore[method-assign]
    http = aiohttp.ClientSession()
    leg_of = {o.client_id: o.leg for o in orders}
    arrived = [asyncio.Event() for _ in orders]
    create = route.client.create_order

    async def at_venue(cid: str) -> None:
        while True:
            async with http.get(f"{spec['rest']}/_sim/orders") as r:
                if any(o["client_id"] == cid for o in (await r.json())["orders"]):
                    return
            await asyncio.sleep(0.005)

    async def hooked_create(symbol: str, otype: str, side: str, qty: float, price: Any,
                            params: dict[str, Any]) -> Any:
        k = leg_of[params["clientOrderId"]]
        if step.startswith("leg"):
            stop = int(step[3:])
            if k > 0:
                await arrived[k - 1].wait()
            if k > stop:
                await asyncio.Event().wait()        # never sent
            task = asyncio.ensure_future(create(symbol, otype, side, qty, price, params))
            await at_venue(params["clientOrderId"])
            arrived[k].set()
            if k == stop:
                die()
            return await task
        return await create(symbol, otype, side, qty, price, params)

    route.client.create_order = hooked_create
    record_event = journal.record_event

    def hooked_event(order: Order, *events: Any) -> Any:
        fut = record_event(order, *events)
        if step == f"answer{order.leg}":
            die()
        return fut

    journal.record_event = hooked_event  # type: ignore[method-assign]
    print("SENDING", " ".join(o.client_id for o in orders), flush=True)
    await router.send_list(orders)
    print("DONE", flush=True)          # a step that never came: the parent fails
    await http.close()


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(main(json.load(f)))
