"""Child of the scheduler kill -9 test: executes a slot, journals two orders, then hangs.

Each ``SENT <key>`` line is printed after its order's journal write returned (committed);
``HANG`` once it waits to be killed.

    python kill9_child.py JOURNAL NOW_ISO
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, time

from openclaw.journal import Journal
from openclaw.schedule import RunContext, Scheduler, WeeklySchedule

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from helpers import FakeClock, order  # noqa: E402

KEYS = ("AAPL:sell", "MSFT:sell", "NVDA:buy", "AMZN:buy", "META:buy")


async def job(ctx: RunContext) -> str:
    for k in KEYS[:2]:
        await ctx.journal.record_new(order(ctx.client_id(k)))
        sys.stdout.write(f"SENT {k}\n")
        sys.stdout.flush()
    sys.stdout.write("HANG\n")
    sys.stdout.flush()
    await asyncio.Event().wait()
    return "never"


async def main() -> None:
    j = await Journal.open(sys.argv[1], synchronous="NORMAL")
    clock = FakeClock(datetime.fromisoformat(sys.argv[2]))
    await Scheduler(j, WeeklySchedule(0, time(15, 45)), job, clock=clock, owner="child").poll()


if __name__ == "__main__":
    asyncio.run(main())
