"""The exchange calendar (a ~0.5 s import and build) is loaded off the event loop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import exchange_calendars as xcals
import pytest

import openclaw.schedule as schedule_mod
from openclaw.journal import Journal
from openclaw.schedule import RunContext, Scheduler, WeeklySchedule

from .helpers import FakeClock, run


def test_calendar_builds_run_in_a_worker_thread(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    real = xcals.get_calendar
    threads: list[threading.Thread] = []

    def recording(*a: Any, **kw: Any) -> Any:  # the real build, noting where it ran
        threads.append(threading.current_thread())
        return real(*a, **kw)

    monkeypatch.setattr(xcals, "get_calendar", recording)
    monkeypatch.setattr(schedule_mod, "_CALENDARS", {})

    async def body() -> None:
        sched = await WeeklySchedule.create(0, time(9, 45), grace=timedelta(hours=2))
        assert threads and threads[-1] is not threading.main_thread()
        built = len(threads)
        journal = await Journal.open(tmp_path / "j.sqlite", synchronous="NORMAL")
        try:
            async def job(ctx: RunContext) -> str:
                return "ok"

            # a clock three years back: the poll needs a wider calendar than the one built
            clock = FakeClock(datetime(2023, 11, 20, 14, 50, tzinfo=UTC))
            await Scheduler(journal, sched, job, clock=clock).poll()
            assert len(threads) > built  # it was rebuilt...
            assert all(t is not threading.main_thread() for t in threads)  # ...off the loop
        finally:
            await journal.close()

    run(body, timeout=60)
