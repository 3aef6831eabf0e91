"""The order stream on JetStream (file storage): replay from the start by a new observer,
resume by a durable one that was down, repeats dropped by message id, and a kill -9 of the
server in the middle."""

from decimal import Decimal

import nats
from support.aio import deadline, until

from openclaw.bus.stream import OrderStream, StreamReader
from openclaw.model.client_ids import ClientIdFactory
from openclaw.model.orders import Fill, Order, OrderStatus

run = deadline(40.0)


def filled_list(ids: ClientIdFactory) -> list[Order]:
    opp = ids.next_opportunity()
    out = []
    for leg, venue in enumerate(("binance", "okx")):
        o = Order(ids.make(opp, leg), venue, "BTC/USDT", "buy", "market", Decimal("0.02"),
                  None, opp, leg)
        for k in range(2):
            f = Fill(f"T{opp}-{leg}-{k}", Decimal("0.01"), Decimal("50000"))
            o.fills[f.trade_id] = f
        o.filled_qty = Decimal("0.02")
        o.status = OrderStatus.FILLED
        out.append(o)
    return out


def test_observers_replay_resume_and_never_see_a_fill_twice(nats_server):
    async def body():
        ids = ClientIdFactory()
        nc_exec = await nats.connect(nats_server.url, max_reconnect_attempts=-1,
                                     reconnect_time_wait=0.05)
        nc_obs = await nats.connect(nats_server.url, max_reconnect_attempts=-1,
                                    reconnect_time_wait=0.05)
        stream = OrderStream(nc_exec, prefix="t2", name="T2")
        await stream.start()
        try:
            first = filled_list(ids)
            stream.on_list(first)
            stream.on_list(first)              # published twice: the server keeps one
            await stream.flush()
            assert stream.published == 12 and stream.duplicates == 6

            obs = StreamReader(nc_obs, "accounting", prefix="t2", name="T2")
            got = await obs.read()
            assert [(e["event"], e["client_id"]) for e in got] == [
                (ev, o.client_id) for o in first for ev in ("fill", "fill", "final")]
            assert await obs.read() == []      # nothing new for this durable

            # the observer is down while more lists end, and the server is killed -9 meanwhile
            await obs.close()
            second = filled_list(ids)
            stream.on_list(second)
            await stream.flush()
            nats_server.kill()
            third = filled_list(ids)
            stream.on_list(third)              # queued while the server is down
            nats_server.start()
            await stream.flush(15)
            await until(lambda: nc_obs.is_connected, 10, "the observer reconnected")

            back = StreamReader(nc_obs, "accounting", prefix="t2", name="T2")
            missed = await back.read()
            assert [e["client_id"] for e in missed if e["event"] == "final"] == [
                o.client_id for o in second + third]

            fresh = await StreamReader(nc_obs, "alerts", prefix="t2", name="T2").read()
            trades = [e["fill"]["trade_id"] for e in fresh if e["event"] == "fill"]
            assert len(trades) == len(set(trades)) == 12
            assert len(fresh) == 18
        finally:
            await stream.stop()
            await nc_exec.close()
            await nc_obs.close()

    run(body)
