"""Durable journal of orders, order events, balance snapshots and scheduled runs (SQLite, WAL).

Why: an order must be on disk before it is sent, so that after a crash every order that may
exist at a venue is known (``open_orders()`` at start-up) and can be reconciled by client id.

How it stays off the trading loop: one dedicated writer thread owns the only connection. Every
call enqueues a closure (``queue.SimpleQueue``, no lock held by the loop) and returns an
``asyncio.Future``; the thread drains the queue, runs what it found in ONE transaction (one
savepoint per call, so a refused call rolls back alone), commits, and only then resolves the
futures through ``call_soon_threadsafe``. ``await journal.record_new(order)`` therefore returns
only after the row is committed, and concurrent writers share one fsync (group commit). Calls
are applied in call order; the loop's cost per call is building a tuple and a queue put.

Durability (``synchronous``):

* ``"FULL"`` (default): WAL + ``synchronous=FULL`` fsyncs the WAL at every commit, so an
  acknowledged write survives a process kill *and* an OS crash or power cut. This is the money
  path: an order sent but lost from the journal is an order nobody reconciles.
* ``"NORMAL"``: WAL + ``synchronous=NORMAL`` skips that fsync (only checkpoints sync). An
  acknowledged write survives ``kill -9`` (it is in the OS page cache) but the last commits may
  be lost in an OS crash or power cut. About 10x faster per commit on this VM; use it only when
  that window is acceptable (tests, paper trading).

Cancellation: cancelling the task that awaits a write does not cancel the write (it may
already be committed); the future simply is not resolved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from openclaw.errors import (
    DuplicateClientIdError,
    DuplicateFillError,
    JournalClosedError,
    JournalError,
    OpenclawError,
)
from openclaw.execution.orders import (
    FINAL_STATUSES,
    EventKind,
    Fill,
    Order,
    OrderEvent,
    OrderStatus,
    to_decimal,
)

__all__ = [
    "SCHEMA_VERSION",
    "BalanceSnapshot",
    "ClaimOutcome",
    "Inconsistency",
    "Journal",
    "JournalFill",
    "JournalStats",
    "RunClaim",
    "RunRecord",
    "RunStatus",
]

log = logging.getLogger("openclaw.journal")

SCHEMA_VERSION = 1
_CHECKPOINT_EVERY = 256  # commits between two checkpoint requests
_CHECKPOINT_IDLE_S = 1.0  # and at least this often while writes trickle in
T = TypeVar("T")
Synchronous = Literal["FULL", "NORMAL"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    client_id TEXT PRIMARY KEY,
    venue TEXT NOT NULL,
    symbol TEXT NOT NULL,
    side TEXT NOT NULL,
    order_type TEXT NOT NULL,
    qty TEXT NOT NULL,
    price TEXT,
    opportunity_id INTEGER NOT NULL,
    leg INTEGER NOT NULL,
    venue_order_id TEXT,
    filled_qty TEXT NOT NULL,
    notional TEXT NOT NULL,
    fees TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    created_ns INTEGER NOT NULL,
    sent_ns INTEGER,
    acked_ns INTEGER,
    updated_ns INTEGER NOT NULL,
    closed_ns INTEGER,
    final INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_open ON orders (created_ns) WHERE final = 0;
CREATE INDEX IF NOT EXISTS orders_opportunity ON orders (opportunity_id, leg);
CREATE TABLE IF NOT EXISTS order_events (
    id INTEGER PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES orders (client_id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    ts_ns INTEGER NOT NULL,
    venue_order_id TEXT,
    trade_id TEXT,
    qty TEXT,
    price TEXT,
    fee TEXT,
    fee_asset TEXT,
    reason TEXT,
    recorded_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS order_events_client ON order_events (client_id, id);
CREATE UNIQUE INDEX IF NOT EXISTS order_events_trade
    ON order_events (client_id, trade_id) WHERE kind = 'fill';
CREATE TABLE IF NOT EXISTS balance_snapshots (
    id INTEGER PRIMARY KEY,
    venue TEXT NOT NULL,
    ts_ns INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS balance_snapshots_venue ON balance_snapshots (venue, id);
CREATE TABLE IF NOT EXISTS balances (
    snapshot_id INTEGER NOT NULL REFERENCES balance_snapshots (id),
    asset TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, asset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    updated_ns INTEGER NOT NULL,
    started_ns INTEGER,
    finished_ns INTEGER,
    detail TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_status ON runs (status, created_ns);
CREATE TABLE IF NOT EXISTS run_leases (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id),
    owner TEXT NOT NULL,
    lease_until_ns INTEGER NOT NULL,
    attempts INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_plans (
    run_id TEXT PRIMARY KEY REFERENCES runs (run_id),
    plan TEXT NOT NULL,
    created_ns INTEGER NOT NULL
) WITHOUT ROWID;
"""


class RunStatus(StrEnum):
    """Status of a scheduled run."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"  # never executed (missed beyond its grace period); detail says why


_RUN_FINAL = frozenset(
    {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELED, RunStatus.SKIPPED}
)


class ClaimOutcome(StrEnum):
    """What ``Journal.claim_run`` found."""

    CLAIMED = "claimed"  # first execution: the caller owns the run now
    RESUMED = "resumed"  # it was RUNNING under an expired lease (crash): the caller owns it now
    HELD = "held"  # RUNNING under another owner's live lease: do not execute
    FINISHED = "finished"  # already in a final status: never execute again


@dataclass(frozen=True, slots=True)
class RunClaim:
    """The answer of ``Journal.claim_run``: who owns the run and since which attempt."""

    run_id: str
    outcome: ClaimOutcome
    status: RunStatus  # status after the call
    owner: str | None  # the lease holder after the call (None: never leased)
    lease_until_ns: int | None
    attempt: int  # executions started so far (1 on the first claim, 2 after one resume, ...)

    @property
    def owned(self) -> bool:
        """True if the caller now owns the run and must execute it."""
        return self.outcome in (ClaimOutcome.CLAIMED, ClaimOutcome.RESUMED)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One scheduled run as journaled."""

    run_id: str
    name: str
    status: RunStatus
    created_ns: int
    updated_ns: int
    started_ns: int | None
    finished_ns: int | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class BalanceSnapshot:
    """Balances of one venue at one time."""

    snapshot_id: int
    venue: str
    ts_ns: int
    balances: dict[str, Decimal]


@dataclass(frozen=True, slots=True)
class JournalFill:
    """A journaled fill with the order it belongs to."""

    client_id: str
    venue: str
    symbol: str
    side: str
    opportunity_id: int
    leg: int
    fill: Fill


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """One failed check of ``consistency_check`` (``client_id`` None: the whole file)."""

    client_id: str | None
    check: str
    detail: str


@dataclass(frozen=True, slots=True)
class JournalStats:
    """Counters of the writer thread."""

    calls: int  # calls executed (writes and reads)
    batches: int  # transactions committed
    failed_calls: int
    max_batch: int
    checkpoints: int  # WAL checkpoints run by the checkpoint thread


# one queued call: the function run on the writer thread, the future to resolve
_Call = tuple[Callable[[sqlite3.Connection], Any], "asyncio.Future[Any]"]
_STOP = object()


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _fees_json(fees: Mapping[str, Decimal]) -> str:
    return orjson.dumps({k: str(v) for k, v in sorted(fees.items())}).decode()


def _order_snapshot(order: Order) -> tuple[Any, ...]:
    """The mutable columns of an order, taken on the loop thread at call time."""
    return (
        order.status.value,
        order.venue_order_id,
        str(order.filled_qty),
        str(order.notional),
        _fees_json(order.fees),
        order.reason,
        order.sent_ns,
        order.acked_ns,
        order.updated_ns,
        order.closed_ns,
        1 if order.is_final else 0,
    )


def _event_row(ev: OrderEvent, recorded_ns: int) -> tuple[Any, ...]:
    f = ev.fill
    return (
        ev.client_id,
        ev.kind.value,
        ev.status.value,
        ev.ts_ns,
        ev.venue_order_id,
        f.trade_id if f else None,
        str(f.qty) if f else None,
        str(f.price) if f else None,
        str(f.fee) if f else None,
        f.fee_asset if f else None,
        ev.reason,
        recorded_ns,
    )


_ORDER_COLS = (
    "client_id, venue, symbol, side, order_type, qty, price, opportunity_id, leg, venue_order_id,"
    " filled_qty, notional, fees, status, reason, created_ns, sent_ns, acked_ns, updated_ns,"
    " closed_ns, final"
)


class Journal:
    """The SQLite journal; open with ``await Journal.open(path)``, close with ``await close()``.

    Writes (``record_*``) return a future that resolves once the row is committed; reads are
    coroutines run on the same writer thread (so they see every earlier write).
    """

    def __init__(
        self, path: Path, synchronous: Synchronous, max_batch: int, checkpoint_pages: int
    ) -> None:
        """Use ``Journal.open``; this only sets fields."""
        self._path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._checkpoint_pages = checkpoint_pages
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._dead: str | None = None  # why the writer thread stopped unexpectedly
        self._calls = 0
        self._batches = 0
        self._failed = 0
        self._largest_batch = 0
        # checkpoints run on their own thread and connection, off the commit path
        self._ckpt_thread: threading.Thread | None = None
        self._ckpt_wake = threading.Event()
        self._ckpt_stop = threading.Event()
        self._ckpt_due = 0  # batches committed since the last checkpoint request
        self._checkpoints = 0

    # ---- life cycle -----------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        max_batch: int = 512,
        checkpoint_pages: int = 4000,
    ) -> Journal:
        """Open (creating if needed) the journal at ``path`` in WAL mode and start its writer.

        ``max_batch``: most calls committed in one transaction. ``checkpoint_pages``: WAL size
        (pages) at which the writer checkpoints inline; the checkpoint thread normally does it
        in the background, but under a write stream with no idle second it cannot finish one
        (a WAL is reset only after a checkpoint that saw no concurrent commit), so this bounds
        the WAL.

        Raises ``JournalError`` if the file cannot be opened, is not a journal of this schema
        version, or cannot be put in WAL mode (no fallback to another journal mode).
        """
        if synchronous not in ("FULL", "NORMAL"):
            raise JournalError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        if max_batch < 1:
            raise JournalError(f"max_batch must be >= 1, not {max_batch!r}")
        if checkpoint_pages < 1:
            raise JournalError(f"checkpoint_pages must be >= 1, not {checkpoint_pages!r}")
        p = Path(path)
        if str(path) == ":memory:" or not str(path):
            raise JournalError(f"the journal needs a file path, not {str(path)!r}")
        self = cls(p, synchronous, max_batch, checkpoint_pages)
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name=f"journal-writer:{p.name}", daemon=True
        )
        self._thread.start()
        try:
            await ready
        except BaseException:
            self._closed = True
            await asyncio.to_thread(self._thread.join)
            raise
        self._ckpt_thread = threading.Thread(
            target=self._checkpoint_loop, name=f"journal-checkpoint:{p.name}", daemon=True
        )
        self._ckpt_thread.start()
        return self

    async def close(self) -> None:
        """Commit what is queued, checkpoint, close the file and stop the writer thread."""
        if self._closed:
            return
        self._closed = True
        if self._ckpt_thread is not None:
            self._ckpt_stop.set()
            self._ckpt_wake.set()
            await asyncio.to_thread(self._ckpt_thread.join)
        if self._thread is None:
            return
        self._queue.put(_STOP)  # the writer's close is the last one: it checkpoints the WAL
        await asyncio.to_thread(self._thread.join)

    async def __aenter__(self) -> Journal:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def path(self) -> Path:
        """The journal file."""
        return self._path

    @property
    def synchronous(self) -> Synchronous:
        """The SQLite ``synchronous`` level writes are committed with."""
        return self._synchronous

    def stats(self) -> JournalStats:
        """Counters of the writer thread (read without locking: approximate while writing)."""
        return JournalStats(
            self._calls, self._batches, self._failed, self._largest_batch, self._checkpoints
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Journal({str(self._path)!r}, synchronous={self._synchronous}, {state})"

    # ---- writes ---------------------------------------------------------------------------

    def record_new(self, order: Order) -> asyncio.Future[None]:
        """Journal a NEW order; await it BEFORE sending the order to the venue.

        Fails with ``DuplicateClientIdError`` if the client id was ever journaled before.
        """
        if order.status is not OrderStatus.NEW or order.fills:
            raise JournalError(
                f"record_new takes a NEW order without fills; {order.client_id} is {order.status}"
            )
        row = (
            order.client_id,
            order.venue,
            order.symbol,
            order.side.value,
            order.order_type.value,
            str(order.qty),
            None if order.price is None else str(order.price),
            order.opportunity_id,
            order.leg,
            order.venue_order_id,
            str(order.filled_qty),
            str(order.notional),
            _fees_json(order.fees),
            order.status.value,
            order.reason,
            order.created_ns,
            order.sent_ns,
            order.acked_ns,
            order.updated_ns,
            order.closed_ns,
            0,
        )
        client_id = order.client_id

        def run(conn: sqlite3.Connection) -> None:
            try:
                conn.execute(
                    f"INSERT INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * len(row))})",
                    row,
                )
            except sqlite3.IntegrityError:
                raise DuplicateClientIdError(
                    f"client id {client_id} is already in the journal (ids are never reused)"
                ) from None

        return self._submit(run)

    def record_event(self, order: Order, *events: OrderEvent | None) -> asyncio.Future[None]:
        """Journal events of ``order`` and its resulting state, in one transaction.

        Pass what the order's transition methods returned; ``None`` s (duplicates: nothing
        changed) are skipped, and a call with only ``None`` s writes nothing but still resolves
        after every earlier call is committed. Fails with ``DuplicateFillError`` if a fill's
        trade id is already journaled for the order (nothing of the call is written then).
        """
        if not events:
            raise JournalError("record_event needs at least one event")
        for ev in events:
            if ev is not None and not isinstance(ev, OrderEvent):
                raise JournalError(f"not an OrderEvent: {ev!r}")
            if ev is not None and ev.client_id != order.client_id:
                raise JournalError(f"event of {ev.client_id} passed with order {order.client_id}")
        real = [ev for ev in events if ev is not None]
        if not real:
            return self._submit(_noop)
        now = time.time_ns()
        rows = [_event_row(ev, now) for ev in real]
        snap = _order_snapshot(order)
        client_id = order.client_id

        def run(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE orders SET status=?, venue_order_id=?, filled_qty=?, notional=?, fees=?,"
                " reason=?, sent_ns=?, acked_ns=?, updated_ns=?, closed_ns=?, final=?"
                " WHERE client_id=?",
                (*snap, client_id),
            )
            if cur.rowcount != 1:
                raise JournalError(f"order {client_id} is not in the journal (record_new first)")
            for r in rows:
                try:
                    conn.execute(
                        "INSERT INTO order_events (client_id, kind, status, ts_ns, venue_order_id,"
                        " trade_id, qty, price, fee, fee_asset, reason, recorded_ns)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        r,
                    )
                except sqlite3.IntegrityError:
                    raise DuplicateFillError(
                        f"order {client_id}: trade {r[5]!r} is already journaled"
                    ) from None

        return self._submit(run)

    def record_balances(
        self,
        venue: str,
        balances: Mapping[str, Decimal | str | int],
        ts_ns: int | None = None,
    ) -> asyncio.Future[int]:
        """Journal a snapshot of a venue's balances ({asset: amount}); resolves to its id."""
        if not isinstance(venue, str) or not venue:
            raise JournalError(f"venue must be a non-empty string, not {venue!r}")
        rows: list[tuple[str, str]] = []
        for asset, amount in balances.items():
            if not isinstance(asset, str) or not asset:
                raise JournalError(f"asset must be a non-empty string, not {asset!r}")
            try:
                rows.append((asset, str(to_decimal(f"balance {asset}", amount))))
            except OpenclawError as e:
                raise JournalError(str(e)) from None
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO balance_snapshots (venue, ts_ns) VALUES (?, ?)", (venue, ts)
            )
            sid = cur.lastrowid
            assert sid is not None
            conn.executemany(
                "INSERT INTO balances (snapshot_id, asset, amount) VALUES (?, ?, ?)",
                [(sid, a, v) for a, v in rows],
            )
            return sid

        return self._submit(run)

    def record_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        name: str | None = None,
        detail: str | None = None,
        ts_ns: int | None = None,
    ) -> asyncio.Future[None]:
        """Create or update a scheduled run; ``name`` is required when the run is new.

        RUNNING sets ``started_ns``; SUCCEEDED/FAILED/CANCELED set ``finished_ns``. A finished
        run cannot change status again (``JournalError``).
        """
        if not isinstance(run_id, str) or not run_id:
            raise JournalError(f"run_id must be a non-empty string, not {run_id!r}")
        try:
            st = RunStatus(status)
        except ValueError:
            raise JournalError(f"not a RunStatus: {status!r}") from None
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> None:
            old = conn.execute("SELECT status FROM runs WHERE run_id=?", (run_id,)).fetchone()
            started = ts if st is RunStatus.RUNNING else None
            finished = ts if st in _RUN_FINAL else None
            if old is None:
                if not name:
                    raise JournalError(f"run {run_id} is new: record_run needs its name")
                conn.execute(
                    "INSERT INTO runs (run_id, name, status, created_ns, updated_ns, started_ns,"
                    " finished_ns, detail) VALUES (?,?,?,?,?,?,?,?)",
                    (run_id, name, st.value, ts, ts, started, finished, detail),
                )
                return
            if RunStatus(old[0]) in _RUN_FINAL and old[0] != st.value:
                raise JournalError(f"run {run_id} already finished as {old[0]}; not {st.value}")
            conn.execute(
                "UPDATE runs SET status=?, updated_ns=?, started_ns=COALESCE(started_ns, ?),"
                " finished_ns=COALESCE(finished_ns, ?), detail=COALESCE(?, detail),"
                " name=COALESCE(?, name) WHERE run_id=?",
                (st.value, ts, started, finished, detail, name, run_id),
            )

        return self._submit(run)

    def claim_run(
        self, run_id: str, name: str, owner: str, *, now_ns: int, lease_ns: int
    ) -> asyncio.Future[RunClaim]:
        """Atomically take ownership of a scheduled run, so that it never executes twice.

        One transaction (serialised with every other writer of the file, other processes
        included): a new or SCHEDULED run becomes RUNNING under ``owner`` with a lease until
        ``now_ns + lease_ns`` (CLAIMED); a RUNNING run whose lease expired (its owner crashed or
        hung) is taken over (RESUMED, attempt + 1); a RUNNING run under a live lease is HELD and
        a finished one FINISHED (nothing changes). ``now_ns`` is wall-clock ns (leases are
        compared across processes); the owner renews with ``renew_run_lease`` and ends with
        ``finish_run``.
        """
        _check_run_args(run_id, owner)
        if not name:
            raise JournalError(f"run {run_id}: claim_run needs the run's name")
        if lease_ns <= 0:
            raise JournalError(f"lease_ns must be > 0, not {lease_ns!r}")
        until = now_ns + lease_ns

        def run(conn: sqlite3.Connection) -> RunClaim:
            old = conn.execute("SELECT status FROM runs WHERE run_id=?", (run_id,)).fetchone()
            lease = conn.execute(
                "SELECT owner, lease_until_ns, attempts FROM run_leases WHERE run_id=?", (run_id,)
            ).fetchone()
            attempts = lease[2] if lease else 0
            if old is None:
                conn.execute(
                    "INSERT INTO runs (run_id, name, status, created_ns, updated_ns, started_ns,"
                    " finished_ns, detail) VALUES (?,?,?,?,?,?,NULL,NULL)",
                    (run_id, name, RunStatus.RUNNING.value, now_ns, now_ns, now_ns),
                )
                outcome = ClaimOutcome.CLAIMED
            else:
                status = RunStatus(old[0])
                if status in _RUN_FINAL:
                    return RunClaim(run_id, ClaimOutcome.FINISHED, status,
                                    lease[0] if lease else None, lease[1] if lease else None,
                                    attempts)
                if status is RunStatus.RUNNING and lease is not None and lease[1] > now_ns:
                    return RunClaim(run_id, ClaimOutcome.HELD, status, lease[0], lease[1],
                                    attempts)
                outcome = (ClaimOutcome.RESUMED if status is RunStatus.RUNNING
                           else ClaimOutcome.CLAIMED)
                conn.execute(
                    "UPDATE runs SET status=?, updated_ns=?, started_ns=COALESCE(started_ns, ?)"
                    " WHERE run_id=?",
                    (RunStatus.RUNNING.value, now_ns, now_ns, run_id),
                )
            conn.execute(
                "INSERT INTO run_leases (run_id, owner, lease_until_ns, attempts) VALUES (?,?,?,?)"
                " ON CONFLICT (run_id) DO UPDATE SET owner=excluded.owner,"
                " lease_until_ns=excluded.lease_until_ns, attempts=excluded.attempts",
                (run_id, owner, until, attempts + 1),
            )
            return RunClaim(run_id, outcome, RunStatus.RUNNING, owner, until, attempts + 1)

        return self._submit(run)

    def renew_run_lease(
        self, run_id: str, owner: str, *, now_ns: int, lease_ns: int
    ) -> asyncio.Future[bool]:
        """Extend the lease of a RUNNING run held by ``owner``; False if it is no longer ours."""
        _check_run_args(run_id, owner)
        until = now_ns + lease_ns

        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE run_leases SET lease_until_ns=? WHERE run_id=? AND owner=? AND EXISTS"
                " (SELECT 1 FROM runs WHERE run_id=? AND status=?)",
                (until, run_id, owner, run_id, RunStatus.RUNNING.value),
            )
            return cur.rowcount == 1

        return self._submit(run)

    def finish_run(
        self,
        run_id: str,
        owner: str,
        status: RunStatus,
        *,
        detail: str | None = None,
        ts_ns: int | None = None,
    ) -> asyncio.Future[None]:
        """End a RUNNING run held by ``owner`` (SUCCEEDED, FAILED or CANCELED).

        Raises ``JournalError`` if the run is not RUNNING under this owner (another owner took
        it over after our lease expired): the caller must not report it as its own.
        """
        _check_run_args(run_id, owner)
        st = RunStatus(status)
        if st not in _RUN_FINAL or st is RunStatus.SKIPPED:
            raise JournalError(f"finish_run takes succeeded/failed/canceled, not {st.value}")
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT r.status, l.owner FROM runs r LEFT JOIN run_leases l USING (run_id)"
                " WHERE r.run_id=?",
                (run_id,),
            ).fetchone()
            if row is None or row[0] != RunStatus.RUNNING.value or row[1] != owner:
                raise JournalError(
                    f"run {run_id} is not running under this owner"
                    f" (status {row[0] if row else None}); not finished as {st.value}"
                )
            conn.execute(
                "UPDATE runs SET status=?, updated_ns=?, finished_ns=?,"
                " detail=COALESCE(?, detail) WHERE run_id=?",
                (st.value, ts, ts, detail, run_id),
            )

        return self._submit(run)

    def skip_run(
        self, run_id: str, name: str, reason: str, *, ts_ns: int | None = None
    ) -> asyncio.Future[bool]:
        """Record a run that will never execute (SKIPPED, with the reason).

        Only a run not journaled yet, or still SCHEDULED, is skipped; True if it was, False if
        the run exists in another status (it was claimed, ran, or was skipped already).
        """
        _check_run_args(run_id, "-")
        if not name or not reason:
            raise JournalError(f"run {run_id}: skip_run needs a name and a reason")
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> bool:
            old = conn.execute("SELECT status FROM runs WHERE run_id=?", (run_id,)).fetchone()
            if old is None:
                conn.execute(
                    "INSERT INTO runs (run_id, name, status, created_ns, updated_ns, started_ns,"
                    " finished_ns, detail) VALUES (?,?,?,?,?,NULL,?,?)",
                    (run_id, name, RunStatus.SKIPPED.value, ts, ts, ts, reason),
                )
                return True
            if old[0] != RunStatus.SCHEDULED.value:
                return False
            conn.execute(
                "UPDATE runs SET status=?, updated_ns=?, finished_ns=?, detail=? WHERE run_id=?",
                (RunStatus.SKIPPED.value, ts, ts, reason, run_id),
            )
            return True

        return self._submit(run)

    def record_run_plan(self, run_id: str, plan: str) -> asyncio.Future[None]:
        """Store the plan (text, e.g. JSON) a run decided, once: a rerun re-reads it.

        Raises ``JournalError`` if the run is unknown or already has a different plan.
        """
        _check_run_args(run_id, "-")
        if not isinstance(plan, str) or not plan:
            raise JournalError(f"run {run_id}: the plan must be a non-empty string")
        ts = time.time_ns()

        def run(conn: sqlite3.Connection) -> None:
            old = conn.execute("SELECT plan FROM run_plans WHERE run_id=?", (run_id,)).fetchone()
            if old is not None:
                if old[0] != plan:
                    raise JournalError(f"run {run_id} already has a different plan")
                return
            try:
                conn.execute(
                    "INSERT INTO run_plans (run_id, plan, created_ns) VALUES (?,?,?)",
                    (run_id, plan, ts),
                )
            except sqlite3.IntegrityError:
                raise JournalError(f"run {run_id} is not in the journal") from None

        return self._submit(run)

    async def run_plan(self, run_id: str) -> str | None:
        """The plan stored for a run, or None."""

        def run(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT plan FROM run_plans WHERE run_id=?", (run_id,)).fetchone()
            return None if row is None else row[0]

        return await self._submit(run)

    async def run_claim(self, run_id: str) -> RunClaim | None:
        """The run's status and lease as ``claim_run`` would report them (outcome HELD or
        FINISHED; None if the run is unknown). Read-only."""

        def run(conn: sqlite3.Connection) -> RunClaim | None:
            row = conn.execute(
                "SELECT r.status, l.owner, l.lease_until_ns, l.attempts FROM runs r"
                " LEFT JOIN run_leases l USING (run_id) WHERE r.run_id=?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            st = RunStatus(row[0])
            outcome = ClaimOutcome.FINISHED if st in _RUN_FINAL else ClaimOutcome.HELD
            return RunClaim(run_id, outcome, st, row[1], row[2], row[3] or 0)

        return await self._submit(run)

    async def orders_by_prefix(self, prefix: str) -> list[Order]:
        """Journaled orders whose client id starts with ``prefix`` (e.g. one run's orders)."""
        if not isinstance(prefix, str) or not prefix or not prefix.isascii():
            raise JournalError(f"prefix must be a non-empty ASCII string, not {prefix!r}")
        hi = prefix + "\x7f"

        def run(conn: sqlite3.Connection) -> list[Order]:
            rows = conn.execute(
                f"SELECT {_ORDER_COLS} FROM orders WHERE client_id >= ? AND client_id < ?"
                " ORDER BY client_id",
                (prefix, hi),
            ).fetchall()
            return [_load_order(conn, r) for r in rows]

        return await self._submit(run)

    # ---- reads ----------------------------------------------------------------------------

    async def order(self, client_id: str) -> Order | None:
        """The journaled order with its fills, or None."""

        def run(conn: sqlite3.Connection) -> Order | None:
            row = conn.execute(
                f"SELECT {_ORDER_COLS} FROM orders WHERE client_id=?", (client_id,)
            ).fetchone()
            return None if row is None else _load_order(conn, row)

        return await self._submit(run)

    async def open_orders(self, venue: str | None = None) -> list[Order]:
        """Orders not FILLED/CANCELED/REJECTED (start-up recovery), oldest first.

        NEW and SENT orders among them may or may not exist at the venue: mark them UNKNOWN and
        query the venue by client id before deciding anything.
        """

        def run(conn: sqlite3.Connection) -> list[Order]:
            sql = f"SELECT {_ORDER_COLS} FROM orders WHERE final = 0"
            args: tuple[Any, ...] = ()
            if venue is not None:
                sql += " AND venue = ?"
                args = (venue,)
            rows = conn.execute(sql + " ORDER BY created_ns, client_id", args).fetchall()
            return [_load_order(conn, r) for r in rows]

        return await self._submit(run)

    async def events(self, client_id: str) -> list[OrderEvent]:
        """Every journaled event of one order, in the order they were recorded."""

        def run(conn: sqlite3.Connection) -> list[OrderEvent]:
            rows = conn.execute(
                "SELECT client_id, kind, status, ts_ns, venue_order_id, trade_id, qty, price, fee,"
                " fee_asset, reason FROM order_events WHERE client_id=? ORDER BY id",
                (client_id,),
            ).fetchall()
            return [_row_event(r) for r in rows]

        return await self._submit(run)

    async def fills(
        self,
        client_id: str | None = None,
        *,
        opportunity_id: int | None = None,
        venue: str | None = None,
        since_ns: int | None = None,
    ) -> list[JournalFill]:
        """Journaled fills, oldest first, filtered by order, opportunity, venue, fill time."""
        where = ["e.kind = 'fill'"]
        args: list[Any] = []
        for col, val in (
            ("e.client_id", client_id),
            ("o.opportunity_id", opportunity_id),
            ("o.venue", venue),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if since_ns is not None:
            where.append("e.ts_ns >= ?")
            args.append(since_ns)
        sql = (
            "SELECT e.client_id, o.venue, o.symbol, o.side, o.opportunity_id, o.leg,"
            " e.trade_id, e.qty, e.price, e.fee, e.fee_asset, e.ts_ns"
            " FROM order_events e JOIN orders o ON o.client_id = e.client_id"
            f" WHERE {' AND '.join(where)} ORDER BY e.id"
        )

        def run(conn: sqlite3.Connection) -> list[JournalFill]:
            return [
                JournalFill(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    r[5],
                    Fill(r[6], Decimal(r[7]), Decimal(r[8]), Decimal(r[9]), r[10], r[11]),
                )
                for r in conn.execute(sql, args)
            ]

        return await self._submit(run)

    async def balances(self, venue: str) -> BalanceSnapshot | None:
        """The latest balance snapshot of a venue, or None."""

        def run(conn: sqlite3.Connection) -> BalanceSnapshot | None:
            head = conn.execute(
                "SELECT id, ts_ns FROM balance_snapshots WHERE venue=? ORDER BY id DESC LIMIT 1",
                (venue,),
            ).fetchone()
            if head is None:
                return None
            rows = conn.execute(
                "SELECT asset, amount FROM balances WHERE snapshot_id=? ORDER BY asset", (head[0],)
            )
            return BalanceSnapshot(head[0], venue, head[1], {a: Decimal(v) for a, v in rows})

        return await self._submit(run)

    async def run(self, run_id: str) -> RunRecord | None:
        """One scheduled run, or None."""
        found = await self.runs(run_id=run_id)
        return found[0] if found else None

    async def runs(
        self, status: RunStatus | None = None, *, run_id: str | None = None
    ) -> list[RunRecord]:
        """Scheduled runs (optionally of one status), oldest first."""
        where, args = [], []
        if status is not None:
            where.append("status = ?")
            args.append(RunStatus(status).value)
        if run_id is not None:
            where.append("run_id = ?")
            args.append(run_id)
        sql = (
            "SELECT run_id, name, status, created_ns, updated_ns, started_ns, finished_ns, detail"
            " FROM runs"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_ns, run_id"

        def run(conn: sqlite3.Connection) -> list[RunRecord]:
            return [
                RunRecord(r[0], r[1], RunStatus(r[2]), r[3], r[4], r[5], r[6], r[7])
                for r in conn.execute(sql, args)
            ]

        return await self._submit(run)

    async def settings(self) -> dict[str, Any]:
        """The connection's effective SQLite settings (journal_mode, synchronous, foreign_keys).

        ``synchronous`` as SQLite reports it: 2 = FULL, 1 = NORMAL.
        """

        def run(conn: sqlite3.Connection) -> dict[str, Any]:
            return {
                name: conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }

        return await self._submit(run)

    async def consistency_check(self) -> list[Inconsistency]:
        """Check the file and every order against its events; an empty list means consistent.

        Per order: filled qty, notional and fees equal the sums over its fills, filled qty is in
        [0, qty], the status agrees with the filled qty and with its last event, and the
        ``final`` flag with the status. Whole file: ``PRAGMA integrity_check`` and
        ``foreign_key_check``. Reads the whole journal: meant for start-up and tests.
        """
        return await self._submit(_consistency)

    # ---- machinery ------------------------------------------------------------------------

    def _submit(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        if self._closed or self._dead is not None:
            why = f"writer thread died: {self._dead}" if self._dead else "journal is closed"
            raise JournalClosedError(f"{self._path.name}: {why}")
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, fut))
        return fut

    def _main(self, ready: asyncio.Future[None]) -> None:
        """Writer thread: connect, then run queued calls in batches until stopped."""
        try:
            conn = self._connect()
        except BaseException as e:  # reported to the opener, thread ends
            err = e if isinstance(e, JournalError) else JournalError(f"cannot open journal: {e}")
            self._deliver([(ready, None, err)])
            return
        self._deliver([(ready, None, None)])
        stop = False
        try:
            while not stop:
                item = self._queue.get()
                if item is _STOP:
                    break
                batch: list[_Call] = [item]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._run_batch(conn, batch)
                self._ckpt_due += 1
                if self._ckpt_due >= _CHECKPOINT_EVERY:
                    self._ckpt_due = 0
                    self._ckpt_wake.set()
        except BaseException as e:  # a bug here must not hang the awaiting callers
            self._dead = f"{type(e).__name__}: {e}"
            log.critical("journal writer thread died: %s", self._dead)
            self._fail_queued()
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _checkpoint_loop(self) -> None:
        """Checkpoint thread: copy the WAL into the database every 256 commits or second.

        Keeps the copying and the database fsync of checkpoints off the commit path (and the
        acknowledgements waiting on it); PASSIVE never blocks the writer. The writer's own
        auto-checkpoint (``checkpoint_pages``) then only finishes a nearly done job.
        """
        try:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
        except sqlite3.Error as e:
            log.critical("journal %s: checkpoint thread cannot start: %s", self._path, e)
            return
        try:
            while not self._ckpt_stop.is_set():
                self._ckpt_wake.wait(_CHECKPOINT_IDLE_S)
                self._ckpt_wake.clear()
                if self._ckpt_stop.is_set():
                    break
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._checkpoints += 1
                except sqlite3.Error as e:
                    log.warning("journal %s: checkpoint failed: %s", self._path, e)
        finally:
            conn.close()

    def _fail_queued(self) -> None:
        failed: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                failed.append((item[1], None, JournalClosedError(f"writer died: {self._dead}")))
        self._deliver(failed)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=True)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self._path}: cannot use WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=5000")
            # the checkpoint thread does the work; this is the bound under a sustained stream
            conn.execute(f"PRAGMA wal_autocheckpoint={self._checkpoint_pages}")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            elif row[0] != str(SCHEMA_VERSION):
                raise JournalError(
                    f"{self._path}: schema version {row[0]}, this code reads {SCHEMA_VERSION}"
                )
        except sqlite3.DatabaseError as e:
            conn.close()
            raise JournalError(f"{self._path}: not a usable journal: {e}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Call]) -> None:
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for fn, fut in batch:
                conn.execute("SAVEPOINT call")
                try:
                    value = fn(conn)
                except Exception as e:  # becomes the caller's typed error
                    conn.execute("ROLLBACK TO call")
                    conn.execute("RELEASE call")
                    err = (
                        e
                        if isinstance(e, OpenclawError)
                        else JournalError(f"{type(e).__name__}: {e}")
                    )
                    results.append((fut, None, err))
                else:
                    conn.execute("RELEASE call")
                    results.append((fut, value, None))
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            err = JournalError(f"commit failed, nothing of this batch was written: {e}")
            results = [(fut, None, err) for _, fut in batch]
        self._calls += len(batch)
        self._batches += 1
        self._failed += sum(1 for r in results if r[2] is not None)
        self._largest_batch = max(self._largest_batch, len(batch))
        self._deliver(results)

    def _deliver(
        self, results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]
    ) -> None:
        if not results or self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(_resolve, results)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


def _noop(conn: sqlite3.Connection) -> None:
    return None


def _check_run_args(run_id: object, owner: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise JournalError(f"run_id must be a non-empty string, not {run_id!r}")
    if not isinstance(owner, str) or not owner:
        raise JournalError(f"owner must be a non-empty string, not {owner!r}")


def _resolve(results: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, err in results:
        if fut.done():  # cancelled by the awaiting task: the write itself still happened
            continue
        if err is not None:
            fut.set_exception(err)
        else:
            fut.set_result(value)


def _load_order(conn: sqlite3.Connection, row: tuple[Any, ...]) -> Order:
    fills: dict[str, Fill] = {}
    for r in conn.execute(
        "SELECT trade_id, qty, price, fee, fee_asset, ts_ns FROM order_events"
        " WHERE client_id=? AND kind='fill' ORDER BY id",
        (row[0],),
    ):
        fills[r[0]] = Fill(r[0], Decimal(r[1]), Decimal(r[2]), Decimal(r[3]), r[4], r[5])
    return Order(
        client_id=row[0],
        venue=row[1],
        symbol=row[2],
        side=row[3],
        order_type=row[4],
        qty=Decimal(row[5]),
        price=_dec(row[6]),
        opportunity_id=row[7],
        leg=row[8],
        venue_order_id=row[9],
        filled_qty=Decimal(row[10]),
        notional=Decimal(row[11]),
        fees={k: Decimal(v) for k, v in orjson.loads(row[12]).items()},
        status=row[13],
        reason=row[14],
        created_ns=row[15],
        sent_ns=row[16],
        acked_ns=row[17],
        updated_ns=row[18],
        closed_ns=row[19],
        fills=fills,
    )


def _row_event(r: tuple[Any, ...]) -> OrderEvent:
    fill = None
    if r[1] == EventKind.FILL.value:
        fill = Fill(r[5], Decimal(r[6]), Decimal(r[7]), Decimal(r[8]), r[9], r[3])
    return OrderEvent(r[0], EventKind(r[1]), OrderStatus(r[2]), r[3], r[4], fill, r[10])


_NO_FILL_STATUSES = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.SENT,
        OrderStatus.UNKNOWN,
        OrderStatus.ACKED,
        OrderStatus.REJECTED,
    }
)


def _consistency(conn: sqlite3.Connection) -> list[Inconsistency]:
    out: list[Inconsistency] = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        out.append(Inconsistency(None, "integrity_check", "; ".join(integrity[:10])))
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        out.append(Inconsistency(None, "foreign_key_check", f"{len(fk)} rows, first {fk[0]}"))

    sums: dict[str, tuple[Decimal, Decimal, dict[str, Decimal]]] = {}
    last_status: dict[str, str] = {}
    for cid, kind, status, qty, price, fee, fee_asset in conn.execute(
        "SELECT client_id, kind, status, qty, price, fee, fee_asset FROM order_events ORDER BY id"
    ):
        last_status[cid] = status
        if kind != EventKind.FILL.value:
            continue
        q, n, fees = sums.get(cid, (Decimal(0), Decimal(0), {}))
        q += Decimal(qty)
        n += Decimal(qty) * Decimal(price)
        if fee is not None and Decimal(fee):
            fees[fee_asset] = fees.get(fee_asset, Decimal(0)) + Decimal(fee)
        sums[cid] = (q, n, fees)

    final_values = {s.value for s in FINAL_STATUSES}
    for cid, qty_s, filled_s, notional_s, fees_s, status, final in conn.execute(
        "SELECT client_id, qty, filled_qty, notional, fees, status, final FROM orders"
    ):

        def bad(check: str, detail: str, cid: str = cid) -> None:
            out.append(Inconsistency(cid, check, detail))

        qty, filled, notional = Decimal(qty_s), Decimal(filled_s), Decimal(notional_s)
        fees = {k: Decimal(v) for k, v in orjson.loads(fees_s).items()}
        f_qty, f_notional, f_fees = sums.get(cid, (Decimal(0), Decimal(0), {}))
        if filled != f_qty:
            bad("filled_qty", f"order says {filled}, fills sum to {f_qty}")
        if notional != f_notional:
            bad("notional", f"order says {notional}, fills sum to {f_notional}")
        if {k: v for k, v in fees.items() if v} != {k: v for k, v in f_fees.items() if v}:
            bad("fees", f"order says {fees}, fills sum to {f_fees}")
        if not Decimal(0) <= filled <= qty:
            bad("filled_range", f"filled {filled} outside [0, {qty}]")
        try:
            st = OrderStatus(status)
        except ValueError:
            bad("status", f"unknown status {status!r}")
            continue
        if (filled == qty) != (st is OrderStatus.FILLED):
            bad("status_vs_filled", f"status {status} with filled {filled} of {qty}")
        if st is OrderStatus.PARTIALLY_FILLED and not Decimal(0) < filled < qty:
            bad("status_vs_filled", f"partially_filled with filled {filled} of {qty}")
        if st in _NO_FILL_STATUSES and filled != 0:
            bad("status_vs_filled", f"status {status} with filled {filled}")
        expected_last = last_status.get(cid, OrderStatus.NEW.value)
        if status != expected_last:
            bad("status_vs_events", f"order says {status}, last event says {expected_last}")
        if bool(final) != (status in final_values):
            bad("final_flag", f"final={final} with status {status}")
    return out
