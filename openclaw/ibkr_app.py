"""IBKR applications: a momentum rebalance and the FX scalper, run through ``IbkrSession``.

Momentum (``run_momentum``): closes of the universe (bar cache first, the rest fetched within
IB's historical pacing) -> ``MomentumStrategy`` plan (scores, top N, targets, sells first, cash
check) -> pre-trade risk per order -> orders journaled and sent in parallel -> tracked to their
final state -> the gateway's positions compared with the targets. A run is claimed in the
journal (``claim_run``), its plan journaled before the first order (``record_run_plan``), and a
rerun with the same run id re-reads that plan and sends only the orders not journaled yet.

FX (``run_fx``): ``FxScalper`` on the session's EUR.USD / GBP.USD quotes during the London/NY
overlap, each intent through ``QuoteRisk`` and the session, with a stage clock
quote -> signal -> risk -> sent -> ack -> fill and a latency report at the end.

The simulator is never imported here: the CLI starts it and passes host/port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from openclaw.brokers.ibkr import VENUE, IbkrError, IbkrSession
from openclaw.errors import OpenclawError
from openclaw.execution.orders import Order, OrderStatus
from openclaw.journal import ClaimOutcome, Journal, RunStatus
from openclaw.schedule import run_order_prefix
from openclaw.strategies.momentum import (
    AccountSnapshot,
    MomentumConfig,
    MomentumStrategy,
    OrderOutcome,
    PlannedOrder,
    RebalancePlan,
    plan_from_closes,
)

__all__ = [
    "IbkrMomentumBroker",
    "MomentumRunError",
    "run_momentum",
]

log = logging.getLogger("openclaw.ibkr_app")

ProgressCallback = Callable[[int, int, str], None]


class MomentumRunError(OpenclawError):
    """A momentum run that could not be executed (run held by another owner, bad inputs)."""


class IbkrMomentumBroker:
    """The session as the momentum strategy's ``BrokerAccount`` and ``OrderSender``.

    ``submit`` turns a planned order into a journaled ``Order`` (limit, venue ibkr, the plan's
    deterministic client id), sends it and waits until it is final; an order not final after
    ``order_timeout`` seconds is cancelled (the cancel and any late fill are journaled).
    """

    def __init__(self, session: IbkrSession, order_timeout: float = 60.0) -> None:
        self.session = session
        self.order_timeout = order_timeout
        self.sent: list[str] = []

    async def account_snapshot(self) -> AccountSnapshot:
        """Net liquidation and cash (USD) as pushed, positions freshly queried (whole shares
        of stocks; FX balances are not positions of this strategy)."""
        s = self.session
        positions = await s.fetch_positions()
        nlv, cash = s.net_liquidation(), s.cash()
        if nlv is None or cash is None:
            raise IbkrError(0, "the gateway sent no NetLiquidation/TotalCashValue in USD")
        shares: dict[str, int] = {}
        for sym, q in positions.items():
            if "." in sym and len(sym) == 7:  # an FX pair
                continue
            if q != q.to_integral_value():
                raise IbkrError(0, f"fractional stock position {sym} {q}")
            shares[sym] = int(q)
        prices = {k: v for k, v in s.portfolio_prices().items() if k in shares}
        return AccountSnapshot(float(nlv), float(cash), shares, prices)

    async def submit(self, po: PlannedOrder) -> OrderOutcome:
        """Journal, send, track to a final state (``OrderSender``)."""
        order = Order(po.client_id, VENUE, po.symbol, po.side, "limit", Decimal(po.qty),
                      po.limit_price, 0, 0)
        done = await self.session.submit(order, connect_timeout=self.order_timeout)
        self.sent.append(order.client_id)
        try:
            await asyncio.wait_for(asyncio.shield(done), self.order_timeout)
        except TimeoutError:
            log.warning("momentum: %s %s not final after %.0f s: cancelling the rest",
                        po.symbol, po.side.value, self.order_timeout)
            with contextlib.suppress(IbkrError):
                self.session.cancel(order)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(done), 10.0)
        status = order.status if order.is_final else OrderStatus.UNKNOWN
        return OrderOutcome(order.client_id, order.symbol, order.side, status,
                            int(order.filled_qty), order.avg_price, order.reason)


def _matches(positions: dict[str, Decimal], targets: dict[str, int],
             universe: Sequence[str]) -> dict[str, tuple[int, int]]:
    """{symbol: (position, target)} where the account differs from the targets."""
    out = {}
    for sym in sorted(set(universe) | set(targets)):
        have = int(positions.get(sym, 0))
        want = int(targets.get(sym, 0))
        if have != want:
            out[sym] = (have, want)
    return out


async def run_momentum(
    session: IbkrSession,
    journal: Journal,
    cfg: MomentumConfig,
    *,
    run_id: str,
    execute: bool,
    progress: ProgressCallback | None = None,
    order_timeout: float = 60.0,
    lease_s: float = 120.0,
    owner: str | None = None,
    run_name: str = "momentum_manual",
) -> dict[str, Any]:
    """One rebalance (``execute``) or its plan only (dry run). Returns the JSON summary:
    ``universe, scan_ms, orders, filled, rebalance_ms, positions_match_target`` and details.

    ``scan_ms``: closes (cache/fetch) + plan; ``rebalance_ms``: first order written to the
    socket -> last order final and journaled. A dry run journals nothing and sends nothing.
    ``run_name``: the run's name in the journal (not the scheduler's ``momentum``, whose
    catch-up logic reads its own runs only).
    """
    owner = owner or f"ibkr-momentum-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    summary: dict[str, Any] = {"run_id": run_id, "universe": len(cfg.universe),
                               "top": cfg.top_n, "dry_run": not execute}
    lease_ns = int(lease_s * 1e9)
    heartbeat: asyncio.Task[None] | None = None
    if execute:
        claim = await journal.claim_run(run_id, run_name, owner, now_ns=time.time_ns(),
                                        lease_ns=lease_ns)
        if claim.outcome is ClaimOutcome.HELD:
            raise MomentumRunError(f"run {run_id} is running under {claim.owner}")
        if claim.outcome is ClaimOutcome.FINISHED:
            raise MomentumRunError(f"run {run_id} already finished ({claim.status.value})")
        summary["attempt"] = claim.attempt
        heartbeat = asyncio.create_task(_renew(journal, run_id, owner, lease_s))
    try:
        broker = IbkrMomentumBroker(session, order_timeout)
        t0 = time.perf_counter_ns()
        stored = await journal.run_plan(run_id) if execute else None
        if stored is not None:
            plan = RebalancePlan.from_json(stored)
            summary["plan"] = "journaled (rerun)"
        else:
            snap = await broker.account_snapshot()
            closes = await session.daily_closes(cfg.universe, cfg.lookback_days + 1, progress)
            plan = plan_from_closes(run_id, cfg, closes, snap)
            summary["plan"] = "new"
        summary["scan_ms"] = (time.perf_counter_ns() - t0) / 1e6
        summary.update({
            "asof": None if plan.asof is None else plan.asof.isoformat(),
            "picks": [s for s, _ in plan.picks],
            "excluded": len(plan.excluded),
            "orders": len(plan.orders),
            "planned": [o.to_dict() for o in plan.orders],
            "targets": plan.targets,
            "net_liquidation": plan.net_liquidation,
        })
        if not execute:
            summary.update({"sent": 0, "filled": 0, "rebalance_ms": None,
                            "positions_match_target": None})
            return summary
        if stored is None:
            await journal.record_run_plan(run_id, plan.to_json())
        prefix = run_order_prefix(run_id)
        already = frozenset(o.client_id for o in await journal.orders_by_prefix(prefix))
        # orders of an earlier attempt: bring them to their final state too
        earlier = [o for o in [await session.adopt(c) for c in sorted(already)] if o]
        if earlier:
            await session.wait_final([o for o in earlier if not o.is_final], order_timeout)
        plan, retried = _retry_lost(plan, {o.client_id: o for o in earlier}, run_id)
        summary["retried_lost"] = retried
        strategy = MomentumStrategy(cfg, session, broker, broker)
        rep = await strategy.execute(plan, already)
        first, last = session.timing(broker.sent)
        positions = await session.fetch_positions()
        mismatch = _matches(positions, plan.targets, cfg.universe)
        all_orders = [session.order(o.client_id) for o in plan.orders]
        filled = sum(1 for o in all_orders if o is not None and o.status is OrderStatus.FILLED)
        summary.update({
            "sent": len(rep.outcomes),
            "already_sent": len(rep.skipped_sent),
            "denied": [(o.client_id, v.reason) for o, v in rep.denied],
            "trimmed": len(rep.trimmed),
            "filled": filled,
            "not_filled": {o.client_id: o.status.value for o in all_orders
                           if o is not None and o.status is not OrderStatus.FILLED},
            "rebalance_ms": (last - first) / 1e6 if first and last else None,
            "positions_match_target": not mismatch,
            "mismatches": {k: list(v) for k, v in mismatch.items()},
        })
        ok = not mismatch and not rep.denied and filled == len(plan.orders)
        detail = (f"orders={len(plan.orders)} filled={filled} denied={len(rep.denied)} "
                  f"positions_match_target={not mismatch}")
        if heartbeat is not None:
            heartbeat.cancel()
            heartbeat = None
        await journal.finish_run(run_id, owner,
                                 RunStatus.SUCCEEDED if ok else RunStatus.FAILED, detail=detail)
        return summary
    finally:
        if heartbeat is not None:
            heartbeat.cancel()


def _lost(o: Order | None) -> bool:
    """An order the gateway never saw (journaled, then a crash or drop before it arrived)."""
    return (o is not None and o.status is OrderStatus.REJECTED
            and (o.reason or "").startswith("venue query: not found"))


def _retry_lost(plan: RebalancePlan, earlier: dict[str, Order], run_id: str
                ) -> tuple[RebalancePlan, list[str]]:
    """The plan with every order that an earlier attempt lost (never reached the gateway)
    under a fresh deterministic id ``run_client_id(run, "<key>#<n>")``, so that it is sent
    once more (a journaled id is never reused); ids already retried are followed."""
    from dataclasses import replace

    from openclaw.schedule import run_client_id

    orders, retried = [], []
    for po in plan.orders:
        cid, n = po.client_id, 0
        while _lost(earlier.get(cid)):
            n += 1
            cid = run_client_id(run_id, f"{po.key}#{n}")
        if cid != po.client_id:
            retried.append(cid)
            po = PlannedOrder(cid, po.symbol, po.side, po.qty, po.ref_price, po.limit_price)
        orders.append(po)
    return replace(plan, orders=orders), retried


async def _renew(journal: Journal, run_id: str, owner: str, lease_s: float) -> None:
    while True:
        await asyncio.sleep(lease_s / 3)
        ok = await journal.renew_run_lease(run_id, owner, now_ns=time.time_ns(),
                                           lease_ns=int(lease_s * 1e9))
        if not ok:
            log.error("momentum run %s: lease lost", run_id)
            return


def default_run_id(now_ns: int | None = None) -> str:
    """A manual run's id: ``momentum-manual-<UTC timestamp>``."""
    t = time.gmtime((now_ns or time.time_ns()) / 1e9)
    return "momentum-manual-" + time.strftime("%Y%m%dT%H%M%SZ", t)



# ---- FX scalper ------------------------------------------------------------------------------


class _AlwaysOpen:
    """A trading window that is always open (``--ignore-window``, for the simulator)."""

    def active(self, wall_ns: int) -> bool:
        return True


def fx_window_text(scalper: Any, now_ns: int | None = None) -> str:
    """Where ``now`` is relative to the overlap window (for the CLI's message)."""
    from datetime import UTC, datetime, timedelta

    from openclaw.strategies.fx_scalper import overlap_window

    now = datetime.fromtimestamp((now_ns or time.time_ns()) / 1e9, UTC)
    w = scalper.window
    for k in range(8):
        day = (now + timedelta(days=k)).date()
        win = overlap_window(day, w.a, w.b) if hasattr(w, "a") else None
        if win is not None and win[1] > now and day.weekday() < 5:
            if win[0] <= now:
                return f"inside the overlap window until {win[1].isoformat()}"
            return (f"outside the London/New York overlap window; next window "
                    f"{win[0].isoformat()} .. {win[1].isoformat()}")
    return "outside the London/New York overlap window"


async def run_fx(
    session: IbkrSession,
    seconds: float,
    *,
    config: Any = None,
    ignore_window: bool = False,
    drain_s: float = 10.0,
) -> dict[str, Any]:
    """Run the FX scalper on the session's quotes for ``seconds``; returns the summary with a
    latency report (``openclaw.latency``) of quote -> signal -> risk -> sent -> ack -> fill.

    Outside the overlap window (and without ``ignore_window``) nothing is subscribed and the
    summary says ``"traded": False`` with the reason. Each intent is journaled and sent through
    the session (journal commit before the socket write: the ``sent`` stage includes it).
    """
    from openclaw.latency import latency_report
    from openclaw.strategies.fx_scalper import FxScalper, FxScalperConfig

    cfg = config if config is not None else FxScalperConfig()
    scalper = FxScalper(cfg)
    in_window = scalper.window.active(time.time_ns())
    summary: dict[str, Any] = {"seconds": seconds, "pairs": list(cfg.pairs),
                               "window": fx_window_text(scalper)}
    if not in_window and not ignore_window:
        summary.update({"traded": False, "reason": summary["window"]})
        return summary
    if ignore_window:
        scalper.window = _AlwaysOpen()  # type: ignore[assignment]
    risk = scalper.risk
    assert risk is not None
    cash = session.cash() or Decimal(0)
    risk.set_balance("USD", Decimal(cash).quantize(Decimal("0.01")))
    for p in cfg.pairs:  # shorting a base currency is allowed up to the position cap
        risk.set_balance(p.split("/")[0], Decimal(cfg.max_position))
    to_session = {p: p.replace("/", ".") for p in cfg.pairs}
    to_scalper = {v: k for k, v in to_session.items()}
    orders: dict[str, Order] = {}
    pending: set[asyncio.Future[Order]] = set()
    errors: list[str] = []

    def on_event(order: Order, ev: Any) -> None:
        if order.client_id not in orders:
            return
        from openclaw.execution.orders import EventKind

        if ev.kind is EventKind.ACK:
            scalper.on_ack(order.client_id)
        elif ev.kind is EventKind.FILL:
            scalper.on_fill(order.client_id, int(ev.fill.qty), ev.fill.price)

    session.add_listener(on_event)

    loop = asyncio.get_running_loop()

    def finished(intent: Any, fut: asyncio.Future[Order]) -> None:
        if not fut.cancelled() and fut.exception() is not None:
            errors.append(f"{intent.client_id}: {fut.exception()!r}")
        scalper.on_done(intent.client_id)

    def on_quote(pair: str, bid: float, ask: float, recv_ns: int) -> None:
        intent = scalper.on_quote(to_scalper[pair], bid, ask, recv_ns)
        if intent is None:
            return
        order = Order(intent.client_id, VENUE, to_session[intent.pair], intent.side, "limit",
                      Decimal(intent.qty), intent.limit_price, intent.event, 0)
        orders[order.client_id] = order
        try:
            done = session.submit_nowait(
                order, on_sent=lambda ns, it=intent: scalper.mark_sent(it, ns))
        except OpenclawError as e:  # counted and reported; the pair may trade again
            errors.append(f"{intent.client_id}: {e}")
            scalper.on_done(intent.client_id)
            return
        pending.add(done)
        done.add_done_callback(pending.discard)
        done.add_done_callback(lambda f, it=intent: finished(it, f))

    _ = loop
    cancel = await session.subscribe_fx(list(to_session.values()), on_quote)
    try:
        await asyncio.sleep(seconds)
    finally:
        cancel()
    if pending:
        await asyncio.wait(set(pending), timeout=drain_s)
    for o in orders.values():  # anything still resting after the run: cancel it
        if not o.is_final:
            with contextlib.suppress(IbkrError):
                session.cancel(o)
    rest = [o for o in orders.values() if not o.is_final]
    if rest:
        await session.wait_final(rest, drain_s)
    by_status: dict[str, int] = {}
    for o in orders.values():
        by_status[o.status.value] = by_status.get(o.status.value, 0) + 1
    summary.update({
        "traded": True,
        "ignore_window": ignore_window,
        "quotes": scalper.quotes,
        "intents": scalper.intents,
        "orders": len(orders),
        "filled": by_status.get("filled", 0),
        "by_status": by_status,
        "denied": dict(scalper.denied),
        "position": {p: scalper.position[i] for i, p in enumerate(cfg.pairs)},
        "errors": errors,
        "latency": _plain(latency_report(scalper.clock)),
    })
    return summary


def _plain(x: Any) -> Any:
    """Numpy scalars (from the latency report) as Python numbers, for JSON."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if hasattr(x, "item") and type(x) not in (int, float, str, bool):
        return x.item()  # numpy scalars (np.float64 is a float subclass orjson refuses)
    return x


# ---- command line drivers (``openclaw ibkr ...``; the CLI starts the simulator) ----------------

SimStarter = Callable[..., Any]  # async (seed, universe_size, fx_rate) -> a started simulator


async def _open_gateway(
    cfg: Any, host: str | None, port: int | None, client_id: int | None, journal_path: str,
    start_sim: SimStarter | None, seed: int, universe: int, fx_rate: float,
) -> tuple[Any, Journal, IbkrSession, dict[str, Any]]:
    """(simulator or None, journal, started session, info) for a CLI run."""
    import tempfile
    from pathlib import Path

    from openclaw.brokers.pacing import Backoff, HistoricalLimits
    from openclaw.strategies.bar_cache import BarCache

    ib = cfg.ibkr
    sim = None
    port = port if port is not None else ib.port
    if port is None:
        if start_sim is None:
            raise MomentumRunError("no --port and no simulator available")
        sim = await start_sim(seed=seed, universe_size=universe, fx_rate=fx_rate)
        host, port = sim.host, sim.port
        tmp = Path(tempfile.mkdtemp(prefix="openclaw-ibkr-"))
        jpath = journal_path or str(tmp / "journal.sqlite")
        cache_dir = str(tmp / "bars")
        hist = HistoricalLimits(max_requests=100_000, identical_s=0.0, per_contract=1000)
        sync = "NORMAL"
    else:
        host = host or ib.host
        jpath = journal_path or cfg.journal.path
        cache_dir = ib.bar_cache_dir
        hist = HistoricalLimits(ib.hist_max_requests, ib.hist_window_s, ib.hist_identical_s,
                                ib.hist_per_contract, ib.hist_contract_window_s)
        sync = "FULL"
    journal = await Journal.open(jpath, synchronous=sync)  # type: ignore[arg-type]
    session = IbkrSession(
        host, port, client_id if client_id is not None else ib.client_id, journal,
        account=ib.account, simulator=sim is not None,
        max_messages_per_s=0 if sim is not None else ib.max_messages_per_s,
        connect_timeout=ib.connect_timeout_s, request_timeout=ib.request_timeout_s,
        reconnect=Backoff(ib.reconnect_base_ms / 1e3, ib.reconnect_cap_ms / 1e3),
        hist_limits=hist, bar_cache=BarCache(cache_dir),
    )
    try:
        await session.start()
    except BaseException:
        await journal.close()
        if sim is not None:
            await sim.aclose()
        raise
    info = {"gateway": "simulator" if sim is not None else f"{host}:{port}",
            "account": session.account, "journal": str(jpath)}
    return sim, journal, session, info


async def _close_gateway(sim: Any, journal: Journal, session: IbkrSession) -> None:
    await session.close()
    await journal.close()
    if sim is not None:
        await sim.aclose()


async def cli_momentum(
    *, config_path: str | None, execute: bool, top: int | None, host: str | None,
    port: int | None, client_id: int | None, journal_path: str, run_id: str | None,
    seed: int, universe: int, start_sim: SimStarter | None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """``openclaw ibkr momentum``: one rebalance (or its plan) on the simulator or a gateway."""
    from openclaw.config import IbkrRunConfig, load_ibkr_config

    cfg = load_ibkr_config(config_path) if config_path else IbkrRunConfig()
    sim, journal, session, info = await _open_gateway(
        cfg, host, port, client_id, journal_path, start_sim, seed, universe, 20.0)
    try:
        params = dict(cfg.momentum)
        if not params.get("universe"):
            if sim is None:
                raise MomentumRunError("a real gateway needs [momentum] universe = [...]")
            params["universe"] = list(sim.universe)
        if top is not None:
            params["top_n"] = top
        elif sim is not None:
            params.setdefault("top_n", 30)
        mcfg = MomentumConfig.model_validate(params)
        summary = await run_momentum(
            session, journal, mcfg, run_id=run_id or default_run_id(), execute=execute,
            progress=progress, order_timeout=cfg.ibkr.order_timeout_s)
        summary.update(info)
        if sim is not None:
            summary["simulator_positions_match_target"] = (
                None if not execute else not _matches(sim.positions(), summary["targets"],
                                                      mcfg.universe))
        return summary
    finally:
        await _close_gateway(sim, journal, session)


async def cli_fx(
    *, config_path: str | None, seconds: float, ignore_window: bool, host: str | None,
    port: int | None, client_id: int | None, journal_path: str, seed: int,
    start_sim: SimStarter | None, now_ns: int | None = None,
) -> dict[str, Any]:
    """``openclaw ibkr fx``: the scalper for ``seconds`` (nothing at all outside the window
    unless ``ignore_window``)."""
    from openclaw.config import IbkrRunConfig, load_ibkr_config
    from openclaw.strategies.fx_scalper import FxScalper, FxScalperConfig

    cfg = load_ibkr_config(config_path) if config_path else IbkrRunConfig()
    fx_cfg = FxScalperConfig.model_validate(cfg.fx)
    probe = FxScalper(fx_cfg)
    if not ignore_window and not probe.window.active(now_ns or time.time_ns()):
        return {"traded": False, "reason": fx_window_text(probe, now_ns), "seconds": seconds}
    sim, journal, session, info = await _open_gateway(
        cfg, host, port, client_id, journal_path, start_sim, seed, 10, 100.0)
    try:
        summary = await run_fx(session, seconds, config=fx_cfg, ignore_window=ignore_window)
        summary.update(info)
        return summary
    finally:
        await _close_gateway(sim, journal, session)


async def cli_schedule_status(config_path: str | None, journal_path: str) -> dict[str, Any]:
    """``openclaw schedule status``: the last and next momentum runs (B's scheduler)."""
    from datetime import time as dtime
    from datetime import timedelta

    from openclaw.config import IbkrRunConfig, load_ibkr_config
    from openclaw.schedule import Scheduler, WeeklySchedule

    cfg = load_ibkr_config(config_path) if config_path else IbkrRunConfig()
    sc = dict(cfg.schedule)
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    wd = sc.get("weekday", 0)
    weekday = days.index(wd.lower()) if isinstance(wd, str) else int(wd)
    schedule = WeeklySchedule(
        weekday, dtime.fromisoformat(str(sc.get("at", "09:45"))),
        name=str(sc.get("name", "momentum")), tz=str(sc.get("tz", "America/New_York")),
        calendar=str(sc.get("calendar", "XNYS")),
        grace=timedelta(minutes=float(sc.get("grace_minutes", 120))))
    from pathlib import Path

    jpath = journal_path or cfg.journal.path
    if not Path(jpath).is_file():
        raise MomentumRunError(f"no journal at {jpath} (use --journal PATH)")
    journal = await Journal.open(jpath)
    try:
        async def never(ctx: Any) -> None:  # status only: nothing is executed
            raise MomentumRunError("schedule status does not execute runs")

        status = await Scheduler(journal, schedule, never).status()
        out = status.to_dict()
        manual = [r for r in await journal.runs() if r.name == "momentum_manual"]
        out["last_manual"] = None if not manual else {
            "run_id": manual[-1].run_id, "status": manual[-1].status.value,
            "detail": manual[-1].detail}
        out["journal"] = str(journal.path)
        return out
    finally:
        await journal.close()


def render_momentum(summary: dict[str, Any]) -> None:
    """A rich table of a momentum run (the CLI without --json)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    head = Table(title=f"momentum {summary['run_id']} ({summary.get('gateway', '?')}, "
                 f"{'dry run' if summary['dry_run'] else 'executed'})")
    keys = ("universe", "top", "scan_ms", "orders", "sent", "filled", "rebalance_ms",
            "positions_match_target")
    for k in keys:
        head.add_column(k.replace("_", " "), justify="right")
    head.add_row(*(f"{summary.get(k):.1f}" if isinstance(summary.get(k), float)
                   else str(summary.get(k)) for k in keys))
    console.print(head)
    orders = Table(title=f"orders (as of {summary.get('asof')})")
    for col in ("side", "symbol", "qty", "limit", "target"):
        orders.add_column(col, justify="left" if col in ("side", "symbol") else "right")
    for o in summary.get("planned", []):
        orders.add_row(o["side"], o["symbol"], str(o["qty"]), o["limit_price"],
                       str(summary["targets"].get(o["symbol"], 0)))
    console.print(orders)
    if summary.get("mismatches"):
        console.print({"mismatches (position, target)": summary["mismatches"]})
    if summary.get("denied"):
        console.print({"denied by risk": summary["denied"]})


def render_fx(summary: dict[str, Any]) -> None:
    """The FX run's counters and its latency table (the CLI without --json)."""
    from rich.console import Console

    from openclaw.latency import report_table

    console = Console()
    if not summary.get("traded"):
        console.print(f"not trading: {summary.get('reason')}")
        return
    console.print({k: summary[k] for k in ("gateway", "quotes", "intents", "orders", "filled",
                                           "by_status", "denied", "position", "errors")
                   if k in summary})
    console.print(report_table(summary["latency"],
                               "FX stages (us): quote -> signal -> risk -> sent -> ack -> fill"))
