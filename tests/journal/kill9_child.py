"""Child of the kill -9 test: writes orders and fills forever, printing each acknowledged write.

A line is printed (and flushed) only after the journal call it reports has returned, i.e. after
the commit. The parent SIGKILLs this process mid-stream and checks every printed line.

    python kill9_child.py PATH FULL|NORMAL [batch]

``batch``: the send path instead: three legs per list through ``record_new_batch``. With NORMAL
the legs are committed inline, so their "N" lines are printed right after the call returns,
before any await (the print stands for the send); with FULL after awaiting the future.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from openclaw.execution import ClientIdFactory, Order, OrderType, Side
from openclaw.journal import Journal

ONE, HUNDRED = Decimal(1), Decimal(100)


async def writer(j: Journal, ids: ClientIdFactory) -> None:
    """Orders of one leg each: NEW, SENT+ACK, then fills of 0.1 until filled."""
    while True:
        opp = ids.next_opportunity()
        o = Order(
            ids.make(opp, 0), "okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, ONE, HUNDRED, opp, 0
        )
        await j.record_new(o)
        sys.stdout.write(f"N {o.client_id}\n")
        sys.stdout.flush()
        await j.record_event(o, o.mark_sent(), o.ack(f"V{opp}"))
        for k in range(10):
            ev = o.fill(f"T{opp}x{k}", "0.1", "100", "0.01", "USDT")
            assert ev is not None
            await j.record_event(o, ev)
            sys.stdout.write(f"F {o.client_id} T{opp}x{k}\n")
            sys.stdout.flush()


async def batch_writer(j: Journal, ids: ClientIdFactory) -> None:
    """Lists of three legs through the send path, then SENT+ACK and one fill per leg."""
    while True:
        opp = ids.next_opportunity()
        legs = [
            Order(ids.make(opp, k), "okx", "BTC-USDT", Side.BUY, OrderType.LIMIT, ONE, HUNDRED,
                  opp, k)
            for k in range(3)
        ]
        fut = j.record_new_batch(legs)
        if j.inline:
            assert fut.done(), "an inline batch is committed when the call returns"
        else:
            await fut
        fut.result()  # raises if the journal refused the list
        sys.stdout.write("".join(f"N {o.client_id}\n" for o in legs))  # "sent" now
        sys.stdout.flush()
        for o in legs:
            await j.record_event(o, o.mark_sent(), o.ack(f"V{o.client_id}"))
            ev = o.fill(f"T{o.client_id}", "1", "100", "0.01", "USDT")
            assert ev is not None
            await j.record_event(o, ev)
            sys.stdout.write(f"F {o.client_id} T{o.client_id}\n")
            sys.stdout.flush()


async def main() -> None:
    path, sync = sys.argv[1], sys.argv[2]
    batch = len(sys.argv) > 3 and sys.argv[3] == "batch"
    j = await Journal.open(path, synchronous=sync)  # type: ignore[arg-type]
    assert j.inline == (sync == "NORMAL"), "NORMAL journals write the send path inline"
    ids = ClientIdFactory()
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    work = batch_writer if batch else writer
    await asyncio.gather(*(work(j, ids) for _ in range(8)))


if __name__ == "__main__":
    asyncio.run(main())
