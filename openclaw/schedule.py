"""Weekly scheduled runs on exchange trading days, journaled so that a run never executes twice.

Slots. ``WeeklySchedule(weekday, at, tz, calendar)`` has one slot per ISO week: the configured
weekday at the configured local time (``at``, in ``tz``: the wall-clock time is kept across DST
changes). If that weekday is not a trading session of the exchange calendar (a holiday), the
slot moves to the next session of the same week (Thanksgiving Thursday -> Friday); a week with
no session left after the weekday has no slot. The local time is used as configured on early
close days too; the slot carries the session's open and close for a job that must care. The run
id is ``<name>-<session date>``, e.g. ``momentum-2026-11-23``.

Execution. ``Scheduler.poll()`` looks at the slots of the last ``lookback`` (only the latest
one when the journal has no run of this name yet; never slots before its first journaled run).
A slot is executed only after ``Journal.claim_run`` made this scheduler its owner: the claim is
one SQLite transaction, so two schedulers on one journal (even in two processes) never both
execute a slot. The owner holds a
lease it renews while the job runs; a run found RUNNING under an expired lease (its process
crashed) is resumed by the next poll. Rules, per slot, oldest first:

* finished (succeeded, failed, canceled, skipped): nothing, ever again;
* not the latest slot and never started: SKIPPED ("superseded by <newer run>"), alerted;
* more than ``grace`` after its time and never started: SKIPPED with the delay, alerted;
* started and crashed (lease expired), more than ``grace`` late: claimed and closed FAILED
  ("abandoned"), alerted: orders decided long ago are not sent blindly;
* otherwise (within grace): claimed and executed, at most once at a time.

Idempotent orders. A job gets a ``RunContext`` with the run id, the attempt number and the
client ids already journaled for the run. Client ids are deterministic per (run, key), e.g.
key ``"AAPL:buy"`` (``run_client_id``), and share a per-run prefix (``run_order_prefix``), so
a rerun after a crash recognises what was sent and sends only the rest.

Time. A ``Clock`` gives aware datetimes and sleeps; tests inject one that needs no waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import re
import uuid
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from openclaw.journal import ClaimOutcome, Journal, RunClaim, RunRecord, RunStatus
from openclaw.model.errors import OpenclawError

__all__ = [
    "Clock",
    "Job",
    "PollResult",
    "RunContext",
    "RunOutcome",
    "ScheduleError",
    "ScheduleStatus",
    "Scheduler",
    "Slot",
    "SystemClock",
    "WeeklySchedule",
    "exchange_calendar",
    "load_exchange_calendar",
    "run_client_id",
    "run_order_prefix",
    "schedule_status",
]

log = logging.getLogger("openclaw.schedule")

_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HASH_CHARS = 11  # 62**11 > 2**64: a 64-bit digest fits


class ScheduleError(OpenclawError, ValueError):
    """A schedule that cannot be built or evaluated (bad weekday, time zone, calendar...)."""


# ---- deterministic client ids ----------------------------------------------------------------


def _b62_digest(text: str) -> str:
    n = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
    out = []
    for _ in range(_HASH_CHARS):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "".join(reversed(out))


def run_order_prefix(run_id: str) -> str:
    """The client-id prefix of every order of a run: ``R`` + 11 base62 chars of its hash.

    All ids are ``[A-Za-z0-9]``, which IBKR's orderRef and the crypto venues accept; the ``R``
    tag keeps them apart from ``ClientIdFactory`` ids (``C``).
    """
    if not isinstance(run_id, str) or not run_id:
        raise ScheduleError(f"run_id must be a non-empty string, not {run_id!r}")
    return "R" + _b62_digest(run_id)


def run_client_id(run_id: str, key: str) -> str:
    """The deterministic client order id of one order of a run (23 chars).

    ``key`` names the order within the run, e.g. ``"AAPL:buy"``: the same (run, key) always
    gives the same id, so a rerun finds the order in the journal instead of sending it again.
    Distinct keys collide with probability ~n^2/2^65 (1e-14 for 1000 orders a run).
    """
    if not isinstance(key, str) or not key:
        raise ScheduleError(f"order key must be a non-empty string, not {key!r}")
    return run_order_prefix(run_id) + _b62_digest(key)


# ---- slots -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled execution: when, on which session, under which run id."""

    name: str
    run_id: str
    at: datetime  # aware, in the schedule's time zone
    session: date
    session_open: datetime  # UTC
    session_close: datetime  # UTC

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form (ISO strings)."""
        return {
            "run_id": self.run_id,
            "at": self.at.isoformat(),
            "at_utc": self.at.astimezone(UTC).isoformat(),
            "session": self.session.isoformat(),
            "session_open": self.session_open.isoformat(),
            "session_close": self.session_close.isoformat(),
        }


_CALENDARS: dict[str, Any] = {}


def exchange_calendar(name: str, first: date, last: date) -> Any:
    """An exchange_calendars calendar covering [first, last] (rebuilt wider when needed)."""
    import exchange_calendars as xcals

    cal = _CALENDARS.get(name)
    if cal is not None and cal.first_session.date() <= first and last <= cal.last_session.date():
        return cal
    start = first - timedelta(days=400)
    end = last + timedelta(days=800)
    if cal is not None:
        start = min(start, cal.first_session.date())
        end = max(end, cal.last_session.date())
    try:
        with warnings.catch_warnings():  # exchange_calendars' own pandas deprecation noise
            warnings.filterwarnings("ignore", message="Series.values returning an ndarray")
            cal = xcals.get_calendar(name, start=start.isoformat(), end=end.isoformat())
    except Exception as e:  # unknown name, or dates outside what the calendar supports
        raise ScheduleError(f"calendar {name!r} for {start}..{end}: {e}") from None
    _CALENDARS[name] = cal
    return cal


async def load_exchange_calendar(name: str, first: date, last: date) -> Any:
    """``exchange_calendar`` in a worker thread: importing exchange_calendars and building a
    calendar takes ~0.5 s, which must not stall the event loop (feeds, orders) it runs on."""
    return await asyncio.to_thread(exchange_calendar, name, first, last)


class WeeklySchedule:
    """One slot a week on a trading day (see the module docstring for the holiday rule).

    The constructor loads the exchange calendar (~0.5 s the first time in a process): from
    async code build it with ``await WeeklySchedule.create(...)`` (a worker thread)."""

    def __init__(
        self,
        weekday: int,
        at: time,
        *,
        name: str = "momentum",
        tz: str = "America/New_York",
        calendar: str = "XNYS",
        grace: timedelta = timedelta(hours=2),
    ) -> None:
        """``weekday``: 0 = Monday .. 4 = Friday; ``at``: naive local time in ``tz``;
        ``grace``: how late a missed slot may still be executed."""
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ScheduleError(f"weekday must be an int 0 (Monday) .. 6, not {weekday!r}")
        if not isinstance(at, time) or at.tzinfo is not None:
            raise ScheduleError(f"at must be a naive datetime.time (local to tz), not {at!r}")
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            raise ScheduleError(f"name must match {_NAME_RE.pattern}, not {name!r}")
        if not isinstance(grace, timedelta) or grace < timedelta(0):
            raise ScheduleError(f"grace must be a timedelta >= 0, not {grace!r}")
        try:
            self.zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"unknown time zone {tz!r}") from None
        self.weekday = weekday
        self.at = at
        self.name = name
        self.tz = tz
        self.calendar = calendar
        self.grace = grace
        today = date.today()
        exchange_calendar(calendar, today - timedelta(days=30), today + timedelta(days=30))

    @classmethod
    async def create(cls, weekday: int, at: time, **kw: Any) -> WeeklySchedule:
        """``WeeklySchedule(weekday, at, **kw)`` built in a worker thread (calendar load)."""
        return await asyncio.to_thread(cls, weekday, at, **kw)

    def __repr__(self) -> str:
        return (
            f"WeeklySchedule({self.name!r}, weekday={self.weekday}, at={self.at.isoformat()},"
            f" tz={self.tz!r}, calendar={self.calendar!r}, grace={self.grace})"
        )

    def slot_in_week(self, day: date) -> Slot | None:
        """The slot of the ISO week containing ``day``, or None if that week has none."""
        monday = day - timedelta(days=day.weekday())
        cal = exchange_calendar(self.calendar, monday, monday + timedelta(days=6))
        for offset in range(self.weekday, 7):
            d = monday + timedelta(days=offset)
            if cal.is_session(d.isoformat()):
                local = datetime.combine(d, self.at, tzinfo=self.zone)
                # normalise a wall time that does not exist (DST gap) to a real instant
                local = local.astimezone(UTC).astimezone(self.zone)
                return Slot(
                    self.name,
                    f"{self.name}-{d.isoformat()}",
                    local,
                    d,
                    cal.session_open(d.isoformat()).to_pydatetime(),
                    cal.session_close(d.isoformat()).to_pydatetime(),
                )
        return None

    def slots_between(self, start: datetime, end: datetime) -> list[Slot]:
        """Slots with ``start < at <= end``, oldest first (aware datetimes)."""
        _aware(start, "start")
        _aware(end, "end")
        out: list[Slot] = []
        day = start.astimezone(self.zone).date() - timedelta(days=7)
        last = end.astimezone(self.zone).date() + timedelta(days=7)
        while day <= last:
            slot = self.slot_in_week(day)
            if slot is not None and start < slot.at <= end:
                out.append(slot)
            day += timedelta(days=7)
        return out

    def next_slot(self, after: datetime) -> Slot:
        """The first slot strictly after ``after``."""
        _aware(after, "after")
        day = after.astimezone(self.zone).date()
        for _ in range(60):  # a year without any slot means a broken calendar
            slot = self.slot_in_week(day)
            if slot is not None and slot.at > after:
                return slot
            day += timedelta(days=7)
        raise ScheduleError(f"{self!r}: no slot within 60 weeks after {after.isoformat()}")

    def latest_slot(self, at_or_before: datetime) -> Slot | None:
        """The last slot at or before the given time (searching back 60 weeks), or None."""
        _aware(at_or_before, "at_or_before")
        day = at_or_before.astimezone(self.zone).date()
        for _ in range(60):
            slot = self.slot_in_week(day)
            if slot is not None and slot.at <= at_or_before:
                return slot
            day -= timedelta(days=7)
        return None

    def due_runs(self, now: datetime, last_completed: datetime | None) -> list[Slot]:
        """Slots after ``last_completed`` up to ``now`` (None: only the latest one)."""
        if last_completed is None:
            slot = self.latest_slot(now)
            return [] if slot is None else [slot]
        return self.slots_between(last_completed, now)


def _aware(t: datetime, what: str) -> None:
    if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
        raise ScheduleError(f"{what} must be a timezone-aware datetime, not {t!r}")


# ---- clock -------------------------------------------------------------------------------------


class Clock(Protocol):
    """Wall-clock time and sleeping, injectable for tests."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep about ``seconds`` (may return early; callers re-read ``now``)."""
        ...


class SystemClock:
    """The real clock: UTC now, asyncio sleep."""

    def now(self) -> datetime:
        """The current time in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep`` (negative: no wait)."""
        await asyncio.sleep(max(0.0, seconds))


def _ns(t: datetime) -> int:
    delta = t.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def _from_ns(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


# ---- scheduler ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a job gets: the run, its attempt, and what an earlier attempt already sent."""

    run_id: str
    slot: Slot
    attempt: int  # 1 = first execution; > 1 = resumed after a crash
    sent_client_ids: frozenset[str]  # client ids journaled for this run before this attempt
    journal: Journal
    owner: str

    @property
    def resumed(self) -> bool:
        """True if an earlier attempt started and did not finish (it crashed)."""
        return self.attempt > 1

    def client_id(self, key: str) -> str:
        """The deterministic client order id of the order ``key`` of this run."""
        return run_client_id(self.run_id, key)

    def already_sent(self, key: str) -> bool:
        """True if the order ``key`` was journaled by an earlier attempt."""
        return run_client_id(self.run_id, key) in self.sent_client_ids


#: A scheduled job: returns a one-line result (journaled as the run's detail) or None.
Job = Callable[[RunContext], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What ``poll`` did with one slot."""

    run_id: str
    action: str  # executed | resumed | skipped | abandoned | held | failed
    status: RunStatus | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class PollResult:
    """The slots ``poll`` acted on, and when to poll next."""

    outcomes: list[RunOutcome]
    wake_at: datetime


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """``openclaw-trading schedule status``: the last journaled run and the next slot."""

    name: str
    last: RunRecord | None
    last_succeeded: RunRecord | None
    next: Slot
    schedule: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""

        def rec(r: RunRecord | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                "run_id": r.run_id,
                "status": r.status.value,
                "started": None if r.started_ns is None else _from_ns(r.started_ns).isoformat(),
                "finished": (
                    None if r.finished_ns is None else _from_ns(r.finished_ns).isoformat()
                ),
                "detail": r.detail,
            }

        return {
            "name": self.name,
            "schedule": self.schedule,
            "last": rec(self.last),
            "last_succeeded": rec(self.last_succeeded),
            "next": self.next.to_dict(),
        }


@dataclass
class Scheduler:
    """Executes a ``Job`` on the slots of a ``WeeklySchedule``, exactly once per slot.

    ``owner`` identifies this scheduler in the journal's leases (default: a fresh uuid, so two
    processes never share one). ``alert`` is called (sync or async) with a one-line text when a
    slot is skipped, abandoned or fails. ``lease``: how long a claim lasts without renewal; the
    job's lease is renewed every ``lease / 3``; a crashed run is resumed once it expired.
    """

    journal: Journal
    schedule: WeeklySchedule
    job: Job
    clock: Clock = field(default_factory=SystemClock)
    owner: str = field(default_factory=lambda: f"sched-{uuid.uuid4().hex[:12]}")
    lease: timedelta = timedelta(minutes=5)
    lookback: timedelta = timedelta(weeks=4)
    max_sleep: timedelta = timedelta(seconds=60)
    alert: Callable[[str], Any] | None = None

    def __post_init__(self) -> None:
        if self.lease <= timedelta(0):
            raise ScheduleError(f"lease must be > 0, not {self.lease}")
        if self.max_sleep <= timedelta(0):
            raise ScheduleError(f"max_sleep must be > 0, not {self.max_sleep}")

    # ---- one pass -------------------------------------------------------------------------

    async def poll(self) -> PollResult:
        """Act on every slot due now (see the module docstring); returns when to poll next."""
        now = self.clock.now()
        _aware(now, "clock.now()")
        # the calendar for every slot this poll looks at, (re)built off the loop if needed
        await load_exchange_calendar(
            self.schedule.calendar, (now - self.lookback).date() - timedelta(days=14),
            now.date() + timedelta(days=30))
        known = [r for r in await self.journal.runs() if r.name == self.schedule.name]
        if known:
            # never older than the first run journaled: no backfill of a new schedule's past
            first = min(r.run_id for r in known)
            slots = [
                s for s in self.schedule.slots_between(now - self.lookback, now)
                if s.run_id >= first
            ]
        else:
            latest = self.schedule.latest_slot(now)
            slots = [] if latest is None else [latest]
        outcomes: list[RunOutcome] = []
        wake = self.schedule.next_slot(now).at
        for k, slot in enumerate(slots):
            newest = k == len(slots) - 1
            outcome, retry_at = await self._handle(slot, newest, slots[-1].run_id)
            if outcome is not None:
                outcomes.append(outcome)
            if retry_at is not None:
                wake = min(wake, retry_at)
        return PollResult(outcomes, wake)

    async def _handle(
        self, slot: Slot, newest: bool, newest_id: str
    ) -> tuple[RunOutcome | None, datetime | None]:
        state = await self.journal.run_claim(slot.run_id)
        if state is not None and state.outcome is ClaimOutcome.FINISHED:
            return None, None
        now = self.clock.now()
        late = now - slot.at
        started = state is not None and state.status is RunStatus.RUNNING
        if not started:
            reason = None
            if not newest:
                reason = f"superseded by {newest_id} (missed, never started)"
            elif late > self.schedule.grace:
                reason = (
                    f"missed by {_fmt(late)} (grace {_fmt(self.schedule.grace)}),"
                    f" slot {slot.at.isoformat()}"
                )
            if reason is not None:
                if await self.journal.skip_run(slot.run_id, slot.name, reason, ts_ns=_ns(now)):
                    await self._alert(f"{slot.run_id} skipped: {reason}")
                    return RunOutcome(slot.run_id, "skipped", RunStatus.SKIPPED, reason), None
                return None, None
        claim = await self.journal.claim_run(
            slot.run_id, slot.name, self.owner, now_ns=_ns(now), lease_ns=_ns_td(self.lease)
        )
        if claim.outcome is ClaimOutcome.HELD:
            assert claim.lease_until_ns is not None
            retry = _from_ns(claim.lease_until_ns) + timedelta(seconds=1)
            return RunOutcome(slot.run_id, "held", claim.status, claim.owner), retry
        if claim.outcome is ClaimOutcome.FINISHED:
            return None, None
        if claim.outcome is ClaimOutcome.RESUMED and (late > self.schedule.grace or not newest):
            reason = (
                f"abandoned: attempt {claim.attempt - 1} crashed mid-run and the slot is"
                f" {_fmt(late)} old (grace {_fmt(self.schedule.grace)}); check its orders"
            )
            await self.journal.finish_run(
                slot.run_id, self.owner, RunStatus.FAILED, detail=reason, ts_ns=_ns(now)
            )
            await self._alert(f"{slot.run_id} {reason}")
            return RunOutcome(slot.run_id, "abandoned", RunStatus.FAILED, reason), None
        return await self._execute(slot, claim), None

    async def _execute(self, slot: Slot, claim: RunClaim) -> RunOutcome:
        """Run the job under our lease; journal the result."""
        sent = frozenset(
            o.client_id
            for o in await self.journal.orders_by_prefix(run_order_prefix(slot.run_id))
        )
        ctx = RunContext(slot.run_id, slot, claim.attempt, sent, self.journal, self.owner)
        action = "resumed" if claim.outcome is ClaimOutcome.RESUMED else "executed"
        log.info("run %s %s (attempt %d, %d orders already journaled)", slot.run_id, action,
                 claim.attempt, len(sent))
        job = asyncio.ensure_future(self.job(ctx))
        beat = asyncio.ensure_future(self._heartbeat(slot.run_id, job))
        try:
            result = await job
        except asyncio.CancelledError:
            if beat.done() and beat.result() is False:
                detail = "lost the lease (another scheduler took the run over): job stopped"
                await self._alert(f"{slot.run_id}: {detail}")
                return RunOutcome(slot.run_id, "failed", None, detail)
            raise  # our own shutdown: the run stays RUNNING, resumed after the lease expires
        except Exception as e:
            detail = f"{type(e).__name__}: {e}"
            log.exception("run %s failed", slot.run_id)
            await self._finish(slot.run_id, RunStatus.FAILED, detail)
            await self._alert(f"{slot.run_id} failed: {detail}")
            return RunOutcome(slot.run_id, "failed", RunStatus.FAILED, detail)
        finally:
            beat.cancel()
            try:
                await beat
            except asyncio.CancelledError:
                pass
            except Exception:  # a failed renewal must not hide the job's own outcome
                log.exception("run %s: lease heartbeat failed", slot.run_id)
        await self._finish(slot.run_id, RunStatus.SUCCEEDED, result)
        return RunOutcome(slot.run_id, action, RunStatus.SUCCEEDED, result)

    async def _finish(self, run_id: str, status: RunStatus, detail: str | None) -> None:
        await self.journal.finish_run(
            run_id, self.owner, status, detail=detail, ts_ns=_ns(self.clock.now())
        )

    async def _heartbeat(self, run_id: str, job: asyncio.Future[Any]) -> bool:
        """Renew the lease every lease/3; on losing it, cancel the job and return False."""
        every = self.lease.total_seconds() / 3
        while True:
            await self.clock.sleep(every)
            ok = await self.journal.renew_run_lease(
                run_id, self.owner, now_ns=_ns(self.clock.now()), lease_ns=_ns_td(self.lease)
            )
            if not ok:
                log.critical("run %s: lease lost; stopping the job", run_id)
                job.cancel()
                return False

    async def _alert(self, text: str) -> None:
        log.warning("%s", text)
        if self.alert is None:
            return
        out = self.alert(text)
        if inspect.isawaitable(out):
            await out

    # ---- status and loop ------------------------------------------------------------------

    async def status(self) -> ScheduleStatus:
        """The last journaled run of this schedule, the last that succeeded, and the next slot."""
        return await schedule_status(self.journal, self.schedule, self.clock.now())

    async def run_forever(
        self,
        stop: asyncio.Event | None = None,
        *,
        max_polls: int | None = None,
        on_poll: Callable[[PollResult], None] | None = None,
    ) -> None:
        """Poll, sleep until the next slot (at most ``max_sleep`` at a time), repeat.

        Returns when ``stop`` is set or after ``max_polls`` polls (tests). ``on_poll`` gets
        each poll's result (what was executed, skipped...; the caller's report).
        """
        polls = 0
        while stop is None or not stop.is_set():
            result = await self.poll()
            polls += 1
            if on_poll is not None:
                on_poll(result)
            if max_polls is not None and polls >= max_polls:
                return
            wait = (result.wake_at - self.clock.now()).total_seconds()
            wait = min(max(wait, 0.0), self.max_sleep.total_seconds())
            if stop is None:
                await self.clock.sleep(wait)
                continue
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            stopper = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in (sleeper, stopper):
                    t.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await t


async def schedule_status(
    journal: Journal, schedule: WeeklySchedule, now: datetime | None = None
) -> ScheduleStatus:
    """``openclaw-trading schedule status`` without a scheduler: last runs from the journal, next
    slot after ``now`` (default: the current time)."""
    now = datetime.now(UTC) if now is None else now
    _aware(now, "now")
    runs = sorted(
        (r for r in await journal.runs() if r.name == schedule.name), key=lambda r: r.run_id
    )
    ok = [r for r in runs if r.status is RunStatus.SUCCEEDED]
    return ScheduleStatus(
        schedule.name,
        runs[-1] if runs else None,
        ok[-1] if ok else None,
        schedule.next_slot(now),
        repr(schedule),
    )


def _ns_td(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000_000 + td.microseconds * 1000


def _fmt(td: timedelta) -> str:
    s = int(td.total_seconds())
    sign = "-" if s < 0 else ""
    s = abs(s)
    return f"{sign}{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s"

