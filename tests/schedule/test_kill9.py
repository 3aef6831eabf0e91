"""A scheduler process killed (SIGKILL) mid-run: the rerun completes only the missing orders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

from openclaw.journal import Journal, RunStatus
from openclaw.schedule import RunContext, Scheduler, run_client_id, run_order_prefix

from .helpers import FakeClock, order, run
from .test_schedule import MONDAY, ny

CHILD = Path(__file__).with_name("kill9_child.py")
KEYS = ("AAPL:sell", "MSFT:sell", "NVDA:buy", "AMZN:buy", "META:buy")
RUN = "momentum-2026-11-23"


def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    start = ny(2026, 11, 23, 15, 45)
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), start.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    lines: list[str] = []
    watchdog = threading.Timer(60, proc.kill)  # a child that never prints must not hang us
    watchdog.start()
    try:
        assert proc.stdout is not None
        for ln in proc.stdout:  # the child prints 3 lines then blocks; read them with a bound
            lines.append(ln.strip())
            if ln.strip() == "HANG" or len(lines) > 10:
                break
        assert lines == ["SENT AAPL:sell", "SENT MSFT:sell", "HANG"], (
            lines, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    async def body() -> None:
        sent: list[str] = []

        async def job(ctx: RunContext) -> str:
            assert ctx.attempt == 2
            for k in KEYS:
                if not ctx.already_sent(k):
                    await ctx.journal.record_new(order(ctx.client_id(k)))
                    sent.append(k)
            return f"sent {len(sent)}"

        async with await Journal.open(path, synchronous="NORMAL") as j:
            rec = await j.run(RUN)
            assert rec is not None and rec.status is RunStatus.RUNNING
            clock = FakeClock(start + timedelta(minutes=6))  # past the 5-minute lease
            r = await Scheduler(j, MONDAY, job, clock=clock, owner="restarted").poll()
            assert [o.action for o in r.outcomes] == ["resumed"]
            assert sent == ["NVDA:buy", "AMZN:buy", "META:buy"]
            ids = [o.client_id for o in await j.orders_by_prefix(run_order_prefix(RUN))]
            assert sorted(ids) == sorted(run_client_id(RUN, k) for k in KEYS)
            rec = await j.run(RUN)
            assert rec is not None and rec.status is RunStatus.SUCCEEDED
            assert rec.detail == "sent 3"
            assert await j.consistency_check() == []

    run(body)
