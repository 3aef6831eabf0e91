"""What the journal hands back: run records and claims, balance snapshots, fills,
inconsistencies, statistics (plain values, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from openclaw.model.errors import (
    JournalError,
)
from openclaw.model.orders import (
    Fill,
)

Synchronous = Literal["FULL", "NORMAL"]


class RunStatus(StrEnum):
    """Status of a scheduled run."""

    SCHEDULED = "scheduled"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"  # never executed (missed beyond its grace period); detail says why


RUN_FINAL = frozenset(
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
    intent_writes: int = 0  # lists journaled through the intent log (SQLite rows follow)
    intent_fallbacks: int = 0  # lists the intent log did not take (full, too large, id check)
    intent_max_us: float = 0.0  # longest intent record write (fdatasync included with FULL)
    intents_restored: int = 0  # orders restored from the intent log at open


class JournalBusyError(JournalError):
    """An inline write found the file busy past its bound (our writer thread mid-batch for
    longer than ``inline_wait_ms``, or another process writing): nothing was written."""
