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

from openclaw.journal.core import Journal
from openclaw.journal.intents import IntentLog, IntentLogError, IntentLogFull
from openclaw.journal.records import (
    BalanceSnapshot,
    ClaimOutcome,
    Inconsistency,
    JournalBusyError,
    JournalFill,
    JournalStats,
    RunClaim,
    RunRecord,
    RunStatus,
    Synchronous,
)
from openclaw.journal.schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "BalanceSnapshot",
    "ClaimOutcome",
    "Inconsistency",
    "IntentLog",
    "IntentLogError",
    "IntentLogFull",
    "Journal",
    "JournalFill",
    "JournalBusyError",
    "JournalStats",
    "RunClaim",
    "RunRecord",
    "RunStatus",
    "Synchronous",
]
