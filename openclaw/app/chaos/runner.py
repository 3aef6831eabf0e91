"""Runs the fault catalogue: each fault in a fresh system (simulators, journal, routes, feeds,
risk, reconciler, alerts: ``start_system``), then the verdict from evidence.

Why: a fault's row must say what the venues and the journal say happened, not what we expect.
The evidence, per run:

* orders and fills: the run's journal (every order of the order manager, its fills);
* lost and duplicates: the venues' own order lists (``GET /_sim/orders`` of each simulator)
  against the journal (``execution.audit.audit_orders``): an order the venue holds that the
  journal does not, a traded order the venue lacks, a filled quantity that differs, one client id
  held twice;
* books: with the simulated market paused and every frame read, each client book equals the
  simulator's true book (``GET /_sim/book``) level by level, and every book is LIVE;
* recovery: from the injection to the fault's own recovery condition (a resync counted and every
  book of the venue LIVE again; every order of the list final in the journal);
* alerts: the messages the (fake) Telegram server received, after the alerter's flush;
* the run's own shutdown summary: no open order left, journal consistent, reconciliation not
  halted.

A row is ok only when all of these hold and the fault's own checks (``Trial.expect``) hold.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from openclaw.app.config import Config
from openclaw.app.runner import Running, close_system, shutdown_system, start_system
from openclaw.execution.audit import audit_orders
from openclaw.feeds.state import BookState, FeedCounters
from openclaw.model.orders import Order

__all__ = ["ROW_KEYS", "Fault", "FaultRow", "Trial", "chaos_config", "run_catalogue", "run_fault",
           "run_standalone"]

log = logging.getLogger("openclaw.chaos")

#: the keys of one row of ``chaos --json`` (in this order)
ROW_KEYS = ("name", "layer", "venue", "orders", "fills", "lost", "duplicates", "books_ok",
            "recovery_ms", "alerts", "ok")
VENUES = ("binance", "okx", "bybit")
ALERT_LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} [A-Z_]+: ")


class TrialFailed(Exception):
    """A fault's run could not go on (the reason is the row's ``why``)."""


@dataclass(frozen=True)
class Fault:
    """One catalogue entry: what is injected where, and the run that injects and checks it.

    ``act`` injects the fault through the simulators' control API, drives the system (orders
    through the one order path, or just the feeds), records the recovery time and checks the
    fault's own expectations with ``Trial.expect``; the runner adds the checks every row gets."""

    name: str
    layer: str                  # "market data" | "trading"
    venue: str
    injects: str                # what is injected (docs/chaos.md)
    checks: str                 # what is checked besides the common checks
    act: Callable[[Trial], Awaitable[None]]
    quick: bool = False         # part of ``chaos --quick``
    route: str = "ccxt"         # order entry of the run: "ccxt" or "ws"
    min_alerts: int = 0         # alerts the fault must raise (delivered to Telegram)
    alert_match: str = ""       # a regular expression one delivered alert line must match
    #: a fault that needs no ``start_system`` run of this process (process, IBKR, fuzz): it
    #: builds its own run and fills the row from its own evidence; ``act`` is then unused
    run: Callable[[Fault, int], Awaitable[FaultRow]] | None = None


@dataclass
class FaultRow:
    """One row of the table (``ROW_KEYS``) plus why it failed (the table's last column)."""

    name: str
    layer: str
    venue: str
    orders: int = 0
    fills: int = 0
    lost: int = 0
    duplicates: int = 0
    books_ok: bool | None = False   # None: the fault's run holds no book
    recovery_ms: float | None = None
    alerts: int = 0
    ok: bool = False
    why: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        """The row as ``chaos --json`` prints it: exactly ``ROW_KEYS``."""
        d = asdict(self)
        return {k: d[k] for k in ROW_KEYS}


class Trial:
    """One fault's run: the running system, the simulators' control API, the evidence so far."""

    def __init__(self, fault: Fault, r: Running, http: aiohttp.ClientSession) -> None:
        self.fault = fault
        self.r = r
        self.http = http
        self.problems: list[str] = []
        self.orders: list[Order] = []
        self.injected_at: float | None = None
        self.recovery_ms: float | None = None

    # -- the simulators' control API ------------------------------------------------------------
    def url(self, venue: str | None = None) -> str:
        return str(self.r.sims.servers[venue or self.fault.venue].url)

    async def control(self, method: str, path: str, venue: str | None = None,
                      body: dict[str, Any] | None = None, **query: str) -> Any:
        """One call of a simulator's ``/_sim/`` API; its JSON answer."""
        async with self.http.request(method, self.url(venue) + path, json=body,
                                     params=query or None) as resp:
            got = await resp.json()
            if resp.status != 200:
                raise TrialFailed(f"{method} {path}: {resp.status} {got}")
            return got

    async def inject(self, kind: str, venue: str | None = None, **params: Any) -> None:
        """Arm or apply a fault (``POST /_sim/fault``); the recovery clock starts here."""
        await self.control("POST", "/_sim/fault", venue, {"kind": kind, **params})
        if self.injected_at is None:
            self.injected_at = time.monotonic()

    async def faults_applied(self, venue: str | None = None) -> int:
        """How many faults the venue's simulator has applied (its ``/_sim/status``)."""
        st = await self.control("GET", "/_sim/status", venue)
        return int(st.get("faults_applied", 0))

    async def venue_orders(self, venue: str) -> list[dict[str, Any]]:
        return list((await self.control("GET", "/_sim/orders", venue))["orders"])

    # -- evidence helpers -------------------------------------------------------------------------
    def expect(self, cond: bool, why: str) -> bool:
        """A check of this fault; a false one fails the row with ``why``."""
        if not cond:
            self.problems.append(why)
        return cond

    def recovered(self) -> None:
        """The fault's recovery condition holds now."""
        if self.injected_at is not None and self.recovery_ms is None:
            self.recovery_ms = round((time.monotonic() - self.injected_at) * 1e3, 1)

    def counters(self, venue: str | None = None) -> FeedCounters:
        """The depth feed counters of the venue's spot connection."""
        v = venue or self.fault.venue
        agg = self.r.aggregator
        name = next(n for n in agg.counters if n == v or n.startswith(f"{v}:spot"))
        return agg.counters[name]  # type: ignore[no-any-return]

    def venue_books_live(self, venue: str | None = None) -> bool:
        v = venue or self.fault.venue
        agg = self.r.aggregator
        return all(agg.state(b) == BookState.LIVE
                   for b, inst in agg.instrument_of.items() if inst.venue == v)

    async def until(self, pred: Callable[[], bool], timeout: float, what: str) -> bool:
        """Poll ``pred`` every 10 ms; False (and a problem) after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > end:
                self.problems.append(f"timed out after {timeout:g}s waiting for {what}")
                return False
            await asyncio.sleep(0.01)
        return True

    # -- orders -----------------------------------------------------------------------------------
    def legs(self, venues: Iterable[str] = VENUES, qty: str = "0.01", side: str = "buy",
             symbol: str = "BTC/USDT") -> list[Order]:
        """One list, one market leg per venue, fresh client ids of this run's order manager."""
        ids = self.r.manager.ids
        opp = ids.next_opportunity()
        return [Order(ids.make(opp, k), v, symbol, side, "market", Decimal(qty), None, opp, k)
                for k, v in enumerate(venues)]

    async def submit(self, orders: list[Order], timeout: float = 20.0) -> list[Order]:
        """The list through the order manager (risk, journal, route, answers); then wait until
        every order is final (the resolver settles those in doubt): that is the recovery."""
        self.orders += orders
        if self.injected_at is None:
            self.injected_at = time.monotonic()
        await asyncio.wait_for(self.r.manager.submit(orders), timeout)
        if await self.until(lambda: all(o.is_final for o in orders), timeout,
                            "every order final"):
            self.recovered()
        return orders


# -- the run of one fault ---------------------------------------------------------------------

def chaos_config(journal_path: str, route: str = "ccxt", seed: int = 7) -> Config:
    """The demo's configuration (the three simulated venues, their spot books, Telegram alerts
    to the local fake server) with short timeouts, so that a fault is over within seconds."""
    from openclaw.app.demo import demo_config

    data = demo_config(seed=seed, route=route, journal_path=journal_path).model_dump()
    data["strategy"]["triarb"]["leg_timeout_ms"] = 1500
    data["reconcile"].update(visibility_window_s=1.0, query_backoff_s=0.05,
                             query_backoff_max_s=0.3)
    data["feeds"]["stale_after_ms"] = 1500
    # alerts always to the local fake Telegram server: never to a chat configured for the demo
    data["alerts"]["telegram"].update(token_env="OPENCLAW_CHAOS_UNSET_TOKEN",
                                      chat_env="OPENCLAW_CHAOS_UNSET_CHAT")
    return Config.model_validate(data)


async def books_equal(t: Trial, timeout: float = 5.0) -> tuple[bool, list[str]]:
    """Pause the market, wait until every frame sent was read, then compare every client book
    with the simulator's (``GET /_sim/book``); the market resumes afterwards."""
    agg = t.r.aggregator
    await t.control("POST", "/_sim/pause", "binance")    # one clock for every venue
    why: list[str] = []
    try:
        end = time.monotonic() + timeout
        last = -1
        while True:
            await asyncio.sleep(0.15)
            seen = sum(c.messages for c in agg.counters.values())
            queued = 0
            for v in VENUES:
                queued += int((await t.control("GET", "/_sim/status", v))["queued"])
            if seen == last and queued == 0:
                break
            last = seen
            if time.monotonic() > end:
                return False, ["the feeds did not go quiet with the market paused"]
        for book_id, inst in agg.instrument_of.items():
            name = f"{inst.venue}:{inst.key}"
            if agg.state(book_id) != BookState.LIVE:
                why.append(f"{name} is {agg.state(book_id).name}")
                continue
            query = {"symbol": inst.symbol, "category": inst.category}
            if inst.venue == "bybit":
                query["depth"] = str(agg.bybit_depth)
            true = await t.control("GET", "/_sim/book", inst.venue, **query)
            bids, asks = agg.bookset.book(book_id).top(100_000)
            if bids.tolist() != [[float(p), float(q)] for p, q in true["bids"]] or \
                    asks.tolist() != [[float(p), float(q)] for p, q in true["asks"]]:
                why.append(f"{name} differs from the simulator's book")
    finally:
        with contextlib.suppress(Exception):
            await t.control("POST", "/_sim/resume", "binance")
    return not why, why


def alert_lines(r: Running) -> list[str]:
    """Every alert the run delivered (one line each; the Telegram sink batches them into
    messages), read from the local fake Telegram server after the alerter's flush."""
    if r.telegram is None:
        return []
    return [line for m in r.telegram.messages for line in str(m.get("text", "")).splitlines()
            if ALERT_LINE.match(line)]


async def venue_audit(t: Trial) -> tuple[int, int, list[str]]:
    """Lost and duplicate orders: the journal's orders of this run against every venue's own
    order list (``GET /_sim/orders``)."""
    m = t.r.manager
    journal_orders = await t.r.journal.orders_by_prefix(m.ids.prefix)
    at_venue = {v: [{"clientOrderId": o.get("client_id") or "", "filled": o.get("filled")}
                    for o in await t.venue_orders(v)] for v in VENUES}
    rep = audit_orders(journal_orders, at_venue, m.ids.owns)
    why = [f"lost at {v}: {', '.join(x)}" for v, x in rep.lost.items() if x]
    why += [f"duplicated at {v}: {', '.join(x)}" for v, x in rep.duplicates.items() if x]
    return (sum(len(x) for x in rep.lost.values()),
            sum(len(x) for x in rep.duplicates.values()), why)


async def run_fault(fault: Fault, *, seed: int = 7, timeout: float = 60.0) -> FaultRow:
    """One fault in a fresh system with its own journal; the row from the evidence."""
    if fault.run is not None:
        return await run_standalone(fault, seed, timeout)
    row = FaultRow(fault.name, fault.layer, fault.venue)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="openclaw-chaos-") as tmp:
        cfg = chaos_config(str(Path(tmp) / "journal.sqlite"), fault.route, seed)
        r = Running()
        summary: dict[str, Any] = {}
        why: list[str] = []
        lines: list[str] = []
        try:
            async with aiohttp.ClientSession() as http:
                await start_system(cfg, r, paper=False, seed=seed, source=f"<chaos {fault.name}>",
                                   with_strategies=False)
                trial = Trial(fault, r, http)
                try:
                    await asyncio.wait_for(fault.act(trial), timeout)
                except TimeoutError:
                    why.append(f"the fault's run took more than {timeout:g}s")
                except TrialFailed as e:
                    why.append(str(e))
                row.books_ok, book_why = await books_equal(trial)
                why += book_why
                summary = await shutdown_system(r, drain_timeout=10.0)
                row.lost, row.duplicates, audit_why = await venue_audit(trial)
                why += audit_why
                why += trial.problems
                row.recovery_ms = trial.recovery_ms
                journal_orders = await r.journal.orders_by_prefix(r.manager.ids.prefix)
                row.orders = len(journal_orders)
                row.fills = sum(1 for f in await r.journal.fills()
                                if r.manager.ids.owns(f.client_id))
                lines = alert_lines(r)
        except Exception as e:  # noqa: BLE001 - the row says what broke; the next fault runs
            log.exception("chaos fault %s: the run failed", fault.name)
            why.append(f"run failed: {type(e).__name__}: {str(e)[:200]}")
        finally:
            await close_system(r)
        row.alerts = len(lines)
        if summary:
            if summary.get("open_orders"):
                why.append(f"{len(summary['open_orders'])} orders not final at shutdown")
            if not summary.get("journal_consistent"):
                why.append("journal inconsistent: "
                           + "; ".join(summary.get("journal_problems", [])[:3]))
            if summary.get("halted"):
                why.append(f"reconciliation halted: {summary.get('halt_reason')}")
        if row.alerts < fault.min_alerts:
            why.append(f"{row.alerts} alerts, expected at least {fault.min_alerts}")
        if fault.alert_match and not any(re.search(fault.alert_match, x) for x in lines):
            why.append(f"no alert matching {fault.alert_match!r}")
        if row.recovery_ms is None and not why:
            why.append("no recovery was observed")
    row.why = why
    row.ok = not why and row.books_ok and row.lost == 0 and row.duplicates == 0
    row.seconds = round(time.monotonic() - t0, 2)
    return row


async def run_standalone(fault: Fault, seed: int, timeout: float) -> FaultRow:
    """A fault with its own run (``Fault.run``): its row, ok only if nothing was lost or
    doubled, the books (when it has any) were equal and no check failed."""
    assert fault.run is not None
    t0 = time.monotonic()
    try:
        row = await asyncio.wait_for(fault.run(fault, seed), timeout)
    except Exception as e:  # noqa: BLE001 - the row says what broke; the next fault runs
        log.exception("chaos fault %s: the run failed", fault.name)
        row = FaultRow(fault.name, fault.layer, fault.venue, books_ok=None,
                       why=[f"run failed: {type(e).__name__}: {str(e)[:200]}"])
    if row.recovery_ms is None and not row.why:
        row.why.append("no recovery was observed")
    row.ok = (not row.why and row.books_ok is not False and row.lost == 0
              and row.duplicates == 0)
    row.seconds = round(time.monotonic() - t0, 2)
    return row


async def run_catalogue(faults: Iterable[Fault], *, seed: int = 7,
                        on_row: Callable[[FaultRow], None] | None = None) -> dict[str, Any]:
    """Every fault in turn (each in a fresh system); ``on_row`` gets each row as it finishes.
    Returns ``{"faults": [row, ...], "ok": all rows ok}`` (rows as ``FaultRow``)."""
    rows = []
    for fault in faults:
        row = await run_fault(fault, seed=seed)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return {"faults": rows, "ok": bool(rows) and all(x.ok for x in rows)}
