"""One TOML file configures a run: venues, instruments, strategy, risk, journal, alerts.

Validated at start with every error listed at once, each with its path in the file
(``venues.okx.taker_fee_bps: Input should be greater than or equal to 0``). Secrets are never in
the file: the file names the environment variables that hold them.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from openclaw.execution.reconcile import ReconcileConfig  # light: no ccxt, no journal
from openclaw.model.errors import OpenclawError
from openclaw.model.venues import (
    CRYPTO_VENUES,
    Endpoints,
    UnknownModeError,
    endpoints,
    venue,
)
from openclaw.strategies import BUILTIN
from openclaw.strategies.triarb.config import Config as TriArbConfig

Name = Annotated[str, Field(min_length=1)]
PosDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


class ConfigError(OpenclawError):
    """A configuration file that cannot be used; ``errors`` lists (path, message) pairs."""

    def __init__(self, source: str, errors: list[tuple[str, str]]) -> None:
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  {path}: {msg}" for path, msg in errors)
        super().__init__(f"{source}: {len(errors)} error(s)\n{lines}")


def _known_venue(name: str) -> str:
    if name not in CRYPTO_VENUES:
        raise ValueError(f"unknown venue {name!r}; known: {', '.join(CRYPTO_VENUES)}")
    return name


#: a crypto venue of the registry (openclaw.model.venues): the names a run file may use
VenueName = Annotated[str, AfterValidator(_known_venue)]

_MODULE_RE = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VenueConfig(_Model):
    """Where a venue is and how to authenticate: ``sim`` (the local simulators), ``live``,
    ``testnet`` or ``demo`` (the venue's own URLs, built in: model/venues.py ``endpoints``;
    ``ws``/``rest``/``ws_trade`` override them, e.g. to point a live run at the simulators)."""

    mode: Literal["sim", "live", "testnet", "demo"] = "sim"
    ws: str = ""                       # override: the venue's public WebSocket base
    rest: str = ""                     # override: the venue's REST base
    api_key_env: str = ""              # names of environment variables, never the values
    secret_env: str = ""
    passphrase_env: str = ""
    # the taker fee the detector counts: the account's own rate from the venue (fetched at
    # start) unless given here (an override); 10 when neither is known (docs/venues/<v>.md)
    taker_fee_bps: float = Field(10.0, ge=0, lt=10000, allow_inf_nan=False)
    # order entry: "ccxt" (REST), or "ws" = the venue's trading WebSocket (openclaw.execution.fast)
    # while it is up, with ccxt as the fallback (counted, alerted), never both for one order
    route: Literal["ccxt", "ws"] = "ccxt"
    ws_trade: str = ""                 # override: the trading WebSocket URL (route "ws")
    # the venue's private order stream (order states and fills pushed, docs/fast-routes.md);
    # unset: on against the simulators, off for a remote venue (true: from ws_trade)
    private_stream: bool | None = None
    # Binance + route "ws": log on once per connection with an Ed25519 key (session.logon)
    # instead of an HMAC per order: the PEM private key file (keep it outside the repository;
    # read once, never logged) and the environment variable holding that key's API key
    ed25519_key_file: str = ""
    ed25519_api_key_env: str = ""

    @model_validator(mode="after")
    def _ed25519_pair(self) -> VenueConfig:
        if bool(self.ed25519_key_file) != bool(self.ed25519_api_key_env):
            raise ValueError("ed25519_key_file and ed25519_api_key_env go together")
        if self.ed25519_key_file and self.route != "ws":
            raise ValueError('ed25519_key_file is for route = "ws" (the trading WebSocket)')
        return self

    @model_validator(mode="after")
    def _remote_needs_keys(self) -> VenueConfig:
        if self.mode != "sim":
            missing = [k for k in ("api_key_env", "secret_env") if not getattr(self, k)]
            if missing:
                raise ValueError(f"{self.mode} mode needs {', '.join(missing)}")
        return self

    @property
    def remote(self) -> bool:
        """Orders go to a venue's own servers (live, testnet or demo), not the simulators."""
        return self.mode != "sim"


class VenueUrls(_Model):
    """The URLs a remote venue uses and where each came from (``built-in <mode>`` or
    ``config``); ``headers``: sent on every REST request."""

    rest: str
    ws: str
    ws_trade: str
    headers: dict[str, str] = Field(default_factory=dict)
    source: dict[str, str] = Field(default_factory=dict)


def venue_urls(name: str, v: VenueConfig) -> VenueUrls:
    """The URLs of remote venue ``name``: the built-in ones of its mode, each overridden by the
    config's ``rest``/``ws``/``ws_trade``; ``UnknownModeError`` when the venue has no such
    environment and the config does not give all three."""
    try:
        built: Endpoints | None = endpoints(name, v.mode)
    except UnknownModeError:
        if not (v.rest and v.ws):
            raise
        built = None
    out: dict[str, str] = {}
    source: dict[str, str] = {}
    for key in ("rest", "ws", "ws_trade"):
        given = getattr(v, key)
        out[key] = given or (getattr(built, key) if built is not None else "")
        source[key] = "config" if given else f"built-in {v.mode}"
    # the environment's headers (OKX demo) belong to its REST host: kept unless rest is moved
    headers = dict(built.headers) if built is not None and not v.rest else {}
    return VenueUrls(**out, headers=headers, source=source)


class InstrumentConfig(_Model):
    """One market: ``symbol`` unified (``BTC/USDT``) or as the venue writes it (``BTCUSDT``,
    ``BTC-USDT``, then with ``base``/``quote``). Sizes and limits left out come from the
    venue's metadata (openclaw/execution/metadata.py); those given must agree with it."""

    venue: VenueName
    symbol: Name
    base: str = ""
    quote: str = ""
    tick_size: PosDecimal | None = None
    lot_size: PosDecimal | None = None
    category: Literal["spot", "linear", "inverse"] = "spot"
    min_notional: Decimal | None = Field(None, ge=0, allow_inf_nan=False)
    min_qty: Decimal | None = Field(None, ge=0, allow_inf_nan=False)
    max_qty: Decimal | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _unified(self) -> InstrumentConfig:
        if "/" in self.symbol:
            base, _, quote = self.symbol.partition("/")
            if not base or not quote or "/" in quote:
                raise ValueError(f"symbol {self.symbol!r}: a unified symbol is BASE/QUOTE")
            for key, val, want in (("base", self.base, base), ("quote", self.quote, quote)):
                if val and val != want:
                    raise ValueError(f"{key} {val!r} disagrees with symbol {self.symbol!r}")
        elif not (self.base and self.quote):
            raise ValueError(f"symbol {self.symbol!r} is the venue's: give base and quote, or "
                             "write it unified (BASE/QUOTE)")
        return self

    @property
    def unified(self) -> str:
        """``BASE/QUOTE`` (ccxt's unified symbol of a spot market)."""
        if "/" in self.symbol:
            return self.symbol
        return f"{self.base}/{self.quote}"

    @property
    def resolved(self) -> bool:
        """Venue symbol, base, quote, tick and lot all known (metadata applied)."""
        return ("/" not in self.symbol and bool(self.base and self.quote)
                and self.tick_size is not None and self.lot_size is not None)


class MetadataConfig(_Model):
    """``[metadata]``: the venues' instrument metadata (tick, lot, limits, status, fees) is
    read through ccxt ``load_markets`` and cached on disk; a cache older than ``max_age_s``
    is read again. ``refresh_s`` (0: never): how often a run reads it again (a halted symbol
    then takes no new order)."""

    cache_dir: str = "openclaw-metadata"
    max_age_s: float = Field(3600.0, ge=0, allow_inf_nan=False)
    refresh_s: float = Field(60.0, ge=0, allow_inf_nan=False)
    fees: bool = True            # read the account's taker fees from the venue


class StrategyConfig(_Model):
    """``[strategy.triarb]`` (built in) and ``[strategy.NAME]`` for any other strategy: a table
    with an optional ``module`` (an importable module path; default ``openclaw.strategies.NAME``),
    an optional ``enabled`` (default true) and the strategy's own keys, which the module's
    ``Config`` model validates when it defines one (``runner.preflight``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    triarb: TriArbConfig = TriArbConfig()

    @model_validator(mode="after")
    def _plugin_tables(self) -> StrategyConfig:
        for name, section in (self.model_extra or {}).items():
            if not isinstance(section, dict):
                raise ValueError(f"strategy.{name} must be a table, not {section!r}")
            if name in BUILTIN and name != "triarb" and "module" not in section:
                raise ValueError(f"strategy.{name} is the built-in IBKR strategy: it runs from "
                                 f"an IBKR run file ([ibkr] and [strategy.{name}] or [{name}]), "
                                 f"not beside crypto venues")
            mod = section.get("module")
            if "module" in section and (not isinstance(mod, str)
                                        or not _MODULE_RE.fullmatch(mod)):
                raise ValueError(f"strategy.{name}.module must be a module path "
                                 f"(a.b.c), not {mod!r}")
            if not isinstance(section.get("enabled", True), bool):
                raise ValueError(f"strategy.{name}.enabled must be true or false")
        return self

    def plugins(self) -> dict[str, dict[str, Any]]:
        """The enabled ``[strategy.NAME]`` tables other than the built-in ``triarb``."""
        return {name: section for name, section in (self.model_extra or {}).items()
                if section.get("enabled", True)}


Synchronous = Literal["FULL", "NORMAL"]


class JournalConfig(_Model):
    """Where the journal is and how durable a commit is (docs/journal.md).

    ``synchronous``: ``"FULL"`` fsyncs the WAL at every commit (a committed order survives a
    process kill *and* an OS crash or power cut; the send path's commit runs on the writer
    thread, ~0.3-0.5 ms per order list); ``"NORMAL"`` skips that fsync (a committed order
    survives ``kill -9`` of the process, but an OS crash or power cut may lose the last commits;
    the send path commits inline, ~0.1 ms). Unset: ``FULL`` when any order goes to a live
    venue, ``NORMAL`` when every order goes to the simulators (all venues ``sim`` or
    ``--paper``); see ``journal_synchronous``. ``intent_log``: the send path writes one
    record per list to the intent log and the SQLite rows off the hot path (docs/journal.md);
    unset: on with ``NORMAL``, off with ``FULL``.
    """

    path: str = "openclaw-journal.sqlite"
    synchronous: Synchronous | None = None
    intent_log: bool | None = None

    @field_validator("synchronous", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class IbkrJournalConfig(JournalConfig):
    """The journal of an IBKR run: its durability is fixed by the run (``FULL`` against a
    gateway, ``NORMAL`` on the built-in simulator, openclaw/app/ibkr.py), so ``synchronous`` is
    refused here rather than silently ignored."""

    @model_validator(mode="after")
    def _no_synchronous(self) -> IbkrJournalConfig:
        if self.synchronous is not None:
            raise ValueError("synchronous is not configurable for IBKR runs (FULL against a "
                             "gateway, NORMAL on the built-in simulator)")
        return self


class TelegramConfig(_Model):
    token_env: str = "OPENCLAW_TELEGRAM_TOKEN"
    chat_env: str = "OPENCLAW_TELEGRAM_CHAT"
    base_url: str = "https://api.telegram.org"


class AlertsConfig(_Model):
    telegram: TelegramConfig | None = None
    webhook_url: str | None = None


class FeedConfig(_Model):
    stale_after_ms: int = Field(5000, ge=1)
    data_timeout_ms: int = Field(30000, ge=1)
    bybit_depth: Literal[1, 50, 200, 1000] = 50
    capacity: int = Field(5000, ge=10, le=1_000_000)


class IbkrConfig(_Model):
    """Interactive Brokers (TWS / IB Gateway): where it is and how hard it may be driven.

    ``port`` unset means the built-in TWS simulator (started in-process for the run). A real
    gateway is driven at IB's pace: at most 45 messages/s (``max_messages_per_s`` above that
    only with ``simulator``), historical data at IB's documented limits.
    """

    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535)   # TWS 7497/7496, Gateway 4002/4001
    client_id: int = Field(1, ge=0)
    account: str = ""                                # empty: the login's only account
    connect_timeout_s: float = Field(4.0, gt=0, allow_inf_nan=False)
    request_timeout_s: float = Field(30.0, gt=0, allow_inf_nan=False)
    order_timeout_s: float = Field(60.0, gt=0, allow_inf_nan=False)
    max_messages_per_s: int | None = Field(None, ge=0)
    reconnect_base_ms: int = Field(50, ge=1)
    reconnect_cap_ms: int = Field(5000, ge=1)
    hist_max_requests: int = Field(60, ge=1)
    hist_window_s: float = Field(600.0, gt=0, allow_inf_nan=False)
    hist_identical_s: float = Field(15.0, ge=0, allow_inf_nan=False)
    hist_per_contract: int = Field(6, ge=1)
    hist_contract_window_s: float = Field(2.0, gt=0, allow_inf_nan=False)
    bar_cache_dir: str = "openclaw-bars"

    @model_validator(mode="after")
    def _pace(self) -> IbkrConfig:
        if self.port is not None and self.max_messages_per_s is not None and (
                self.max_messages_per_s == 0 or self.max_messages_per_s > 45):
            raise ValueError("max_messages_per_s above 45 (or 0 = unthrottled) is for the "
                             "simulator only: IB allows ~50 messages/s")
        if self.reconnect_cap_ms < self.reconnect_base_ms:
            raise ValueError("reconnect_cap_ms must be >= reconnect_base_ms")
        return self


class BusConfig(_Model):
    """``[bus]``: the NATS server the roles share (docs/bus.md); absent: one process, no bus."""

    url: str = Field(pattern=r"^(nats|tls)://")
    prefix: str = Field("oc", pattern=r"^[A-Za-z0-9_-]+$")     # first subject token
    stream: str = Field("OC_ORDERS", pattern=r"^[A-Za-z0-9_-]+$")  # the JetStream stream
    heartbeat_ms: int = Field(250, ge=10, le=60_000)
    snapshot_timeout_ms: int = Field(1000, ge=10, le=60_000)
    intent_timeout_ms: int = Field(1000, ge=1, le=60_000)
    intent_retries: int = Field(3, ge=0, le=100)


class ControlConfig(_Model):
    """The control API of a running engine (openclaw/control): loopback HTTP, bearer token.

    ``port`` 0 picks a free port; the address goes to ``state_file``, the token to
    ``token_file`` (created with mode 0600; an existing file with group/other bits is refused).
    Unset paths: ``openclaw-control.json`` / ``openclaw-control.token`` beside the journal.
    ``approval_file``: where one-time approval codes are appended when no Telegram chat is
    configured (else they go to the chat, or to the engine's stderr); ``approval_ttl_s``: how
    long a code stays valid."""

    enabled: bool = True
    host: Literal["127.0.0.1", "::1", "localhost"] = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    token_file: str = ""
    state_file: str = ""
    approval_file: str = ""
    approval_ttl_s: float = Field(300.0, gt=0, le=3600, allow_inf_nan=False)


class IbkrRunConfig(_Model):
    """An IBKR run (``openclaw-trading ibkr momentum|fx --config``): the gateway, the strategy's own
    section (checked by the strategy), risk, journal and alerts."""

    ibkr: IbkrConfig = IbkrConfig()
    momentum: dict[str, Any] = Field(default_factory=dict)
    fx: dict[str, Any] = Field(default_factory=dict)
    schedule: dict[str, Any] = Field(default_factory=dict)
    journal: IbkrJournalConfig = IbkrJournalConfig()
    alerts: AlertsConfig = AlertsConfig()
    risk: dict[str, Any] = Field(default_factory=dict)
    control: ControlConfig = ControlConfig()

    @model_validator(mode="before")
    @classmethod
    def _strategy_tables(cls, data: Any) -> Any:
        """``[strategy.momentum]`` / ``[strategy.fx]`` (the strategies' registered names) are
        the same sections as ``[momentum]`` / ``[fx]``; giving both is an error."""
        if not isinstance(data, dict) or "strategy" not in data:
            return data
        tables = data["strategy"]
        if not isinstance(tables, dict):
            raise ValueError(f"strategy must be a table, not {tables!r}")
        out = {k: v for k, v in data.items() if k != "strategy"}
        for name, section in tables.items():
            if name not in ("momentum", "fx"):
                raise ValueError(f"strategy.{name}: an IBKR run file runs the built-in "
                                 f"strategies momentum and fx")
            if name in out:
                raise ValueError(f"both [{name}] and [strategy.{name}]: give one")
            out[name] = section
        return out

    @model_validator(mode="after")
    def _no_unread_risk(self) -> IbkrRunConfig:
        # nothing reads a top-level [risk] in an IBKR run: accepting it would silently ignore limits
        if self.risk:
            raise ValueError(
                "[risk] is not read by IBKR runs: put momentum limits in [momentum] "
                "(max_order_notional, max_position_notional, max_orders_per_s, "
                "max_gross_exposure) and FX limits in [fx] (max_position, max_spread_bps)")
        return self


class RecordConfig(_Model):
    """``[record]``: every raw depth frame (receive time in ns), REST snapshot and order event
    of the run into ``dir`` (docs/recording.md); empty ``dir``: no recording."""

    dir: str = ""
    budget_mb: float = Field(default=1024.0, gt=0)
    rotate_mb: float = Field(default=64.0, gt=0)
    rotate_s: float = Field(default=3600.0, gt=0)


class Config(_Model):
    """A whole run."""

    venues: dict[VenueName, VenueConfig] = Field(min_length=1)
    instruments: list[InstrumentConfig] = Field(min_length=1)
    feeds: FeedConfig = FeedConfig()
    strategy: StrategyConfig = StrategyConfig()
    journal: JournalConfig = JournalConfig()
    alerts: AlertsConfig = AlertsConfig()
    risk: dict[str, Any] = Field(default_factory=dict)   # checked by openclaw.risk.limits
    # journal vs venues balances: interval_s, tolerance / tolerances.ASSET, alert_after_failures...
    reconcile: ReconcileConfig = ReconcileConfig()
    control: ControlConfig = ControlConfig()
    metadata: MetadataConfig = MetadataConfig()
    record: RecordConfig = RecordConfig()   # docs/recording.md
    bus: BusConfig | None = None        # roles across processes (run --role); docs/bus.md

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        for name, v in self.venues.items():
            if v.ed25519_key_file and not venue(name).ed25519_logon:
                raise ValueError(f"venues.{name}: ed25519_key_file is for Binance only "
                                 "(session.logon)")
            if v.remote:
                try:
                    urls = venue_urls(name, v)
                except UnknownModeError as e:
                    raise ValueError(f"venues.{name}.mode: {e}; give rest and ws") from None
                if v.route == "ws" and not urls.ws_trade:
                    raise ValueError(f"venues.{name}: {name} {v.mode} has no trading "
                                     "WebSocket: give ws_trade or use route = \"ccxt\"")
        seen = set()
        for i, inst in enumerate(self.instruments):
            if inst.venue not in self.venues:
                raise ValueError(f"instruments[{i}]: venue {inst.venue!r} is not configured "
                                 "under [venues]")
            key = (inst.venue, inst.category, inst.unified)
            if key in seen:
                raise ValueError(f"instruments[{i}]: {inst.venue}:{inst.symbol} listed twice")
            seen.add(key)
        return self


def journal_synchronous(cfg: Config, paper: bool = False) -> Synchronous:
    """The journal's durability for a run of ``cfg``: ``[journal] synchronous`` when set,
    otherwise ``FULL`` if any venue is ``live`` (and the run is not ``--paper``: real money),
    ``NORMAL`` when every order goes to the simulators (kill -9 safe; a power cut only loses
    simulated orders)."""
    if cfg.journal.synchronous is not None:
        return cfg.journal.synchronous
    live = not paper and any(v.remote for v in cfg.venues.values())
    return "FULL" if live else "NORMAL"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top)"


def parse_config(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate a decoded TOML document; raises ConfigError listing every problem."""
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        errors = [(_path(err["loc"]), err["msg"]) for err in e.errors()]
        raise ConfigError(source, errors) from None


def load_ibkr_config(path: str | Path) -> IbkrRunConfig:
    """Read and validate an IBKR run file (see ``IbkrRunConfig``); ConfigError lists every
    problem with its path."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(str(p), [("(file)", e.strerror or str(e))]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(p), [("(syntax)", str(e))]) from None
    try:
        return IbkrRunConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(str(p), [(_path(err["loc"]), err["msg"]) for err in e.errors()]
                          ) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(p), [("(file)", e.strerror or str(e))]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(p), [("(syntax)", str(e))]) from None
    return parse_config(data, str(p))
