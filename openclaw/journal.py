"""Durable journal of orders, order events, balance snapshots and scheduled runs (SQLite, WAL).

Why: an order must be on disk before it is sent, so that after a crash every order that may
exist at a venue is known (``open_orders()`` at start-up) and can be reconciled by client id.

How it stays off the trading loop: one dedicated writer thread owns the main connection. Every
call enqueues a closure (``queue.SimpleQueue``, no lock held by the loop) and returns an
``asyncio.Future``; the thread drains the queue, runs what it found in ONE transaction (one
savepoint per call, so a refused call rolls back alone), commits, and only then resolves the
futures through ``call_soon_threadsafe``. ``await journal.record_new(order)`` therefore returns
only after the row is committed, and concurrent writers share one fsync (group commit). Calls
are applied in call order; the loop's cost per call is building a tuple and a list append.

The send path (``record_new_batch``, ``record_new_now``): all legs of an order list in ONE
transaction. With ``synchronous="NORMAL"`` (and ``inline=True``, the default) that transaction
is written and committed on the calling (event-loop) thread, on the writer's connection under a
``threading.Lock`` that the writer thread holds for each of its own transactions; the caller may
send as soon as the call returns (no thread hand-off, no loop round trip). What the loop pays:
a wait of at most ``inline_wait_ms`` (default 1 ms) for a writer batch in progress, then the
INSERTs and a commit that is ``write()`` calls into the page cache: no fsync, no checkpoint, no
SQLite busy-sleep. Measured on the 2-core VM (docs/journal.md): a 3-leg list ~50 us p50 in a
tight loop, ~70-130 us on the live send path, p99 ~250 us; it is not a hard bound (the OS can
preempt the thread or throttle dirty pages inside ``write()``; the worst seen under load was
3.7 ms). If the writer holds the file past the bound, a checkpoint is running, or another
process holds the write lock (``SQLITE_BUSY``), nothing is written inline: ``record_new_batch``
hands the same transaction to the writer thread (same durability; ``stats().inline_busy``) and
``record_new_now`` raises ``JournalBusyError``. With ``synchronous="FULL"`` the batch always goes
through the writer thread as one call (one commit, one fsync per list): an fsync never runs on
the loop.

Two SQLite behaviours the inline path is kept away from: a commit on a connection with
``wal_autocheckpoint`` runs the checkpoint (copy + fsync) inside the commit, so in inline mode
auto-checkpointing is switched on only around the writer thread's commits; and the first commit
after a checkpoint that copied the whole WAL restarts the WAL and fsyncs its header even with
NORMAL, so such a restart is always done at once by the thread that completed the checkpoint
(a one-row write to ``meta``), and inline writes step aside while the checkpoint thread works.
A checkpoint run by another process can still leave that one header fsync to an inline commit.

Calls other than the send path are handed to the writer once per loop callback (one queue put
at its end): one wake-up for many calls, and the writer does not compete for the GIL with the
rest of the callback (e.g. the send after an inline write).

Ordering: every call is committed in call order, except that an inline write may commit before
calls still waiting in the writer's queue (never before a batch the writer has started). Those
can only concern other orders: an order's own events are journaled after its ``record_new*``
returned, so each order's rows stay in order. Reads queued before an inline write may see it.

Durability (``synchronous``):

* ``"FULL"`` (default of ``Journal.open``): WAL + ``synchronous=FULL`` fsyncs the WAL at every
  commit, so an acknowledged write survives a process kill *and* an OS crash or power cut. Every
  write, the send path included, goes through the writer thread.
* ``"NORMAL"``: WAL + ``synchronous=NORMAL`` skips that fsync (only checkpoints sync). An
  acknowledged write survives ``kill -9`` (it is in the OS page cache before the call returns)
  but the last commits may be lost in an OS crash or power cut. About 10x faster per commit on
  this VM, and the send path writes inline (above).

Which one where: money at a real venue -> ``FULL`` (an order sent but lost from the journal is
an order nobody reconciles; the IBKR CLI against a gateway uses it). Simulators, the demo, paper
trading and the latency benchmarks -> ``NORMAL`` (kill -9 safe, which is what the crash tests
require; a power cut loses only simulated orders). ``Journal.open`` defaults to ``FULL`` so that
nothing is weakened by omission.

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
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TypeVar

import orjson

from openclaw.model.errors import (
    DuplicateClientIdError,
    DuplicateFillError,
    JournalClosedError,
    JournalError,
    OpenclawError,
)
from openclaw.model.orders import (
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
    "JournalBusyError",
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
    inline_writes: int = 0  # send-path transactions committed on the caller's thread
    inline_busy: int = 0  # inline writes that found the file busy (nothing written inline)
    inline_max_us: float = 0.0  # longest inline write on the caller's thread (wait included)


class JournalBusyError(JournalError):
    """An inline write found the file busy past its bound (our writer thread mid-batch for
    longer than ``inline_wait_ms``, or another process writing): nothing was written."""


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
_INSERT_ORDER = f"INSERT INTO orders ({_ORDER_COLS}) VALUES ({', '.join('?' * 21)})"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6  # primary result codes
_BUSY_WAIT_S = 5.0  # the writer thread's longest wait for another process's write lock


class _CheckpointRunning(Exception):
    """Internal: an inline write found a checkpoint running."""


def _is_busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (any extended code): another connection holds the file."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:
        return "locked" in str(e) or "busy" in str(e)
    return (code & 0xFF) in (_SQLITE_BUSY, _SQLITE_LOCKED)


def _new_row(order: Order) -> tuple[Any, ...]:
    """The orders row of a NEW order (checked: NEW, no fills), taken at call time."""
    if not isinstance(order, Order):
        raise JournalError(f"not an Order: {order!r}")
    if order.status is not OrderStatus.NEW or order.fills:
        raise JournalError(
            f"record_new takes a NEW order without fills; {order.client_id} is {order.status}"
        )
    return (
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


def _insert_new(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """INSERT NEW orders inside the caller's transaction (all or nothing is the caller's)."""
    for row in rows:
        try:
            conn.execute(_INSERT_ORDER, row)
        except sqlite3.IntegrityError:
            raise DuplicateClientIdError(
                f"client id {row[0]} is already in the journal (ids are never reused)"
            ) from None


class Journal:
    """The SQLite journal; open with ``await Journal.open(path)``, close with ``await close()``.

    Writes (``record_*``) return a future that resolves once the row is committed; reads are
    coroutines run on the same writer thread (so they see every earlier write).
    """

    def __init__(
        self,
        path: Path,
        synchronous: Synchronous,
        max_batch: int,
        checkpoint_pages: int,
        inline: bool = False,
        inline_wait_ms: float = 1.0,
    ) -> None:
        """Use ``Journal.open``; this only sets fields."""
        self._path = path
        self._synchronous = synchronous
        self._max_batch = max_batch
        self._checkpoint_pages = checkpoint_pages
        # the send path's inline writes (NORMAL only) use the writer's connection on the
        # caller's thread; _write_lock serialises them with the writer's transactions
        self._inline_wanted = inline and synchronous == "NORMAL"
        self._conn: sqlite3.Connection | None = None  # the writer's, set by the writer thread
        self._inline_conn: sqlite3.Connection | None = None  # the same, once open and inline
        self._inline_wait_s = inline_wait_ms / 1e3
        self._write_lock = threading.Lock()
        self._inline_writes = 0
        self._inline_busy = 0
        self._inline_max_ns = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()  # lists of calls, or _STOP
        # calls made during one loop callback, handed to the writer in one put at its end
        # (one wake-up; the writer does not compete for the GIL with the rest of that
        # callback, e.g. the send that follows an inline write); the send path puts at once
        self._pending: list[_Call] = []
        self._flush_scheduled = False
        self._loop_tid = 0
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
        self._ckpt_active = False  # inline mode: a checkpoint may be running (inline steps aside)
        self._wal_frames = 0  # WAL length (frames) the last checkpoint saw
        self._shm_fd: int | None = None  # the wal-index, read by the writer thread (inline mode)

    # ---- life cycle -----------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        max_batch: int = 512,
        checkpoint_pages: int = 4000,
        inline: bool = True,
        inline_wait_ms: float = 1.0,
    ) -> Journal:
        """Open (creating if needed) the journal at ``path`` in WAL mode and start its writer.

        ``inline``: with ``synchronous="NORMAL"``, write the send path (``record_new_batch``,
        ``record_new_now``) on the caller's thread (ignored with FULL: its fsync stays off the
        loop). ``inline_wait_ms``: longest wait of an inline write for a writer-thread batch
        in progress before it gives up (``JournalBusyError`` / hand-off to the writer).
        ``max_batch``: most calls committed in one transaction (the calls one loop callback
        made are handed over together and never split). ``checkpoint_pages``: WAL size
        (pages) at which the writer thread checkpoints within its own commit; the checkpoint
        thread normally does it in the background, but under a write stream with no idle
        second it cannot finish one (a WAL is reset only after a checkpoint that saw no
        concurrent commit), so this bounds the WAL.

        Raises ``JournalError`` if the file cannot be opened, is not a journal of this schema
        version, or cannot be put in WAL mode (no fallback to another journal mode).
        """
        if synchronous not in ("FULL", "NORMAL"):
            raise JournalError(f"synchronous must be 'FULL' or 'NORMAL', not {synchronous!r}")
        if max_batch < 1:
            raise JournalError(f"max_batch must be >= 1, not {max_batch!r}")
        if checkpoint_pages < 1:
            raise JournalError(f"checkpoint_pages must be >= 1, not {checkpoint_pages!r}")
        if not 0 <= inline_wait_ms <= 100:
            raise JournalError(f"inline_wait_ms must be in [0, 100], not {inline_wait_ms!r}")
        p = Path(path)
        if str(path) == ":memory:" or not str(path):
            raise JournalError(f"the journal needs a file path, not {str(path)!r}")
        self = cls(p, synchronous, max_batch, checkpoint_pages, inline, inline_wait_ms)
        self._loop = asyncio.get_running_loop()
        self._loop_tid = threading.get_ident()
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
        if self._inline_wanted:
            self._inline_conn = self._conn
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
        self._inline_conn = None  # later inline writes: JournalClosedError (checked under lock)
        if self._thread is None:
            return
        self._flush()
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

    @property
    def inline(self) -> bool:
        """True if the send path commits on the caller's thread (NORMAL with ``inline``)."""
        return self._inline_conn is not None

    def stats(self) -> JournalStats:
        """Counters of the writer thread (read without locking: approximate while writing)."""
        return JournalStats(
            self._calls,
            self._batches,
            self._failed,
            self._largest_batch,
            self._checkpoints,
            self._inline_writes,
            self._inline_busy,
            self._inline_max_ns / 1e3,
        )

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"Journal({str(self._path)!r}, synchronous={self._synchronous}, {state})"

    # ---- writes ---------------------------------------------------------------------------

    def record_new(self, order: Order) -> asyncio.Future[None]:
        """Journal a NEW order; await it BEFORE sending the order to the venue.

        Always through the writer thread (see ``record_new_batch`` for the send path). Fails
        with ``DuplicateClientIdError`` if the client id was ever journaled before.
        """
        rows = [_new_row(order)]
        return self._submit(lambda conn: _insert_new(conn, rows), now=True)

    def record_new_batch(self, orders: Sequence[Order]) -> asyncio.Future[None]:
        """Journal NEW orders (the legs of one list) in ONE transaction; await before sending.

        Inline (NORMAL, ``self.inline``): committed before this returns, on this thread; the
        future is already done (awaiting it does not yield), so the caller can send at once.
        If the file stays busy past ``inline_wait_ms`` the same transaction goes to the writer
        thread (``stats().inline_busy``). FULL: one call to the writer thread (one commit, one
        fsync for all legs). All or nothing: ``DuplicateClientIdError`` (through the future)
        if any client id was journaled before, and then none of the orders is written.
        """
        rows = [_new_row(o) for o in orders]
        if not rows:
            raise JournalError("record_new_batch needs at least one order")
        if self._inline_conn is not None:
            self._check_open()
            loop = self._loop
            assert loop is not None
            fut: asyncio.Future[None] = loop.create_future()
            try:
                self._write_inline(rows)
            except JournalBusyError:
                log.info("journal %s: file busy, %d orders go through the writer thread",
                         self._path.name, len(rows))
            except JournalError as e:
                fut.set_exception(e)
                return fut
            else:
                fut.set_result(None)
                return fut
        return self._submit(lambda conn: _insert_new(conn, rows), now=True)

    def record_new_now(self, *orders: Order) -> None:
        """Journal NEW orders in ONE transaction committed before this returns (inline only).

        Blocks the calling thread for at most ``inline_wait_ms`` plus the write itself (no
        fsync). Raises ``JournalError`` if the journal is not inline (FULL: use
        ``record_new_batch``, its fsync never runs here), ``JournalBusyError`` if the file
        stayed busy (nothing written), ``DuplicateClientIdError`` (nothing written).
        """
        rows = [_new_row(o) for o in orders]
        if not rows:
            raise JournalError("record_new_now needs at least one order")
        if self._inline_conn is None:
            self._check_open()
            raise JournalError(
                f"record_new_now writes inline, which needs synchronous=NORMAL and inline=True"
                f" (this journal: {self._synchronous}); use record_new_batch"
            )
        self._check_open()
        self._write_inline(rows)

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

    def _check_open(self) -> None:
        if self._closed or self._dead is not None:
            why = f"writer thread died: {self._dead}" if self._dead else "journal is closed"
            raise JournalClosedError(f"{self._path.name}: {why}")

    def _submit(
        self, fn: Callable[[sqlite3.Connection], T], *, now: bool = False
    ) -> asyncio.Future[T]:
        """Queue ``fn`` for the writer: at the end of this loop callback, or at once (``now``,
        the send path, or a call from another thread); call order is kept either way."""
        self._check_open()
        loop = self._loop
        assert loop is not None
        fut: asyncio.Future[T] = loop.create_future()
        if threading.get_ident() != self._loop_tid:
            self._queue.put([(fn, fut)])
            return fut
        self._pending.append((fn, fut))
        if now:
            self._flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return fut

    def _flush(self) -> None:
        """Hand the calls made on the loop thread so far to the writer (one put)."""
        self._flush_scheduled = False
        if self._pending:
            calls, self._pending = self._pending, []
            if self._dead is not None:  # nobody would run them
                err = JournalClosedError(f"{self._path.name}: writer thread died: {self._dead}")
                _resolve([(fut, None, err) for _, fut in calls])
                return
            self._queue.put(calls)

    def _main(self, ready: asyncio.Future[None]) -> None:
        """Writer thread: connect, then run queued calls in batches until stopped."""
        try:
            conn = self._connect()
            self._conn = conn
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
                batch: list[_Call] = list(item)
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.extend(item)
                self._run_batch(conn, batch)
                if self._ckpt_due >= _CHECKPOINT_EVERY:
                    self._ckpt_due = 0
                    self._ckpt_wake.set()
        except BaseException as e:  # a bug here must not hang the awaiting callers
            self._dead = f"{type(e).__name__}: {e}"
            log.critical("journal writer thread died: %s", self._dead)
            self._fail_queued()
        finally:
            with self._write_lock:  # no inline write is using it; none will after this
                self._inline_conn = None
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                if self._shm_fd is not None:
                    os.close(self._shm_fd)
                    self._shm_fd = None

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
                    if self._inline_wanted:
                        self._checkpoint_inline_mode(conn)
                    else:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._checkpoints += 1
                except sqlite3.Error as e:
                    log.warning("journal %s: checkpoint failed: %s", self._path, e)
        finally:
            conn.close()

    def _checkpoint_inline_mode(self, conn: sqlite3.Connection) -> None:
        """A checkpoint that never leaves an fsync to an inline (loop-thread) commit.

        After a checkpoint that copied the whole WAL, the next commit restarts the WAL and
        fsyncs its new header, even with ``synchronous=NORMAL``. So while a checkpoint runs
        inline writes step aside (``_ckpt_active``: they go to the writer queue), and a
        complete one is followed at once, under the write lock, by a one-row write on this
        thread that takes that fsync. With the WAL at ``checkpoint_pages`` or more (a
        sustained write stream never lets a background checkpoint complete), the checkpoint
        runs under the write lock, so that it completes and the WAL is bounded.
        """
        self._ckpt_active = True
        try:
            if self._wal_frames >= self._checkpoint_pages:
                with self._write_lock:
                    _, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames == done and frames > 0:  # all copied: the next write restarts
                        self._restart_wal(conn)
                        frames = done = 0
            else:
                _, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if frames == done and frames > 0:  # all copied: the next write restarts
                    with self._write_lock:
                        self._restart_wal(conn)
                    frames = done = 0
            self._wal_frames = max(0, frames)
        finally:
            self._ckpt_active = False

    def _restart_wal(self, conn: sqlite3.Connection) -> None:
        """One tiny write: restarts a fully checkpointed WAL (and fsyncs its header) here."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('wal_restarted_ns', ?)",
                (str(time.time_ns()),),
            )
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    def _fail_queued(self) -> None:
        failed: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _STOP:
                failed += [
                    (fut, None, JournalClosedError(f"writer died: {self._dead}"))
                    for _, fut in item
                ]
        self._deliver(failed)

    def _connect(self) -> sqlite3.Connection:
        # inline writes use this connection on the loop thread too (under _write_lock)
        conn = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=not self._inline_wanted
        )
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self._path}: cannot use WAL mode (got {mode!r})")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            # inline: SQLITE_BUSY must never sleep on the loop (the writer retries it itself)
            conn.execute(f"PRAGMA busy_timeout={0 if self._inline_wanted else 5000}")
            # the checkpoint thread does the work; this is the bound under a sustained stream.
            # Inline mode: on only around the writer thread's own commits (a commit on the loop
            # must not checkpoint)
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
            if self._inline_wanted:
                conn.execute("PRAGMA wal_autocheckpoint=0")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise JournalError(f"{self._path}: not a usable journal: {e}") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _write_inline(self, rows: list[tuple[Any, ...]]) -> None:
        """INSERT ``rows`` and commit on the calling thread, under the writer lock.

        Bounded: the lock is waited for at most ``inline_wait_s``; SQLITE_BUSY (another
        process) is not waited for at all. Either way ``JournalBusyError``, nothing written.
        """
        t0 = time.perf_counter_ns()
        if not self._write_lock.acquire(timeout=self._inline_wait_s):
            self._inline_busy += 1
            raise JournalBusyError(
                f"{self._path.name}: writer thread busy for more than"
                f" {self._inline_wait_s * 1e3:g} ms; nothing written inline"
            )
        try:
            conn = self._inline_conn
            if conn is None:  # closed while we waited
                raise JournalClosedError(f"{self._path.name}: journal is closed")
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if self._ckpt_active:  # its end may leave a WAL-header fsync to us
                        raise _CheckpointRunning
                    _insert_new(conn, rows)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    raise
            except _CheckpointRunning:
                self._inline_busy += 1
                raise JournalBusyError(
                    f"{self._path.name}: checkpoint running; nothing written inline"
                ) from None
            except sqlite3.OperationalError as e:
                if _is_busy(e):
                    self._inline_busy += 1
                    raise JournalBusyError(
                        f"{self._path.name}: file locked by another writer; nothing written"
                    ) from None
                raise JournalError(f"inline commit failed, nothing written: {e}") from None
            except sqlite3.Error as e:
                raise JournalError(f"inline commit failed, nothing written: {e}") from None
            self._inline_writes += 1
            self._ckpt_due += 1
            if self._ckpt_due >= _CHECKPOINT_EVERY:
                self._ckpt_due = 0
                self._ckpt_wake.set()
        finally:
            self._write_lock.release()
            dt = time.perf_counter_ns() - t0
            if dt > self._inline_max_ns:
                self._inline_max_ns = dt

    def _run_batch(self, conn: sqlite3.Connection, batch: list[_Call]) -> None:
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] | None = None
        deadline = time.monotonic() + _BUSY_WAIT_S
        delay = 0.0002
        while results is None:
            with self._write_lock:  # excludes the send path's inline writes
                results = self._run_batch_locked(conn, batch, time.monotonic() < deadline)
            if results is None:  # SQLITE_BUSY (another process writes): wait, lock released
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
        self._calls += len(batch)
        self._batches += 1
        self._failed += sum(1 for r in results if r[2] is not None)
        self._largest_batch = max(self._largest_batch, len(batch))
        self._deliver(results)  # after releasing the lock: the loop may write inline at once

    def _run_batch_locked(
        self, conn: sqlite3.Connection, batch: list[_Call], may_wait: bool
    ) -> list[tuple[asyncio.Future[Any], Any, BaseException | None]] | None:
        """One transaction of the batch; None if the file was busy and ``may_wait``."""
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if may_wait and _is_busy(e):
                    return None
                raise
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
            if self._inline_wanted:
                # this commit may checkpoint (the WAL bound); an inline one never does
                conn.execute(f"PRAGMA wal_autocheckpoint={self._checkpoint_pages}")
                try:
                    conn.execute("COMMIT")
                finally:
                    conn.execute("PRAGMA wal_autocheckpoint=0")
            else:
                conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            err = JournalError(f"commit failed, nothing of this batch was written: {e}")
            results = [(fut, None, err) for _, fut in batch]
        if self._inline_wanted and self._wal_fully_checkpointed():
            # the checkpoint completed: restart the WAL here, not in an inline commit
            try:
                self._restart_wal(conn)
            except sqlite3.Error as e:  # the calls are committed; only the restart waits
                log.warning("journal %s: WAL restart failed: %s", self._path, e)
        self._ckpt_due += 1
        return results

    def _wal_fully_checkpointed(self) -> bool:
        """True if every WAL frame is in the database (the next commit restarts the WAL and
        fsyncs its header). Read from the wal-index header in the ``-shm`` file: ``mxFrame``
        (u32 at byte 16) and ``nBackfill`` (u32 at byte 96), native byte order, as documented
        in https://www.sqlite.org/walformat.html."""
        if self._shm_fd is None:
            try:
                self._shm_fd = os.open(f"{self._path}-shm", os.O_RDONLY)
            except OSError:
                return False
        head = os.pread(self._shm_fd, 100, 0)
        if len(head) < 100:
            return False
        mx_frame = int.from_bytes(head[16:20], sys.byteorder)
        backfill = int.from_bytes(head[96:100], sys.byteorder)
        return 0 < mx_frame == backfill

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
