"""Weekly slots on trading days, and the journaled scheduler: once per slot, catch-up, resume."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from openclaw.journal import Journal, RunStatus
from openclaw.model.errors import DuplicateClientIdError
from openclaw.schedule import (
    RunContext,
    ScheduleError,
    Scheduler,
    WeeklySchedule,
    run_client_id,
    run_order_prefix,
)

from .helpers import FakeClock, order, run

NY = ZoneInfo("America/New_York")
MONDAY = WeeklySchedule(0, time(15, 45), grace=timedelta(hours=2))


def ny(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=NY)


# ---- slots -------------------------------------------------------------------------------------


def test_weekly_slots_and_run_ids() -> None:
    slots = MONDAY.slots_between(ny(2026, 11, 1), ny(2026, 11, 30, 12))
    assert [s.run_id for s in slots] == [
        "momentum-2026-11-02",
        "momentum-2026-11-09",
        "momentum-2026-11-16",
        "momentum-2026-11-23",
    ]
    assert all(s.at.timetz().replace(tzinfo=None) == time(15, 45) for s in slots)
    assert slots[-1].session_close == datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    # end bound inclusive, start exclusive
    at = slots[-1].at
    assert [s.run_id for s in MONDAY.slots_between(at - timedelta(seconds=1), at)] == [
        "momentum-2026-11-23"
    ]
    assert MONDAY.slots_between(at, at + timedelta(seconds=1)) == []


def test_holiday_moves_to_the_next_session_of_the_same_week() -> None:
    thursday = WeeklySchedule(3, time(10, 0))
    # Thanksgiving 2026-11-26 -> Friday 2026-11-27 (an early-close day: the slot says so)
    s = thursday.slot_in_week(date(2026, 11, 23))
    assert s is not None and s.session == date(2026, 11, 27)
    assert s.run_id == "momentum-2026-11-27"
    assert s.session_close == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 13:00 New York
    assert s.at == ny(2026, 11, 27, 10, 0)
    # a normal week keeps Thursday
    s = thursday.slot_in_week(date(2026, 11, 16))
    assert s is not None and s.session == date(2026, 11, 19)
    # Christmas 2026 is a Friday: a Friday schedule has no session left that week
    friday = WeeklySchedule(4, time(15, 0))
    assert friday.slot_in_week(date(2026, 12, 21)) is None
    assert friday.slot_in_week(date(2026, 4, 1)) is None  # Good Friday 2026-04-03
    # Monday holidays (MLK day, Labor Day) -> Tuesday
    assert MONDAY.slot_in_week(date(2026, 1, 19)).session == date(2026, 1, 20)
    assert MONDAY.slot_in_week(date(2026, 9, 7)).session == date(2026, 9, 8)
    # New Year's Day 2027 is a Friday: that week's Friday slot is gone, next one is 2027-01-08
    nxt = friday.next_slot(ny(2026, 12, 31, 16))
    assert nxt.session == date(2027, 1, 8)
    # and the slots between skip the holiday weeks
    ids = [s.run_id for s in friday.slots_between(ny(2026, 12, 14), ny(2027, 1, 9))]
    assert ids == ["momentum-2026-12-18", "momentum-2027-01-08"]


def test_dst_keeps_the_local_time() -> None:
    # US DST starts 2026-03-08 and ends 2026-11-01: 15:45 New York is 20:45 or 19:45 UTC
    utc_hours = {}
    for d in (date(2026, 3, 2), date(2026, 3, 9), date(2026, 10, 26), date(2026, 11, 2)):
        s = MONDAY.slot_in_week(d)
        assert s is not None
        assert (s.at.hour, s.at.minute) == (15, 45)
        u = s.at.astimezone(UTC)
        utc_hours[d] = (u.hour, u.minute)
    assert utc_hours == {
        date(2026, 3, 2): (20, 45),
        date(2026, 3, 9): (19, 45),
        date(2026, 10, 26): (19, 45),
        date(2026, 11, 2): (20, 45),
    }
    # the slot right after the spring change, asked from the last UTC instant before it
    nxt = MONDAY.next_slot(datetime(2026, 3, 2, 20, 45, 1, tzinfo=UTC))
    assert nxt.at.astimezone(UTC) == datetime(2026, 3, 9, 19, 45, tzinfo=UTC)


def test_due_runs_and_latest() -> None:
    now = ny(2026, 11, 23, 16, 0)
    assert [s.run_id for s in MONDAY.due_runs(now, None)] == ["momentum-2026-11-23"]
    assert [s.run_id for s in MONDAY.due_runs(now, ny(2026, 11, 10))] == [
        "momentum-2026-11-16",
        "momentum-2026-11-23",
    ]
    assert MONDAY.latest_slot(ny(2026, 11, 23, 15, 44)).run_id == "momentum-2026-11-16"
    assert MONDAY.next_slot(now).run_id == "momentum-2026-11-30"


def test_bad_schedules_are_refused() -> None:
    with pytest.raises(ScheduleError, match="weekday"):
        WeeklySchedule(7, time(10))
    with pytest.raises(ScheduleError, match="time zone"):
        WeeklySchedule(0, time(10), tz="Mars/Olympus")
    with pytest.raises(ScheduleError, match="naive"):
        WeeklySchedule(0, time(10, tzinfo=UTC))
    with pytest.raises(ScheduleError, match="name"):
        WeeklySchedule(0, time(10), name="Bad Name")
    with pytest.raises(ScheduleError, match="calendar"):
        WeeklySchedule(0, time(10), calendar="NOPE")
    with pytest.raises(ScheduleError, match="aware"):
        MONDAY.next_slot(datetime(2026, 11, 23))


def test_client_ids_are_deterministic_and_valid() -> None:
    a = run_client_id("momentum-2026-11-23", "AAPL:buy")
    assert a == run_client_id("momentum-2026-11-23", "AAPL:buy")
    assert a != run_client_id("momentum-2026-11-23", "AAPL:sell")
    assert a != run_client_id("momentum-2026-11-30", "AAPL:buy")
    assert a.startswith(run_order_prefix("momentum-2026-11-23"))
    assert len(a) == 23 and a.isalnum() and a.isascii()
    keys = {run_client_id("momentum-2026-11-23", f"S{i}:buy") for i in range(2000)}
    assert len(keys) == 2000


# ---- scheduler ---------------------------------------------------------------------------------


class Recorder:
    """A job that counts its executions and can journal orders, fail, or hang."""

    def __init__(self, keys: tuple[str, ...] = (), hang_after: int | None = None,
                 fail: bool = False) -> None:
        self.calls: list[RunContext] = []
        self.keys = keys
        self.hang_after = hang_after
        self.fail = fail
        self.hanging = asyncio.Event()
        self.sent: list[str] = []

    async def __call__(self, ctx: RunContext) -> str:
        self.calls.append(ctx)
        if self.fail:
            raise RuntimeError("broker said no")
        n = 0
        for k in self.keys:
            if ctx.already_sent(k):
                continue
            if self.hang_after is not None and n == self.hang_after:
                self.hanging.set()
                await asyncio.Event().wait()  # the "crash" happens here
            await ctx.journal.record_new(order(ctx.client_id(k)))
            self.sent.append(k)
            n += 1
        await asyncio.sleep(0.01)
        return f"sent {n}"


async def _open(path: Path) -> Journal:
    return await Journal.open(path, synchronous="NORMAL")


def test_on_time_slot_runs_once(tmp_path: Path) -> None:
    async def body() -> None:
        clock = FakeClock(ny(2026, 11, 23, 15, 46))
        job = Recorder()
        async with await _open(tmp_path / "j.sqlite") as j:
            s = Scheduler(j, MONDAY, job, clock=clock)
            r1 = await s.poll()
            assert [(o.run_id, o.action) for o in r1.outcomes] == [
                ("momentum-2026-11-23", "executed")
            ]
            assert r1.wake_at == ny(2026, 11, 30, 15, 45)
            r2 = await s.poll()
            assert r2.outcomes == []
            rec = await j.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.SUCCEEDED
            assert rec.detail == "sent 0" and rec.name == "momentum"
        assert len(job.calls) == 1 and job.calls[0].attempt == 1

    run(body)


def test_missed_run_is_caught_up_exactly_once(tmp_path: Path) -> None:
    async def body() -> None:
        job = Recorder()
        path = tmp_path / "j.sqlite"
        # down over the slot; started 90 minutes late (grace 2 h)
        clock = FakeClock(ny(2026, 11, 23, 17, 15))
        async with await _open(path) as j:
            r = await Scheduler(j, MONDAY, job, clock=clock).poll()
            assert [o.action for o in r.outcomes] == ["executed"]
        # restarted again, later: nothing to do for that slot, ever
        clock.advance(minutes=10)
        async with await _open(path) as j:
            r = await Scheduler(j, MONDAY, job, clock=clock).poll()
            assert r.outcomes == []
            clock.advance(days=3)
            assert (await Scheduler(j, MONDAY, job, clock=clock).poll()).outcomes == []
        assert len(job.calls) == 1

    run(body)


def test_missed_beyond_grace_is_skipped_and_alerted(tmp_path: Path) -> None:
    async def body() -> None:
        job = Recorder()
        alerts: list[str] = []

        async def alert(text: str) -> None:
            alerts.append(text)

        clock = FakeClock(ny(2026, 11, 23, 18, 0))  # 2h15 late
        async with await _open(tmp_path / "j.sqlite") as j:
            s = Scheduler(j, MONDAY, job, clock=clock, alert=alert)
            r = await s.poll()
            assert [(o.run_id, o.action) for o in r.outcomes] == [
                ("momentum-2026-11-23", "skipped")
            ]
            rec = await j.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.SKIPPED
            assert "missed by 2h15m00s (grace 2h00m00s)" in (rec.detail or "")
            assert len(alerts) == 1 and "skipped" in alerts[0]
            assert (await s.poll()).outcomes == []
            assert len(alerts) == 1
        assert job.calls == []

    run(body)


def test_older_missed_slot_is_superseded(tmp_path: Path) -> None:
    async def body() -> None:
        job = Recorder()
        clock = FakeClock(ny(2026, 11, 9, 15, 50))
        async with await _open(tmp_path / "j.sqlite") as j:
            s = Scheduler(j, MONDAY, job, clock=clock)
            await s.poll()  # 11-09 runs
            clock.set(ny(2026, 11, 23, 16, 0))  # down for two weeks
            r = await s.poll()
            assert [(o.run_id, o.action) for o in r.outcomes] == [
                ("momentum-2026-11-16", "skipped"),
                ("momentum-2026-11-23", "executed"),
            ]
            rec = await j.run("momentum-2026-11-16")
            assert rec is not None and "superseded by momentum-2026-11-23" in (rec.detail or "")
        assert [c.run_id for c in job.calls] == ["momentum-2026-11-09", "momentum-2026-11-23"]

    run(body)


def test_failed_job_is_journaled_alerted_and_not_retried(tmp_path: Path) -> None:
    async def body() -> None:
        job = Recorder(fail=True)
        alerts: list[str] = []
        clock = FakeClock(ny(2026, 11, 23, 15, 45))
        async with await _open(tmp_path / "j.sqlite") as j:
            s = Scheduler(j, MONDAY, job, clock=clock, alert=alerts.append)
            r = await s.poll()
            assert [(o.action, o.status) for o in r.outcomes] == [("failed", RunStatus.FAILED)]
            rec = await j.run("momentum-2026-11-23")
            assert rec is not None and rec.detail == "RuntimeError: broker said no"
            assert (await s.poll()).outcomes == []
        assert len(job.calls) == 1 and len(alerts) == 1

    run(body)


KEYS = ("AAPL:sell", "MSFT:sell", "NVDA:buy", "AMZN:buy", "META:buy")


def test_crash_mid_run_resumes_only_the_missing_orders(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        clock = FakeClock(ny(2026, 11, 23, 15, 45))
        lease = timedelta(minutes=5)
        first = Recorder(KEYS, hang_after=2)
        j1 = await _open(path)
        s1 = Scheduler(j1, MONDAY, first, clock=clock, lease=lease, owner="proc-1")
        task = asyncio.ensure_future(s1.poll())
        await asyncio.wait_for(first.hanging.wait(), 10)
        task.cancel()  # the process dies mid-run: no finish is journaled
        with pytest.raises(asyncio.CancelledError):
            await task
        await j1.close()
        assert first.sent == ["AAPL:sell", "MSFT:sell"]

        second = Recorder(KEYS)
        async with await _open(path) as j2:
            rec = await j2.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.RUNNING
            s2 = Scheduler(j2, MONDAY, second, clock=clock, lease=lease, owner="proc-2")
            # restarted within the dead owner's lease: held, retried when it expires
            clock.set(ny(2026, 11, 23, 15, 46))
            r = await s2.poll()
            assert [o.action for o in r.outcomes] == ["held"]
            claim = await j2.run_claim("momentum-2026-11-23")
            assert claim is not None and claim.owner == "proc-1"
            assert r.wake_at == datetime.fromtimestamp(
                claim.lease_until_ns / 1e9, UTC) + timedelta(seconds=1)
            assert second.calls == []
            clock.set(r.wake_at)
            r = await s2.poll()
            assert [o.action for o in r.outcomes] == ["resumed"]
            ctx = second.calls[0]
            assert ctx.attempt == 2 and ctx.resumed
            assert ctx.sent_client_ids == {
                run_client_id("momentum-2026-11-23", k) for k in ("AAPL:sell", "MSFT:sell")
            }
            assert second.sent == ["NVDA:buy", "AMZN:buy", "META:buy"]
            orders = await j2.orders_by_prefix(run_order_prefix("momentum-2026-11-23"))
            assert sorted(o.client_id for o in orders) == sorted(
                run_client_id("momentum-2026-11-23", k) for k in KEYS
            )
            rec = await j2.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.SUCCEEDED
            # a journaled id can never be sent twice: the journal's backstop
            with pytest.raises(DuplicateClientIdError):
                await j2.record_new(order(run_client_id("momentum-2026-11-23", "AAPL:sell")))
            assert (await s2.poll()).outcomes == []
        assert len(second.calls) == 1

    run(body)


def test_crash_past_grace_is_abandoned_not_resumed(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        clock = FakeClock(ny(2026, 11, 23, 15, 45))
        first = Recorder(KEYS, hang_after=1)
        j1 = await _open(path)
        task = asyncio.ensure_future(Scheduler(j1, MONDAY, first, clock=clock).poll())
        await asyncio.wait_for(first.hanging.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await j1.close()
        alerts: list[str] = []
        second = Recorder(KEYS)
        clock.set(ny(2026, 11, 23, 19, 0))
        async with await _open(path) as j2:
            r = await Scheduler(j2, MONDAY, second, clock=clock, alert=alerts.append).poll()
            assert [(o.action, o.status) for o in r.outcomes] == [("abandoned", RunStatus.FAILED)]
            rec = await j2.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.FAILED
            assert "crashed mid-run" in (rec.detail or "")
        assert second.calls == [] and len(alerts) == 1

    run(body)


def test_two_schedulers_on_one_journal_never_run_a_slot_twice(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        executed: list[tuple[str, str]] = []

        def job_for(owner: str):
            async def job(ctx: RunContext) -> str:
                executed.append((ctx.run_id, owner))
                await asyncio.sleep(0.05)  # both pollers are in flight at once
                return owner

            return job

        ja, jb = await _open(path), await _open(path)  # two connections, two writer threads
        try:
            for week in range(6):
                at = ny(2026, 10, 19, 15, 45) + timedelta(weeks=week)
                ca, cb = FakeClock(at), FakeClock(at + timedelta(seconds=1))
                sa = Scheduler(ja, MONDAY, job_for("a"), clock=ca)
                sb = Scheduler(jb, MONDAY, job_for("b"), clock=cb)
                ra, rb = await asyncio.gather(sa.poll(), sb.poll())
                acts = sorted(o.action for o in ra.outcomes + rb.outcomes)
                assert acts == ["executed", "held"], (week, acts)
        finally:
            await ja.close()
            await jb.close()
        ids = [r for r, _ in executed]
        assert len(ids) == 6 and len(set(ids)) == 6

    run(body)


def test_status_and_run_forever(tmp_path: Path) -> None:
    async def body() -> None:
        job = Recorder()
        alerts: list[str] = []
        clock = FakeClock(ny(2026, 11, 18, 12, 0), auto=True)
        async with await _open(tmp_path / "j.sqlite") as j:
            s = Scheduler(j, MONDAY, job, clock=clock, alert=alerts.append,
                          max_sleep=timedelta(days=8))
            st = await s.status()
            assert st.last is None and st.next.run_id == "momentum-2026-11-23"
            await s.run_forever(max_polls=3)
            st = await s.status()
            d = st.to_dict()
            assert d["last"]["run_id"] == "momentum-2026-11-30"
            assert d["last"]["status"] == "succeeded"
            assert d["next"]["run_id"] == "momentum-2026-12-07"
            stop = asyncio.Event()
            stop.set()
            await s.run_forever(stop)  # returns at once
        # 11-16 was long past at start: skipped; then 11-23 and 11-30 on time
        assert [c.run_id for c in job.calls] == ["momentum-2026-11-23", "momentum-2026-11-30"]
        assert len(alerts) == 1 and "momentum-2026-11-16" in alerts[0]
        assert all(c.slot.at.hour == 15 for c in job.calls)

    run(body)


def test_a_scheduler_that_lost_its_lease_stops_its_job(tmp_path: Path) -> None:
    async def body() -> None:
        path = tmp_path / "j.sqlite"
        lease = timedelta(minutes=5)
        slow = Recorder(KEYS, hang_after=1)
        alerts: list[str] = []
        async with await _open(path) as j:
            c1 = FakeClock(ny(2026, 11, 23, 15, 45))  # a process paused (GC, swap, SIGSTOP)
            s1 = Scheduler(j, MONDAY, slow, clock=c1, lease=lease, owner="paused",
                           alert=alerts.append)
            t1 = asyncio.ensure_future(s1.poll())
            await asyncio.wait_for(slow.hanging.wait(), 10)
            # another scheduler sees the lease expired and takes the run over
            c2 = FakeClock(ny(2026, 11, 23, 15, 51))
            other = Recorder(KEYS)
            r2 = await Scheduler(j, MONDAY, other, clock=c2, lease=lease, owner="other").poll()
            assert [o.action for o in r2.outcomes] == ["resumed"]
            assert other.sent == ["MSFT:sell", "NVDA:buy", "AMZN:buy", "META:buy"]
            # the paused one wakes up: its renewal fails, its job is stopped, nothing journaled
            c1.advance(minutes=2)
            r1 = await asyncio.wait_for(t1, 10)
            assert [(o.action, o.status) for o in r1.outcomes] == [("failed", None)]
            assert "lost the lease" in (r1.outcomes[0].detail or "")
            assert len(alerts) == 1
            rec = await j.run("momentum-2026-11-23")
            assert rec is not None and rec.status is RunStatus.SUCCEEDED and rec.detail == "sent 4"
        assert slow.sent == ["AAPL:sell"]

    run(body)
