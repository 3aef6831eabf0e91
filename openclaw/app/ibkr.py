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

from openclaw.execution.manager import OrderManager
from openclaw.journal import ClaimOutcome, Journal, RunStatus
from openclaw.model.errors import OpenclawError
from openclaw.model.orders import Order, OrderStatus
from openclaw.risk.quotes import QuoteListRisk
from openclaw.schedule import run_order_prefix
from openclaw.strategies.momentum import (
    AccountSnapshot,
    MomentumConfig,
    MomentumStrategy,
    PlannedOrder,
    RebalancePlan,
    plan_from_closes,
)
from openclaw.venues.ibkr.route import IbkrRoute
from openclaw.venues.ibkr.session import VENUE, IbkrError, IbkrSession

__all__ = [
    "IbkrMomentumBroker",
    "MomentumRunError",
    "run_momentum",
]

log = logging.getLogger("openclaw.app.ibkr")

ProgressCallback = Callable[[int, int, str], None]


class MomentumRunError(OpenclawError):
    """A momentum run that could not be executed (run held by another owner, bad inputs)."""


class IbkrMomentumBroker:
    """The session as the momentum strategy's ``BrokerAccount`` (its orders go through an
    ``OrderManager`` on an ``IbkrRoute``: venues/ibkr/route.py)."""

    def __init__(self, session: IbkrSession) -> None:
        self.session = session

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
    lease_ns = int(lease_s * 1e9)
    heartbeat: asyncio.Task[None] | None = None
    attempt = None
    if execute:
        claim = await journal.claim_run(run_id, run_name, owner, now_ns=time.time_ns(),
                                        lease_ns=lease_ns)
        if claim.outcome is ClaimOutcome.HELD:
            raise MomentumRunError(f"run {run_id} is running under {claim.owner}")
        if claim.outcome is ClaimOutcome.FINISHED:
            raise MomentumRunError(f"run {run_id} already finished ({claim.status.value})")
        attempt = claim.attempt
    job = asyncio.ensure_future(rebalance(
        session, journal, cfg, run_id=run_id, execute=execute, progress=progress,
        order_timeout=order_timeout))
    if execute:
        heartbeat = asyncio.create_task(_renew(journal, run_id, owner, lease_s, job))
    try:
        try:
            summary, ok, detail = await job
        except asyncio.CancelledError:
            if (heartbeat is not None and heartbeat.done() and not heartbeat.cancelled()
                    and heartbeat.exception() is None and heartbeat.result() is False):
                raise MomentumRunError(f"run {run_id}: lost its lease (another owner holds "
                                       "the run, or it was finished elsewhere): stopped"
                                       ) from None
            raise
        if attempt is not None:
            summary["attempt"] = attempt
        if not execute:
            return summary
        if heartbeat is not None:
            heartbeat.cancel()
            heartbeat = None
        await journal.finish_run(run_id, owner,
                                 RunStatus.SUCCEEDED if ok else RunStatus.FAILED, detail=detail)
        return summary
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
        if not job.done():
            job.cancel()


async def rebalance(
    session: IbkrSession,
    journal: Journal,
    cfg: MomentumConfig,
    *,
    run_id: str,
    execute: bool = True,
    progress: ProgressCallback | None = None,
    order_timeout: float = 60.0,
) -> tuple[dict[str, Any], bool, str]:
    """The body of one momentum run whose journal claim the caller holds (``run_momentum``
    or the ``Scheduler``): the journaled plan on a rerun (else a new plan, journaled before
    any order), earlier attempts' orders brought to their final state, lost ones re-sent
    under fresh ids, the rest sent (paced, risk-checked) and the positions verified.

    Returns ``(summary, ok, detail)``: ``ok`` when every planned order filled, nothing was
    denied and the gateway's positions equal the targets; ``detail`` is one line for the
    journal. A dry run (``execute=False``) journals and sends nothing.
    """
    summary: dict[str, Any] = {"run_id": run_id, "universe": len(cfg.universe),
                               "top": cfg.top_n, "dry_run": not execute}
    broker = IbkrMomentumBroker(session)
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
        return summary, True, "dry run"
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
    route = IbkrRoute(session, order_timeout)
    strategy = MomentumStrategy(cfg, session, broker, OrderManager(route))
    rep = await strategy.execute(plan, already)
    first, last = session.timing(route.sent)
    positions = await session.fetch_positions()
    mismatch = _matches(positions, plan.targets, cfg.universe)
    all_orders = [session.order(o.client_id) for o in plan.orders]
    filled = sum(1 for o in all_orders if o is not None and o.status is OrderStatus.FILLED)
    pacer = strategy.pacer
    summary.update({
        "sent": len(rep.outcomes),
        "already_sent": len(rep.skipped_sent),
        "denied": [(o.client_id, v.reason) for o, v in rep.denied],
        "trimmed": len(rep.trimmed),
        "filled": filled,
        "not_filled": {o.client_id: o.status.value for o in all_orders
                       if o is not None and o.status is not OrderStatus.FILLED},
        "rebalance_ms": (last - first) / 1e6 if first and last else None,
        "paced": None if pacer is None else {"rate": pacer.rate, "waited": pacer.waited,
                                             "waited_s": round(pacer.waited_s, 3)},
        "positions_match_target": not mismatch,
        "mismatches": {k: list(v) for k, v in mismatch.items()},
    })
    ok = not mismatch and not rep.denied and filled == len(plan.orders)
    detail = (f"orders={len(plan.orders)} filled={filled} denied={len(rep.denied)} "
              f"positions_match_target={not mismatch}")
    return summary, ok, detail


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


async def _renew(journal: Journal, run_id: str, owner: str, lease_s: float,
                 job: asyncio.Future[Any]) -> bool:
    """Renew the run's lease every ``lease_s / 3``; on losing it, cancel ``job`` (as the
    ``Scheduler`` does: a run that is no longer ours must not keep sending) and return False."""
    while True:
        await asyncio.sleep(lease_s / 3)
        ok = await journal.renew_run_lease(run_id, owner, now_ns=time.time_ns(),
                                           lease_ns=int(lease_s * 1e9))
        if not ok:
            log.critical("momentum run %s: lease lost; stopping the run", run_id)
            job.cancel()
            return False


def default_run_id(now_ns: int | None = None) -> str:
    """A manual run's id: ``momentum-manual-<UTC timestamp>``."""
    t = time.gmtime((now_ns or time.time_ns()) / 1e9)
    return "momentum-manual-" + time.strftime("%Y%m%dT%H%M%SZ", t)



# ---- FX scalper ------------------------------------------------------------------------------


class _AlwaysOpen:
    """A trading window that is always open (``--ignore-window``, for the simulator)."""

    def active(self, wall_ns: int) -> bool:
        """Always True."""
        return True


def fx_window_text(scalper: Any, now_ns: int | None = None) -> str:
    """Where ``now`` is relative to the overlap window (for the CLI's message)."""
    from datetime import UTC, datetime, timedelta

    from openclaw.strategies.fx import overlap_window

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
    seconds: float | None,
    *,
    config: Any = None,
    ignore_window: bool = False,
    drain_s: float = 10.0,
    stop: asyncio.Event | None = None,
) -> dict[str, Any]:
    """Run the FX scalper on the session's quotes for ``seconds`` (None: until ``stop``), or
    until ``stop`` is set or the overlap window closes; returns the summary with a latency
    report (``openclaw.latency``) of quote -> signal -> risk -> sent -> ack -> fill.

    Outside the overlap window (and without ``ignore_window``) nothing is subscribed and the
    summary says ``"traded": False`` with the reason. Each intent is journaled and sent through
    the session (journal commit before the socket write: the ``sent`` stage includes it).
    At the end no new order starts, orders in flight get ``drain_s`` seconds, anything still
    resting is cancelled and tracked to its final state.
    """
    if seconds is None and stop is None:
        raise IbkrError(0, "run_fx needs seconds or a stop event")
    from openclaw.latency import latency_report
    from openclaw.strategies.fx import FxScalper, FxScalperConfig

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
    cash = session.cash()
    if cash is None:  # never a silent zero: the gateway did not push the account's cash
        raise IbkrError(0, "the gateway sent no TotalCashValue in USD: cannot size FX risk")
    risk.set_balance("USD", Decimal(cash).quantize(Decimal("0.01")))
    for p in cfg.pairs:  # shorting a base currency is allowed up to the position cap
        risk.set_balance(p.split("/")[0], Decimal(cfg.max_position))
    to_session = {p: p.replace("/", ".") for p in cfg.pairs}
    to_scalper = {v: k for k, v in to_session.items()}
    orders: dict[str, Order] = {}
    pending: set[asyncio.Future[Any]] = set()
    errors: list[str] = []

    def on_event(order: Order, ev: Any) -> None:
        if order.client_id not in orders:
            return
        from openclaw.model.orders import EventKind

        if ev.kind is EventKind.ACK:
            scalper.on_ack(order.client_id)
        elif ev.kind is EventKind.FILL:
            scalper.on_fill(order.client_id, int(ev.fill.qty), ev.fill.price)

    session.add_listener(on_event)
    # the one order path: the scalper checked each intent (C, committed); the manager journals
    # and writes it from the quote's call and tells the risk engine the outcome once
    manager = OrderManager(IbkrRoute(session), risk=QuoteListRisk(risk, symbols=to_scalper))

    loop = asyncio.get_running_loop()

    def finished(intent: Any, fut: asyncio.Future[Any]) -> None:
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
            done = manager.send_now(
                [order], on_sent=lambda ns, it=intent: scalper.mark_sent(it, ns))
        except OpenclawError as e:  # counted and reported; the pair may trade again
            errors.append(f"{intent.client_id}: {e}")
            risk.on_close(intent.client_id)      # never sent: its reservation is released
            scalper.on_done(intent.client_id)
            return
        pending.add(done)
        done.add_done_callback(pending.discard)
        done.add_done_callback(lambda f, it=intent: finished(it, f))

    cancel = await session.subscribe_fx(list(to_session.values()), on_quote)
    try:
        deadline = None if seconds is None else loop.time() + seconds
        while scalper.window.active(time.time_ns()):
            left = None if deadline is None else deadline - loop.time()
            if (left is not None and left <= 0) or (stop is not None and stop.is_set()):
                break
            step = 1.0 if left is None else min(1.0, left)
            if stop is None:
                await asyncio.sleep(step)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), step)
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
        "order_manager": {"lists": manager.stats.lists, "orders": manager.stats.orders,
                          "filled_legs": manager.stats.filled_legs,
                          "errors": manager.stats.errors},
        # the risk engine's positions, moved only by the order manager's outcomes: equal to
        # the scalper's own count of its fills when every fill was applied exactly once
        "risk_position": {p: int(risk.position(p)) for p in cfg.pairs},
        "latency": plain(latency_report(scalper.clock)),
    })
    return summary


def plain(x: Any) -> Any:
    """Numpy scalars (from the latency report) as Python numbers, for JSON."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [plain(v) for v in x]
    if hasattr(x, "item") and type(x) not in (int, float, str, bool):
        return x.item()  # numpy scalars (np.float64 is a float subclass orjson refuses)
    return x


# ---- command line drivers (``openclaw-trading ibkr ...``; the CLI starts the simulator)
# ----------------

SimStarter = Callable[..., Any]  # async (seed, universe_size, fx_rate) -> a started simulator


async def _open_gateway(
    cfg: Any, host: str | None, port: int | None, client_id: int | None, journal_path: str,
    start_sim: SimStarter | None, seed: int, universe: int, fx_rate: float,
) -> tuple[Any, Journal, IbkrSession, dict[str, Any]]:
    """(simulator or None, journal, started session, info) for a CLI run.

    With the simulator, a temporary directory holds the bar cache (and the journal unless
    ``journal_path`` is given); ``_close_gateway`` removes it (``info["tmp_dir"]``)."""
    import tempfile
    from pathlib import Path

    from openclaw.feeds.bar_cache import BarCache
    from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits

    ib = cfg.ibkr
    sim = None
    tmp_dir: str | None = None
    port = port if port is not None else ib.port
    if port is None:
        if start_sim is None:
            raise MomentumRunError("no --port and no simulator available")
        sim = await start_sim(seed=seed, universe_size=universe, fx_rate=fx_rate)
        host, port = sim.host, sim.port
        tmp = Path(tempfile.mkdtemp(prefix="openclaw-ibkr-"))
        tmp_dir = str(tmp)
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
        # IB's pacing (45/s) against the simulator too, unless the config says otherwise
        max_messages_per_s=ib.max_messages_per_s,
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
        await _remove_dir(tmp_dir)
        raise
    info = {"gateway": "simulator" if sim is not None else f"{host}:{port}",
            "account": session.account, "journal": str(jpath),
            "journal_kept": tmp_dir is None or bool(journal_path), "tmp_dir": tmp_dir}
    return sim, journal, session, info


async def _remove_dir(path: str | None) -> None:
    """Remove a temporary directory of this run (off the loop); None: nothing to do."""
    if path is not None:
        import shutil

        await asyncio.to_thread(shutil.rmtree, path, True)


async def _close_gateway(sim: Any, journal: Journal, session: IbkrSession,
                         tmp_dir: str | None = None) -> None:
    """Close the session, the journal and the simulator; remove the run's temporary dir."""
    try:
        await session.close()
        await journal.close()
        if sim is not None:
            await sim.aclose()
    finally:
        await _remove_dir(tmp_dir)


async def cli_momentum(
    *, config_path: str | None, execute: bool, top: int | None, host: str | None,
    port: int | None, client_id: int | None, journal_path: str, run_id: str | None,
    seed: int, universe: int, start_sim: SimStarter | None,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """``openclaw-trading ibkr momentum``: one rebalance (or its plan) on the simulator or a
    gateway."""
    from openclaw.app.config import IbkrRunConfig, load_ibkr_config

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
            summary["simulator_rate_errors"] = sim.rate_errors  # error 100s it answered
            summary["simulator_positions_match_target"] = (
                None if not execute else not _matches(sim.positions(), summary["targets"],
                                                      mcfg.universe))
        return summary
    finally:
        await _close_gateway(sim, journal, session, info["tmp_dir"])


async def cli_fx(
    *, config_path: str | None, seconds: float, ignore_window: bool, host: str | None,
    port: int | None, client_id: int | None, journal_path: str, seed: int,
    start_sim: SimStarter | None, now_ns: int | None = None,
) -> dict[str, Any]:
    """``openclaw-trading ibkr fx``: the scalper for ``seconds`` (nothing at all outside the window
    unless ``ignore_window``)."""
    from openclaw.app.config import ConfigError, IbkrRunConfig, load_ibkr_config
    from openclaw.strategies.fx import FxScalper

    cfg = load_ibkr_config(config_path) if config_path else IbkrRunConfig()
    fx_cfg, cfg_ignore = fx_run_settings(cfg)  # [fx] ignore_window: simulator only
    if cfg_ignore and port is not None:
        raise ConfigError(str(config_path), [("fx.ignore_window",
                                              "only with the simulator (no --port)")])
    ignore_window = ignore_window or cfg_ignore
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
        await _close_gateway(sim, journal, session, info["tmp_dir"])


# ---- ``openclaw-trading run FILE`` entry points (runner.IBKR_ENTRIES)
# ----------------------------------


class _Gateway:
    """The gateway of an ``openclaw-trading run``: the simulator (when ``[ibkr] port`` is unset;
    started by the runner's ``ctx.extras["start_tws_sim"]``), the journal ``[journal].path`` and one
    persistent ``IbkrSession``, shared by the run's strategies (reference counted)."""

    def __init__(self, sim: Any, journal: Journal, session: IbkrSession,
                 tmp_dir: str | None = None) -> None:
        self.sim, self.journal, self.session = sim, journal, session
        self.tmp_dir = tmp_dir  # the simulator run's bar cache, removed at close
        self.users = 0

    @classmethod
    async def open(cls, cfg: Any, ctx: Any) -> _Gateway:
        """Start the simulator if configured, open the journal, start the session."""
        import tempfile
        from pathlib import Path

        from openclaw.feeds.bar_cache import BarCache
        from openclaw.venues.ibkr.pacing import Backoff, HistoricalLimits

        ib = cfg.ibkr
        sim = None
        tmp_dir: str | None = None
        if ib.port is None:
            start_sim = ctx.extras.get("start_tws_sim")
            if start_sim is None:
                raise MomentumRunError("[ibkr] port is unset (the simulator) but this run "
                                       "cannot start the TWS simulator")
            sim = await start_sim(seed=int(ctx.extras.get("seed", 1)), universe_size=100,
                                  fx_rate=100.0 if cfg.fx else 20.0)
            host, port = sim.host, sim.port
            cache_dir = tmp_dir = tempfile.mkdtemp(prefix="openclaw-run-bars-")  # not real bars
            hist = HistoricalLimits(max_requests=100_000, identical_s=0.0, per_contract=1000)
        else:
            host, port, cache_dir = ib.host, ib.port, ib.bar_cache_dir
            hist = HistoricalLimits(ib.hist_max_requests, ib.hist_window_s,
                                    ib.hist_identical_s, ib.hist_per_contract,
                                    ib.hist_contract_window_s)
        try:
            Path(cfg.journal.path).parent.mkdir(parents=True, exist_ok=True)
            journal = await Journal.open(cfg.journal.path, synchronous="FULL")
        except BaseException:
            if sim is not None:
                await sim.aclose()
            await _remove_dir(tmp_dir)
            raise
        session = IbkrSession(
            host, port, ib.client_id, journal, account=ib.account, simulator=sim is not None,
            max_messages_per_s=ib.max_messages_per_s, connect_timeout=ib.connect_timeout_s,
            request_timeout=ib.request_timeout_s,
            reconnect=Backoff(ib.reconnect_base_ms / 1e3, ib.reconnect_cap_ms / 1e3),
            hist_limits=hist, bar_cache=BarCache(cache_dir), alerter=ctx.alerter,
        )
        try:
            report = await session.start()
        except BaseException:
            await journal.close()
            if sim is not None:
                await sim.aclose()
            await _remove_dir(tmp_dir)
            raise
        log.info("ibkr gateway %s: account %s, journal %s, %d open orders reconciled",
                 "simulator" if sim is not None else f"{host}:{port}", session.account,
                 journal.path, report.loaded)
        if report.unresolved:
            log.critical("ibkr: %d order(s) written to the gateway earlier but unknown to it "
                         "(left UNKNOWN, check them at the broker): %s", len(report.unresolved),
                         report.unresolved)
        if report.anomalies:
            log.critical("ibkr: %d refused execution(s) in the journal (runs named "
                         "ibkr_anomaly): %s", len(report.anomalies),
                         [a.get("exec_id") for a in report.anomalies])
        return cls(sim, journal, session, tmp_dir)

    async def close(self) -> dict[str, Any]:
        """Disconnect, check the journal (every order final, consistent), close it (flushed),
        stop the simulator. Returns what the check found."""
        out: dict[str, Any] = {}
        try:
            await self.session.close()
            still = await self.journal.open_orders(VENUE)
            out["open_orders"] = [{"client_id": o.client_id, "status": o.status.value}
                                  for o in still]
            for o in still:
                log.error("ibkr: order %s not final at shutdown (%s): the next start-up "
                          "reconciles it", o.client_id, o.status.value)
            problems = await self.journal.consistency_check()
            out["journal_consistent"] = not problems
            if problems:
                out["journal_problems"] = [str(p) for p in problems[:20]]
        finally:
            await self.journal.close()
            if self.sim is not None:
                await self.sim.aclose()
            await _remove_dir(self.tmp_dir)
        log.info("ibkr gateway closed; journal %s flushed", self.journal.path)
        return out


async def _acquire_gateway(cfg: Any, ctx: Any) -> _Gateway:
    lock = ctx.extras.setdefault("ibkr_gateway_lock", asyncio.Lock())
    async with lock:
        gw = ctx.extras.get("ibkr_gateway")
        if gw is None:
            gw = ctx.extras["ibkr_gateway"] = await _Gateway.open(cfg, ctx)
        gw.users += 1
        return gw  # type: ignore[no-any-return]


async def _release_gateway(ctx: Any, gw: _Gateway) -> dict[str, Any]:
    """The last user closes the gateway; returns the shutdown check (empty for the others)."""
    async with ctx.extras["ibkr_gateway_lock"]:
        gw.users -= 1
        if gw.users > 0:
            return {}
        ctx.extras.pop("ibkr_gateway", None)
        return await gw.close()


def _shutdown_problem(check: dict[str, Any]) -> str | None:
    if check.get("open_orders"):
        return f"{len(check['open_orders'])} orders not final at shutdown"
    if check.get("journal_consistent") is False:
        return f"journal inconsistent: {check.get('journal_problems')}"
    return None


def fx_run_settings(cfg: Any) -> tuple[Any, bool]:
    """The ``[fx]`` section as ``FxScalperConfig`` and its ``ignore_window`` (a run-file key,
    allowed only with the simulator: a real gateway trades in the overlap window only)."""
    from openclaw.app.config import ConfigError
    from openclaw.strategies.fx import FxScalperConfig

    params = dict(cfg.fx)
    ignore = params.pop("ignore_window", False)
    if not isinstance(ignore, bool):
        raise ConfigError("[fx]", [("fx.ignore_window", f"must be true or false, not {ignore!r}")])
    if ignore and cfg.ibkr.port is not None:
        raise ConfigError("[fx]", [("fx.ignore_window", "only with the simulator ([ibkr] port "
                                    "unset): a real gateway trades in the overlap window")])
    from pydantic import ValidationError

    try:
        return FxScalperConfig.model_validate(params), ignore
    except ValidationError as e:
        raise ConfigError("[fx]", [("fx." + ".".join(str(x) for x in err["loc"]), err["msg"])
                                   for err in e.errors()]) from None


async def _wait_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))


async def run_fx_configured(config: Any, ctx: Any) -> dict[str, Any]:
    """``openclaw-trading run`` entry of ``[fx]``: the scalper in every overlap window (or all the
    time with ``ignore_window = true``, simulator only) until ``ctx.stop``; then orders in flight
    are drained, resting ones cancelled, the journal checked and closed. Returns the windows'
    summaries and the latency report of the last one that traded; raises ``IbkrError`` if an
    order is not final at shutdown or the journal is inconsistent (the run exits 1)."""
    fx_cfg, ignore = fx_run_settings(config)
    from openclaw.strategies.fx import FxScalper

    probe = FxScalper(fx_cfg)
    stop: asyncio.Event = ctx.stop
    windows: list[dict[str, Any]] = []
    gw: _Gateway | None = None
    check: dict[str, Any] = {}
    said = ""
    try:
        while not stop.is_set():
            if not ignore and not probe.window.active(time.time_ns()):
                text = fx_window_text(probe)
                if text != said:  # once per window change, not every minute
                    log.info("fx: %s", text)
                    said = text
                await _wait_stop(stop, 60.0)
                continue
            said = ""
            if gw is None:
                gw = await _acquire_gateway(config, ctx)
            s = await run_fx(gw.session, None, config=fx_cfg, ignore_window=ignore,
                             drain_s=3.0, stop=stop)
            log.info("fx window done: %d quotes, %d orders, %d filled",
                     s.get("quotes", 0), s.get("orders", 0), s.get("filled", 0))
            windows.append(s)
    finally:
        if gw is not None:
            check = await _release_gateway(ctx, gw)
    traded = [w for w in windows if w.get("traded")]
    out: dict[str, Any] = {
        "ignore_window": ignore, "windows": windows,
        "orders": sum(w.get("orders", 0) for w in traded),
        "filled": sum(w.get("filled", 0) for w in traded),
        "latency": traded[-1]["latency"] if traded else None, **check}
    problem = _shutdown_problem(check)
    if problem:
        raise IbkrError(0, f"fx: {problem}")
    return out


def weekly_schedule(cfg: Any) -> Any:
    """The ``[schedule]`` section as a ``WeeklySchedule`` (ConfigError on a bad key/value)."""
    from datetime import time as dtime
    from datetime import timedelta

    from openclaw.app.config import ConfigError
    from openclaw.schedule import ScheduleError, WeeklySchedule

    sc = dict(cfg.schedule)
    known = {"weekday", "at", "tz", "calendar", "grace_minutes", "name"}
    bad = sorted(set(sc) - known)
    if bad:
        raise ConfigError("[schedule]", [(f"schedule.{k}", f"unknown key (expected one of "
                                          f"{', '.join(sorted(known))})") for k in bad])
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    try:
        wd = sc.get("weekday", 0)
        weekday = days.index(wd.lower()) if isinstance(wd, str) else int(wd)
        return WeeklySchedule(
            weekday, dtime.fromisoformat(str(sc.get("at", "09:45"))),
            name=str(sc.get("name", "momentum")), tz=str(sc.get("tz", "America/New_York")),
            calendar=str(sc.get("calendar", "XNYS")),
            grace=timedelta(minutes=float(sc.get("grace_minutes", 120))))
    except (ValueError, TypeError, ScheduleError) as e:
        raise ConfigError("[schedule]", [("schedule", str(e))]) from None


def momentum_config(cfg: Any, sim: Any) -> MomentumConfig:
    from pydantic import ValidationError

    from openclaw.app.config import ConfigError
    from openclaw.venues.ibkr.pacing import IB_MESSAGES_PER_S

    params = dict(cfg.momentum)
    if not params.get("universe"):
        if sim is None:
            raise ConfigError("[momentum]", [("momentum.universe",
                                              "a real gateway needs universe = [...]")])
        params["universe"] = list(sim.universe)
    try:
        mcfg = MomentumConfig.model_validate(params)
    except ValidationError as e:
        raise ConfigError("[momentum]", [
            ("momentum." + ".".join(str(x) for x in err["loc"]), err["msg"])
            for err in e.errors()]) from None
    if sim is None and (mcfg.max_orders_per_s or 0) > IB_MESSAGES_PER_S:
        raise ConfigError("[momentum]", [("momentum.max_orders_per_s",
                                          f"above IB's pace ({IB_MESSAGES_PER_S}/s)")])
    return mcfg


async def run_momentum_scheduled(config: Any, ctx: Any) -> dict[str, Any]:
    """``openclaw-trading run`` entry of ``[momentum]``: the weekly ``Scheduler`` (``[schedule]``)
    with the momentum rebalance as its job, through one persistent ``IbkrSession``, until
    ``ctx.stop``. The first poll catches up a slot missed within its grace (a slot already run
    is never run again: the journal's run claim). A stop is honoured between polls; a
    rebalance in progress is left to finish (the runner cancels it after its drain timeout:
    the run stays claimed and the next start resumes it). Returns the outcomes and each
    executed rebalance's summary; raises ``IbkrError`` if an order is not final at shutdown
    or the journal is inconsistent."""
    from openclaw.schedule import PollResult, RunContext, Scheduler

    # building the schedule loads the exchange calendar (~0.5 s): off the event loop
    schedule = await asyncio.to_thread(weekly_schedule, config)
    stop: asyncio.Event = ctx.stop
    gw = await _acquire_gateway(config, ctx)
    outcomes: list[dict[str, Any]] = []
    rebalances: dict[str, dict[str, Any]] = {}
    check: dict[str, Any] = {}
    try:
        mcfg = momentum_config(config, gw.sim)

        async def job(rctx: RunContext) -> str:
            summary, ok, detail = await rebalance(
                gw.session, gw.journal, mcfg, run_id=rctx.run_id,
                order_timeout=config.ibkr.order_timeout_s)
            rebalances[rctx.run_id] = summary
            log.info("momentum %s (attempt %d): %s", rctx.run_id, rctx.attempt, detail)
            if not ok:
                raise MomentumRunError(detail)
            return detail

        def polled(res: PollResult) -> None:
            for o in res.outcomes:
                outcomes.append({"run_id": o.run_id, "action": o.action,
                                 "status": None if o.status is None else o.status.value,
                                 "detail": o.detail})
            log.info("momentum schedule: next poll %s", res.wake_at.isoformat())

        sched = Scheduler(gw.journal, schedule, job)  # skips/failures: logged warnings
        log.info("momentum schedule %r: next slot %s", schedule,
                 (await sched.status()).next.at.isoformat())
        await sched.run_forever(stop, on_poll=polled)
    finally:
        check = await _release_gateway(ctx, gw)
    out = {"schedule": repr(schedule), "outcomes": outcomes, "rebalances": rebalances, **check}
    problem = _shutdown_problem(check)
    if problem:
        raise IbkrError(0, f"momentum: {problem}")
    return out


async def cli_schedule_status(config_path: str | None, journal_path: str) -> dict[str, Any]:
    """``openclaw-trading schedule status``: the last and next momentum runs (B's scheduler)."""
    from pathlib import Path

    from openclaw.app.config import IbkrRunConfig, load_ibkr_config
    from openclaw.schedule import Scheduler

    cfg = load_ibkr_config(config_path) if config_path else IbkrRunConfig()
    # the same parsing and checks as ``openclaw-trading run``; the calendar loads off the loop
    schedule = await asyncio.to_thread(weekly_schedule, cfg)

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
