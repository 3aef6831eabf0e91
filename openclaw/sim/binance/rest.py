"""Binance spot trading REST API (``/api/v3``) as ccxt's ``binance`` client uses it.

Public: ``GET /api/v3/exchangeInfo``, ``/api/v3/time``, ``/api/v3/ping`` (``/api/v3/depth`` is
served by ``BinanceSim``).  Signed (HMAC-SHA256 hex of the query string + form body before
``signature``, key in ``X-MBX-APIKEY``, ``timestamp`` within ``recvWindow``):
``GET /api/v3/account``, ``POST|GET|DELETE /api/v3/order``, ``GET|DELETE /api/v3/openOrders``,
``GET /api/v3/allOrders``, ``GET /api/v3/myTrades``.

Errors are ``{"code": -NNNN, "msg": ...}`` with HTTP 400 (401 for key errors, 429/418 for rate
limits), as on the live venue.  Numbers are strings with 8 decimals.  Client order ids
(``newClientOrderId``) are unique among *open* orders, as Binance documents: the id of a filled
or cancelled order may be used again and lookups then find the newest order.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import string
import time
from collections import deque
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from openclaw.sim.engine.accounts import fmt_fixed
from openclaw.sim.engine.market import InstrumentSpec
from openclaw.sim.engine.matching import Fill, Order, OrderError
from openclaw.sim.engine.trading import Call, RestFault, TradingApi

#: what Binance's nginx answers on an endpoint it removed (410 Gone, HTML, as seen 2026-02)
GONE_BODY = (
    "<html>\r\n<head><title>410 Gone</title></head>\r\n<body>\r\n"
    "<center><h1>410 Gone</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


async def _h_gone(request: web.Request) -> web.Response:
    """A retired endpoint (``/api/v3/userDataStream``): 410 Gone, as production answers."""
    return web.Response(status=410, text=GONE_BODY, content_type="text/html")


__all__ = ["BinanceReject", "BinanceTrading"]

_NUM_RE = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_CID_RE = re.compile(r"^[a-zA-Z0-9\-_]{1,36}$")
_ALNUM = string.ascii_letters + string.digits

STATUS = {
    "new": "NEW",
    "partially_filled": "PARTIALLY_FILLED",
    "filled": "FILLED",
    "canceled": "CANCELED",
    "expired": "EXPIRED",
    "rejected": "REJECTED",
}
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET"]

#: OrderError.reason -> (code, message)
REJECTS = {
    "insufficient_balance": (-2010, "Account has insufficient balance for requested action."),
    "duplicate_client_id": (-2010, "Duplicate order sent."),
    "would_take": (-2010, "Order would immediately match and take."),
    "tick_size": (-1013, "Filter failure: PRICE_FILTER"),
    "bad_price": (-1013, "Filter failure: PRICE_FILTER"),
    "lot_size": (-1013, "Filter failure: LOT_SIZE"),
    "min_qty": (-1013, "Filter failure: LOT_SIZE"),
    "max_qty": (-1013, "Filter failure: LOT_SIZE"),
    "min_notional": (-1013, "Filter failure: NOTIONAL"),
    "halted": (-2010, "Market is closed."),
}
#: Default reply of the ``order_reject`` fault (a price-band rejection; ccxt: InvalidOrder).
FAULT_REJECT = (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE")

#: Request weights (per minute, reported in ``X-MBX-USED-WEIGHT-1M``).
WEIGHTS = {
    "exchangeInfo": 20,
    "account": 20,
    "openOrders": 6,
    "allOrders": 20,
    "myTrades": 20,
    "order": 4,
}


def f8(value: Decimal | None) -> str:
    """Binance number: 8 decimals."""
    return fmt_fixed(Decimal(0) if value is None else value)


def _mandatory(name: str) -> str:
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


class _Reject(Exception):
    """A Binance error reply: ``code``, ``msg`` and the HTTP/WebSocket ``status``."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


class BinanceTrading(TradingApi):
    """Binance spot trading API on a ``BinanceSim`` (see module docstring)."""

    venue = "binance"
    client_id_scope = "open"
    post_only = "reject"
    first_order_id = (10_000_000_000, 40_000_000_000)

    def __init__(self, server: Any, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self._weight_minute = 0
        self._weight = 0
        self._order_count_10s: deque[float] = deque()
        self._order_count_1d = 0
        self._rng = random.Random(self.market.seed * 31 + 5)

    # ---- routes ------------------------------------------------------------------------

    def _add_api_routes(self, app: web.Application) -> None:
        r = self.route
        r(app, "GET", "/api/v3/exchangeInfo", self._h_exchange_info)
        r(app, "GET", "/api/v3/time", self._h_time)
        r(app, "GET", "/api/v3/ping", self._h_ping)
        r(app, "GET", "/api/v3/account", self._h_account, private=True)
        r(app, "POST", "/api/v3/order", self._h_new_order, private=True, order=True)
        r(app, "GET", "/api/v3/order", self._h_get_order, private=True)
        r(app, "DELETE", "/api/v3/order", self._h_cancel_order, private=True)
        r(app, "GET", "/api/v3/openOrders", self._h_open_orders, private=True)
        r(app, "DELETE", "/api/v3/openOrders", self._h_cancel_all, private=True)
        r(app, "GET", "/api/v3/allOrders", self._h_all_orders, private=True)
        r(app, "GET", "/api/v3/myTrades", self._h_my_trades, private=True)
        r(app, "GET", "/sapi/v1/account/apiRestrictions", self._h_api_restrictions,
          private=True)
        r(app, "GET", "/sapi/v1/asset/tradeFee", self._h_trade_fee, private=True)
        # the listenKey endpoints, retired 2026-02-20: production's nginx answers 410 Gone
        # (docs/venues/binance.md); user data comes through the WebSocket API subscription
        for method in ("POST", "PUT", "DELETE"):
            app.router.add_route(method, "/api/v3/userDataStream", _h_gone)

    # ---- replies -----------------------------------------------------------------------

    def _used_weight(self, weight: int) -> int:
        minute = int(time.time() // 60)
        if minute != self._weight_minute:
            self._weight_minute, self._weight = minute, 0
        self._weight += weight
        return self._weight

    def _reply(
        self, obj: Any, status: int = 200, weight: int = 1, headers: dict[str, str] | None = None
    ) -> web.Response:
        h = {"X-MBX-USED-WEIGHT-1M": str(self._used_weight(weight))}
        if headers:
            h.update(headers)
        return web.json_response(obj, status=status, headers=h, dumps=_dumps)

    def _err(self, code: int, msg: str, status: int = 400) -> web.Response:
        return self._reply({"code": code, "msg": msg}, status=status)

    def fault_response(self, fault: RestFault, request: web.Request) -> web.StreamResponse:
        status = fault.status or self.fault_statuses(fault.kind)[0]
        if fault.kind == "rate_limit":
            retry = str(max(1, int(fault.seconds)))
            headers = {"Retry-After": retry, "X-MBX-USED-WEIGHT-1M": "6001"}
            if status == 418:
                until = int(time.time() * 1000 + fault.seconds * 1000)
                msg = (
                    f"Way too much request weight used; IP banned until {until}. "
                    "Please use WebSocket Streams for live updates to avoid bans."
                )
            else:
                msg = (
                    "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                    "minute. Please use the websocket for live updates to avoid bans."
                )
            return web.json_response(
                {"code": -1003, "msg": msg}, status=status, headers=headers, dumps=_dumps
            )
        if status in (502, 504):
            title = "502 Bad Gateway" if status == 502 else "504 Gateway Time-out"
            return web.Response(
                status=status,
                text=f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
                f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n",
                content_type="text/html",
            )
        if status == 500:
            return self._err(-1000, "An unknown error occured while processing the request.", 500)
        return self._err(
            -1001, "Internal error; unable to process your request. Please try again.", status
        )

    def fault_statuses(self, kind: str) -> tuple[int, ...]:
        if kind == "rate_limit":
            return (429, 418)
        return super().fault_statuses(kind)

    # ---- authentication ----------------------------------------------------------------

    def authenticate(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        key = request.headers.get("X-MBX-APIKEY", "")
        signature: str | None = None
        payload_parts: list[str] = []
        for text in (request.rel_url.raw_query_string, call.raw_body):
            if not text:
                continue
            kept = []
            for part in text.split("&"):
                if part.startswith("signature="):
                    signature = part[len("signature=") :]
                else:
                    kept.append(part)
            payload_parts.append("&".join(kept))
        payload = "".join(payload_parts)  # Binance: totalParams = query string + body
        call.params = dict(parse_qsl(payload, keep_blank_values=True))
        try:
            self.verify(key, payload, signature, call.params)
        except _Reject as exc:
            return self._err(exc.code, exc.msg, exc.status)
        return None

    def verify(self, key: str, payload: str, signature: str | None, params: dict[str, str]) -> None:
        """Check API key, timestamp, ``recvWindow`` and the HMAC-SHA256 hex ``signature`` of
        ``payload``; raise ``_Reject`` as Binance answers (shared by REST and WebSocket API)."""
        if not key:
            raise _Reject(-2014, "API-key format invalid.", 401)
        if key != self.api_key:
            raise _Reject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        ts = params.get("timestamp", "")
        if not ts.isdigit():
            raise _Reject(-1102, _mandatory("timestamp"))
        window_text = params.get("recvWindow", "5000")
        if not window_text.isdigit():
            raise _Reject(
                -1100,
                "Illegal characters found in parameter 'recvWindow'; "
                "legal range is '^[0-9]{1,20}$'.",
            )
        window = int(window_text)
        if window > 60000:
            raise _Reject(-1131, "recvWindow must be less than 60000")
        if not signature:
            raise _Reject(-1102, _mandatory("signature"))
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise _Reject(-1022, "Signature for this request is not valid.")
        self.check_time(params)

    def check_time(self, params: dict[str, str]) -> None:
        """``timestamp`` must be within ``recvWindow`` and less than 1 s ahead (-1021)."""
        ts = params.get("timestamp", "")
        if not ts.isdigit():
            raise _Reject(-1102, _mandatory("timestamp"))
        window_text = params.get("recvWindow", "5000")
        window = int(window_text) if window_text.isdigit() else 5000
        now = self.now_ms()
        sent = int(ts)
        if sent > 10**14:  # microseconds (the WebSocket API accepts both)
            sent //= 1000
        if sent >= now + 1000:
            raise _Reject(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if now - sent > window:
            raise _Reject(-1021, "Timestamp for this request is outside of the recvWindow.")

    # ---- helpers -----------------------------------------------------------------------

    def _spec(self, symbol: str | None, required: bool = True) -> InstrumentSpec | None:
        if not symbol:
            if required:
                raise _Reject(-1102, _mandatory("symbol"))
            return None
        spec = self.market.find(self.venue, symbol, "spot")
        if spec is None or spec.venue_symbol != symbol:
            raise _Reject(-1121, "Invalid symbol.")
        return spec

    @staticmethod
    def _number(params: dict[str, str], name: str, required: bool = False) -> Decimal | None:
        text = params.get(name)
        if text is None or text == "":
            if required:
                raise _Reject(-1102, _mandatory(name))
            return None
        if not _NUM_RE.match(text):
            raise _Reject(
                -1100,
                f"Illegal characters found in parameter '{name}'; legal range is "
                "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            )
        return Decimal(text)

    @staticmethod
    def _int(params: dict[str, str], name: str) -> int | None:
        text = params.get(name)
        if text is None or text == "":
            return None
        if not text.isdigit():
            raise _Reject(
                -1100,
                f"Illegal characters found in parameter '{name}'; "
                "legal range is '^[0-9]{1,20}$'.",
            )
        return int(text)

    def _new_client_id(self) -> str:
        return "".join(self._rng.choice(_ALNUM) for _ in range(22))

    def _find(self, params: dict[str, str], spec: InstrumentSpec) -> Order | None:
        oid = self._int(params, "orderId")
        cid = params.get("origClientOrderId")
        if oid is None and not cid:
            raise _Reject(
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        order = (
            self.engine.find(order_id=oid) if oid is not None else self.engine.find(client_id=cid)
        )
        if order is None or order.symbol != spec.venue_symbol:
            return None
        if oid is not None and cid and order.client_id != cid:
            return None
        return order

    # ---- rendering ---------------------------------------------------------------------

    @staticmethod
    def _type(o: Order) -> str:
        return str(o.meta.get("type", o.type.upper()))

    @staticmethod
    def _tif(o: Order) -> str:
        return "GTC" if o.type == "market" or o.tif == "PO" else o.tif

    def _orig_qty(self, o: Order) -> str:
        return f8(o.qty if o.qty is not None else o.filled)

    def order_json(self, o: Order) -> dict[str, Any]:
        """``GET /api/v3/order`` shape."""
        return {
            "symbol": o.symbol,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "price": f8(o.price),
            "origQty": self._orig_qty(o),
            "executedQty": f8(o.filled),
            "cummulativeQuoteQty": f8(o.cost),
            "status": STATUS[o.status],
            "timeInForce": self._tif(o),
            "type": self._type(o),
            "side": o.side.upper(),
            "stopPrice": f8(None),
            "icebergQty": f8(None),
            "time": o.created,
            "updateTime": o.updated,
            "isWorking": True,
            "workingTime": o.created,
            "origQuoteOrderQty": f8(o.quote_qty),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _fill_json(self, f: Fill) -> dict[str, Any]:
        return {
            "price": f8(f.price),
            "qty": f8(f.qty),
            "commission": f8(f.fee),
            "commissionAsset": f.fee_asset,
            "tradeId": f.id,
        }

    def _new_order_json(self, o: Order, resp_type: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "symbol": o.symbol,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": o.client_id,
            "transactTime": o.created,
        }
        if resp_type == "ACK":
            return out
        out.update(
            {
                "price": f8(o.price),
                "origQty": self._orig_qty(o),
                "executedQty": f8(o.filled),
                "origQuoteOrderQty": f8(o.quote_qty),
                "cummulativeQuoteQty": f8(o.cost),
                "status": STATUS[o.status],
                "timeInForce": self._tif(o),
                "type": self._type(o),
                "side": o.side.upper(),
                "workingTime": o.created,
            }
        )
        if resp_type == "FULL":
            out["fills"] = [self._fill_json(f) for f in o.fills]
        out["selfTradePreventionMode"] = "EXPIRE_MAKER"
        return out

    def _cancel_json(self, o: Order, cancel_id: str) -> dict[str, Any]:
        return {
            "symbol": o.symbol,
            "origClientOrderId": o.client_id,
            "orderId": o.id,
            "orderListId": -1,
            "clientOrderId": cancel_id,
            "transactTime": o.updated,
            "price": f8(o.price),
            "origQty": self._orig_qty(o),
            "executedQty": f8(o.filled),
            "origQuoteOrderQty": f8(o.quote_qty),
            "cummulativeQuoteQty": f8(o.cost),
            "status": STATUS[o.status],
            "timeInForce": self._tif(o),
            "type": self._type(o),
            "side": o.side.upper(),
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }

    def _trade_json(self, f: Fill) -> dict[str, Any]:
        return {
            "symbol": f.symbol,
            "id": f.id,
            "orderId": f.order_id,
            "orderListId": -1,
            "price": f8(f.price),
            "qty": f8(f.qty),
            "quoteQty": f8(f.quote),
            "commission": f8(f.fee),
            "commissionAsset": f.fee_asset,
            "time": f.ts,
            "isBuyer": f.side == "buy",
            "isMaker": f.maker,
            "isBestMatch": True,
        }

    def symbol_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        """One ``exchangeInfo`` entry."""
        r = self.engine.rules(spec)
        base, quote = spec.symbol.split("/")
        return {
            "symbol": spec.venue_symbol,
            "status": "HALT" if self.halted(spec) else "TRADING",
            "baseAsset": base,
            "baseAssetPrecision": 8,
            "quoteAsset": quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": ORDER_TYPES,
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": f8(r.min_price),
                    "maxPrice": f8(r.max_price),
                    "tickSize": f8(Decimal(self.published_tick(spec))),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": f8(r.min_qty),
                    "maxQty": f8(r.max_qty),
                    "stepSize": f8(r.lot),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": f8(Decimal(0)),
                    "maxQty": f8(r.max_qty),
                    "stepSize": f8(Decimal(0)),
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": f8(r.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": f8(r.max_notional),
                    "applyMaxToMarket": False,
                    "avgPriceMins": 5,
                },
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    # ---- handlers ----------------------------------------------------------------------

    async def _safe(self, fn: Any, request: web.Request, call: Call) -> web.Response:
        try:
            return await fn(request, call)
        except _Reject as exc:
            return self._err(exc.code, exc.msg, exc.status)

    async def _h_time(self, request: web.Request, call: Call) -> web.Response:
        return self._reply({"serverTime": self.now_ms()})

    async def _h_ping(self, request: web.Request, call: Call) -> web.Response:
        return self._reply({})

    async def _h_exchange_info(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            q = request.query
            specs = self.market.instruments(self.venue, "spot")
            wanted: list[str] | None = None
            if q.get("symbol"):
                wanted = [q["symbol"]]
            elif q.get("symbols"):
                try:
                    wanted = [str(s) for s in orjson.loads(q["symbols"])]
                except ValueError as exc:
                    raise _Reject(-1100, "Illegal characters found in parameter 'symbols'") from exc
            if wanted is not None:
                by = {s.venue_symbol: s for s in specs}
                if any(w not in by for w in wanted):
                    raise _Reject(-1121, "Invalid symbol.")
                specs = [by[w] for w in wanted]
            body = {
                "timezone": "UTC",
                "serverTime": self.now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 6000,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "DAY",
                        "intervalNum": 1,
                        "limit": 200000,
                    },
                    {
                        "rateLimitType": "RAW_REQUESTS",
                        "interval": "MINUTE",
                        "intervalNum": 5,
                        "limit": 61000,
                    },
                ],
                "exchangeFilters": [],
                "symbols": [self.symbol_json(s) for s in specs],
            }
            return self._reply(body, weight=WEIGHTS["exchangeInfo"])

        return await self._safe(run, request, call)

    async def _h_api_restrictions(self, request: web.Request, call: Call) -> web.Response:
        """``GET /sapi/v1/account/apiRestrictions``: what the API key may do."""
        return self._reply({
            "ipRestrict": self.ip_restricted,
            "createTime": 1767225600000,
            "enableReading": True,
            "enableWithdrawals": self.withdraw_enabled,
            "enableInternalTransfer": False,
            "enableMargin": False,
            "enableFutures": False,
            "permitsUniversalTransfer": False,
            "enableVanillaOptions": False,
            "enableFixApiTrade": False,
            "enableFixReadOnly": False,
            "enableSpotAndMarginTrading": self.trade_enabled,
            "enablePortfolioMarginTrading": False,
        })

    async def _h_trade_fee(self, request: web.Request, call: Call) -> web.Response:
        """``GET /sapi/v1/asset/tradeFee[?symbol=]``: the account's fee rates per symbol."""
        specs = self.market.instruments(self.venue, "spot")
        want = call.params.get("symbol") or request.query.get("symbol")
        return self._reply([
            {"symbol": s.venue_symbol, "makerCommission": f8(self.engine.maker_fee),
             "takerCommission": f8(self.engine.taker_fee)}
            for s in specs if not want or s.venue_symbol == want])

    async def _h_account(self, request: web.Request, call: Call) -> web.Response:
        return self._reply(self.account_json(call.params), weight=WEIGHTS["account"])

    def account_json(self, params: dict[str, str]) -> dict[str, Any]:
        """``GET /api/v3/account`` / ``account.status`` body."""
        omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
        acct = self.account
        balances = [
            {"asset": a, "free": f8(acct.available(a)), "locked": f8(acct.held(a))}
            for a in acct.assets()
            if not (omit_zero and acct.total(a) == 0)
        ]
        fee_m = f8(self.engine.maker_fee)
        fee_t = f8(self.engine.taker_fee)
        body = {
            "makerCommission": int(self.engine.maker_fee * 10000),
            "takerCommission": int(self.engine.taker_fee * 10000),
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": fee_m,
                "taker": fee_t,
                "buyer": f8(None),
                "seller": f8(None),
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": self.now_ms(),
            "accountType": "SPOT",
            "balances": balances,
            "permissions": ["SPOT"],
            "uid": 354937868,
        }
        return body

    async def _h_new_order(self, request: web.Request, call: Call) -> web.Response:
        return await self._safe(self._new_order, request, call)

    async def _new_order(self, request: web.Request, call: Call) -> web.Response:
        order, resp_type = self.new_order(call.params, call)
        headers = {
            "X-MBX-ORDER-COUNT-10S": str(self._count_order()),
            "X-MBX-ORDER-COUNT-1D": str(self._order_count_1d),
        }
        return self._reply(self._new_order_json(order, resp_type), weight=1, headers=headers)

    def new_order(self, p: dict[str, str], call: Call) -> tuple[Order, str]:
        """Validate and place one order from ``newOrder`` parameters (strings); return it and
        the ``newOrderRespType``; raise ``_Reject`` (shared by REST and WebSocket API)."""
        spec = self._spec(p.get("symbol"))
        assert spec is not None
        side = p.get("side", "")
        if not side:
            raise _Reject(-1102, _mandatory("side"))
        if side not in ("BUY", "SELL"):
            raise _Reject(-1117, "Invalid side.")
        otype = p.get("type", "")
        if not otype:
            raise _Reject(-1102, _mandatory("type"))
        if otype not in ORDER_TYPES:
            raise _Reject(-1116, "Invalid orderType.")
        resp_type = p.get("newOrderRespType") or "FULL"
        if resp_type not in ("ACK", "RESULT", "FULL"):
            raise _Reject(-1100, "Illegal characters found in parameter 'newOrderRespType'.")
        cid = p.get("newClientOrderId") or ""
        if cid and not _CID_RE.match(cid):
            raise _Reject(
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[a-zA-Z0-9-_]{1,36}$'.",
            )
        qty = self._number(p, "quantity")
        quote_qty = self._number(p, "quoteOrderQty")
        price = self._number(p, "price")
        tif = p.get("timeInForce") or ""
        if otype == "LIMIT":
            if not tif:
                raise _Reject(-1102, _mandatory("timeInForce"))
            if tif not in ("GTC", "IOC", "FOK"):
                raise _Reject(-1115, "Invalid timeInForce.")
        elif tif:
            raise _Reject(-1106, "Parameter 'timeInForce' sent when not required.")
        if otype in ("LIMIT", "LIMIT_MAKER"):
            if price is None:
                raise _Reject(-1102, _mandatory("price"))
            if qty is None:
                raise _Reject(-1102, _mandatory("quantity"))
            if quote_qty is not None:
                raise _Reject(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        else:
            if price is not None:
                raise _Reject(-1106, "Parameter 'price' sent when not required.")
            if qty is None and quote_qty is None:
                raise _Reject(
                    -1102,
                    "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
                )
            if qty is not None and quote_qty is not None:
                raise _Reject(-1106, "Parameter 'quoteOrderQty' sent when not required.")
            if quote_qty is not None and side == "SELL":
                raise _Reject(-1106, "Parameter 'quoteOrderQty' sent when not required.")
        reject, ratio = self.take_order_faults(spec, call)
        if reject is not None:
            code = int(reject.code) if reject.code is not None else FAULT_REJECT[0]
            raise _Reject(code, reject.msg or FAULT_REJECT[1])
        if cid:
            try:
                self.engine.check_client_id(cid)
            except OrderError as exc:
                raise _Reject(*REJECTS[exc.reason]) from exc
        else:
            cid = self._new_client_id()
        try:
            order = self.engine.place(
                spec,
                side.lower(),
                "market" if otype == "MARKET" else "limit",
                qty=qty,
                quote_qty=quote_qty,
                price=price,
                tif="PO" if otype == "LIMIT_MAKER" else (tif or "GTC"),
                client_id=cid,
                meta={"type": otype, "via": call.via},
                fill_ratio=ratio,
            )
        except OrderError as exc:
            raise _Reject(*REJECTS[exc.reason]) from exc
        return order, resp_type

    def _count_order(self) -> int:
        """Count one placed order; the orders of the last 10 s (``ORDERS`` rate limit)."""
        now = time.monotonic()
        window = self._order_count_10s
        while window and now - window[0] >= 10.0:
            window.popleft()
        window.append(now)
        self._order_count_1d += 1
        return len(window)

    def query_order(self, p: dict[str, str]) -> Order:
        """The order named by ``symbol`` + ``orderId``/``origClientOrderId``; -2013 if none."""
        spec = self._spec(p.get("symbol"))
        assert spec is not None
        order = self._find(p, spec)
        if order is None:
            raise _Reject(-2013, "Order does not exist.")
        return order

    def cancel_order(self, p: dict[str, str]) -> dict[str, Any]:
        """Cancel the named open order; its cancel reply; -2011 if unknown or final."""
        spec = self._spec(p.get("symbol"))
        assert spec is not None
        order = self._find(p, spec)
        if order is None or not order.is_open:
            raise _Reject(-2011, "Unknown order sent.")
        self.engine.cancel(order)
        return self._cancel_json(order, p.get("newClientOrderId") or self._new_client_id())

    async def _h_get_order(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            order = self.query_order(call.params)
            return self._reply(self.order_json(order), weight=WEIGHTS["order"])

        return await self._safe(run, request, call)

    async def _h_cancel_order(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            return self._reply(self.cancel_order(call.params))

        return await self._safe(run, request, call)

    async def _h_cancel_all(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            spec = self._spec(call.params.get("symbol"))
            assert spec is not None
            orders = self.engine.open_orders(spec.venue_symbol)
            if not orders:
                raise _Reject(-2011, "Unknown order sent.")
            out = []
            for order in orders:
                self.engine.cancel(order)
                out.append(self._cancel_json(order, self._new_client_id()))
            return self._reply(out)

        return await self._safe(run, request, call)

    async def _h_open_orders(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            spec = self._spec(call.params.get("symbol"), required=False)
            orders = self.engine.open_orders(None if spec is None else spec.venue_symbol)
            weight = WEIGHTS["openOrders"] if spec is not None else 80
            return self._reply([self.order_json(o) for o in orders], weight=weight)

        return await self._safe(run, request, call)

    async def _h_all_orders(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            p = call.params
            spec = self._spec(p.get("symbol"))
            assert spec is not None
            orders = self.engine.all_orders(spec.venue_symbol)
            from_id = self._int(p, "orderId")
            start, end = self._int(p, "startTime"), self._int(p, "endTime")
            if from_id is not None:
                orders = [o for o in orders if o.id >= from_id]
            if start is not None:
                orders = [o for o in orders if o.created >= start]
            if end is not None:
                orders = [o for o in orders if o.created <= end]
            limit = min(self._int(p, "limit") or 500, 1000)
            orders = orders[:limit] if from_id is not None or start is not None else orders[-limit:]
            return self._reply([self.order_json(o) for o in orders], weight=WEIGHTS["allOrders"])

        return await self._safe(run, request, call)

    async def _h_my_trades(self, request: web.Request, call: Call) -> web.Response:
        async def run(request: web.Request, call: Call) -> web.Response:
            p = call.params
            spec = self._spec(p.get("symbol"))
            assert spec is not None
            order_id = self._int(p, "orderId")
            fills = self.engine.trades(spec.venue_symbol, order_id)
            from_id = self._int(p, "fromId")
            start, end = self._int(p, "startTime"), self._int(p, "endTime")
            if from_id is not None:
                fills = [f for f in fills if f.id >= from_id]
            if start is not None:
                fills = [f for f in fills if f.ts >= start]
            if end is not None:
                fills = [f for f in fills if f.ts <= end]
            limit = min(self._int(p, "limit") or 500, 1000)
            fills = fills[:limit] if from_id is not None or start is not None else fills[-limit:]
            return self._reply([self._trade_json(f) for f in fills], weight=WEIGHTS["myTrades"])

        return await self._safe(run, request, call)


BinanceReject = _Reject


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
