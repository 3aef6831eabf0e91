"""The control API's operations on a running system (``openclaw.app.runner.Running``).

Read-only: ``status``, ``orders``/``fills`` after a cursor (the journal), ``alerts`` after a
cursor (the alert history kept here). Halting is always allowed. ``resume``, ``flatten`` and
``reload-risk`` need a one-time code sent out of band (``Approvals``): without a code the
engine issues one and answers ``ApprovalRequired``; with the right code the action runs.
Every action (accepted or refused) is journaled with who asked, what, when and the outcome.

The running system is read duck-typed (this package is on the app layer beside ``app`` and
must not import it): ``journal``, ``gate``, ``pipeline``, ``reconciler``, ``aggregator``,
``router``, ``routes``, ``alerter``, ``tasks``, ``started``.

Cost: every handler is O(books + instruments + assets) Python on the loop, no blocking call;
journal reads run on the journal's writer thread; the latency summary (a numpy pass over the
stage ring) is computed in a worker thread at most every 2 s.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import sys
import time
import tomllib
from collections import Counter, deque
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from openclaw.control.errors import ApprovalRequired, BadRequest, NotAvailable
from openclaw.control.secrets import Approvals

log = logging.getLogger("openclaw.control")

MAX_ALERTS = 2000
MAX_REASON = 500
APPROVED_ACTIONS = ("resume", "flatten", "reload-risk")


@dataclass(frozen=True, slots=True)
class AlertEntry:
    """One alert as the control API shows it (``cursor`` grows by one per alert)."""

    cursor: int
    ts_ns: int
    kind: str
    priority: str
    text: str


class AlertLog:
    """The last ``MAX_ALERTS`` alerts with a cursor (fed by ``Alerter.listeners``)."""

    def __init__(self, maxlen: int = MAX_ALERTS) -> None:
        self.entries: deque[AlertEntry] = deque(maxlen=maxlen)
        self.seq = 0

    def add(self, kind: str, text: str, priority: str = "LOW", ts_ns: int | None = None) -> None:
        """Append one alert (O(1))."""
        self.seq += 1
        self.entries.append(AlertEntry(self.seq, ts_ns or time.time_ns(), kind, priority, text))

    def on_alert(self, alert: Any) -> None:
        """An ``Alerter`` listener."""
        self.add(str(alert.kind.value), alert.text, alert.priority.name, alert.ts_ns)

    def since(self, cursor: int, limit: int) -> list[AlertEntry]:
        """Alerts with a cursor above ``cursor``, oldest first."""
        return [e for e in self.entries if e.cursor > cursor][:limit]


class OutOfBand:
    """Where approval codes go: the operator's Telegram chat (a ``TelegramSink``), else a file
    only the owner reads (``approval_file``), else the engine's own stderr. Never the alert
    history, a log record, a webhook or an API answer."""

    def __init__(self, telegram: Any = None, path: str = "") -> None:
        self.telegram = telegram
        self.path = path
        if telegram is not None:
            self.channel = "the operator's Telegram chat"
        elif path:       # its path is not told: the agent has no business reading it
            self.channel = "the approval file on the engine's host (the operator's eyes only)"
        else:
            self.channel = "the engine's terminal (stderr)"

    async def send(self, text: str) -> None:
        """Deliver ``text`` (a code and what it approves); raises on a failed delivery."""
        if self.telegram is not None:
            async with aiohttp.ClientSession() as session:
                for attempt in range(3):
                    try:
                        await self.telegram.send(session, text, [])
                        return
                    except Exception as e:  # AlertDeliveryError: already redacted
                        if attempt == 2 or not getattr(e, "retryable", False):
                            raise
                        await asyncio.sleep(0.5 * (attempt + 1))
        elif self.path:
            await asyncio.to_thread(_append_private, self.path, text)
        else:
            print(f"[openclaw-trading approval] {text}", file=sys.stderr, flush=True)


def _append_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a") as f:
        if os.fstat(f.fileno()).st_mode & 0o077:
            raise PermissionError(f"approval file {path} has group/other permission bits")
        f.write(text + "\n")


def _dec(x: Decimal) -> str:
    s = format(x.normalize(), "f")
    return "0" if s in ("-0", "") else s


class ControlOps:
    """The operations (see the module docstring); ``source``: the run file (``reload-risk``)."""

    def __init__(self, r: Any, *, source: str = "", approvals: Approvals | None = None,
                 oob: OutOfBand | None = None, paper: bool = False) -> None:
        self.r = r
        self.source = source
        self.paper = paper
        self.approvals = approvals or Approvals()
        self.oob = oob or OutOfBand()
        self.alerts = AlertLog()
        self.started_ns = time.time_ns()
        self.requests: Counter[str] = Counter()       # by operation
        self.refusals: Counter[str] = Counter()       # by reason (unauthorized, approval...)
        self.halt_reason: str | None = None           # an operator halt's reason
        self._latency: tuple[float, dict[str, Any] | None] = (0.0, None)
        self.changed = 0.0          # time.monotonic() of the last action (cached reads expire)
        alerter = getattr(r, "alerter", None)
        if alerter is not None and hasattr(alerter, "listeners"):
            alerter.listeners.append(self.alerts.on_alert)

    # ---- reading --------------------------------------------------------------------------

    def halted(self) -> tuple[bool, str]:
        """(halted, why): the reconciler's or an operator's halt, or the risk engine's state."""
        rec = getattr(self.r, "reconciler", None)
        if rec is not None and rec.halted is not None:
            return True, rec.halted
        mgr = getattr(self.r, "manager", None)
        if mgr is not None and mgr.halted is not None:
            return True, mgr.halted
        gate = getattr(self.r, "gate", None)
        if gate is not None:
            from openclaw._core.risk import HALT_REASON_NAMES, HALTED

            if gate.engine.trading_state == HALTED:
                return True, "risk engine halted (" + HALT_REASON_NAMES[
                    gate.engine.halt_reason] + ")"
        if self.halt_reason:
            return True, self.halt_reason
        return False, ""

    def books(self) -> list[dict[str, str]]:
        """Every book with its state (LIVE, SYNCING, STALE...)."""
        agg = getattr(self.r, "aggregator", None)
        if agg is None:
            return []
        return [{"venue": inst.venue, "symbol": inst.symbol, "state": agg.state(b).name}
                for b, inst in agg.instrument_of.items()]

    def books_live(self) -> bool:
        """Every book LIVE (a run without an aggregator, e.g. IBKR, has none to wait for)."""
        if getattr(self.r, "aggregator", None) is None:
            return True
        books = self.books()
        return bool(books) and all(b["state"] == "LIVE" for b in books)

    def strategies(self) -> list[dict[str, Any]]:
        """The triarb pipeline and every configured strategy task, with its state."""
        out: list[dict[str, Any]] = []
        p = getattr(self.r, "pipeline", None)
        if p is not None:
            s, ms = p.stats, p.manager.stats
            halted = p.manager.halted
            state = "halted" if halted is not None else "stopped" if p.stopped else "running"
            out.append({"name": "triarb", "state": state, "halt_reason": halted or "",
                        "stats": {"opportunities": s.opportunities, "arbitrages": s.arbitrages,
                                  "orders": ms.orders, "filled_legs": ms.filled_legs,
                                  "incomplete": ms.incomplete, "unwinds": ms.unwinds,
                                  "refused_by_risk": ms.refused_by_risk, "errors": ms.errors}})
        for t in getattr(self.r, "tasks", []):
            name = t.get_name().removeprefix("strategy:")
            if not t.done():
                state = "running"
            elif t.cancelled():
                state = "cancelled"
            else:
                state = "failed" if t.exception() is not None else "ended"
            out.append({"name": name, "state": state, "halt_reason": "", "stats": {}})
        return out

    def risk_state(self) -> dict[str, Any]:
        """Balances (total and reserved) and positions per the risk engine, P&L, exposure."""
        gate = getattr(self.r, "gate", None)
        if gate is None:
            return {"balances": {}, "positions": [], "pnl": None}
        from openclaw._core.risk import TRADING_STATE_NAMES

        eng, ix = gate.engine, gate.index
        balances: dict[str, dict[str, dict[str, str]]] = {}
        for venue, v in ix.venues.items():
            per: dict[str, dict[str, str]] = {}
            for asset, a in ix.assets.items():
                unit = ix.asset_units[asset]
                total, reserved = eng.balance(v, a), eng.reserved(v, a)
                if total or reserved:
                    per[asset] = {"total": _dec(total * unit), "reserved": _dec(reserved * unit)}
            balances[venue] = per
        positions = []
        for (venue, symbol), i in ix.instruments.items():
            lots = eng.position(i)
            if lots:
                positions.append({"venue": venue, "symbol": symbol,
                                  "qty": _dec(lots * ix.specs[i].lot_size)})
        return {"balances": balances, "positions": positions,
                "pnl": {"daily": eng.daily_pnl, "gross_exposure": eng.gross_exposure},
                "trading_state": TRADING_STATE_NAMES[eng.trading_state],
                "refusals_by_reason": dict(gate.refusals.most_common())}

    def latency(self) -> dict[str, Any] | None:
        """The last stage latency summary (p50/p90/p99/p99.9/max us; ``refresh_latency``)."""
        return self._latency[1]

    async def refresh_latency(self, max_age_s: float = 2.0) -> None:
        """Recompute the latency summary when older than ``max_age_s``, in a worker thread (a
        numpy pass over the stage ring: ~2 ms that must not stall the trading loop)."""
        p = getattr(self.r, "manager", None)
        at, cached = self._latency
        now = time.monotonic()
        if p is None or (cached is not None and now - at < max_age_s):
            return
        self._latency = (now, cached)          # one refresh at a time
        from openclaw.latency import latency_report

        rep = await asyncio.to_thread(latency_report, p.clock, 0)
        self._latency = (now, {"events": rep["events"], "end_to_end": rep["end_to_end"],
                               "stages": rep["stages"]})

    async def status(self) -> dict[str, Any]:
        """What is running, its books, money, open orders, halt state and latency."""
        await self.refresh_latency()
        halted, why = self.halted()
        journal = getattr(self.r, "journal", None)
        open_orders = []
        if journal is not None:
            open_orders = [{"client_id": o.client_id, "venue": o.venue, "symbol": o.symbol,
                            "side": o.side.value, "qty": str(o.qty),
                            "price": None if o.price is None else str(o.price),
                            "filled_qty": str(o.filled_qty), "status": o.status.value}
                           for o in await journal.open_orders()]
        risk = self.risk_state()
        rec = getattr(self.r, "reconciler", None)
        reconciliation = None
        if rec is not None:
            last = rec.last
            reconciliation = {**rec.summary(), "last_ok": None if last is None else last.ok}
        return {"ok": True, "as_of_ns": time.time_ns(), "pid": os.getpid(), "paper": self.paper,
                "config": self.source,
                "uptime_s": round(time.monotonic() - getattr(self.r, "started", time.monotonic()),
                                  3),
                "halted": halted, "halt_reason": why,
                "ready": self.books_live() and not halted,
                "strategies": self.strategies(), "books": self.books(),
                "balances": risk["balances"], "positions": risk["positions"],
                "pnl": risk["pnl"], "open_orders": open_orders,
                "latency_us": self.latency(), "reconciliation": reconciliation,
                "alerts_cursor": self.alerts.seq}

    async def orders(self, cursor: int, limit: int) -> dict[str, Any]:
        """Orders changed after ``cursor`` (journal event id) and the next cursor."""
        rows = await self._journal().orders_after(cursor, limit)
        return {"ok": True, "orders": rows, "cursor": rows[-1]["cursor"] if rows else cursor}

    async def fills(self, cursor: int, limit: int) -> dict[str, Any]:
        """Fills journaled after ``cursor`` and the next cursor."""
        rows = await self._journal().fills_after(cursor, limit)
        return {"ok": True, "fills": rows, "cursor": rows[-1]["cursor"] if rows else cursor}

    def alerts_since(self, cursor: int, limit: int) -> dict[str, Any]:
        """Alerts after ``cursor`` and the next cursor."""
        rows = self.alerts.since(cursor, limit)
        return {"ok": True, "alerts": [{"cursor": e.cursor, "ts_ns": e.ts_ns, "kind": e.kind,
                                        "priority": e.priority, "text": e.text} for e in rows],
                "cursor": rows[-1].cursor if rows else max(cursor, 0)}

    def _journal(self) -> Any:
        journal = getattr(self.r, "journal", None)
        if journal is None:
            raise NotAvailable("read", "this engine has no journal")
        return journal

    async def record(self, action: str, actor: str, outcome: str, detail: str = "") -> None:
        """Journal an operator action (who/what/when/outcome); logged if it cannot be."""
        self.changed = time.monotonic()
        journal = getattr(self.r, "journal", None)
        if journal is None:
            return
        try:
            await journal.record_control(action, actor, outcome, detail[:2000])
        except Exception:  # noqa: BLE001 - the action stands; say that the journal missed it
            log.exception("journaling control action %s failed", action)

    # ---- acting ---------------------------------------------------------------------------

    async def halt(self, reason: str, actor: str) -> dict[str, Any]:
        """Halt: the risk engine refuses every new order, strategies start nothing new, a HIGH
        alert goes out (as a reconciliation mismatch does). Always allowed; idempotent."""
        reason = _reason(reason)
        text = f"operator halt ({actor}): {reason}"
        rec = getattr(self.r, "reconciler", None)
        if rec is not None:
            rec.halt(text)
        else:
            gate = getattr(self.r, "gate", None)
            if gate is not None:
                gate.engine.kill()
            mgr = getattr(self.r, "manager", None)
            if mgr is not None:
                mgr.halt(text)
            alerter = getattr(self.r, "alerter", None)
            if alerter is not None:
                alerter.halt(text)
            else:
                self.alerts.add("halt", f"trading halted: {text}", "HIGH")
        self.halt_reason = text
        for hook in getattr(self.r, "halt_hooks", ()):   # e.g. an IBKR run: its stop event
            hook(text)
        await self.record("halt", actor, "done", reason)
        halted, why = self.halted()
        return {"ok": True, "action": "halt", "halted": halted, "halt_reason": why}

    async def _approve(self, action: str, code: str | None, actor: str, subject: str,
                       what: str) -> None:
        """Consume ``code`` for ``action``/``subject``, or issue a new code out of band and
        raise ApprovalRequired (journaled either way)."""
        if not code:
            if self.approvals.recently_sent(action, subject):   # the code sent is still good
                await self.record(action, actor, "approval_pending", what)
                raise ApprovalRequired(action, self.oob.channel, self.approvals.ttl_s)
            new = self.approvals.issue(action, subject)
            try:
                await self.oob.send(f"openclaw-trading: approval code {new} for {action} "
                                    f"({what}); valid {self.approvals.ttl_s:g} s, single use. "
                                    "Type it yourself; never give it to the agent to relay.")
            except Exception as e:
                self.approvals.revoke(action)      # a code nobody received is void
                await self.record(action, actor, "approval_not_delivered", type(e).__name__)
                raise NotAvailable(action, f"the approval code could not be sent to "
                                   f"{self.oob.channel} ({type(e).__name__})") from None
            await self.record(action, actor, "approval_requested", what)
            raise ApprovalRequired(action, self.oob.channel, self.approvals.ttl_s)
        try:
            self.approvals.consume(action, code, subject)
        except Exception:
            self.refusals["approval_refused"] += 1
            await self.record(action, actor, "approval_refused", what)
            raise

    async def resume(self, code: str | None, actor: str) -> dict[str, Any]:
        """Undo a halt (the reconciler's, an operator's or the risk engine's kill switch)."""
        halted, why = self.halted()
        if not halted:
            raise BadRequest("resume", "not halted", "the engine is not halted")
        if not getattr(self.r, "resumable", True):
            raise NotAvailable("resume", "this run's strategies stop when halted and cannot be "
                               "resumed in place; the operator restarts the service")
        await self._approve("resume", code, actor, "", f"resume after: {why[:200]}")
        gate = getattr(self.r, "gate", None)
        if gate is not None:
            from openclaw._core.risk import ACTIVE

            gate.engine.set_trading_state(ACTIVE)
        rec = getattr(self.r, "reconciler", None)
        if rec is not None:
            rec.halted = None
        mgr = getattr(self.r, "manager", None)
        if mgr is not None:
            mgr.resume()
        self.halt_reason = None
        alerter = getattr(self.r, "alerter", None)
        text = f"trading resumed by the operator ({actor}); was halted: {why[:300]}"
        if alerter is not None:
            from openclaw.alerts import AlertKind, Priority

            alerter.notify(AlertKind.INFO, text, priority=Priority.HIGH)
        else:
            self.alerts.add("info", text, "HIGH")
        await self.record("resume", actor, "done", why[:500])
        return {"ok": True, "action": "resume", "halted": self.halted()[0], "was": why}

    async def flatten(self, code: str | None, actor: str) -> dict[str, Any]:
        """Halt, then cancel what can be cancelled and report what is left; refuses
        (NotAvailable) when open orders or positions remain, naming them."""
        if getattr(self.r, "router", None) is None and getattr(self.r, "gate", None) is None:
            raise NotAvailable("flatten", "this run has no order router or risk gate the "
                               "control API can settle through (halt is available)")
        await self._approve("flatten", code, actor, "", "halt, cancel open orders, unwind")
        if not self.halted()[0]:
            await self.halt("flatten requested", actor)
        journal = getattr(self.r, "journal", None)
        router = getattr(self.r, "router", None)
        mgr = getattr(self.r, "manager", None)
        for _ in range(100):                 # the list in flight (if any) finishes first
            if mgr is None or not mgr.busy:
                break
            await asyncio.sleep(0.1)
        else:
            await self.record("flatten", actor, "incomplete", "an order list is in flight")
            raise NotAvailable("flatten", "an order list is still in flight after 10 s; halted, "
                               "run flatten again", {"halted": True})
        left: list[str] = []
        if journal is not None and router is not None:
            # IOC legs settle by themselves: settle what is being resolved, then query every
            # non-final journal order at its venue (as shutdown does)
            await router.resolver.settle(min(router.visibility_window_s, 10.0))
            await router.recover()
            left = [f"{o.venue}:{o.client_id}={o.status.value}"
                    for o in await journal.open_orders()]
        held = [f"{p['venue']}:{p['symbol']}={p['qty']}" for p in self.risk_state()["positions"]]
        done: dict[str, object] = {"halted": True, "open_orders_left": left, "positions": held}
        missing = []
        if left:
            missing.append(f"open orders still not final: {', '.join(left[:20])}")
        if held:
            missing.append("unwinding positions is not implemented for this engine's "
                           "instruments (it would need a strategy-specific unwind order list "
                           "through the risk gate); positions left: " + ", ".join(held[:20]))
        if missing:
            await self.record("flatten", actor, "incomplete", "; ".join(missing))
            raise NotAvailable("flatten", "; ".join(missing), done)
        await self.record("flatten", actor, "done", "no open orders, no positions")
        return {"ok": True, "action": "flatten", **done}

    async def reload_risk(self, code: str | None, actor: str) -> dict[str, Any]:
        """Load the run file's ``[risk]`` again: validated, checked to have the engine's shape
        (same venues, assets, instruments, units), then applied in one synchronous step (no
        order check can interleave); journaled. Refuses (typed) anything else."""
        gate = getattr(self.r, "gate", None)
        if gate is None:
            raise NotAvailable("reload-risk", "this engine has no risk gate")
        limits, digest = await asyncio.to_thread(self._read_limits)
        from openclaw.risk.limits import build_engine, load_limits, make_index

        try:
            new_ix = make_index(limits)
            build_engine(limits)             # every limit converts: loading cannot fail midway
        except Exception as e:  # noqa: BLE001 - RiskConfigError names the field and value
            raise BadRequest("risk", self.source, f"not loadable: {e}") from None
        ix = gate.index
        differ = [name for name in ("venues", "assets", "instruments", "asset_units")
                  if getattr(new_ix, name) != getattr(ix, name)]
        if differ:
            raise NotAvailable("reload-risk", f"[risk] {', '.join(differ)} differ from the "
                               "running engine's; a reload may change limits only (restart "
                               "the engine to change what is traded)")
        n = len(limits.instruments)
        await self._approve("reload-risk", code, actor, digest,
                            f"[risk] of {self.source} sha256 {digest[:12]}, {n} instruments")
        load_limits(gate.engine, limits)
        gate.index = gate.engine.index
        await self.record("reload-risk", actor, "done", f"sha256 {digest}")
        return {"ok": True, "action": "reload-risk", "sha256": digest, "instruments": n}

    def _read_limits(self) -> tuple[Any, str]:
        """The run file's ``[risk]`` as RiskLimits and its digest (blocking: a thread)."""
        from pydantic import ValidationError

        from openclaw.risk.limits import RiskLimits

        if not self.source or not Path(self.source).is_file():
            raise NotAvailable("reload-risk", f"the run file {self.source or '(none)'} cannot "
                               "be read again")
        try:
            data = tomllib.loads(Path(self.source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise BadRequest("config", self.source, f"unreadable: {e}") from None
        risk = data.get("risk")
        if not risk:
            raise NotAvailable("reload-risk", f"{self.source} has no [risk] section (the engine "
                               "runs on default limits built from [[instruments]])")
        try:
            limits = RiskLimits.model_validate(risk)
        except ValidationError as e:
            err = e.errors()[0]
            raise BadRequest("risk." + ".".join(str(p) for p in err["loc"]),
                             err.get("input"), err["msg"]) from None
        return limits, hashlib.sha256(orjson.dumps(risk, option=orjson.OPT_SORT_KEYS,
                                                   default=str)).hexdigest()


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise BadRequest("reason", reason, "a halt needs a non-empty reason")
    if len(reason) > MAX_REASON:
        raise BadRequest("reason", reason[:40] + "...", f"longer than {MAX_REASON} characters")
    return reason.strip()


