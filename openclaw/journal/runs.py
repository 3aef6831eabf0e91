"""The scheduler's runs in the journal: a run is recorded, claimed under a lease (one owner at
a time), renewed, finished or skipped, and its plan kept, so that a slot runs at most once and a
run interrupted by a crash is resumed."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from openclaw.journal.records import (
    RUN_FINAL,
    ClaimOutcome,
    RunClaim,
    RunRecord,
    RunStatus,
)
from openclaw.model.errors import (
    JournalError,
)


class RunJournal:
    """The scheduler's runs in the journal: records, claims with leases, plans (a part of
    ``Journal``, which supplies ``_submit`` and the writer)."""

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
            finished = ts if st in RUN_FINAL else None
            if old is None:
                if not name:
                    raise JournalError(f"run {run_id} is new: record_run needs its name")
                conn.execute(
                    "INSERT INTO runs (run_id, name, status, created_ns, updated_ns, started_ns,"
                    " finished_ns, detail) VALUES (?,?,?,?,?,?,?,?)",
                    (run_id, name, st.value, ts, ts, started, finished, detail),
                )
                return
            if RunStatus(old[0]) in RUN_FINAL and old[0] != st.value:
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
        check_run_args(run_id, owner)
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
                if status in RUN_FINAL:
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
        check_run_args(run_id, owner)
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
        check_run_args(run_id, owner)
        st = RunStatus(status)
        if st not in RUN_FINAL or st is RunStatus.SKIPPED:
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
        check_run_args(run_id, "-")
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
        check_run_args(run_id, "-")
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
            outcome = ClaimOutcome.FINISHED if st in RUN_FINAL else ClaimOutcome.HELD
            return RunClaim(run_id, outcome, st, row[1], row[2], row[3] or 0)

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


def check_run_args(run_id: object, owner: object) -> None:
    if not isinstance(run_id, str) or not run_id:
        raise JournalError(f"run_id must be a non-empty string, not {run_id!r}")
    if not isinstance(owner, str) or not owner:
        raise JournalError(f"owner must be a non-empty string, not {owner!r}")
