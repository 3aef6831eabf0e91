"""What the control API reads from and writes to the journal: operator actions (halt, resume,
flatten, reload-risk: who, what, when, outcome) and order/fill changes after a cursor (the id of
the last ``order_events`` row seen), so that a reader polls without missing or repeating rows.

A part of ``Journal`` (which supplies ``_submit`` and the writer thread): every call runs on the
writer thread, never on the event loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from openclaw.model.errors import JournalError

#: most rows one read returns (a reader pages with the cursor)
MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class ControlAction:
    """One journaled operator action."""

    id: int
    ts_ns: int
    action: str
    actor: str
    outcome: str
    detail: str


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise JournalError(f"limit must be an int in 1..{MAX_PAGE}, not {limit!r}")
    return limit


def _cursor(cursor: int) -> int:
    if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor < 0:
        raise JournalError(f"cursor must be an int >= 0, not {cursor!r}")
    return cursor


class ControlJournal:
    """Operator actions and cursor reads (mixed into ``Journal``)."""

    def _submit(self, fn: Any) -> asyncio.Future[Any]:  # supplied by Journal
        raise NotImplementedError

    def record_control(self, action: str, actor: str, outcome: str, detail: str = "",
                       ts_ns: int | None = None) -> asyncio.Future[int]:
        """Journal one operator action; resolves to its row id once committed."""
        if not action or not actor or not outcome:
            raise JournalError("record_control needs an action, an actor and an outcome")
        ts = time.time_ns() if ts_ns is None else ts_ns

        def run(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO control_actions (ts_ns, action, actor, outcome, detail)"
                " VALUES (?,?,?,?,?)", (ts, action, actor, outcome, detail))
            return int(cur.lastrowid or 0)

        return self._submit(run)

    async def control_actions(self, cursor: int = 0, limit: int = 100) -> list[ControlAction]:
        """Operator actions with an id above ``cursor``, oldest first."""
        after, n = _cursor(cursor), _limit(limit)

        def run(conn: sqlite3.Connection) -> list[ControlAction]:
            rows = conn.execute(
                "SELECT id, ts_ns, action, actor, outcome, COALESCE(detail, '')"
                " FROM control_actions WHERE id > ? ORDER BY id LIMIT ?", (after, n))
            return [ControlAction(*r) for r in rows]

        return await self._submit(run)

    async def fills_after(self, cursor: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Fills journaled after event id ``cursor``, oldest first, each with its ``cursor``
        (the event id) and its order's venue, symbol, side, opportunity and leg."""
        after, n = _cursor(cursor), _limit(limit)

        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT e.id, e.client_id, o.venue, o.symbol, o.side, o.opportunity_id, o.leg,"
                " e.trade_id, e.qty, e.price, e.fee, e.fee_asset, e.ts_ns"
                " FROM order_events e JOIN orders o ON o.client_id = e.client_id"
                " WHERE e.kind = 'fill' AND e.id > ? ORDER BY e.id LIMIT ?", (after, n))
            keys = ("cursor", "client_id", "venue", "symbol", "side", "opportunity_id", "leg",
                    "trade_id", "qty", "price", "fee", "fee_asset", "ts_ns")
            return [dict(zip(keys, r, strict=True)) for r in rows]

        return await self._submit(run)

    async def orders_after(self, cursor: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Orders with an event journaled after event id ``cursor``, in the order of their last
        such event, each once with its current state and ``cursor`` (that event's id)."""
        after, n = _cursor(cursor), _limit(limit)

        def run(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT m.last, o.client_id, o.venue, o.symbol, o.side, o.order_type, o.qty,"
                " o.price, o.filled_qty, o.status, o.reason, o.opportunity_id, o.leg,"
                " o.created_ns, o.updated_ns, o.final"
                " FROM (SELECT client_id, MAX(id) AS last FROM order_events WHERE id > ?"
                "       GROUP BY client_id) m JOIN orders o ON o.client_id = m.client_id"
                " ORDER BY m.last LIMIT ?", (after, n))
            keys = ("cursor", "client_id", "venue", "symbol", "side", "order_type", "qty",
                    "price", "filled_qty", "status", "reason", "opportunity_id", "leg",
                    "created_ns", "updated_ns", "final")
            out = [dict(zip(keys, r, strict=True)) for r in rows]
            for o in out:
                o["final"] = bool(o["final"])
            return out

        return await self._submit(run)
