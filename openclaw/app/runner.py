"""``openclaw-trading run FILE``: start what a configuration names as one asyncio application.

What starts (decided by the config's sections):
  * feeds: one Aggregator over the ``[[instruments]]``; a venue in ``mode = "sim"`` is served by
    the local simulators (started in this process), a ``live`` venue by its ``ws``/``rest``;
  * execution: a Router per venue (ccxt; with ``route = "ws"`` the venue's trading WebSocket,
    ccxt while it is down, see docs/fast-routes.md) writing the journal ``[journal].path``
    before every send; ``--paper`` sends every order to the local simulators while feeds stay
    where the config says (real venues when the network allows);
  * ``[strategy.triarb]`` (enabled): the triangular-arbitrage pipeline with the Cython pre-trade
    risk gate (``[risk]`` when given, otherwise per-instrument defaults, see ``default_limits``);
  * always: the balance reconciler (``[reconcile]``, execution/reconcile.py): baseline at start,
    then after each arbitrage and every ``interval_s``; a mismatch halts the gate's engine and
    alerts, and the run's summary says ``halted`` (exit 1);
  * any other ``[strategy.NAME]`` section: the module named by its ``module`` key (default
    ``openclaw.strategies.NAME``; any importable module, a user's own included) must define
    ``async def run_configured(config, ctx)``; its ``Config`` pydantic model, if any, validates
    the table (``ctx.params``); a missing module or entry point or a bad key is a
    configuration error (exit 2), never a silent skip; a dict it returns is in the summary
    under ``strategies``;
  * ``[alerts]``: Telegram (token/chat from the named environment variables; when every venue
    is simulated and they are unset, a local fake Telegram server takes the messages) and/or a
    webhook.

Shutdown (SIGINT, SIGTERM or ``--seconds``): no new order list starts, lists in flight get
``drain_timeout`` seconds, leftovers are cancelled and every order the journal holds as not final
is queried at its venue by client id; whatever stays open is listed in the summary and logged
(never dropped); the reconciler compares a last time; then alerts are flushed and the journal
is closed. Exit 0 when every order is final, the journal passes ``Journal.consistency_check``
and reconciliation did not halt, 1 otherwise, 2 on a bad config.
(A tool that can start simulators, like ``openclaw-trading demo``: the only imports of
``openclaw.sim`` are inside ``_start_simulators``, ``_start_tws_sim``, ``_start_fake_telegram`` and
``check_run_file``; the full list of such imports is in openclaw/app/demo.py's docstring.)

Journal durability: ``[journal] synchronous`` (``journal_synchronous``): ``FULL`` by default
when any order goes to a live venue, ``NORMAL`` when every order goes to the simulators; the
summary says which one the journal used (``journal_synchronous``, ``journal_inline``).
``openclaw-trading config check FILE`` (``check_run_file``) runs every check this module makes
before the first order, without starting anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from openclaw.app.config import (
    Config,
    ConfigError,
    journal_synchronous,
    load_config,
    venue_urls,
)
from openclaw.latency import GcPauses, freeze_startup_heap
from openclaw.model.errors import OpenclawError
from openclaw.model.venues import crypto_venue
from openclaw.strategies import module_for

log = logging.getLogger("openclaw.app.runner")

# the simulators publish depth a few ms after they match: IOC legs priced at the detector's
# depth get this allowance when orders go to the simulators (the demo uses the same figure)
SIM_SLIPPAGE_BPS = 15.0
# most of an asset's free balance one arbitrage may start with (per venue); others: half
DEFAULT_MAX_START = {"USDT": Decimal(3000), "USDC": Decimal(3000), "BTC": Decimal("0.05"),
                     "ETH": Decimal(1)}
SIM_TELEGRAM_TOKEN = "123456:AAopenclawRunnerTokenForTheFakeServer01"


class RunnerError(OpenclawError):
    """The run could not start or ended in an unexpected way (not a configuration problem)."""


@dataclass
class RunContext:
    """What a configured strategy receives (``run_configured(config, ctx)``): the running
    pieces and the stop event it must honour."""

    config: Any                  # Config (crypto runs) or IbkrRunConfig (IBKR runs)
    paper: bool
    stop: asyncio.Event
    journal: Any = None
    router: Any = None
    aggregator: Any = None
    alerter: Any = None
    extras: dict[str, Any] = field(default_factory=dict)
    params: Any = None           # the strategy's own [strategy.NAME] settings (validated)
    gate: Any = None             # the risk gate every order list goes through
    orders: Any = None           # execution.manager.OrderManager: send order lists with it


# -- checks before anything starts ------------------------------------------------------------

def _all_sim(cfg: Config) -> bool:
    return all(not v.remote for v in cfg.venues.values())


def extra_strategies(cfg: Config) -> dict[str, Any]:
    """``[strategy.NAME]`` sections other than ``triarb`` that are present and enabled."""
    return cfg.strategy.plugins()


@dataclass(frozen=True)
class StrategyEntry:
    """A configured strategy: its entry point and its own validated settings."""

    module: str
    entry: Callable[..., Awaitable[Any]]
    params: Any          # the module's ``Config`` instance, or the table as a dict


def load_strategy(name: str, section: dict[str, Any]) -> StrategyEntry | list[tuple[str, str]]:
    """Import ``[strategy.NAME]``'s module (``module``, else the built-in ``NAME``, else
    ``openclaw.strategies.NAME``: ``strategies.module_for``),
    find ``run_configured(config, ctx)`` and validate the table with the module's ``Config``
    model when it has one; the entry, or the errors with their paths."""
    from pydantic import BaseModel, ValidationError

    mod_name = module_for(name, section.get("module"))
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        return [(f"strategy.{name}", f"module {mod_name} is not available: {e}")]
    entry = getattr(mod, "run_configured", None)
    if not callable(entry):
        return [(f"strategy.{name}",
                 f"module {mod_name} has no run_configured(config, ctx) entry point")]
    own = {k: v for k, v in section.items() if k not in ("module", "enabled")}
    model = getattr(mod, "Config", None)
    params: Any = own
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            params = model.model_validate(own)
        except ValidationError as e:
            return [(f"strategy.{name}." + ".".join(str(p) for p in err["loc"]), err["msg"])
                    for err in e.errors()]
    return StrategyEntry(mod_name, entry, params)


def preflight(cfg: Config, paper: bool, source: str = "<config>") -> dict[str, StrategyEntry]:
    """Everything that can be checked before starting; raises ConfigError listing every problem.

    Returns the entry points of the configured non-triarb strategies."""
    errors: list[tuple[str, str]] = []
    for name, v in cfg.venues.items():
        if v.remote and not paper:
            for key in ("api_key_env", "secret_env", "passphrase_env"):
                var = getattr(v, key)
                if var and not os.environ.get(var):
                    errors.append((f"venues.{name}.{key}",
                                   f"environment variable {var} is not set"))
        if (v.remote and crypto_venue(name).needs_passphrase and not paper
                and not v.passphrase_env):
            errors.append((f"venues.{name}.passphrase_env", f"{name} needs a passphrase"))
        if v.ed25519_key_file:
            if not os.path.isfile(v.ed25519_key_file):
                errors.append((f"venues.{name}.ed25519_key_file", "no such file"))
            var = v.ed25519_api_key_env
            if v.remote and not paper and not os.environ.get(var):
                errors.append((f"venues.{name}.ed25519_api_key_env",
                               f"environment variable {var} is not set"))
    tg = cfg.alerts.telegram
    if tg is not None and not _all_sim(cfg):
        for key in ("token_env", "chat_env"):
            var = getattr(tg, key)
            if not os.environ.get(var):
                errors.append((f"alerts.telegram.{key}", f"environment variable {var} is not set"))
    if cfg.alerts.webhook_url:
        from openclaw.alerts import AlertConfigError, WebhookSink

        try:
            WebhookSink(cfg.alerts.webhook_url)
        except AlertConfigError as e:
            errors.append(("alerts.webhook_url", str(e)))
    if cfg.risk:
        from pydantic import ValidationError

        from openclaw.risk.limits import RiskLimits

        try:
            RiskLimits.model_validate(cfg.risk)
        except ValidationError as e:
            errors += [("risk." + ".".join(str(p) for p in err["loc"]), err["msg"])
                       for err in e.errors()]
    entries: dict[str, StrategyEntry] = {}
    for sname, section in extra_strategies(cfg).items():
        got = load_strategy(sname, section)
        if isinstance(got, list):
            errors += got
        else:
            entries[sname] = got
    if cfg.strategy.triarb.enabled and not any(i.category == "spot" for i in cfg.instruments):
        errors.append(("strategy.triarb", "enabled but no spot instruments are configured"))
    if errors:
        raise ConfigError(source, errors)
    return entries


# -- pieces ------------------------------------------------------------------------------------

async def _start_simulators(seed: int, binance_options: dict[str, Any] | None = None) -> Any:
    from openclaw.sim import start_simulators

    return await start_simulators(seed=seed, rate=20, binance_options=binance_options)


async def start_run_simulators(seed: int) -> Any:
    """The simulators a run starts for its ``sim`` venues (``openclaw-trading doctor`` and
    ``config check`` start the same)."""
    return await _start_simulators(seed)


# the API key of an Ed25519 logon key when Binance runs on the simulator (which is given the
# configured key's public half)
SIM_ED25519_API_KEY = "openclaw-sim-ed25519-key"


def _read_ed25519_keys(cfg: Config, paper: bool, source: str) -> dict[str, Any]:
    """The Ed25519 logon keys the venues name (``ed25519_key_file``; blocking file reads); a
    file that is no Ed25519 private key is a ConfigError naming the file, never its content
    (every such file listed)."""
    from openclaw.venues.registry import Ed25519Key

    keys: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, v in cfg.venues.items():
        if not v.ed25519_key_file:
            continue
        api_key = (SIM_ED25519_API_KEY if v.mode == "sim" or paper
                   else os.environ.get(v.ed25519_api_key_env, ""))
        try:
            keys[name] = Ed25519Key.from_file(api_key, v.ed25519_key_file)
        except ValueError as e:
            errors.append((f"venues.{name}.ed25519_key_file", str(e)))
    if errors:
        raise ConfigError(source, errors)
    return keys


async def _ed25519_keys(cfg: Config, paper: bool, source: str) -> dict[str, Any]:
    """``_read_ed25519_keys`` off the event loop."""
    return await asyncio.to_thread(_read_ed25519_keys, cfg, paper, source)


async def _start_tws_sim(seed: int, universe_size: int, fx_rate: float) -> Any:
    """The TWS simulator of an IBKR run whose ``[ibkr] port`` is unset, with IB's pacing:
    50 client messages/s (error 100 beyond), historical requests unthrottled."""
    from openclaw.sim.tws.server import start_tws

    return await start_tws(seed=seed, port=0, universe_size=universe_size, fx_rate=fx_rate,
                           hist_pacing_limit=100_000, msg_rate_limit=50)


async def _start_fake_telegram() -> Any:
    from openclaw.sim.telegram import TelegramSim

    return await TelegramSim(SIM_TELEGRAM_TOKEN).start()


def check_sim_instruments(cfg: Config, sims: Any, source: str) -> None:
    """Instruments of simulated venues must exist in the simulated market with the same tick
    and lot (else the books would be wrong); raises ConfigError listing every mismatch."""
    errors = []
    for i, inst in enumerate(cfg.instruments):
        if cfg.venues[inst.venue].mode != "sim" or "/" in inst.symbol:
            continue            # a unified symbol: checked against the venue's metadata
        specs = {s.venue_symbol: s for s in sims.market.instruments(inst.venue, inst.category)}
        spec = specs.get(inst.symbol)
        if spec is None:
            errors.append((f"instruments[{i}].symbol", f"{inst.venue} simulator has no "
                           f"{inst.category} {inst.symbol} (has {', '.join(sorted(specs))})"))
            continue
        for key, want in (("tick_size", spec.tick), ("lot_size", spec.lot)):
            if getattr(inst, key) is not None and Decimal(getattr(inst, key)) != Decimal(want):
                errors.append((f"instruments[{i}].{key}",
                               f"{getattr(inst, key)} but the simulator uses {want}"))
    if errors:
        raise ConfigError(source, errors)


def default_limits(cfg: Config) -> Any:
    """Risk limits when the config has no ``[risk]``: every instrument's conformance, a 100 bps
    collar, books fresh within ``max_book_age_ms``, at most 5,000 quote units per order in a
    USD quote (0.1 in any other quote), 50 orders/s and 30 open orders per venue."""
    from openclaw.risk.limits import InstrumentLimits, RiskLimits, VenueLimits

    age = cfg.strategy.triarb.max_book_age_ms
    instruments = [InstrumentLimits(
        venue=i.venue, symbol=i.symbol, base=i.base, quote=i.quote, tick_size=i.tick_size,
        lot_size=i.lot_size,
        max_order_notional=Decimal(5000) if i.quote in ("USDT", "USDC", "USD") else Decimal("0.1"),
        collar_bps=Decimal(100), max_book_age_ms=age) for i in cfg.instruments]
    venues = [VenueLimits(name=v, max_orders=50, interval_ms=1000, max_open_orders=30)
              for v in cfg.venues]
    return RiskLimits(venues=venues, instruments=instruments)


@dataclass
class Running:
    """Everything ``run_config`` started (closed in reverse order by ``close_system``)."""

    sims: Any = None
    telegram: Any = None
    journal: Any = None
    journal_lock: Any = None     # journal.lock.JournalLock: one engine per journal
    alerter: Any = None
    routes: dict[str, Any] = field(default_factory=dict)
    aggregator: Any = None
    pipeline: Any = None
    gate: Any = None
    manager: Any = None          # execution.manager.OrderManager: the one order path
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    router: Any = None
    to_sim: set[str] = field(default_factory=set)
    max_start: dict[tuple[str, str], float] = field(default_factory=dict)
    reconciler: Any = None       # execution.reconcile.Reconciler (journal vs venue balances)
    results: dict[str, Any] = field(default_factory=dict)   # what configured strategies return
    control: Any = None          # control.ControlServer (the authenticated loopback API)
    recorder: Any = None         # feeds.record.Recorder ([record]): frames, snapshots, orders
    config: Any = None           # the run's Config with instruments completed from metadata
    metadata: dict[str, Any] = field(default_factory=dict)   # venue -> VenueMetadata
    fees: dict[str, dict[str, Any]] = field(default_factory=dict)  # venue -> bps, source
    preflight: dict[str, Any] = field(default_factory=dict)  # venue -> the doctor's report
    started: float = field(default_factory=time.monotonic)
    started_ms: int = field(default_factory=lambda: time.time_ns() // 10**6)


# -- the run -----------------------------------------------------------------------------------

async def run_config(cfg: Config, *, paper: bool = False, seconds: float | None = None,
                     source: str = "<config>", seed: int = 7, drain_timeout: float = 10.0,
                     status: Callable[[str], None] | None = None,
                     stop: asyncio.Event | None = None,
                     install_signals: bool = True) -> dict[str, Any]:
    """Run ``cfg`` until ``stop`` is set (SIGINT/SIGTERM when ``install_signals``) or for
    ``seconds``; returns the summary. Raises ConfigError before anything starts on a bad
    config, and after the simulators start if an instrument does not match them."""
    entries = preflight(cfg, paper, source)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if install_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, _on_signal, stop, sig)
                installed.append(sig)
    r = Running()
    summary: dict[str, Any] = {"config": source, "paper": paper,
                               "journal_synchronous": journal_synchronous(cfg, paper)}
    pauses = GcPauses()
    try:
        await start_system(cfg, r, paper=paper, seed=seed, source=source)
        freeze_startup_heap()         # start-up objects live for the run: no gen-2 rescans
        pauses.install()
        for name, se in entries.items():
            ctx = RunContext(r.config or cfg, paper, stop, r.journal, r.router, r.aggregator,
                             r.alerter, {"routes": r.routes}, params=se.params, gate=r.gate,
                             orders=r.manager)
            r.tasks.append(asyncio.create_task(
                _strategy_task(name, se.entry, cfg, ctx, r.results), name=f"strategy:{name}"))
        log.info("running", extra={"venues": sorted(cfg.venues), "paper": paper,
                                   "instruments": len(cfg.instruments),
                                   "strategies": (["triarb"] if r.pipeline else [])
                                   + sorted(entries)})
        deadline = None if seconds is None else time.monotonic() + seconds
        while not stop.is_set():
            timeout = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout)
            if deadline is not None and time.monotonic() >= deadline:
                log.info("run time reached", extra={"seconds": seconds})
                stop.set()
            failed = [t for t in r.tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                log.error("a strategy task failed; shutting down",
                          extra={"task": failed[0].get_name()},
                          exc_info=failed[0].exception())
                summary["strategy_error"] = repr(failed[0].exception())
                stop.set()
            if status is not None:
                status(status_line(r))
        summary.update(await shutdown_system(r, drain_timeout))
        summary["gc"] = pauses.report()
        if r.results:
            summary["strategies"] = r.results
    finally:
        pauses.uninstall()
        gc.unfreeze()
        await close_system(r)
        for sig in installed:
            loop.remove_signal_handler(sig)
    summary["ok"] = bool(summary.get("journal_consistent")) and not summary.get(
        "open_orders") and "strategy_error" not in summary and not summary.get(
        "pipeline_errors") and not summary.get("halted") and not summary.get(
        "lost_orders") and not summary.get("duplicate_orders")
    return summary


def _on_signal(stop: asyncio.Event, sig: int) -> None:
    log.info("signal received: shutting down", extra={"signal": signal.Signals(sig).name})
    stop.set()


async def _strategy_task(name: str, entry: Callable[..., Awaitable[Any]], cfg: Config,
                         ctx: RunContext, results: dict[str, Any]) -> None:
    log.info("strategy starting", extra={"strategy": name})
    got = await entry(cfg, ctx)
    if got is not None:
        results[name] = got             # in the run summary under "strategies"
    log.info("strategy ended", extra={"strategy": name})


async def start_system(cfg: Config, r: Running, *, paper: bool, seed: int, source: str,
                 with_strategies: bool = True) -> None:
    """Simulators (when needed), journal, alerts, routes (after recovery), risk, feeds LIVE."""
    from openclaw.alerts import Alerter, Sink, TelegramSink, WebhookSink
    from openclaw.execution.fast import FastConfig
    from openclaw.execution.router import Router, VenueRoute
    from openclaw.execution.venues import Credentials, make_client
    from openclaw.feeds.aggregator import Aggregator, VenueEndpoints
    from openclaw.feeds.connection import ConnectionConfig
    from openclaw.journal import Journal
    from openclaw.journal.lock import lock_journal
    from openclaw.model.instrument import Instrument
    from openclaw.venues.registry import FEEDS, fast_route_for, private_stream_for

    ed_keys = await _ed25519_keys(cfg, paper, source)
    needs_sims = paper or not all(v.remote for v in cfg.venues.values())
    if needs_sims:
        bv = cfg.venues.get("binance")
        sim_ed = ed_keys.get("binance") if bv is not None and (paper or bv.mode == "sim") \
            else None
        r.sims = await _start_simulators(seed, None if sim_ed is None else {"wsapi": {
            "ed25519_api_key": SIM_ED25519_API_KEY, "ed25519_public_key": sim_ed.public_pem()}})
        check_sim_instruments(cfg, r.sims, source)
        log.info("simulators started", extra={"urls": {v: u.get("rest") for v, u in
                                                       r.sims.urls.items()}})
    sync = journal_synchronous(cfg, paper)
    intents = cfg.journal.intent_log if cfg.journal.intent_log is not None else sync == "NORMAL"
    r.journal_lock = lock_journal(cfg.journal.path)     # a second engine is refused here
    r.journal = await Journal.open(cfg.journal.path, synchronous=sync, intent_log=intents)
    log.info("journal open", extra={"path": cfg.journal.path, "synchronous": sync,
                                    "inline_send_path": r.journal.inline,
                                    "intent_log": intents})
    if sync == "NORMAL" and not paper and any(v.remote for v in cfg.venues.values()):
        log.warning("journal synchronous=NORMAL with a live venue: an OS crash or power cut may "
                    "lose the last journaled orders (docs/journal.md)")

    sinks: list[Sink] = []
    tg = cfg.alerts.telegram
    if tg is not None:
        if os.environ.get(tg.token_env) and os.environ.get(tg.chat_env):
            sinks.append(TelegramSink(os.environ[tg.token_env], os.environ[tg.chat_env],
                                      base_url=tg.base_url))
        else:           # every venue simulated (preflight): the fake server takes the messages
            r.telegram = await _start_fake_telegram()
            sinks.append(TelegramSink(SIM_TELEGRAM_TOKEN, "1", base_url=r.telegram.url,
                                      min_interval=0.0))
            log.info("alerts: telegram variables unset, using the local fake Telegram server")
    if cfg.alerts.webhook_url:
        sinks.append(WebhookSink(cfg.alerts.webhook_url))
    if sinks:
        r.alerter = await Alerter(sinks).start()

    timeout_ms = cfg.strategy.triarb.leg_timeout_ms
    to_sim: set[str] = set()
    urls: dict[str, Any] = {}
    primed: set[str] = set()
    for name, v in cfg.venues.items():
        if v.mode == "sim" or paper:
            creds = Credentials.simulator()
            client = make_client(name, creds, r.sims.servers[name].url, timeout_ms=timeout_ms)
            to_sim.add(name)
        else:
            creds = Credentials.from_env(v.api_key_env, v.secret_env, v.passphrase_env)
            u = urls[name] = venue_urls(name, v)
            client = make_client(name, creds, u.rest, timeout_ms=timeout_ms, headers=u.headers)
            v = v.model_copy(update={"ws_trade": u.ws_trade})
            # a fresh [metadata] cache primes the client: load_markets then asks nothing
            if await prime_from_cache(name, client, cfg, u.rest):
                primed.add(name)
        # route = "ws": the venue's trading WebSocket (the simulator's, or ws_trade live), ccxt
        # while it is down (counted, alerted)
        fast = fast_route_for(name, v, creds, sim_urls=r.sims.urls if name in to_sim else None,
                              config=FastConfig(timeout_s=timeout_ms / 1e3), alerter=r.alerter,
                              ed25519=ed_keys.get(name))
        private = private_stream_for(name, v, creds,
                                     sim_urls=r.sims.urls if name in to_sim else None)
        r.routes[name] = VenueRoute(name, client, fast=fast, private=private)
        if name in urls:
            log.info("endpoints", extra={"venue": name, "mode": v.mode, "rest": urls[name].rest,
                                         "ws": urls[name].ws,
                                         "ws_trade": urls[name].ws_trade or "-",
                                         "from": urls[name].source})
        else:
            log.info("endpoints", extra={"venue": name, "mode": "sim (paper)" if paper else
                                         "sim", "rest": r.sims.servers[name].url})
    rc = cfg.reconcile
    router = Router(r.routes, r.journal, visibility_window_s=rc.visibility_window_s,
                    query_backoff_s=rc.query_backoff_s,
                    query_backoff_max_s=rc.query_backoff_max_s,
                    reserve_tokens=rc.reserve_tokens)
    for route in r.routes.values():
        await route.start()
    r.router = router
    # the preflight (as `openclaw-trading doctor`, a few requests): clock, key permissions,
    # metadata; then the instruments completed from the venues' metadata
    cfg = await _preflight_venues(cfg, r, urls, source)
    r.config = cfg
    recovered = await router.recover()
    if recovered:
        log.warning("journal held open orders at start-up; reconciled",
                    extra={"orders": len(recovered),
                           "still_open": sum(not o.is_final for o in recovered)})

    endpoints: dict[str, VenueEndpoints] = {}
    for name, v in cfg.venues.items():
        if v.mode == "sim":
            s = r.sims.servers[name]
            ws = getattr(s, crypto_venue(name).sim_ws_attr)
            endpoints[name] = VenueEndpoints(ws=ws, rest=s.url)
        else:
            u = urls.get(name) or venue_urls(name, v)     # --paper: feeds stay where configured
            endpoints[name] = VenueEndpoints(ws=u.ws, rest=u.rest)
    instruments = [Instrument(i.venue, i.symbol, str(i.tick_size), str(i.lot_size),
                              category=i.category, base=i.base, quote=i.quote)
                   for i in cfg.instruments]
    feeds = cfg.feeds
    if cfg.record.dir:
        from openclaw.app.recording import start_recorder

        r.recorder = start_recorder(cfg, source)
    r.aggregator = Aggregator(instruments, endpoints, capacity=feeds.capacity,
                              bybit_depth=feeds.bybit_depth,
                              config=ConnectionConfig(stale_after=feeds.stale_after_ms / 1e3,
                                                      data_timeout=feeds.data_timeout_ms / 1e3),
                              feeds=FEEDS, recorder=r.recorder)
    r.router = router
    r.to_sim = to_sim
    await _start_risk(cfg, r)
    # journal vs venues: baseline now (journal recovered, nothing sent yet), then after each
    # arbitrage and every [reconcile].interval_s; a mismatch halts the gate's engine and alerts
    from openclaw.execution.reconcile import start_reconciler

    r.reconciler = await start_reconciler(router, r.journal, config=cfg.reconcile,
                                          alerter=r.alerter, engine=r.gate.engine, risk=r.gate)
    # the one order path: risk -> journal -> route -> fills -> risk -> unwind policy -> alerts
    from openclaw.execution.manager import OrderManager

    triarb = cfg.strategy.triarb.enabled and with_strategies
    r.manager = OrderManager(router, risk=r.gate, alerter=r.alerter, reconciler=r.reconciler,
                             partial_policy=cfg.strategy.triarb.partial_policy if triarb
                             else "hold")
    if r.recorder is not None:
        r.manager.on_settled.append(r.recorder.on_orders)
    if triarb:
        slip = cfg.strategy.triarb.slippage_bps
        if slip is None:
            slip = SIM_SLIPPAGE_BPS if to_sim else 0.0
        await _start_triarb(cfg, r, slippage=slip)
    from openclaw.control import start_control  # status, halt, ... while the books sync too

    r.control = await start_control(cfg, r, source=source, paper=paper)
    await r.aggregator.start()
    await r.aggregator.wait_live(30)
    log.info("books live", extra={"books": len(instruments)})


class PreflightError(ConfigError):
    """A venue failed the preflight (clock, key permissions, instruments): nothing was sent."""


async def prime_from_cache(name: str, client: Any, cfg: Config, endpoint: str) -> bool:
    """Prime ``client`` with a fresh ``[metadata]`` cache entry of ``name`` at ``endpoint``."""
    from openclaw.app.doctor import loopback
    from openclaw.execution.metadata import MetadataCache, from_cache

    if loopback(endpoint):
        return False
    entry = await MetadataCache(cfg.metadata.cache_dir, cfg.metadata.max_age_s).aload(
        name, endpoint)
    if entry is None:
        return False
    from_cache(name, client, entry)
    return True


async def _preflight_venues(cfg: Config, r: Running, urls: dict[str, Any],
                            source: str) -> Config:
    """The doctor's checks on every venue, cheaply (3 time requests, 1 WebSocket ping, the
    key endpoint; metadata from ccxt's loaded markets or the cache; balances are read by the
    risk start), then the instruments completed from the metadata and the fees decided.
    ``PreflightError`` lists every venue problem; ``MetadataMismatchError`` every mismatch."""
    from openclaw.app.doctor import probe_venue
    from openclaw.app.instruments import apply_metadata, taker_fees, unresolved
    from openclaw.venues.registry import PROBES

    errors: list[tuple[str, str]] = []
    for name, route in r.routes.items():
        if name in urls:
            ws, endpoint, remote = urls[name].ws, urls[name].rest, True
        else:
            s = r.sims.servers[name]
            ws, endpoint, remote = getattr(s, crypto_venue(name).sim_ws_attr), s.url, False
        keep: dict[str, Any] = {}
        rep = await probe_venue(name, cfg, route.client, PROBES[name].public_ws_url(ws),
                                remote=remote, endpoint=endpoint, samples=3, ws_samples=1,
                                balances=False, keep=keep)
        r.preflight[name] = rep
        if name in keep:
            r.metadata[name] = keep[name]
        # instrument mismatches are listed by apply_metadata below, with their paths
        errors += [(f"venues.{name}", p) for p in rep["problems"]
                   if not p.startswith("instruments[")]
        log.info("preflight", extra={"venue": name, "clock_offset_ms": rep["clock_offset_ms"],
                                     "rtt_ms": rep["rtt_ms"], "ws_rtt_ms": rep["ws_rtt_ms"],
                                     "permissions": rep["permissions"],
                                     "problems": rep["problems"]})
    try:
        cfg = apply_metadata(cfg, r.metadata, source)
    except ConfigError as e:
        errors += e.errors
    errors += unresolved(cfg) if not errors else []
    if errors:
        raise PreflightError(source, errors)
    r.fees = taker_fees(cfg, r.metadata)
    log.info("taker fees", extra={"fees": r.fees})
    return cfg


async def _start_risk(cfg: Config, r: Running) -> None:
    """The risk gate over the aggregator's books (``[risk]`` or ``default_limits``), loaded with
    every venue's balances (ccxt ``fetch_balance``); also the triarb start amounts."""
    from openclaw.risk.gate import RiskGate
    from openclaw.risk.limits import RiskLimits, build_engine

    limits = RiskLimits.model_validate(cfg.risk) if cfg.risk else default_limits(cfg)
    engine = build_engine(limits)
    agg = r.aggregator
    books, symbols = {}, {}
    for book_id, inst in agg.instrument_of.items():
        books[(inst.venue, inst.symbol)] = agg.bookset.book(book_id)
        symbols[(inst.venue, f"{inst.base}/{inst.quote}")] = inst.symbol
    gate = RiskGate(engine, engine.index, books, symbols)
    r.gate = gate
    # every change the router's resolver learns (an UNKNOWN leg settled, a late fill) reaches
    # the engine: reservations released, fills applied once
    r.router.resolver.on_update.append(gate.on_order_update)
    traded = {(i.venue, a) for i in cfg.instruments if i.category == "spot"
              for a in (i.base, i.quote)}
    for venue, route in r.routes.items():
        bal = await route.client.fetch_balance()
        for asset, amount in (bal.get("total") or {}).items():
            if amount is None:
                continue
            total = Decimal(str(amount))
            if asset in gate.index.assets and venue in gate.index.venues:
                engine.set_balance(gate.index.venue(venue), gate.index.asset(asset),
                                   gate.index.to_asset_units(asset, total))
            free = Decimal(str((bal.get("free") or {}).get(asset) or 0))
            if (venue, asset) in traded:
                cap = DEFAULT_MAX_START.get(asset, free / 2)
                r.max_start[(venue, asset)] = float(min(free, cap))


async def _start_triarb(cfg: Config, r: Running, slippage: float) -> None:
    from openclaw.strategies.triarb import ArbPipeline

    t = cfg.strategy.triarb
    fees: dict[str, float] = {name: f["bps"] for name, f in r.fees.items()} or {
        name: v.taker_fee_bps for name, v in cfg.venues.items()}
    r.pipeline = ArbPipeline(r.aggregator, r.manager, fees, min_profit_bps=t.min_profit_bps,
                             cooldown_ms=t.cooldown_ms, max_book_age_ms=t.max_book_age_ms,
                             max_start=r.max_start,  # type: ignore[arg-type]  # (venue, asset)
                             slippage_bps=slippage, warm_interval_ms=t.warm_interval_ms)


async def shutdown_system(r: Running, drain_timeout: float) -> dict[str, Any]:
    """Stop new orders, wait for those in flight, settle every non-final journal order."""
    out: dict[str, Any] = {"seconds": round(time.monotonic() - r.started, 3)}
    p = r.pipeline
    m = r.manager
    if m is not None:
        # no new list from here on; those in flight get the drain
        late = await (p.drain(drain_timeout) if p is not None else m.drain(drain_timeout))
        for t in late:
            t.cancel()
        if late:
            await asyncio.wait(late, timeout=5)
            log.warning("order lists still in flight at the deadline were cancelled",
                        extra={"lists": len(late)})
        out["cancelled_lists"] = len(late)
    if r.tasks:     # configured strategies end on ctx.stop (set by now): give them the drain
        await asyncio.wait(r.tasks, timeout=drain_timeout)
    late_tasks = [t for t in r.tasks if not t.done()]
    for t in late_tasks:
        t.cancel()
    if late_tasks:
        log.warning("strategies that did not end on stop were cancelled",
                    extra={"strategies": [t.get_name() for t in late_tasks]})
        await asyncio.wait(late_tasks, timeout=5)
    if r.aggregator is not None:
        feeds = r.aggregator.stats()        # before the sockets close: the run's last states
        states: dict[str, int] = {}
        for st in feeds["books"].values():  # type: ignore[union-attr]
            states[st] = states.get(st, 0) + 1
        out["book_states"] = states
        out["books"] = feeds["books"]
        out["resyncs"] = {name: c["resyncs"] for name, c in feeds["feeds"].items()}  # type: ignore[union-attr,index]
        await r.aggregator.stop()
    if r.journal is not None and r.routes and r.router is not None:
        router = r.router
        # orders still being resolved get the visibility window (and a little more) to settle
        left = await router.resolver.settle(router.visibility_window_s + 5.0)
        out["resolver"] = {**asdict(router.resolver.stats), "pending_at_end": len(left)}
        try:
            await router.recover()          # query every non-final journal order at its venue
        except Exception:  # noqa: BLE001 - reported below as open orders
            log.exception("reconciling open orders at shutdown failed")
        still = await r.journal.open_orders()
        out["open_orders"] = [{"client_id": o.client_id, "venue": o.venue,
                               "status": o.status.value} for o in still]
        for o in still:
            log.error("order not final at shutdown", extra={
                "client_id": o.client_id, "venue": o.venue, "status": o.status.value})
        problems = await r.journal.consistency_check()
        out["journal_consistent"] = not problems
        if problems:
            out["journal_problems"] = [str(x) for x in problems[:20]]
        out["journal_path"] = str(r.journal.path)
        out["journal_synchronous"] = r.journal.synchronous      # what the journal really used
        out["journal_inline"] = r.journal.inline
    if r.reconciler is not None:        # stop it; a last comparison with every order settled
        out.update(await r.reconciler.finish())
    if r.routes:
        from openclaw.execution.fast import route_report

        out["routes"] = {n: route_report(rt) for n, rt in r.routes.items()}
        out["legs_refused_locally"] = sum(rt.stats.refused_locally for rt in r.routes.values())
        if r.router is not None:
            out["lists_refused_locally"] = r.router.lists_refused_locally
    if r.gate is not None:
        out["refusals_by_reason"] = dict(r.gate.refusals.most_common())
        out["risk_balance_refreshes"] = r.gate.refreshes
    if p is not None and r.journal is not None and r.routes:
        out.update(await _venue_record(r, m))
    if p is not None:
        from openclaw.latency import latency_report

        s, ms = p.stats, m.stats
        out.update(opportunities=s.opportunities, arbitrages=s.arbitrages, orders=ms.orders,
                   filled_legs=ms.filled_legs, incomplete=ms.incomplete, unwinds=ms.unwinds,
                   refused_by_risk=ms.refused_by_risk, pipeline_errors=ms.errors,
                   unwind_refused=ms.unwind_refused, unwind_incomplete=ms.unwind_incomplete,
                   latency=latency_report(m.clock, worst=3))
    if r.recorder is not None and m is not None:
        from openclaw.app.recording import finish_recording

        out["record"] = await finish_recording(r.recorder, m.orders, {
            "balances": getattr(r.reconciler, "start_balances", None) or {},
            "fees_bps": {v: f.get("bps") for v, f in r.fees.items()},
            "max_start": [[v, a, x] for (v, a), x in r.max_start.items()],
            "slippage_bps": float(p.slippage) * 10000 if p is not None else 0.0})
    if r.alerter is not None:
        out["alerts_flushed"] = await r.alerter.flush(5.0)
    if r.telegram is not None:
        out["alerts_delivered"] = len(r.telegram.messages)
    return out


async def _venue_record(r: Running, m: Any) -> dict[str, Any]:
    """The venues' own record of this run's orders against the journal (lost, duplicates)."""
    from openclaw.execution.audit import audit_orders, venue_orders
    from openclaw.venues.registry import VENUE_HISTORY

    symbols: dict[str, set[str]] = {}
    for o in m.orders:
        symbols.setdefault(o.venue, set()).add(o.symbol)
    journal_orders = await r.journal.orders_by_prefix(m.ids.prefix)
    for o in journal_orders:
        symbols.setdefault(o.venue, set()).add(o.symbol)
    at_venue: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    for venue, syms in symbols.items():
        route = r.routes[venue]
        try:
            at_venue[venue] = await asyncio.wait_for(
                venue_orders(VENUE_HISTORY[venue], route.client, syms, r.started_ms - 5000,
                             before_call=route.bucket.acquire), 60)
        except Exception as e:  # noqa: BLE001 - reported in the summary, never hidden
            errors[venue] = f"{type(e).__name__}: {str(e)[:200]}"
            log.error("reading the venue's order history failed",
                      extra={"venue": venue, "error": errors[venue]})
    return audit_orders(journal_orders, at_venue, m.ids.owns, errors).summary()


async def close_system(r: Running) -> None:
    """Close what started, in reverse order; each step runs even if an earlier one fails."""
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
    if r.control is not None:
        steps.append(("control API", r.control.stop))
    if r.reconciler is not None:
        steps.append(("reconciler", r.reconciler.stop))
    if r.router is not None:
        steps.append(("order resolver", r.router.aclose))
    if r.aggregator is not None and r.aggregator._tasks:
        steps.append(("feeds", r.aggregator.stop))
    steps += [(f"route {n}", route.close) for n, route in r.routes.items()]
    if r.alerter is not None:
        steps.append(("alerts", r.alerter.aclose))
    if r.journal is not None:
        steps.append(("journal", r.journal.close))
    if r.telegram is not None:
        steps.append(("fake telegram", r.telegram.stop))
    if r.sims is not None:
        steps.append(("simulators", r.sims.aclose))
    if r.recorder is not None:      # idempotent: already closed by a completed shutdown
        steps.append(("recorder", partial(asyncio.to_thread, r.recorder.close)))
    for name, step in steps:
        try:
            await step()
        except Exception:  # noqa: BLE001 - keep closing the rest, but say what failed
            log.exception("closing %s failed", name)
    if r.journal_lock is not None:
        r.journal_lock.release()
    if r.journal is not None:
        log.info("journal closed", extra={"path": str(r.journal.path)})


def status_line(r: Running) -> str:
    """One line: run time, books LIVE, pipeline counters, tick-to-submit p50."""
    parts = [f"{time.monotonic() - r.started:6.1f}s"]
    agg = r.aggregator
    if agg is not None:
        live = sum(agg.state(b).name == "LIVE" for b in agg.instrument_of)
        parts.append(f"books {live}/{len(agg.instrument_of)} live")
    p = r.pipeline
    if p is not None:
        s, ms = p.stats, r.manager.stats
        parts.append(f"opps {s.opportunities} arbs {s.arbitrages} orders {ms.orders} "
                     f"filled legs {ms.filled_legs} refused {ms.refused_by_risk}")
        rows = p.clock.snapshot()
        if rows.size:
            from openclaw.strategies.triarb import RECV, SUBMIT

            ok = (rows[:, RECV] > 0) & (rows[:, SUBMIT] > 0)
            if ok.any():
                import numpy as np

                med = float(np.median(rows[ok, SUBMIT] - rows[ok, RECV])) / 1e3
                parts.append(f"tick->order p50 {med:,.1f}us")
    return " | ".join(parts)


# -- IBKR runs ---------------------------------------------------------------------------------

# an IBKR run file (``[ibkr]``, ``[momentum]``, ``[fx]``, ``[schedule]``; see IbkrRunConfig)
# starts each strategy section it fills through this entry point:
#   async def ENTRY(config: IbkrRunConfig, ctx: RunContext) -> dict  (ends when ctx.stop is set)
IBKR_SECTIONS = ("ibkr", "momentum", "fx", "schedule")
IBKR_ENTRIES = {
    "momentum": ("openclaw.app.ibkr", "run_momentum_scheduled"),   # the weekly scheduler
    "fx": ("openclaw.app.ibkr", "run_fx_configured"),              # the FX scalper
}


def is_ibkr_file(data: dict[str, Any]) -> bool:
    """A file with IBKR sections (``[strategy.momentum]``/``[strategy.fx]`` count) and no
    ``[venues]``."""
    strategy = data.get("strategy")
    named = isinstance(strategy, dict) and any(k in strategy for k in ("momentum", "fx"))
    return "venues" not in data and (named or any(k in data for k in IBKR_SECTIONS))


def ibkr_entries(cfg: Any, source: str) -> dict[str, Callable[..., Any]]:
    """The entry point of every strategy section the IBKR file fills; ConfigError lists each
    one whose module or function is missing (never skipped)."""
    errors: list[tuple[str, str]] = []
    entries: dict[str, Callable[..., Any]] = {}
    for name, (mod_name, fn_name) in IBKR_ENTRIES.items():
        if not getattr(cfg, name, None):
            continue
        try:
            mod = importlib.import_module(mod_name)
        except ImportError as e:
            errors.append((name, f"module {mod_name} is not available: {e}"))
            continue
        fn = getattr(mod, fn_name, None)
        if not callable(fn):
            errors.append((name, f"{mod_name} has no {fn_name}(config, ctx) entry point"))
            continue
        entries[name] = fn
    if not entries and not errors:
        errors.append(("(top)", "an IBKR file needs a [momentum] or [fx] section to run"))
    if errors:
        raise ConfigError(source, errors)
    return entries


def check_ibkr_sections(cfg: Any, source: str) -> None:
    """The strategy sections of an IBKR file checked by the same functions its entry points
    use at start (``[fx]``, ``[momentum]``, ``[schedule]``); ConfigError lists every problem of
    every section at once, each with its path."""
    from types import SimpleNamespace

    from openclaw.app.ibkr import fx_run_settings, momentum_config, weekly_schedule

    errors: list[tuple[str, str]] = []
    checks: list[Callable[[], Any]] = []
    if cfg.fx:
        checks.append(lambda: fx_run_settings(cfg))
        # the same section without ``ignore_window``: its other errors are listed too
        rest = {k: v for k, v in cfg.fx.items() if k != "ignore_window"}
        checks.append(lambda: fx_run_settings(SimpleNamespace(fx=rest, ibkr=cfg.ibkr)))
    if cfg.momentum or cfg.schedule:
        checks.append(lambda: weekly_schedule(cfg))
    if cfg.momentum:
        # [ibkr] port unset: the run starts the TWS simulator, whose universe fills an empty
        # ``universe`` (a stand-in here); with a port the real gateway needs ``universe``
        sim = SimpleNamespace(universe=["SIM"]) if cfg.ibkr.port is None else None
        checks.append(lambda: momentum_config(cfg, sim))
        if sim is None and not cfg.momentum.get("universe"):    # the section's other errors
            filled = SimpleNamespace(momentum={**cfg.momentum, "universe": ["SIM"]},
                                     ibkr=cfg.ibkr)
            checks.append(lambda: momentum_config(filled, None))
    for check in checks:
        try:
            check()
        except ConfigError as e:
            errors += [err for err in e.errors if err not in errors]
    if errors:
        raise ConfigError(source, errors)


async def check_run_file(path: str, *, paper: bool = False, seed: int = 7) -> dict[str, Any]:
    """What ``openclaw-trading run PATH`` checks before trading, without starting anything: the file
    (crypto ``Config`` or IBKR run file, routed as ``main`` routes it), then every check the run
    makes before its first order (``preflight``, Ed25519 key files, instruments against the
    simulated market; IBKR: entry points and strategy sections). Raises ConfigError listing
    every problem found at that step, each with its path; returns a short description. The
    checks read files and import modules: they run in a worker thread, off the event loop.
    A crypto file's instruments are then read from the venues' metadata (``metadata`` in the
    result: what the run will use; a contradicted hand-written value is a ConfigError)."""
    info = await asyncio.to_thread(_check_run_file, path, paper, seed)
    cfg = info.pop("config", None)
    if cfg is not None:
        from openclaw.app.doctor import config_metadata

        info["metadata"] = await config_metadata(cfg, path, paper=paper, seed=seed)
    return info


def _check_run_file(path: str, paper: bool, seed: int) -> dict[str, Any]:
    """``check_run_file``, blocking."""
    import tomllib
    from pathlib import Path

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}                      # load_config reports the file or syntax error
    if is_ibkr_file(data):
        from openclaw.app.config import load_ibkr_config

        icfg = load_ibkr_config(path)
        errors: list[tuple[str, str]] = []
        for step in (lambda: ibkr_entries(icfg, path), lambda: check_ibkr_sections(icfg, path)):
            try:
                step()
            except ConfigError as e:
                errors += e.errors
        if errors:
            raise ConfigError(path, errors)
        return {"kind": "ibkr", "strategies": [n for n in IBKR_ENTRIES if getattr(icfg, n)],
                "gateway": "simulator" if icfg.ibkr.port is None else
                f"{icfg.ibkr.host}:{icfg.ibkr.port}"}
    cfg = load_config(path)
    errors = []
    try:
        preflight(cfg, paper, path)
    except ConfigError as e:
        errors += e.errors
    try:
        _read_ed25519_keys(cfg, paper, path)
    except ConfigError as e:
        errors += e.errors
    if paper or any(v.mode == "sim" for v in cfg.venues.values()):
        from types import SimpleNamespace

        from openclaw.sim.engine.market import SyntheticMarket  # the simulators' instruments

        market = SyntheticMarket(seed)
        try:
            check_sim_instruments(cfg, SimpleNamespace(market=market), path)
        except ConfigError as e:
            errors += e.errors
    if errors:
        raise ConfigError(path, errors)
    return {"kind": "crypto", "venues": len(cfg.venues), "instruments": len(cfg.instruments),
            "journal_synchronous": journal_synchronous(cfg, paper), "config": cfg}


async def run_ibkr(path: str, *, paper: bool = False, seconds: float | None = None,
                   seed: int = 7, drain_timeout: float = 10.0,
                   stop: asyncio.Event | None = None) -> dict[str, Any]:
    """Run the strategies an IBKR file names until SIGINT/SIGTERM or ``seconds``; each gets
    ``drain_timeout`` seconds after the stop to finish, then is cancelled (and reported)."""
    try:
        from openclaw.app.config import load_ibkr_config
    except ImportError as e:
        raise ConfigError(path, [("(file)", f"IBKR configuration is not available: {e}")]) \
            from None
    cfg = load_ibkr_config(path)
    entries = ibkr_entries(cfg, path)
    check_ibkr_sections(cfg, path)    # as ``openclaw-trading config check``: before connecting
    stop = stop or asyncio.Event()
    from types import SimpleNamespace

    from openclaw.control import start_control, stop_control  # status; a halt stops the run

    view = SimpleNamespace(tasks=[], started=time.monotonic(), resumable=False,
                           halt_hooks=[lambda _reason: stop.set()])
    control = await start_control(cfg, view, source=path, paper=paper)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _on_signal, stop, sig)
    ctx = RunContext(cfg, paper, stop, extras={"config_path": path, "seed": seed,
                                                "start_tws_sim": _start_tws_sim})
    tasks = {name: asyncio.create_task(fn(cfg, ctx), name=f"strategy:{name}")
             for name, fn in entries.items()}
    log.info("running", extra={"strategies": sorted(tasks), "paper": paper})
    view.tasks.extend(tasks.values())
    try:
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks.values()], timeout=seconds,
                                     return_when=asyncio.FIRST_COMPLETED)
        stop.set()
        waiter.cancel()
        pending = [t for t in tasks.values() if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=drain_timeout)
        out: dict[str, Any] = {"config": path, "strategies": {}}
        for name, t in tasks.items():
            if not t.done():
                t.cancel()
                await asyncio.wait([t], timeout=5)
                out["strategies"][name] = {"ok": False, "error": "cancelled at the deadline"}
            elif t.exception() is not None:
                log.error("strategy failed", extra={"strategy": name}, exc_info=t.exception())
                out["strategies"][name] = {"ok": False, "error": repr(t.exception())}
            else:
                out["strategies"][name] = {"ok": True, "result": t.result()}
        out["ok"] = all(v["ok"] for v in out["strategies"].values())
        return out
    finally:
        await stop_control(control)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


# -- command-line glue -------------------------------------------------------------------------

def install_event_loop_policy() -> str:
    """uvloop when installed (named in the log), else asyncio's default loop."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
