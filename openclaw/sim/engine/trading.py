"""The venue-independent half of the simulated spot trading REST APIs.

Each venue server (``BinanceSim``, ``OkxSim``, ``BybitSim``) owns one ``TradingApi`` subclass
(``rest_binance.py``, ``rest_okx.py``, ``rest_bybit.py``) mounted on its own aiohttp app, so one
port serves WebSocket, REST market data, REST trading and the control API.  This module holds:

* configuration: API key, secret (and OKX passphrase), starting balances, fees, a clock offset;
* the account (``accounts.Account``) and the matching engine (``matching.MatchingEngine``) that
  trades against the venue's own books and publishes consumed liquidity on the WebSocket;
* routing with per-endpoint classes (public / private / order placement) and the REST faults:
  ``order_reject``, ``order_timeout``, ``server_error``, ``rate_limit``, ``partial_fill``,
  ``drop_conn``;
* the control endpoints ``GET /_sim/orders``, ``GET /_sim/trades``, ``GET|POST /_sim/balances``.

The venue subclasses verify signatures, parse parameters and render replies in the venue's
own shapes and error codes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from aiohttp import web

from openclaw.sim.engine.accounts import Account, to_decimal
from openclaw.sim.engine.base import FaultError
from openclaw.sim.engine.market import InstrumentSpec, MarketStep, normalize_symbol
from openclaw.sim.engine.matching import MatchingEngine, Order, Rules, default_rules

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_PASSPHRASE",
    "DEFAULT_SECRET",
    "REST_FAULTS",
    "RestFault",
    "TradingApi",
]

log = logging.getLogger("openclaw.sim")

DEFAULT_API_KEY = "openclaw-test-key"
DEFAULT_SECRET = "openclaw-test-secret"
DEFAULT_PASSPHRASE = "openclaw-test-pass"

#: Fault kinds of the trading REST API (on every venue).
REST_FAULTS: tuple[str, ...] = (
    "order_reject",  # refuse the next order(s) with the venue's rejection
    "order_timeout",  # accept and execute the next order(s) but answer only after `seconds`
    "server_error",  # answer the next request(s) with an HTTP 5xx
    "rate_limit",  # answer the next request(s) with the venue's rate-limit reply
    "partial_fill",  # the next order(s) fill only `ratio` of their quantity as taker
    "drop_conn",  # execute the next REST order(s), then abort the TCP connection (no reply)
)
ORDER_FAULTS = frozenset({"order_reject", "order_timeout", "partial_fill", "drop_conn"})
SCOPES = ("all", "private", "order")

Handler = Callable[[web.Request, "Call"], Awaitable[web.StreamResponse]]


@dataclass
class RestFault:
    """One armed trading fault; it applies to the next ``count`` matching requests/orders."""

    kind: str
    symbol: str | None = None  # normalized venue symbol; order faults only
    count: int = 1
    seconds: float = 0.0  # order_timeout: reply held back (3600); rate_limit: Retry-After
    status: int | None = None  # server_error: 500/502/503/504; rate_limit: 429/418/403/200
    scope: str = "all"  # server_error / rate_limit: "all" API requests, "private", "order"
    ratio: float = 0.5  # partial_fill: fraction of the order that fills
    code: str | None = None  # order_reject: the venue error code to send (default per venue)
    msg: str | None = None  # order_reject: the message to send


@dataclass
class Call:
    """One API request after routing: the endpoint class and the decoded parameters."""

    private: bool
    order: bool
    params: dict[str, Any]
    raw_body: str = ""
    hold: float | None = None  # set by an order handler that took an ``order_timeout`` fault
    via: str = "rest"  # "rest" or "ws" (the trading WebSocket): recorded on each order placed
    drop: bool = False  # set by an order handler that took a ``drop_conn`` fault (REST only)


class TradingApi:
    """Base of a venue's trading REST API (see module docstring)."""

    venue: ClassVar[str] = ""
    fault_kinds: ClassVar[tuple[str, ...]] = REST_FAULTS
    config_keys: ClassVar[tuple[str, ...]] = (
        "api_key",
        "secret",
        "passphrase",
        "taker_fee",
        "maker_fee",
        "time_offset_ms",
        "passive_fills",
        "withdraw_enabled",
        "trade_enabled",
        "ip_restricted",
    )
    #: Engine defaults a venue may override.
    default_taker_fee: ClassVar[str] = "0.001"
    default_maker_fee: ClassVar[str] = "0.001"
    client_id_scope: ClassVar[str] = "all"
    post_only: ClassVar[str] = "reject"
    first_order_id: ClassVar[tuple[int, int]] = (1_000_000, 9_000_000)

    def __init__(
        self,
        server: VenueSim,
        *,
        api_key: str = DEFAULT_API_KEY,
        secret: str = DEFAULT_SECRET,
        passphrase: str = DEFAULT_PASSPHRASE,
        balances: dict[str, Any] | None = None,
        taker_fee: Any = None,
        maker_fee: Any = None,
        time_offset_ms: int = 0,
        passive_fills: bool = True,
        client_id_scope: str | None = None,
    ) -> None:
        self.server = server
        self.market = server.market
        self.api_key = api_key
        self.secret = secret
        self.passphrase = passphrase
        self.time_offset_ms = int(time_offset_ms)
        self.passive_fills = bool(passive_fills)
        # what the venue's API-key permission endpoint reports for the key (a real key that
        # can withdraw must be refused by openclaw's preflight: ``withdraw_enabled`` tests it)
        self.withdraw_enabled = False
        self.trade_enabled = True
        self.ip_restricted = False
        # published instrument metadata changed at run time (``POST /_sim/instrument``):
        # venue symbol -> {"status": "trading" | "halted", "tick_size": "0.1"}
        self.instrument_overrides: dict[str, dict[str, str]] = {}
        self.account = Account(balances)
        rng = random.Random(self.market.seed * 7919 + zlib.crc32(self.venue.encode()))
        self.engine = MatchingEngine(
            self.venue,
            self.market,
            self.account,
            server.publish_book_change,
            taker_fee=self.default_taker_fee if taker_fee is None else taker_fee,
            maker_fee=self.default_maker_fee if maker_fee is None else maker_fee,
            first_order_id=rng.randrange(*self.first_order_id),
            first_trade_id=rng.randrange(*self.first_order_id),
            client_id_scope=client_id_scope or self.client_id_scope,
            post_only=self.post_only,
            rules=self.rules_of,
        )
        self.faults: list[RestFault] = []
        self.faults_applied: list[dict[str, Any]] = []
        self.requests = 0
        self._holds: set[asyncio.Event] = set()
        self._attached = False

    # ---- setup -------------------------------------------------------------------------

    def rules_of(self, spec: InstrumentSpec) -> Rules:
        """Trading rules of an instrument (venues override to drop what they do not have)."""
        return default_rules(spec)

    def add_routes(self, app: web.Application) -> None:
        """Mount the control endpoints and the venue's API."""
        app.router.add_get("/_sim/orders", self._h_orders)
        app.router.add_get("/_sim/trades", self._h_trades)
        app.router.add_get("/_sim/balances", self._h_balances)
        app.router.add_post("/_sim/balances", self._h_set_balances)
        app.router.add_get("/_sim/instrument", self._h_instruments_meta)
        app.router.add_post("/_sim/instrument", self._h_set_instrument)
        self._add_api_routes(app)

    def _add_api_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def attach(self) -> None:
        """Start listening to the market clock (resting orders fill as the market moves)."""
        if not self._attached:
            self.server.clock.add_listener(self._on_step)
            self._attached = True

    async def close(self) -> None:
        """Release held replies (``order_timeout``) and stop listening to the clock."""
        self.server.clock.remove_listener(self._on_step)
        self._attached = False
        for ev in list(self._holds):
            ev.set()
        if self._holds:
            await asyncio.sleep(0)

    def _on_step(self, step: MarketStep) -> None:
        if self.passive_fills and self.engine.open_orders():
            self.engine.on_step()

    def now_ms(self) -> int:
        """The venue's clock in ms (wall clock + ``time_offset_ms``)."""
        return time.time_ns() // 1_000_000 + self.time_offset_ms

    # ---- config and status -------------------------------------------------------------

    def set_config(self, key: str, value: Any) -> None:
        """Change one trading setting (``POST /_sim/config``)."""
        if key in ("api_key", "secret", "passphrase"):
            setattr(self, key, str(value))
        elif key == "taker_fee":
            self.engine.taker_fee = to_decimal(value)
        elif key == "maker_fee":
            self.engine.maker_fee = to_decimal(value)
        elif key == "time_offset_ms":
            self.time_offset_ms = int(value)
        elif key in ("passive_fills", "withdraw_enabled", "trade_enabled", "ip_restricted"):
            setattr(self, key, bool(value))
        else:
            raise KeyError(key)

    def config(self) -> dict[str, Any]:
        """Trading settings (secrets included: this is a test simulator)."""
        return {
            "api_key": self.api_key,
            "secret": self.secret,
            "passphrase": self.passphrase,
            "taker_fee": str(self.engine.taker_fee),
            "maker_fee": str(self.engine.maker_fee),
            "time_offset_ms": self.time_offset_ms,
            "passive_fills": self.passive_fills,
            "client_id_scope": self.engine.client_id_scope,
            "withdraw_enabled": self.withdraw_enabled,
            "trade_enabled": self.trade_enabled,
            "ip_restricted": self.ip_restricted,
        }

    # ---- published instrument metadata -------------------------------------------------

    def halted(self, spec: InstrumentSpec) -> bool:
        """The venue says the instrument does not trade (``POST /_sim/instrument``)."""
        return self.instrument_overrides.get(spec.venue_symbol, {}).get("status") == "halted"

    def published_tick(self, spec: InstrumentSpec) -> str:
        """The tick size the metadata endpoints publish (the book keeps its own grid)."""
        return self.instrument_overrides.get(spec.venue_symbol, {}).get("tick_size", spec.tick)

    def set_instrument(self, symbol: str, status: str | None = None,
                       tick_size: str | None = None) -> dict[str, str]:
        """Halt or resume an instrument, or change its published tick size; orders on a halted
        instrument are refused (reason ``halted``)."""
        spec = self.server.resolve(symbol, "spot")
        over = self.instrument_overrides.setdefault(spec.venue_symbol, {})
        if status is not None:
            if status not in ("trading", "halted"):
                raise ValueError(f"status must be trading or halted, not {status!r}")
            over["status"] = status
            if status == "halted":
                self.engine.halted.add(spec.venue_symbol)
            else:
                self.engine.halted.discard(spec.venue_symbol)
        if tick_size is not None:
            if to_decimal(tick_size) <= 0:
                raise ValueError(f"tick_size must be positive, not {tick_size!r}")
            over["tick_size"] = str(tick_size)
        return dict(over)

    async def _h_instruments_meta(self, request: web.Request) -> web.Response:
        return web.json_response(self.instrument_overrides)

    async def _h_set_instrument(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            got = self.set_instrument(str(body.get("symbol", "")), body.get("status"),
                                      body.get("tick_size"))
        except (FaultError, ValueError, TypeError, ArithmeticError) as exc:
            return web.json_response({"ok": False, "error": str(exc)}, status=400)
        return web.json_response({"ok": True, **got})

    def status(self) -> dict[str, Any]:
        """For ``GET /_sim/status``."""
        return {
            "requests": self.requests,
            "orders": len(self.engine.orders),
            "open_orders": len(self.engine.open_orders()),
            "fills": len(self.engine.fills),
            "armed_faults": [asdict(f) for f in self.faults],
            "faults_applied": len(self.faults_applied),
            "held_replies": len(self._holds),
        }

    # ---- faults ------------------------------------------------------------------------

    def inject_fault(
        self,
        kind: str,
        symbol: str | None = None,
        *,
        category: str | None = None,
        seconds: float | None = None,
        count: int = 1,
        status: int | None = None,
        scope: str | None = None,
        ratio: float | None = None,
        code: Any = None,
        msg: str | None = None,
        **extra: Any,
    ) -> RestFault:
        """Arm a trading fault (see ``REST_FAULTS`` and openclaw/sim/README.md)."""
        if kind not in self.fault_kinds:
            raise FaultError(f"unknown trading fault {kind!r}")
        if extra:
            raise FaultError(f"unknown fault parameters {sorted(extra)}")
        if symbol and kind not in ORDER_FAULTS:
            raise FaultError(f"{kind} applies to requests, not symbols (use scope)")
        norm = None
        if symbol:
            norm = normalize_symbol(self.server.resolve(symbol, category or "spot").venue_symbol)
        if scope is None:
            scope = "order" if kind in ORDER_FAULTS else "all"
        if scope not in SCOPES:
            raise FaultError(f"scope must be one of {SCOPES}")
        if kind in ORDER_FAULTS and scope != "order":
            raise FaultError(f"{kind} applies to orders only")
        if status is not None:
            status = int(status)
            allowed = self.fault_statuses(kind)
            if status not in allowed:
                raise FaultError(f"{kind} status must be one of {allowed}")
        if ratio is not None and not 0.0 <= float(ratio) < 1.0:
            raise FaultError("ratio must be in [0, 1)")
        fault = RestFault(
            kind=kind,
            symbol=norm,
            count=max(1, int(count)),
            seconds=self.default_seconds(kind, status) if seconds is None else float(seconds),
            status=status,
            scope=scope,
            ratio=0.5 if ratio is None else float(ratio),
            code=None if code is None else str(code),
            msg=msg,
        )
        self.faults.append(fault)
        return fault

    @staticmethod
    def default_seconds(kind: str, status: int | None) -> float:
        """Default ``seconds`` of a fault: the hold of a timeout, the ban of a rate limit."""
        if kind == "order_timeout":
            return 3600.0
        if kind == "rate_limit":
            return 120.0 if status == 418 else 1.0
        return 0.0

    def fault_statuses(self, kind: str) -> tuple[int, ...]:
        """HTTP statuses a fault kind may use on this venue (first = default)."""
        if kind == "server_error":
            return (503, 500, 502, 504)
        if kind == "rate_limit":
            return (429,)
        return ()

    def _take(self, kind: str, spec: InstrumentSpec | None, call: Call | None) -> RestFault | None:
        for fault in self.faults:
            if fault.kind != kind:
                continue
            if kind in ORDER_FAULTS:
                if fault.symbol is not None and (
                    spec is None or normalize_symbol(spec.venue_symbol) != fault.symbol
                ):
                    continue
            elif call is not None and (
                (fault.scope == "private" and not call.private)
                or (fault.scope == "order" and not call.order)
            ):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.faults.remove(fault)
            self.faults_applied.append(
                {"kind": kind, "symbol": None if spec is None else spec.venue_symbol}
            )
            return fault
        return None

    def take_order_faults(
        self, spec: InstrumentSpec, call: Call
    ) -> tuple[RestFault | None, float | None]:
        """For one order about to be placed: (reject fault, fill ratio); arms the reply hold."""
        reject = self._take("order_reject", spec, call)
        if reject is not None:
            return reject, None
        timeout = self._take("order_timeout", spec, call)
        if timeout is not None:
            call.hold = max(call.hold or 0.0, timeout.seconds)
        # drop_conn cuts an HTTP connection: it waits for the next REST order (a WebSocket
        # order has its own ``drop_ws``)
        if call.via == "rest" and self._take("drop_conn", spec, call) is not None:
            call.drop = True
        partial = self._take("partial_fill", spec, call)
        return None, None if partial is None else partial.ratio

    # ---- dispatch ----------------------------------------------------------------------

    def route(
        self,
        app: web.Application,
        method: str,
        path: str,
        handler: Handler,
        *,
        private: bool = False,
        order: bool = False,
    ) -> None:
        """Register one API endpoint with its class (private = signed; order = placement)."""

        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await self._dispatch(request, handler, private, order)

        app.router.add_route(method, path, endpoint)

    async def _dispatch(
        self, request: web.Request, handler: Handler, private: bool, order: bool
    ) -> web.StreamResponse:
        self.requests += 1
        raw_body = (
            (await request.read()).decode("utf-8", "replace") if request.can_read_body else ""
        )
        call = Call(private, order, {}, raw_body)
        for kind in ("server_error", "rate_limit"):
            fault = self._take(kind, None, call)
            if fault is not None:
                return self.fault_response(fault, request)
        if private:
            denied = self.authenticate(request, call)
            if denied is not None:
                return denied
        try:
            response = await handler(request, call)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("%s trading endpoint %s failed", self.venue, request.path)
            return self.internal_error()
        if call.drop:
            # the order exists (executed); the client sees the connection die without a reply
            if request.transport is not None:
                request.transport.abort()
            return response  # aiohttp finds the transport closed and writes nothing
        if call.hold:
            await self._hold(request, call.hold)
        return response

    async def _hold(self, request: web.Request, seconds: float) -> None:
        """Withhold the reply (the order already exists): ``seconds``, or until shutdown."""
        ev = asyncio.Event()
        self._holds.add(ev)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), seconds)
        finally:
            self._holds.discard(ev)
        if ev.is_set() and request.transport is not None:
            request.transport.abort()  # shutting down: never answer

    # ---- venue hooks -------------------------------------------------------------------

    def authenticate(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        """Verify key, timestamp and signature; fill ``call.params``; an error reply or None."""
        raise NotImplementedError

    def fault_response(self, fault: RestFault, request: web.Request) -> web.StreamResponse:
        """The reply of a ``server_error`` / ``rate_limit`` fault."""
        raise NotImplementedError

    def internal_error(self) -> web.StreamResponse:
        """Reply for a bug in the simulator itself (HTTP 500)."""
        return web.Response(status=500, text="internal simulator error")

    # ---- control endpoints -------------------------------------------------------------

    @staticmethod
    def _json(obj: Any, status: int = 200) -> web.Response:
        return web.Response(body=orjson.dumps(obj), status=status, content_type="application/json")

    def _symbol_filter(self, request: web.Request) -> str | None:
        sym = request.query.get("symbol") or request.query.get("instId")
        if not sym:
            return None
        return self.server.resolve(sym, request.query.get("category", "spot")).venue_symbol

    async def _h_orders(self, request: web.Request) -> web.Response:
        try:
            symbol = self._symbol_filter(request)
        except FaultError as exc:
            return self._json({"error": str(exc)}, 404)
        only_open = request.query.get("open", "").lower() in ("1", "true", "yes")
        orders: list[Order] = (
            self.engine.open_orders(symbol) if only_open else self.engine.all_orders(symbol)
        )
        return self._json({"venue": self.venue, "orders": [
            {**o.as_dict(), "via": o.meta.get("via", "rest")} for o in orders]})

    async def _h_trades(self, request: web.Request) -> web.Response:
        try:
            symbol = self._symbol_filter(request)
        except FaultError as exc:
            return self._json({"error": str(exc)}, 404)
        fills = self.engine.trades(symbol)
        return self._json(
            {
                "venue": self.venue,
                "trades": [{"symbol": f.symbol, **f.as_dict()} for f in fills],
            }
        )

    async def _h_balances(self, request: web.Request) -> web.Response:
        return self._json({"venue": self.venue, "balances": self.account.snapshot()})

    async def _h_set_balances(self, request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read() or b"{}")
            balances = body.get("balances", body) if isinstance(body, dict) else None
            if not isinstance(balances, dict):
                raise ValueError("expected {asset: amount}")
            if self.engine.open_orders():
                raise ValueError("cancel the open orders first")
            self.account.reset(balances)
        except (ValueError, ArithmeticError) as exc:
            return self._json({"error": str(exc)}, 400)
        return self._json({"venue": self.venue, "balances": self.account.snapshot()})
