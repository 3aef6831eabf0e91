"""The engine process of the process-and-disk faults (``openclaw/app/chaos/process.py``).

    python -m openclaw.app.chaos.proc_child SPEC_JSON

It starts as the engine does (``start_system``): the journal's lock, the journal, the ccxt routes
to the simulators given by URL, the router and the order manager; then sends 3-leg lists
(0.01 BTC/USDT market buys, one leg per venue) as ``mode`` says, printing one line per step:

* ``READY <client-id prefix>``; ``STEP journaled`` / ``STEP answered``; ``ERROR <type>: <msg>``
  (exit 2: the start was refused); ``HALT <type>: <msg>`` (exit 3: the journal failed while
  trading, nothing more sent); ``DONE <json>``.

Modes: ``journaled`` (journal a list, do not send it, wait to be killed), ``send`` (send a list,
wait to be killed), ``hold`` (start, wait), ``disk_full`` (``RLIMIT_FSIZE`` at ``fsize`` bytes
once started, lists until the journal fails), ``clock_back`` (a list, the wall clock stepped
``step_s`` seconds back, a second list).
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import sys
import time
from decimal import Decimal
from typing import Any

from openclaw.execution.manager import OrderManager
from openclaw.execution.router import Router, VenueRoute
from openclaw.execution.venues import Credentials, make_client
from openclaw.journal import Journal
from openclaw.journal.lock import lock_journal
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order


def say(line: str) -> None:
    """One line to the parent, flushed."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def legs(ids: ClientIdFactory, venues: list[str]) -> list[Order]:
    """One 3-leg list: a 0.01 BTC/USDT market buy per venue."""
    opp = ids.next_opportunity()
    return [Order(ids.make(opp, k), v, "BTC/USDT", "buy", "market", Decimal("0.01"), None, opp, k)
            for k, v in enumerate(venues)]


def step_wall_clock(seconds: float) -> None:
    """The wall clock (``time.time``/``time_ns``) jumps by ``seconds`` from now on; the
    monotonic clocks cannot go back (the kernel guarantees it) and stay as they are."""
    real, real_ns = time.time, time.time_ns
    time.time = lambda: real() + seconds                        # type: ignore[assignment]
    time.time_ns = lambda: real_ns() + int(seconds * 1e9)       # type: ignore[assignment]


async def main(spec: dict[str, Any]) -> int:
    """Run one mode of the spec; the process's exit code."""
    venues: list[str] = list(spec["urls"])
    mode = spec["mode"]
    if spec.get("as_user") is not None:     # root ignores permissions: drop, imports done
        os.setgid(int(spec["as_user"]))
        os.setuid(int(spec["as_user"]))
    try:
        lock = lock_journal(spec["journal"])
        journal = await Journal.open(spec["journal"], synchronous="NORMAL")
    except OpenclawError as e:
        say(f"ERROR {type(e).__name__}: {e}")
        return 2
    routes = {v: VenueRoute(v, make_client(v, Credentials.simulator(), url, timeout_ms=60_000),
                            timeout_s=55.0)
              for v, url in spec["urls"].items()}
    for r in routes.values():
        await r.start()
    router = Router(routes, journal, visibility_window_s=0.5)
    await router.recover()
    ids = ClientIdFactory()
    manager = OrderManager(router, ids=ids)
    say(f"READY {ids.prefix}")
    try:
        if mode == "journaled":
            await journal.record_new_batch(legs(ids, venues))
            say("STEP journaled")
        elif mode == "send":
            await manager.submit(legs(ids, venues))
            say("STEP answered")
        elif mode == "disk_full":
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead of a core dump
            limit = int(spec["fsize"])
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            for n in range(int(spec.get("lists", 40))):
                orders = await manager.submit(legs(ids, venues))
                say(f"LIST {n} " + " ".join(o.status.value for o in orders))
            say("DONE {}")
            return 0
        elif mode == "clock_back":
            first = await manager.submit(legs(ids, venues))
            step_wall_clock(float(spec["step_s"]))
            second = await manager.submit(legs(ids, venues))
            say("DONE " + json.dumps({"statuses": [o.status.value for o in first + second],
                                      "client_ids": [o.client_id for o in first + second],
                                      "reasons": [o.reason for o in second]}))
            await router.aclose()
            for r in routes.values():
                await r.close()
            await journal.close()
            lock.release()
            return 0
    except OpenclawError as e:
        say(f"HALT {type(e).__name__}: {str(e)[:300]}")
        return 3
    await asyncio.sleep(3600)       # until killed
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
