"""Reconciliation: what the journal says we own against what the venues say we own.

Why: every other check in the pipeline trusts our own records. A fill the journal missed, an
order placed at the venue by someone else, a deposit or withdrawal, a fee charged differently:
each makes the risk engine's balances wrong and the next order unsafe. So after each arbitrage
and every ``interval_s`` seconds, off the hot path:

1. the expected balance of every (venue, asset) is the starting snapshot plus every journaled
   fill since it (buy: base + qty, quote - qty * price; sell: the reverse; minus the fee in the
   asset charged);
2. the venues are asked (ccxt ``fetch_balance``, through the same per-venue request bucket as
   trading) and every order the journal holds as not final is looked up by client id;
3. a difference beyond the asset's tolerance (``abs + rel * |expected|``), or an open order
   whose venue record contradicts the journal (the venue has less filled than we journaled),
   halts trading: the risk engine goes HALTED (every new order is refused with
   ``TRADING_HALTED``), the ``on_halt`` callbacks run (the pipeline stops starting arbitrages)
   and a HIGH-priority alert goes out;
4. the venues' balances are journaled (``Journal.record_balances``), and a venue with nothing of
   ours open refreshes the risk engine's balances (``risk.refresh_balances``: the venue is the
   truth; skipped if a fill or close reached the engine after the balances were read).

Orders still being resolved (the router's ``OrderResolver``: UNKNOWN after a failed query, or an
acknowledged IOC leg without a final status) are pending, not mismatches: an open journal order
whose venue record would settle it (canceled, filled, not found) is handed to the resolver, which
journals the outcome; and a balance difference that the pending orders of a venue can explain
(each could still fill its remaining quantity at its limit or better, with a fee of at most
``max_fee_rate``) is not a mismatch either. A halt names the order, the journal's view and the
venue's, and lists the orders still pending.

A venue that does not answer is retried, then reported (and alerted), never read as zero. A
reconciliation only compares while no order is in flight (``activity``): a venue's balance that
already includes a fill whose reply has not arrived would be a false mismatch. If an arbitrage
starts while the venues are being asked, the comparison is discarded and redone. A run that
fails outright (the journal unreadable, say) is logged and retried; after
``alert_after_failures`` in a row a HIGH DISCONNECT alert says reconciliation is not running.

``start_reconciler`` is how ``openclaw-trading run`` and ``openclaw.Session`` set it up (build,
baseline, background task) and ``Reconciler.finish`` their last word at shutdown;
``openclaw-trading demo`` builds its Reconciler before its pipeline and takes the baseline itself.
``summary()`` gives the counters all three put in their run summaries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from openclaw.execution.resolver import spare_token
from openclaw.model.orders import Order, OrderStatus

if TYPE_CHECKING:       # annotations only: openclaw.app.config imports ReconcileConfig from here
    from openclaw.execution.router import Router
    from openclaw.journal import Journal

__all__ = [
    "AssetTolerance",
    "BalanceMismatch",
    "OrderMismatch",
    "ReconcileConfig",
    "ReconcileReport",
    "Reconciler",
    "expected_balances",
    "start_reconciler",
]

log = logging.getLogger("openclaw.execution.reconcile")

_ZERO = Decimal(0)
# a fill is journaled right after it is applied; one stamped this long before the newest fill
# already read is still picked up
_LATE_FILL_MARGIN_NS = 60 * 10**9
# venue statuses that mean "still live at the venue" (ccxt unified)
_LIVE = frozenset({"open"})
# an order check whose venue answer settles the order (the resolver applies it)
_SETTLES = object()
# no bound (a pending market order's quote side)
_BIG = Decimal(10) ** 30


class AssetTolerance(BaseModel):
    """Allowed |venue - expected| for one asset: ``abs + rel * |expected|``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abs: Decimal = Field(Decimal("0.000001"), ge=0, allow_inf_nan=False)
    rel: Decimal = Field(Decimal("0.0000001"), ge=0, lt=1, allow_inf_nan=False)

    def allows(self, expected: Decimal, actual: Decimal) -> bool:
        """True if ``actual`` is within tolerance of ``expected``."""
        return abs(actual - expected) <= self.abs + self.rel * abs(expected)


class ReconcileConfig(BaseModel):
    """Reconciliation settings.

    The default tolerance (1e-6 absolute + 0.1 ppm of the balance) covers the venues' rounding
    of each fill's quote amount and fee to 8 decimals over thousands of fills, and is far below
    any real discrepancy (a missed fill moves at least one lot).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(5.0, gt=0, allow_inf_nan=False)
    tolerance: AssetTolerance = AssetTolerance()
    tolerances: dict[str, AssetTolerance] = Field(default_factory=dict)  # per asset
    attempts: int = Field(3, ge=1)  # venue queries per reconciliation before "unreachable"
    retry_delay_s: float = Field(0.2, ge=0, allow_inf_nan=False)  # doubled per attempt
    query_timeout_s: float = Field(5.0, gt=0, allow_inf_nan=False)
    quiet_timeout_s: float = Field(30.0, gt=0, allow_inf_nan=False)  # wait for no order in flight
    # at most one reconciliation per min_gap_s: arbitrages in a burst share one (it covers all)
    min_gap_s: float = Field(0.5, ge=0, allow_inf_nan=False)
    # a balance query waits until the venue's bucket holds this many tokens beyond its own:
    # reconciliation never takes the tokens an order would need
    reserve_tokens: float = Field(5.0, ge=0, allow_inf_nan=False)
    # background runs that fail outright this many times in a row: one HIGH DISCONNECT alert
    # (reconciliation is not running), then keep trying; re-armed by a run that completes
    alert_after_failures: int = Field(3, ge=1)
    # an order the venue does not know this long after its send was never placed (resolver)
    visibility_window_s: float = Field(10.0, ge=0, allow_inf_nan=False)
    query_backoff_s: float = Field(0.25, gt=0, allow_inf_nan=False)   # doubled per query
    query_backoff_max_s: float = Field(5.0, gt=0, allow_inf_nan=False)
    # what a pending order may still cost in fees (fraction of its remaining notional) and how
    # far above its limit a pending sell may still fill, when explaining a balance difference
    max_fee_rate: Decimal = Field(Decimal("0.01"), ge=0, lt=1, allow_inf_nan=False)
    sell_improvement: Decimal = Field(Decimal("0.1"), ge=0, allow_inf_nan=False)

    def tolerance_of(self, asset: str) -> AssetTolerance:
        return self.tolerances.get(asset, self.tolerance)


@dataclass(frozen=True, slots=True)
class BalanceMismatch:
    """One (venue, asset) whose venue balance is outside tolerance of the expected one."""

    venue: str
    asset: str
    expected: Decimal
    actual: Decimal

    @property
    def diff(self) -> Decimal:
        return self.actual - self.expected

    def text(self) -> str:
        return (f"{self.venue} {self.asset}: expected {_show(self.expected)}, venue "
                f"{_show(self.actual)} (diff {'+' if self.diff > 0 else ''}{_show(self.diff)})")


@dataclass(frozen=True, slots=True)
class OrderMismatch:
    """An order the journal holds as not final whose venue record says otherwise."""

    venue: str
    client_id: str
    journal_status: str
    journal_filled: Decimal
    venue_status: str | None  # None: the venue has no such order
    venue_filled: Decimal | None

    def text(self) -> str:
        return (f"{self.venue} order {self.client_id}: journal {self.journal_status} "
                f"filled {self.journal_filled}, venue "
                + ("has no such order" if self.venue_status is None
                   else f"{self.venue_status} filled {self.venue_filled}"))


@dataclass
class ReconcileReport:
    """The outcome of one reconciliation."""

    ts_ns: int
    venues: list[str]
    expected: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    actual: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    balance_mismatches: list[BalanceMismatch] = field(default_factory=list)
    order_mismatches: list[OrderMismatch] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # venue -> last error
    deferred: bool = False  # orders were in flight: nothing was compared
    pending: list[str] = field(default_factory=list)  # client ids still being resolved
    explained: list[str] = field(default_factory=list)  # differences pending orders explain
    refreshed: list[str] = field(default_factory=list)  # venues whose balances reached risk

    @property
    def ok(self) -> bool:
        """True if everything compared matched and every venue answered."""
        return (not self.deferred and not self.balance_mismatches
                and not self.order_mismatches and not self.unreachable)

    @property
    def mismatched(self) -> bool:
        return bool(self.balance_mismatches or self.order_mismatches)

    def text(self) -> str:
        parts = [m.text() for m in self.balance_mismatches]
        parts += [m.text() for m in self.order_mismatches]
        if self.pending:
            parts.append(f"orders still being resolved: {', '.join(self.pending[:10])}")
        return "; ".join(parts)


class _Kill(Protocol):
    def kill(self) -> None: ...


class _Risk(Protocol):
    def balance_epoch(self, venue: str) -> int: ...
    def refresh_balances(self, venue: str, balances: dict[str, Decimal],
                         epoch: int | None = None) -> bool: ...


class _Alerts(Protocol):
    def halt(self, reason: str) -> bool: ...
    def disconnect(self, venue: str, detail: str) -> bool: ...


def _show(x: Decimal) -> str:
    """At most 10 decimals, trailing zeros dropped (journal arithmetic carries more)."""
    q = x.quantize(Decimal("1e-10")).normalize()
    return f"{q:f}"


def _dec(x: Any) -> Decimal:
    """A ccxt number (float, str, int) as an exact Decimal of its shortest repr."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, float):
        return Decimal(repr(x))
    return Decimal(str(x))


def expected_balances(start: dict[str, dict[str, Decimal]],
                      fills: Iterable[tuple[str, str, str, Decimal, Decimal, Decimal, str | None]]
                      ) -> dict[str, dict[str, Decimal]]:
    """Start balances moved by fills ``(venue, "BASE/QUOTE", side, qty, price, fee, fee_asset)``.

    A buy receives base and pays quote, a sell the reverse; the fee (negative: a rebate) is
    taken from its asset. Exact decimals throughout.
    """
    out = {v: dict(b) for v, b in start.items()}
    for venue, symbol, side, qty, price, fee, fee_asset in fills:
        base, quote = symbol.split("/")
        bal = out.setdefault(venue, {})
        sign = 1 if side == "buy" else -1
        bal[base] = bal.get(base, _ZERO) + sign * qty
        bal[quote] = bal.get(quote, _ZERO) - sign * qty * price
        if fee and fee_asset:
            bal[fee_asset] = bal.get(fee_asset, _ZERO) - fee
    return out


class Reconciler:
    """Compares journal and venues after each arbitrage (``request``) and every interval.

    ``activity``: returns None while orders are in flight, else a number that changes whenever
    an order list starts (``ArbPipeline.activity``); None means nothing else sends orders.
    ``engine``: the risk engine to halt (``kill``); ``on_halt``: more callbacks (reason);
    ``risk``: the risk gate whose balances the venues' refresh (``refresh_balances``).
    """

    def __init__(self, router: Router, journal: Journal, *,
                 config: ReconcileConfig | None = None,
                 alerter: _Alerts | None = None,
                 engine: _Kill | None = None,
                 on_halt: Iterable[Callable[[str], None]] = (),
                 activity: Callable[[], int | None] | None = None,
                 risk: _Risk | None = None) -> None:
        self.router = router
        self.risk = risk
        self.journal = journal
        self.config = config or ReconcileConfig()
        self.alerter = alerter
        self.engine = engine
        self.on_halt = list(on_halt)
        self.activity = activity
        self.start_balances: dict[str, dict[str, Decimal]] | None = None
        self.start_ns = 0
        self.halted: str | None = None          # the reason, once halted
        self.reports: list[ReconcileReport] = []
        self.runs = 0                           # reconciliations that compared
        self.deferred = 0
        self.failures = 0                       # background runs that raised, in a row
        self.failures_total = 0
        self.refreshes = 0                      # venue balances applied to the risk engine
        self.explained = 0                      # differences pending orders explained
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        # incremental expected balances: start + fills counted so far
        self._running: dict[str, dict[str, Decimal]] | None = None
        self._counted: dict[tuple[str, str], int] = {}
        self._cursor_ns = 0

    @property
    def last(self) -> ReconcileReport | None:
        return self.reports[-1] if self.reports else None

    # ---- setup ---------------------------------------------------------------------------

    async def snapshot(self, venues: Iterable[str] | None = None) -> dict[str, dict[str, Decimal]]:
        """Take the starting balances from the venues (call with no order open, before trading).

        Raises if a venue cannot be read: reconciliation cannot start without its baseline.
        """
        names = list(venues or self.router.routes)
        open_orders = await self.journal.open_orders()
        if open_orders:
            raise RuntimeError(f"{len(open_orders)} order(s) open in the journal: recover them "
                               "before taking the reconciliation baseline")
        self.start_ns = time.time_ns()
        got = await asyncio.gather(*(self._balance(v) for v in names), return_exceptions=True)
        bad = {v: g for v, g in zip(names, got, strict=True) if isinstance(g, BaseException)}
        if bad:
            raise RuntimeError("cannot read starting balances: " + "; ".join(
                f"{v}: {type(e).__name__}: {str(e)[:120]}" for v, e in bad.items()))
        self.start_balances = {v: g for v, g in zip(names, got, strict=True)}  # type: ignore[misc]
        self._running = {v: dict(b) for v, b in self.start_balances.items()}
        self._counted = {}
        self._cursor_ns = self.start_ns
        await asyncio.gather(*(self.journal.record_balances(v, bal)
                               for v, bal in self.start_balances.items()))
        return self.start_balances

    def start(self) -> None:
        """Start the background task (periodic runs and the ones ``request`` asks for)."""
        if self.start_balances is None:
            raise RuntimeError("take the baseline first: await snapshot()")
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(),
                                                                 name="reconciler")

    async def stop(self) -> None:
        """Cancel the background task and wait for it (a run in progress is abandoned)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def request(self, venues: Iterable[str] | None = None) -> None:
        """Ask for a reconciliation soon (O(1), never blocks: safe from the trading path)."""
        self._pending.update(venues or self.router.routes)
        self._wake.set()

    # ---- the work ------------------------------------------------------------------------

    async def _loop(self) -> None:
        interval = self.config.interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            await asyncio.sleep(self.config.min_gap_s)     # let a burst of requests gather
            self._wake.clear()
            venues = sorted(self._pending) or list(self.router.routes)
            self._pending.clear()
            try:
                rep = await self.run_once(venues)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - logged, counted, alerted after N, retried
                self._failed(e)
                self._pending.update(venues)
                continue
            self.failures = 0
            if rep.deferred:            # orders were in flight: try again shortly
                self._pending.update(venues)
                await asyncio.sleep(0.05)
                self._wake.set()

    def _failed(self, e: Exception) -> None:
        """A background run raised: log it; the N-th in a row alerts (once per streak)."""
        self.failures += 1
        self.failures_total += 1
        log.error("reconciliation failed (%d in a row)", self.failures, exc_info=e)
        if self.failures == self.config.alert_after_failures and self.alerter is not None:
            self.alerter.disconnect(
                "reconciliation", f"{self.failures} runs in a row failed, still retrying: "
                                  f"{type(e).__name__}: {str(e)[:200]}")

    async def _quiet(self) -> int | None:
        """Wait until no order is in flight; returns the activity counter (or None: timeout)."""
        if self.activity is None:
            return 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.quiet_timeout_s
        while (gen := self.activity()) is None:
            if loop.time() > deadline:
                return None
            await asyncio.sleep(0.01)
        return gen

    async def run_once(self, venues: Iterable[str] | None = None) -> ReconcileReport:
        """One reconciliation of ``venues`` (default: all); halts and alerts on a mismatch."""
        if self.start_balances is None:
            raise RuntimeError("take the baseline first: await snapshot()")
        names = [v for v in (venues or self.router.routes) if v in self.start_balances]
        async with self._lock:
            rep = ReconcileReport(time.time_ns(), names)
            gen = await self._quiet()
            if gen is None:
                rep.deferred = True
                self.deferred += 1
                return rep
            resolver = self.router.resolver
            open_orders = []
            for o in await self.journal.open_orders():
                if o.venue not in names:
                    continue
                if resolver.is_pending(o.client_id):
                    rep.pending.append(o.client_id)
                else:
                    open_orders.append(o)
            epochs = {v: self.risk.balance_epoch(v) for v in names} if self.risk else {}
            balances, order_checks = await asyncio.gather(
                asyncio.gather(*(self._balance(v) for v in names), return_exceptions=True),
                asyncio.gather(*(self._order_check(o) for o in open_orders),
                               return_exceptions=True))
            if self.activity is not None and self.activity() != gen:
                rep.deferred = True     # an order list started meanwhile: compare later
                self.deferred += 1
                return rep
            for o, chk in zip(open_orders, order_checks, strict=True):
                if isinstance(chk, BaseException):
                    rep.unreachable.setdefault(
                        o.venue, f"order query {o.client_id}: {type(chk).__name__}: "
                                 f"{str(chk)[:120]}")
                    resolver.watch(o)               # keeps asking: pending, not a mismatch
                    rep.pending.append(o.client_id)
                elif chk is _SETTLES:
                    resolver.watch(o)               # the resolver journals the outcome
                    rep.pending.append(o.client_id)
                elif chk is not None:
                    rep.order_mismatches.append(chk)   # type: ignore[arg-type]
            # what the orders still being resolved may yet do to each venue's balances
            pending = [o for o in resolver.pending() if o.venue in names]
            pending_ids = {o.client_id for o in pending}
            rep.pending += [c for c in pending_ids if c not in rep.pending]
            slack = self._slack(pending)
            expected = await self._expected()
            writes = []
            for v, got in zip(names, balances, strict=True):
                if isinstance(got, BaseException):
                    rep.unreachable[v] = f"{type(got).__name__}: {str(got)[:160]}"
                    continue
                rep.actual[v] = got
                exp = expected.get(v, {})
                rep.expected[v] = exp
                mismatched = False
                for asset in sorted(set(exp) | set(got)):
                    e, a = exp.get(asset, _ZERO), got.get(asset, _ZERO)
                    tol = self.config.tolerance_of(asset)
                    if tol.allows(e, a):
                        continue
                    lo, hi = slack.get((v, asset), (_ZERO, _ZERO))
                    if (lo or hi) and (tol.allows(e + lo, a) or tol.allows(e + hi, a)
                                       or e + lo <= a <= e + hi):
                        rep.explained.append(f"{v} {asset}: {_show(a - e)}")
                        continue
                    mismatched = True
                    rep.balance_mismatches.append(BalanceMismatch(v, asset, e, a))
                writes.append(self.journal.record_balances(v, got))
                # the venue is the truth for the risk engine, when nothing of ours is open there
                if (self.risk is not None and not mismatched
                        and not any(o.venue == v for o in pending)
                        and not any(o.venue == v for o in open_orders)
                        and self.risk.refresh_balances(v, got, epochs.get(v))):
                    rep.refreshed.append(v)
                    self.refreshes += 1
            await asyncio.gather(*writes)       # one group commit for every venue
            self.explained += len(rep.explained)
            if rep.explained:
                log.info("reconciliation: differences explained by orders still being resolved",
                         extra={"explained": rep.explained, "pending": rep.pending})
            self.runs += 1
            self.reports.append(rep)
            del self.reports[:-100]
            self._act(rep)
            return rep

    async def _expected(self) -> dict[str, dict[str, Decimal]]:
        """Start balances plus every journaled fill since, read incrementally: only fills
        stamped after the last read (less a margin for fills journaled late) are fetched, and
        each (order, trade id) is counted once."""
        assert self._running is not None
        margin = _LATE_FILL_MARGIN_NS
        since = max(self.start_ns, self._cursor_ns - margin)
        new = []
        for f in await self.journal.fills(since_ns=since):
            key = (f.client_id, f.fill.trade_id)
            if key in self._counted:
                continue
            self._counted[key] = f.fill.ts_ns
            self._cursor_ns = max(self._cursor_ns, f.fill.ts_ns)
            new.append((f.venue, f.symbol, f.side, f.fill.qty, f.fill.price, f.fill.fee,
                        f.fill.fee_asset))
        if new:
            self._running = expected_balances(self._running, new)
        old = self._cursor_ns - 2 * margin
        if len(self._counted) > 10_000:
            self._counted = {k: ts for k, ts in self._counted.items() if ts >= old}
        return self._running

    async def _balance(self, venue: str) -> dict[str, Decimal]:
        """The venue's total balance per asset (free + used), retried; raises if unanswered."""
        route = self.router.routes[venue]
        cfg = self.config
        last: BaseException | None = None
        for attempt in range(cfg.attempts):
            if attempt:
                await asyncio.sleep(cfg.retry_delay_s * 2 ** (attempt - 1))
            await self._spare_token(route.bucket, take=True)
            try:
                raw = await asyncio.wait_for(route.client.fetch_balance(), cfg.query_timeout_s)
                total = raw.get("total")
                if not isinstance(total, dict):
                    raise ValueError(f"{venue}: balance reply without totals")
                return {a: _dec(x) for a, x in total.items() if x is not None}
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - retried, then reported as unreachable
                last = e
                log.warning("%s: balance query failed (attempt %d/%d): %s", venue,
                            attempt + 1, cfg.attempts, type(e).__name__)
        assert last is not None
        raise last

    async def _spare_token(self, bucket: Any, *, take: bool) -> None:
        """``resolver.spare_token`` with this config's ``reserve_tokens``."""
        await spare_token(bucket, self.config.reserve_tokens, take=take)

    def _slack(self, pending: list[Order]) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
        """Per (venue, asset): how far below and above the journal's view the venue's balance
        may be while these orders are unresolved (each may still fill its remaining quantity
        at its limit or better, paying a fee of at most ``max_fee_rate`` in either asset)."""
        out: dict[tuple[str, str], list[Decimal]] = {}
        fee_rate = self.config.max_fee_rate
        for o in pending:
            base, quote = o.symbol.split("/")
            left = o.qty - o.filled_qty
            if left <= 0:
                continue
            price = o.price              # None: a market order, no bound on the quote side
            b = out.setdefault((o.venue, base), [_ZERO, _ZERO])
            q = out.setdefault((o.venue, quote), [_ZERO, _ZERO])
            b[0] -= left * fee_rate
            if o.side.value == "buy":
                b[1] += left
                q[0] -= (left * price * (1 + fee_rate)) if price is not None else _BIG
            else:
                b[0] -= left
                q[0] -= (left * price * fee_rate) if price is not None else _BIG
                q[1] += (left * price * (1 + self.config.sell_improvement)
                         if price is not None else _BIG)
        return {k: (lo, hi) for k, (lo, hi) in out.items()}

    async def _order_check(self, order: Order) -> OrderMismatch | object | None:
        """The venue's record of an order the journal holds open: None (live, as journaled),
        ``_SETTLES`` (the venue's answer is a state the order may still move to: the resolver
        applies it) or a mismatch (the venue has less filled than the journal)."""
        route = self.router.routes[order.venue]
        cfg = self.config
        last: BaseException | None = None
        for attempt in range(cfg.attempts):
            if attempt:
                await asyncio.sleep(cfg.retry_delay_s * 2 ** (attempt - 1))
            # the reserve first; route.fetch then takes its token at once (bucket.acquire
            # finds it without waiting), so the query never eats into the orders' tokens
            await self._spare_token(route.bucket, take=False)
            try:
                reply = await route.fetch(order)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001
                if _is_order_not_found(e):
                    if order.filled_qty > 0:    # we journaled fills the venue does not know
                        return OrderMismatch(order.venue, order.client_id, order.status.value,
                                             order.filled_qty, None, None)
                    return _SETTLES             # never placed, once its window has passed
                last = e
                continue
            status = reply.get("status")
            filled = _dec(reply.get("filled") or 0)
            if filled < order.filled_qty:
                return OrderMismatch(order.venue, order.client_id, order.status.value,
                                     order.filled_qty, str(status), filled)
            if status in _LIVE and filled == order.filled_qty and order.status in (
                    OrderStatus.ACKED, OrderStatus.PARTIALLY_FILLED):
                return None         # a live order, as the journal has it
            return _SETTLES
        assert last is not None
        raise last

    def _act(self, rep: ReconcileReport) -> None:
        for v, err in rep.unreachable.items():
            log.error("reconciliation: %s did not answer: %s", v, err)
            if self.alerter is not None:
                self.alerter.disconnect(v, f"reconciliation could not read the venue: {err}")
        if rep.mismatched:
            self.halt("reconciliation mismatch: " + rep.text())

    def halt(self, reason: str) -> None:
        """Halt trading (risk engine HALTED, one HIGH alert, then the callbacks); idempotent.

        The engine and the alert come first: a callback that raises is logged and the next
        one still runs, and can never cost the alert."""
        first = self.halted is None
        if first:
            self.halted = reason
        log.error("HALT: %s", reason)
        if self.engine is not None:
            self.engine.kill()
        if first and self.alerter is not None:
            self.alerter.halt(reason[:1500])
        for cb in self.on_halt:
            try:
                cb(reason)
            except Exception:  # noqa: BLE001 - the halt stands; the next callback still runs
                log.exception("on_halt callback %r failed", cb)

    def summary(self) -> dict[str, Any]:
        """The counters a run summary carries."""
        return {"reconciliations": self.runs, "halted": self.halted is not None,
                "halt_reason": self.halted or "", "reconcile_failures": self.failures_total,
                "reconcile_deferred": self.deferred, "risk_refreshes": self.refreshes,
                "differences_explained": self.explained}

    async def finish(self, final: bool = True) -> dict[str, Any]:
        """Stop the background task, then (``final``) one last reconciliation of every venue
        (orders settled: the journal must explain every balance); returns ``summary()``. A
        final run that raises is logged and counted, never hidden."""
        await self.stop()
        if final and self.start_balances is not None:
            try:
                await self.run_once()
            except Exception as e:  # noqa: BLE001 - reported in the summary and the log
                self.failures_total += 1
                log.error("final reconciliation failed", exc_info=e)
        return self.summary()


def _is_order_not_found(e: BaseException) -> bool:
    """ccxt's OrderNotFound (or a subclass); ccxt is imported only when an error needs it."""
    import ccxt

    return isinstance(e, ccxt.OrderNotFound)


async def start_reconciler(router: Router, journal: Journal, *,
                           config: ReconcileConfig | None = None,
                           alerter: _Alerts | None = None, engine: _Kill | None = None,
                           activity: Callable[[], int | None] | None = None,
                           risk: _Risk | None = None) -> Reconciler:
    """A Reconciler with its baseline taken and its background task running: the one setup
    ``openclaw-trading run``, ``openclaw.Session`` and ``openclaw-trading demo`` share. Call after
    the journal's open orders are recovered and before any order is sent; ``engine`` is the risk
    engine to halt (the gate's). Raises if a venue's starting balance cannot be read."""
    rec = Reconciler(router, journal, config=config, alerter=alerter, engine=engine,
                     activity=activity, risk=risk)
    await rec.snapshot()
    rec.start()
    return rec
