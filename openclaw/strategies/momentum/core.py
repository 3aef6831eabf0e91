"""Cross-sectional momentum: scan a stock universe, hold the top N, rebalance weekly.

Pipeline (``MomentumStrategy.run`` is the ``Scheduler`` job):

1. closes of the universe (``BarsProvider``: ``CachedBars`` over the IBKR session), one float64
   matrix ``closes[stock, day]`` with NaN where a stock has no bar;
2. ``momentum_scores``: the return from ``lookback`` to ``skip`` sessions ago (12-1 months:
   252/21), vectorised; stocks without both prices (too short a history, a missing bar) or
   without a last close get NaN and are excluded; a price that is present but not a positive
   finite number is an error (``PriceError``), never skipped silently;
3. ``rank_top``: the N best scores (ties by symbol: deterministic), equal weights;
4. ``target_quantities``: whole shares, ``floor(weight * NLV * (1 - cash_buffer) / price)``;
5. ``rebalance_orders``: deltas against the current positions, sells first, then buys trimmed
   (proportionally, whole shares) so that cash + sell proceeds - buy costs, both with a
   fee/slippage allowance, stays >= 0; marketable limit prices ``limit_bps`` through the close;
6. execution: each order through the pre-trade risk engine (``QuoteRisk``: max order notional,
   position cap, collar, balance, throttle...); a denied order is reported with its reason code
   and not sent. Orders are paced at ``max_orders_per_s`` (``OrderPacer``: they wait for their
   turn, so a 100-stock rebalance completes; the risk throttle stays as a backstop that a paced
   run never meets). Sells are sent in parallel and tracked to completion, the account is
   re-read, then buys (the risk check holds them to the real cash).

Idempotency: every order's client id is ``run_client_id(run_id, "<symbol>:<side>")``; the plan
is journaled (``record_run_plan``) before the first order; a rerun after a crash re-reads that
plan and sends only the orders whose ids are not in the journal yet.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field

from openclaw._core.risk import REASONS
from openclaw.execution.manager import OrderManager
from openclaw.feeds.bar_cache import BarsProvider, CloseMatrix
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order, OrderStatus, OrderType, Side
from openclaw.risk.quotes import (
    QuoteListRisk,
    QuoteRisk,
    RiskVerdict,
    equity_limits,
    round_to_tick,
)
from openclaw.schedule import RunContext, run_client_id
from openclaw.venues.ibkr.pacing import OrderPacer
from openclaw.venues.ibkr.session import VENUE

__all__ = [
    "AccountSnapshot",
    "BrokerAccount",
    "ExecutionReport",
    "MomentumConfig",
    "MomentumError",
    "MomentumStrategy",
    "OrderOutcome",
    "PlannedOrder",
    "PriceError",
    "RebalancePlan",
    "exclusion_reasons",
    "momentum_scores",
    "plan_from_closes",
    "plan_rebalance",
    "rank_top",
    "rebalance_orders",
    "target_quantities",
    "trim_buys",
]

log = logging.getLogger("openclaw.strategies.momentum")


class MomentumError(OpenclawError, ValueError):
    """Momentum inputs that cannot be used (shapes, parameters)."""


class PriceError(MomentumError):
    """A price that is present but not a positive finite number; names the symbol."""


# ---- pure, vectorised pieces ---------------------------------------------------------------


def _check_window(n_days: int, lookback_days: int, skip_days: int) -> None:
    if not 0 <= skip_days < lookback_days:
        raise MomentumError(f"need 0 <= skip_days < lookback_days, got {skip_days}, "
                            f"{lookback_days}")
    if n_days < lookback_days + 1:
        raise MomentumError(f"{n_days} days of closes, lookback {lookback_days} needs "
                            f"{lookback_days + 1}")


def momentum_scores(
    closes: np.ndarray,
    lookback_days: int = 252,
    skip_days: int = 21,
    valid: np.ndarray | None = None,
    symbols: Sequence[str] | None = None,
) -> np.ndarray:
    """Return from ``lookback_days`` to ``skip_days`` sessions before the last column.

    ``closes``: float64 [stocks, days], oldest first, NaN = no bar (``valid``: optional bool
    mask, False = no bar). Score NaN when the stock lacks either price or the last close.
    Raises ``PriceError`` for a present price <= 0 or infinite (``symbols`` names it).
    """
    c = np.asarray(closes, dtype=np.float64)
    if c.ndim != 2:
        raise MomentumError(f"closes must be 2-D [stocks, days], got shape {c.shape}")
    _check_window(c.shape[1], lookback_days, skip_days)
    w = c[:, -(lookback_days + 1):]
    if valid is not None:
        v = np.asarray(valid, dtype=bool)
        if v.shape != c.shape:
            raise MomentumError(f"valid mask shape {v.shape} != closes shape {c.shape}")
        w = np.where(v[:, -(lookback_days + 1):], w, np.nan)
    ok = w > 0  # False for NaN and for <= 0
    np.logical_and(ok, w < np.inf, out=ok)
    if not ok.all():
        bad = ~ok & ~np.isnan(w)
        if bad.any():
            ii, jj = np.unravel_index(int(np.argmax(bad)), bad.shape)
            i, j = int(ii), int(jj)
            who = symbols[i] if symbols is not None else f"row {i}"
            day = c.shape[1] - (lookback_days + 1) + j
            raise PriceError(f"{who}: close {w[i, j]!r} on day {day} is not a positive number")
    past = w[:, 0]
    recent = w[:, lookback_days - skip_days]
    scores = recent / past - 1.0
    scores[np.isnan(w[:, -1])] = np.nan
    return scores


def exclusion_reasons(
    closes: np.ndarray, symbols: Sequence[str], lookback_days: int = 252, skip_days: int = 21
) -> dict[str, str]:
    """Why each excluded stock (NaN score) was excluded (for the plan's report)."""
    c = np.asarray(closes, dtype=np.float64)
    _check_window(c.shape[1], lookback_days, skip_days)
    w = c[:, -(lookback_days + 1):]
    out: dict[str, str] = {}
    have = ~np.isnan(w)
    for i in np.nonzero(~(have[:, 0] & have[:, lookback_days - skip_days] & have[:, -1]))[0]:
        row = have[i]
        sym = symbols[int(i)]
        if not row.any():
            out[sym] = "no bars"
        elif not row[0]:  # NaN before the first bar: listed too recently
            out[sym] = f"history too short ({int(row.sum())} of {lookback_days + 1} days)"
        elif not row[-1]:
            out[sym] = "no bar on the last session"
        else:
            out[sym] = "missing bar at the lookback or skip date"
    return out


def rank_top(
    scores: np.ndarray, symbols: Sequence[str], n: int, min_score: float | None = None
) -> list[tuple[str, float]]:
    """The ``n`` highest scores as (symbol, score), best first; NaN never; ties by symbol."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size != len(symbols):
        raise MomentumError(f"{s.size} scores for {len(symbols)} symbols")
    if n < 0:
        raise MomentumError(f"n must be >= 0, not {n}")
    ok = ~np.isnan(s)
    if min_score is not None:
        ok &= s >= min_score
    idx = np.nonzero(ok)[0]
    if idx.size == 0 or n == 0:
        return []
    names = np.asarray(symbols, dtype=object)[idx]
    order = np.lexsort((names.astype(str), -s[idx]))[:n]
    return [(str(names[k]), float(s[idx[k]])) for k in order]


def _price(prices: Mapping[str, float | Decimal], sym: str) -> float:
    try:
        p = float(prices[sym])
    except KeyError:
        raise PriceError(f"{sym}: no price") from None
    if not math.isfinite(p) or p <= 0:
        raise PriceError(f"{sym}: price {prices[sym]!r} is not a positive number")
    return p


def target_quantities(
    weights: Mapping[str, float],
    prices: Mapping[str, float | Decimal],
    net_liquidation: float | Decimal,
    cash_buffer: float = 0.02,
) -> dict[str, int]:
    """Whole shares per symbol: ``floor(weight * NLV * (1 - cash_buffer) / price)``."""
    nlv = float(net_liquidation)
    if not math.isfinite(nlv) or nlv < 0:
        raise MomentumError(f"net liquidation {net_liquidation!r} must be finite and >= 0")
    if not 0 <= cash_buffer < 1:
        raise MomentumError(f"cash_buffer must be in [0, 1), not {cash_buffer}")
    total = 0.0
    for sym, w in weights.items():
        if not math.isfinite(w) or w < 0:
            raise MomentumError(f"{sym}: weight {w!r} must be finite and >= 0")
        total += w
    if total > 1 + 1e-9:
        raise MomentumError(f"weights sum to {total} > 1")
    budget = nlv * (1 - cash_buffer)
    return {sym: int(math.floor(w * budget / _price(prices, sym)))
            for sym, w in sorted(weights.items())}


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    """One order of a rebalance: whole shares, a marketable limit, a deterministic id."""

    client_id: str
    symbol: str
    side: Side
    qty: int
    ref_price: float  # the close (or account price) the order was sized at
    limit_price: Decimal  # on the tick grid: ref * (1 +- limit_bps)

    @property
    def key(self) -> str:
        return f"{self.symbol}:{self.side.value}"

    @property
    def est_value(self) -> float:
        return self.qty * self.ref_price

    def to_dict(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "symbol": self.symbol, "side": self.side.value,
                "qty": self.qty, "ref_price": self.ref_price,
                "limit_price": str(self.limit_price)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PlannedOrder:
        return cls(d["client_id"], d["symbol"], Side(d["side"]), int(d["qty"]),
                   float(d["ref_price"]), Decimal(d["limit_price"]))


def trim_buys(
    buys: Sequence[tuple[str, int, float]], available: float, cost_bps: float
) -> list[tuple[str, int]]:
    """Scale (symbol, qty, price) buys so their cost with ``cost_bps`` fits ``available``.

    Every quantity is multiplied by the same factor and floored (so the total never exceeds
    ``available``); buys that reach 0 are dropped. Nothing to trim: returned as they are.
    """
    k = 1 + cost_bps / 1e4
    need = sum(q * p * k for _, q, p in buys)
    if need <= available:
        return [(s, q) for s, q, _ in buys]
    f = max(available, 0.0) / need if need > 0 else 0.0
    out = [(s, int(math.floor(q * f))) for s, q, _ in buys]
    return [(s, q) for s, q in out if q > 0]


def rebalance_orders(
    current_positions: Mapping[str, int],
    targets: Mapping[str, int],
    prices: Mapping[str, float | Decimal],
    cash: float | Decimal,
    *,
    run_id: str,
    cost_bps: float = 10.0,
    limit_bps: float = 50.0,
    tick: Decimal = Decimal("0.01"),
) -> list[PlannedOrder]:
    """Orders moving ``current_positions`` to ``targets``: sells (by symbol), then buys.

    Buys are trimmed (``trim_buys``) so that ``cash`` + sell proceeds * (1 - cost) - buy cost *
    (1 + cost) >= 0. A symbol missing from ``targets`` is sold out. Deterministic.
    """
    if cost_bps < 0 or limit_bps < 0:
        raise MomentumError("cost_bps and limit_bps must be >= 0")
    c = float(cash)
    if not math.isfinite(c):
        raise MomentumError(f"cash {cash!r} is not finite")
    sells: list[tuple[str, int, float]] = []
    buys: list[tuple[str, int, float]] = []
    for sym in sorted(set(current_positions) | set(targets)):
        cur, tgt = int(current_positions.get(sym, 0)), int(targets.get(sym, 0))
        if tgt < 0:
            raise MomentumError(f"{sym}: target {tgt} < 0 (long-only)")
        d = tgt - cur
        if d == 0:
            continue
        p = _price(prices, sym)
        (buys if d > 0 else sells).append((sym, abs(d), p))
    proceeds = sum(q * p * (1 - cost_bps / 1e4) for _, q, p in sells)
    kept = trim_buys(buys, c + proceeds, cost_bps)
    px = {s: p for s, _, p in buys}
    lim = limit_bps / 1e4
    out = [
        PlannedOrder(run_client_id(run_id, f"{s}:sell"), s, Side.SELL, q, p,
                     round_to_tick(p * (1 - lim), tick, up=False))
        for s, q, p in sells
    ]
    out += [
        PlannedOrder(run_client_id(run_id, f"{s}:buy"), s, Side.BUY, q, px[s],
                     round_to_tick(px[s] * (1 + lim), tick, up=True))
        for s, q in kept
    ]
    for o in out:
        if o.limit_price <= 0:
            raise PriceError(f"{o.symbol}: limit price {o.limit_price} <= 0 (price too small)")
    return out


# ---- plan --------------------------------------------------------------------------------------


class MomentumConfig(BaseModel):
    """Parameters of the strategy (``[strategy.momentum]``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    universe: list[str] = Field(min_length=1)
    lookback_days: int = Field(252, ge=2)
    skip_days: int = Field(21, ge=0)
    top_n: int = Field(50, ge=1)
    min_score: float | None = None
    cash_buffer: float = Field(0.02, ge=0, lt=1)
    cost_bps: float = Field(10.0, ge=0)
    limit_bps: float = Field(50.0, ge=0)
    tick_size: Decimal = Field(Decimal("0.01"), gt=0)
    # risk limits (openclaw.risk.quotes.equity_limits)
    max_order_notional: Decimal | None = Field(None, gt=0)
    max_position_notional: Decimal | None = Field(None, gt=0)
    collar_bps: Decimal | None = Field(Decimal(500), ge=0)
    max_orders_per_s: int | None = Field(40, ge=1)
    max_gross_exposure: float | None = Field(None, gt=0)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The account as the broker reports it (positions in shares, prices of held stocks)."""

    net_liquidation: float
    cash: float
    positions: Mapping[str, int]
    prices: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RebalancePlan:
    """What one run decided: scores, picks, targets and the ordered orders."""

    run_id: str
    asof: date | None  # last session in the closes
    symbols: tuple[str, ...]
    scores: np.ndarray
    picks: list[tuple[str, float]]
    weights: dict[str, float]
    targets: dict[str, int]
    prices: dict[str, float]
    orders: list[PlannedOrder]
    excluded: dict[str, str]
    net_liquidation: float
    cash: float

    def to_json(self) -> str:
        """Deterministic JSON (journaled with ``record_run_plan``)."""
        return orjson.dumps(
            {
                "run_id": self.run_id,
                "asof": None if self.asof is None else self.asof.isoformat(),
                "symbols": list(self.symbols),
                "scores": [None if math.isnan(x) else float(x) for x in self.scores],
                "picks": self.picks,
                "weights": self.weights,
                "targets": self.targets,
                "prices": self.prices,
                "orders": [o.to_dict() for o in self.orders],
                "excluded": self.excluded,
                "net_liquidation": self.net_liquidation,
                "cash": self.cash,
            },
            option=orjson.OPT_SORT_KEYS,
        ).decode()

    @classmethod
    def from_json(cls, text: str) -> RebalancePlan:
        d = orjson.loads(text)
        return cls(
            d["run_id"],
            None if d["asof"] is None else date.fromisoformat(d["asof"]),
            tuple(d["symbols"]),
            np.array([np.nan if x is None else x for x in d["scores"]], dtype=np.float64),
            [(s, float(x)) for s, x in d["picks"]],
            d["weights"],
            {k: int(v) for k, v in d["targets"].items()},
            d["prices"],
            [PlannedOrder.from_dict(o) for o in d["orders"]],
            d["excluded"],
            d["net_liquidation"],
            d["cash"],
        )


def plan_from_closes(
    run_id: str, cfg: MomentumConfig, m: CloseMatrix, account: AccountSnapshot
) -> RebalancePlan:
    """The whole decision from a close matrix and the account (pure, synchronous)."""
    scores = momentum_scores(m.closes, cfg.lookback_days, cfg.skip_days, symbols=m.symbols)
    picks = rank_top(scores, m.symbols, cfg.top_n, cfg.min_score)
    weights = {s: 1.0 / len(picks) for s, _ in picks} if picks else {}
    last = m.closes[:, -1]
    row = {s: i for i, s in enumerate(m.symbols)}
    prices: dict[str, float] = {}
    for sym in set(weights) | {s for s, q in account.positions.items() if q}:
        if sym in account.prices:
            prices[sym] = float(account.prices[sym])
        elif sym in row and not math.isnan(last[row[sym]]):
            prices[sym] = float(last[row[sym]])
    targets = target_quantities(weights, prices, account.net_liquidation, cfg.cash_buffer)
    orders = rebalance_orders(account.positions, targets, prices, account.cash, run_id=run_id,
                              cost_bps=cfg.cost_bps, limit_bps=cfg.limit_bps,
                              tick=cfg.tick_size)
    excluded = exclusion_reasons(m.closes, m.symbols, cfg.lookback_days, cfg.skip_days)
    asof = m.dates[-1].astype(object) if m.dates.size else None
    return RebalancePlan(run_id, asof, m.symbols, scores, picks, weights, targets,
                         dict(sorted(prices.items())), orders, excluded,
                         float(account.net_liquidation), float(account.cash))


async def plan_rebalance(
    run_id: str, cfg: MomentumConfig, bars: BarsProvider, account: AccountSnapshot
) -> RebalancePlan:
    """Fetch (cache first) the closes the lookback needs and decide the rebalance."""
    m = await bars.daily_closes(cfg.universe, cfg.lookback_days + 1)
    return plan_from_closes(run_id, cfg, m, account)


# ---- execution -------------------------------------------------------------------------------


class BrokerAccount(Protocol):
    """The account side of the broker session."""

    async def account_snapshot(self) -> AccountSnapshot:
        """Net liquidation, cash, positions (shares) and market prices of held stocks."""
        ...


@dataclass(frozen=True, slots=True)
class OrderOutcome:
    """How one order ended (FILLED, CANCELED, REJECTED, or UNKNOWN if never resolved)."""

    client_id: str
    symbol: str
    side: Side
    status: OrderStatus
    filled_qty: int
    avg_price: Decimal | None = None
    reason: str | None = None


@dataclass
class ExecutionReport:
    """What ``execute`` did with a plan."""

    run_id: str
    outcomes: list[OrderOutcome] = field(default_factory=list)
    denied: list[tuple[PlannedOrder, RiskVerdict]] = field(default_factory=list)
    skipped_sent: list[PlannedOrder] = field(default_factory=list)  # already journaled
    trimmed: list[tuple[PlannedOrder, int]] = field(default_factory=list)  # (order, new qty)

    def summary(self) -> str:
        by: dict[str, int] = {}
        for o in self.outcomes:
            by[o.status.value] = by.get(o.status.value, 0) + 1
        parts = [f"{k}={v}" for k, v in sorted(by.items())]
        return (f"sent={len(self.outcomes)} ({', '.join(parts) or 'none'}) "
                f"denied={len(self.denied)} already_sent={len(self.skipped_sent)} "
                f"trimmed={len(self.trimmed)}")


@dataclass
class MomentumStrategy:
    """The scheduled job: plan (or re-read the journaled plan), check, send, track."""

    config: MomentumConfig
    bars: BarsProvider
    account: BrokerAccount
    orders: OrderManager             # the order path (risk, journal, route to the gateway)
    pacer: OrderPacer | None = None  # default: one at config.max_orders_per_s

    def __post_init__(self) -> None:
        if self.pacer is None and self.config.max_orders_per_s is not None:
            self.pacer = OrderPacer(self.config.max_orders_per_s)

    def _risk(self, plan: RebalancePlan, snap: AccountSnapshot) -> QuoteRisk:
        cfg = self.config
        syms = sorted({o.symbol for o in plan.orders} | {s for s, q in snap.positions.items()
                                                         if q and s in plan.prices})
        risk = QuoteRisk(equity_limits(
            syms, plan.prices, tick_size=cfg.tick_size,
            max_order_notional=cfg.max_order_notional,
            max_position_notional=cfg.max_position_notional, collar_bps=cfg.collar_bps,
            max_orders=cfg.max_orders_per_s, max_gross_exposure=cfg.max_gross_exposure,
            max_book_age_ms=None,
        ))
        for s in syms:
            px = plan.prices[s]
            risk.update_quote(s, px, px)
            risk.set_position(s, int(snap.positions.get(s, 0)), px)
        risk.set_balance("USD", Decimal(str(max(snap.cash, 0.0))).quantize(Decimal("0.01")))
        return risk

    async def execute(self, plan: RebalancePlan,
                      already_sent: frozenset[str] = frozenset()) -> ExecutionReport:
        """Sells in parallel to completion, then buys; every order through risk first."""
        rep = ExecutionReport(plan.run_id)
        snap = await self.account.account_snapshot()
        risk = self._risk(plan, snap)
        sells = [o for o in plan.orders if o.side is Side.SELL]
        buys = [o for o in plan.orders if o.side is Side.BUY]
        await self._phase(sells, risk, already_sent, rep)
        if buys:
            snap = await self.account.account_snapshot()
            risk.set_balance("USD", Decimal(str(max(snap.cash, 0.0))).quantize(Decimal("0.01")))
            todo = [o for o in buys if o.client_id not in already_sent]
            kept = dict(trim_buys([(o.symbol, o.qty, o.ref_price) for o in todo], snap.cash,
                                  self.config.cost_bps))
            resized: list[PlannedOrder] = [o for o in buys if o.client_id in already_sent]
            for o in todo:
                q = kept.get(o.symbol, 0)
                if q != o.qty:
                    rep.trimmed.append((o, q))
                if q > 0:
                    resized.append(PlannedOrder(o.client_id, o.symbol, o.side, q, o.ref_price,
                                                o.limit_price))
            await self._phase(resized, risk, already_sent, rep)
        return rep

    async def _phase(self, orders: list[PlannedOrder], risk: QuoteRisk,
                     already_sent: frozenset[str], rep: ExecutionReport) -> None:
        """Every order of the phase to the order manager (paced, risk-checked there, sent in
        parallel); the outcomes once all are final or timed out."""
        manager = self.orders
        manager.risk = QuoteListRisk(risk)
        go: list[tuple[PlannedOrder, Order]] = []
        sending: list[asyncio.Future[list[Order]]] = []
        try:
            for o in orders:
                if o.client_id in already_sent:
                    rep.skipped_sent.append(o)
                    continue
                # wait for the order's turn (the same instant goes to the risk throttle)
                now = await self.pacer.acquire() if self.pacer is not None else 0
                order = Order(o.client_id, VENUE, o.symbol, o.side, OrderType.LIMIT,
                              Decimal(o.qty), o.limit_price, 0, 0)
                reason = manager.check([order], now_ns=now)
                if reason is not None:
                    log.warning("%s %s %s x%d denied by risk: %s", o.client_id, o.side.value,
                                o.symbol, o.qty, reason)
                    rep.denied.append((o, RiskVerdict(REASONS.get(reason, -1), reason)))
                    continue
                go.append((o, order))
                sending.append(asyncio.ensure_future(manager.submit([order], checked=True)))
        except BaseException:
            for f in sending:  # journaled orders are reconciled by the next start-up
                f.cancel()
            raise
        results = await asyncio.gather(*sending, return_exceptions=True)
        for (o, order), r in zip(go, results, strict=True):
            if isinstance(r, asyncio.CancelledError):
                raise r
            reason = order.reason
            if isinstance(r, BaseException):
                reason = f"{type(r).__name__}: {r}"
            status = order.status if order.is_final else OrderStatus.UNKNOWN
            rep.outcomes.append(OrderOutcome(o.client_id, o.symbol, o.side, status,
                                             int(order.filled_qty), order.avg_price, reason))

    async def run(self, ctx: RunContext) -> str:
        """The ``Scheduler`` job: the journaled plan on a rerun, else a new one (journaled
        before any order is sent); then ``execute`` with the ids already sent."""
        stored = await ctx.journal.run_plan(ctx.run_id)
        if stored is not None:
            plan = RebalancePlan.from_json(stored)
        else:
            snap = await self.account.account_snapshot()
            plan = await plan_rebalance(ctx.run_id, self.config, self.bars, snap)
            await ctx.journal.record_run_plan(ctx.run_id, plan.to_json())
        rep = await self.execute(plan, ctx.sent_client_ids)
        unresolved = [o for o in rep.outcomes if o.status is OrderStatus.UNKNOWN]
        summary = f"picks={len(plan.picks)} orders={len(plan.orders)} {rep.summary()}"
        if unresolved:
            raise MomentumError(f"{len(unresolved)} orders unresolved: {summary}")
        return summary

