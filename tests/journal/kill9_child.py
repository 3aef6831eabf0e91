"""Child of the kill -9 test: writes orders and fills forever, printing each acknowledged write.

A line is printed (and flushed) only after the journal call it reports has returned, i.e. after
the commit. The parent SIGKILLs this process mid-stream and checks every printed line.

    python kill9_child.py PATH FULL|NORMAL
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


async def main() -> None:
    path, sync = sys.argv[1], sys.argv[2]
    j = await Journal.open(path, synchronous=sync)  # type: ignore[arg-type]
    ids = ClientIdFactory()
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.gather(*(writer(j, ids) for _ in range(8)))


if __name__ == "__main__":
    asyncio.run(main())
