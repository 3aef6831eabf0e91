"""Order intents, strategy -> execution over a real nats-server, into the order manager on the
venue simulators: a retried intent runs once, refusals carry the reason, every fill is in the
stream once."""

from decimal import Decimal

import nats
import pytest
from support.aio import deadline, until
from support.rigs import trading_rig

from openclaw.bus.intents import IntentClient, IntentError, IntentServer, encode_intent
from openclaw.bus.stream import OrderStream, StreamReader
from openclaw.execution.manager import OrderManager
from openclaw.model.orders import Order

run = deadline(40.0)


class MaxQty:
    """A pre-trade check refusing any leg above ``limit`` (reason ``max_qty``)."""

    def __init__(self, limit: str) -> None:
        self.limit = Decimal(limit)

    def check(self, orders: list[Order]) -> str | None:
        return "max_qty" if any(o.qty > self.limit for o in orders) else None

    def on_result(self, orders: list[Order]) -> None:
        return None


def test_a_retried_intent_is_one_order_list_and_its_fills_are_streamed_once(nats_server,
                                                                             tmp_path):
    async def body():
        async with trading_rig(tmp_path, ws=False) as rig:
            nc_exec = await nats.connect(nats_server.url)
            nc_strat = await nats.connect(nats_server.url)
            manager = OrderManager(rig.router, risk=MaxQty("1"))
            stream = OrderStream(nc_exec, prefix="t1", name="T1")
            await stream.start()
            manager.after_list.append(stream.on_list)
            server = IntentServer(nc_exec, manager, prefix="t1", on_answer=stream.on_answer)
            await server.start()
            try:
                legs = rig.legs()
                # the first send's answer is lost (its inbox is gone) ...
                await nc_strat.publish("t1.intent", encode_intent(legs), reply="t1.gone")
                # ... a strategy that times out again and again, then gets an answer
                impatient = IntentClient(nc_strat, prefix="t1", timeout_s=1e-6, retries=2)
                with pytest.raises(IntentError):
                    await impatient.send(legs)
                assert impatient.timeouts == 3
                reply = await IntentClient(nc_strat, prefix="t1").send(legs)
                assert reply.accepted and reply.duplicate
                assert reply.client_ids == tuple(o.client_id for o in legs)
                # the patient answer was a duplicate; the timed-out tries may or may not have
                # reached the execution role before their requester gave up: never a new list
                assert server.stats.duplicates >= 1
                await until(lambda: manager.stats.lists == 1 and not server.tasks, 15,
                            "the list settled")
                assert server.stats.intents == server.stats.accepted == 1
                for o in legs:
                    assert len(await rig.venue_orders(o.venue, o.client_id)) == 1

                # refused by risk: the reason code, nothing sent
                big = rig.legs(qty="5")
                refused = await IntentClient(nc_strat, prefix="t1").send(big)
                assert (refused.accepted, refused.reason) == (False, "max_qty")
                # a list reusing a client id of another one is refused, not sent
                reuse = [*rig.legs()[:2], big[0]]
                again = await IntentClient(nc_strat, prefix="t1").send(reuse)
                assert (again.accepted, again.reason) == (False, "client_id_reused")
                manager.halt("operator")
                halted = await IntentClient(nc_strat, prefix="t1").send(rig.legs())
                assert (halted.accepted, halted.reason) == (False, "operator")
                assert manager.stats.lists == 1
                for o in big:
                    assert await rig.venue_orders(o.venue, o.client_id) == []

                await stream.flush()
                events = await StreamReader(nc_strat, "obs", prefix="t1", name="T1").read()
                fills = [e for e in events if e["event"] == "fill"]
                per_order = {}
                for o in legs:
                    per_order[o.client_id] = [e["event"] for e in events
                                              if e["client_id"] == o.client_id]
                    assert per_order[o.client_id][0] == "accepted"
                    assert per_order[o.client_id][-1] == "final"
                trade_ids = [(e["client_id"], e["fill"]["trade_id"]) for e in fills]
                assert fills and len(trade_ids) == len(set(trade_ids))
                assert {e["client_id"] for e in fills} == {o.client_id for o in legs}
                assert sum(e["event"] == "refused" for e in events) == len(big) + 3
            finally:
                await server.stop()
                await stream.stop()
                await nc_exec.close()
                await nc_strat.close()

    run(body)
