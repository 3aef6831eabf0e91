"""The backtest: recorded frames through the live decoders, books, merged books, triarb detector,
risk gate and order manager, with a simulated execution (``route.py``) in simulated time.

No socket, no sleep: the core's clock is set to each recorded frame's receive time
(``set_sim_time``) and to each venue event's time between frames; the order manager's tasks run
on an asyncio loop that the engine lets turn after every change. Deterministic for a seed.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openclaw._core.book import OrderBook, set_sim_time, sim_time
from openclaw.app.backtest.fill import fillable
from openclaw.app.backtest.recording import Recording
from openclaw.app.backtest.route import LatencyModel, SimRoute
from openclaw.app.config import Config
from openclaw.app.runner import DEFAULT_MAX_START, default_limits
from openclaw.execution.manager import OrderManager
from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
from openclaw.feeds.sync import BookSync
from openclaw.model.instrument import Instrument
from openclaw.model.orders import Order, Side
from openclaw.risk.gate import RiskGate
from openclaw.risk.limits import RiskLimits, build_engine
from openclaw.strategies.triarb import ArbPipeline
from openclaw.venues.registry import FEEDS

#: delays (ms) after detection at which the survival curve asks "could all legs still fill?"
SURVIVAL_MS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
YIELDS = 12          # loop turns after a change: hand-over -> send -> answers -> unwind


@dataclass
class Settings:
    """What a backtest needs besides the recording and the configuration."""

    latency: LatencyModel = field(default_factory=LatencyModel)
    seed: int = 7
    balances: dict[str, dict[str, Any]] = field(default_factory=dict)  # venue -> asset -> amt
    max_start: dict[tuple[str, str], float] | None = None
    fees_bps: dict[str, float] | None = None
    slippage_bps: float | None = None
    default_balance: dict[str, float] = field(default_factory=lambda: {
        "USDT": 100000.0, "USDC": 100000.0, "BTC": 2.0, "ETH": 40.0})


@dataclass
class _Arb:
    t_ns: int
    detected_bps: float
    expected_profit: float
    start_asset: str
    orders: list[Order]
    alive: dict[int, bool] = field(default_factory=dict)


def _instruments(cfg: Config) -> list[Instrument]:
    return [Instrument(i.venue, i.symbol, str(i.tick_size), str(i.lot_size), category=i.category,
                       base=i.base, quote=i.quote) for i in cfg.instruments]


async def run_backtest(rec: Recording, cfg: Config, s: Settings) -> dict[str, Any]:
    """Replay ``rec`` through the pipeline of ``cfg``; the summary (the demo's keys and more)."""
    t0 = time.perf_counter()
    insts = _instruments(cfg)
    agg = Aggregator(insts, {v: VenueEndpoints(ws="ws://recording", rest="http://recording")
                             for v in cfg.venues}, feeds=FEEDS, capacity=cfg.feeds.capacity,
                     bybit_depth=cfg.feeds.bybit_depth)
    syncs: dict[str, BookSync] = {}
    for conn in agg.build():
        inst = next(iter(conn.sync.instruments.values()))
        syncs[f"{inst.venue}-{inst.category}"] = conn.sync
    books: dict[tuple[str, str], OrderBook] = {}
    symbols: dict[tuple[str, str], str] = {}
    for book_id, inst in agg.instrument_of.items():
        books[(inst.venue, inst.symbol)] = agg.bookset.book(book_id)
        symbols[(inst.venue, f"{inst.base}/{inst.quote}")] = inst.symbol
    by_pair = {(v, pair): books[(v, sym)] for (v, pair), sym in symbols.items()}
    limits = RiskLimits.model_validate(cfg.risk) if cfg.risk else default_limits(cfg)
    engine = build_engine(limits)
    gate = RiskGate(engine, engine.index, books, symbols)
    gate.clock = sim_time
    max_start: dict[tuple[str, str], float] = {}
    traded = {(i.venue, a) for i in cfg.instruments if i.category == "spot"
              for a in (i.base, i.quote)}
    for venue in cfg.venues:
        bal = s.balances.get(venue) or s.default_balance
        for asset, amount in bal.items():
            d = Decimal(str(amount))
            if asset in gate.index.assets and venue in gate.index.venues:
                engine.set_balance(gate.index.venue(venue), gate.index.asset(asset),
                                   gate.index.to_asset_units(asset, d))
            if (venue, asset) in traded:
                max_start[(venue, asset)] = float(min(d, DEFAULT_MAX_START.get(asset, d / 2)))
    if s.max_start is not None:
        max_start = dict(s.max_start)
    fees = s.fees_bps or {v: c.taker_fee_bps for v, c in cfg.venues.items()}
    t = cfg.strategy.triarb
    slip = s.slippage_bps if s.slippage_bps is not None else (t.slippage_bps or 0.0)
    route = SimRoute(by_pair, fees, s.latency, sim_time, seed=s.seed)
    manager = OrderManager(route, risk=gate, partial_policy=t.partial_policy)
    set_sim_time(rec.events[0][0])
    try:
        pipeline = ArbPipeline(agg, manager, fees, min_profit_bps=t.min_profit_bps,
                               cooldown_ms=t.cooldown_ms, max_book_age_ms=t.max_book_age_ms,
                               max_start=max_start,  # type: ignore[arg-type]
                               slippage_bps=slip, warm_interval_ms=0)
        arbs = _watch(pipeline, manager, route)
        frames = await _drive(rec, agg, syncs, route, manager)
        out = _summary(rec, cfg, pipeline, manager, route, arbs, agg)
    finally:
        set_sim_time(0)
    wall = time.perf_counter() - t0
    out.update(frames=frames, wall_s=round(wall, 3),
               frames_per_s=round(frames / wall) if wall else 0,
               seed=s.seed, latency_model=s.latency.summary(), fees_bps=fees,
               slippage_bps=slip)
    return out


def _watch(pipeline: ArbPipeline, manager: OrderManager, route: SimRoute) -> list[_Arb]:
    """Each hand-over: what the detector saw (edge, start asset), probes for the survival
    curve."""
    arbs: list[_Arb] = []
    hand_over = manager.hand_over

    def watched(event: int, orders: list[Order], first_id: int = 0) -> asyncio.Task[None]:
        i = pipeline.arb.pick()          # the result on_book just chose (state unchanged)
        opp = pipeline.arb.opportunity(i)
        now = sim_time()
        a = _Arb(now, opp.profit_bps, opp.expected_profit, opp.assets[0], orders)
        arbs.append(a)
        for ms in SURVIVAL_MS:
            route.at(now + ms * 1_000_000, lambda a=a, ms=ms: a.alive.__setitem__(
                ms, all(_fillable(route, o) for o in a.orders)))
        return hand_over(event, orders, first_id)

    manager.hand_over = watched  # type: ignore[method-assign]
    return arbs


def _fillable(route: SimRoute, o: Order) -> bool:
    book = route.books[(o.venue, o.symbol)]
    tick, lot = route.units[(o.venue, o.symbol)]
    buy = o.side is Side.BUY
    bp, bq, ap, aq = book.top_ticks(200)
    px, qy = (ap, aq) if buy else (bp, bq)
    return fillable(list(zip(px.tolist(), qy.tolist(), strict=True)), buy, int(o.qty / lot),
                    None if o.price is None else int(o.price / tick))


async def _turn() -> None:
    for _ in range(YIELDS):
        await asyncio.sleep(0)


def apply_event(rec: Recording, syncs: dict[str, BookSync], agg: Aggregator,
                connected: set[str], event: tuple[Any, ...]) -> int:
    """One recorded event on simulated time, through its stream's sync and the Aggregator, as
    the socket loop would (a frame, a REST snapshot, a connect); returns 1 for a frame. A
    recording answers nothing: the syncs' requests are dropped (the snapshots are in it)."""
    ns, _, stream, kind, payload, extra = event
    set_sim_time(ns)
    sync = syncs.get(stream)
    if sync is None:
        return 0
    frame = 0
    if kind == "recv":
        frame = 1
        book_id = sync.on_frame(payload, ns)
        if book_id >= 0:
            agg.on_book(book_id, ns)
    elif kind == "http":
        book_id = agg.book_ids.get((rec.streams[stream][0], extra.get("book", "")), -1)
        if book_id >= 0:
            got = sync.on_snapshot(book_id, payload.encode(), ns)
            if got >= 0:
                agg.on_book(got, ns)
    elif kind == "connect":
        if stream in connected:
            sync.on_disconnect()
        connected.add(stream)
        sync.on_connect()
    if sync.actions:
        sync.actions.clear()
    return frame


async def _drive(rec: Recording, agg: Aggregator, syncs: dict[str, BookSync],
                 route: SimRoute, manager: OrderManager) -> int:
    """Every recorded event in time order, the venue events due in between; returns frames."""
    connected: set[str] = set()
    frames = 0
    queue = route.queue
    for event in rec.events:
        ns = event[0]
        while queue and queue[0][0] <= ns:
            set_sim_time(max(queue[0][0], 1))
            route.run_next()
            await _turn()
        frames += apply_event(rec, syncs, agg, connected, event)
        if manager.in_flight:
            await _turn()
    while queue:                        # what is still on its way lands, in simulated time
        set_sim_time(queue[0][0])
        route.run_next()
        await _turn()
    await manager.drain(1.0)
    return frames


def _pnl(orders: list[Order]) -> dict[str, float]:
    pnl: dict[str, Decimal] = {}
    for o in orders:
        base, quote = o.symbol.split("/")
        sign = 1 if o.side is Side.BUY else -1
        pnl[base] = pnl.get(base, Decimal(0)) + sign * o.filled_qty
        pnl[quote] = pnl.get(quote, Decimal(0)) - sign * o.notional
        for asset, fee in o.fees.items():
            pnl[asset] = pnl.get(asset, Decimal(0)) - fee
    return {a: float(x) for a, x in pnl.items()}


def _marks(agg: Aggregator) -> dict[str, float]:
    marks = {"USDT": 1.0}
    for pair, mb in agg.merged.items():
        base, quote = pair.split("/")
        bid, ask = mb.best_bid(), mb.best_ask()
        if quote == "USDT" and bid and ask:
            marks[base] = (bid[0] + ask[0]) / 2
    return marks


def _summary(rec: Recording, cfg: Config, pipeline: ArbPipeline, manager: OrderManager,
             route: SimRoute, arbs: list[_Arb], agg: Aggregator) -> dict[str, Any]:
    orders = manager.orders
    pnl = _pnl(orders)
    marks = _marks(agg)
    by_opp: dict[int, list[Order]] = {}
    for o in orders:
        by_opp.setdefault(o.opportunity_id, []).append(o)
    per_arb = []
    ghosts = 0
    for a in arbs:
        legs = a.orders
        fill_rate = sum(float(o.filled_qty / o.qty) for o in legs) / len(legs)
        ghost = any(not x.fillable for x in route.outcomes if x.order in legs)
        ghosts += ghost
        own = _pnl(legs)
        unwound = [o for o in orders if o.opportunity_id != legs[0].opportunity_id
                   and o.created_ns >= legs[0].created_ns and o.order_type.value == "market"
                   and any(o.venue == x.venue and o.symbol == x.symbol for x in legs)]
        realised = sum(v * marks.get(k, 0.0) for k, v in own.items())
        per_arb.append({"t_s": round((a.t_ns - rec.events[0][0]) / 1e9, 6),
                        "detected_bps": round(a.detected_bps, 3),
                        "expected_profit": a.expected_profit, "start_asset": a.start_asset,
                        "fill_rate": round(fill_rate, 4), "ghost": ghost,
                        "realised_usdt": round(realised, 6), "unwind_legs": len(unwound)})
    n = len(arbs)
    survival = {str(ms): round(sum(a.alive.get(ms, False) for a in arbs) / n, 4) if n else None
                for ms in SURVIVAL_MS}
    s, ms = pipeline.stats, manager.stats
    return {
        "opportunities": s.opportunities, "arbitrages": s.arbitrages, "orders": len(orders),
        "fills": sum(len(o.fills) for o in orders), "filled_legs": ms.filled_legs,
        "incomplete": ms.incomplete, "unwinds": ms.unwinds, "unwind_refused": ms.unwind_refused,
        "unwind_incomplete": ms.unwind_incomplete, "refused_by_risk": ms.refused_by_risk,
        "last_refusal": ms.last_refusal, "pipeline_errors": ms.errors, "pnl": pnl,
        "pnl_usdt_marked": sum(v * marks.get(k, 0.0) for k, v in pnl.items()),
        "fill_rate": round(sum(a["fill_rate"] for a in per_arb) / n, 4) if n else None,
        "ghost_rate": round(ghosts / n, 4) if n else None,
        "survival": survival, "per_arbitrage": per_arb,
        "recorded_seconds": round((rec.events[-1][0] - rec.events[0][0]) / 1e9, 3),
    }
