"""Bybit v5 spot trading REST API (unified trading account) as ccxt's ``bybit`` client uses it.

Public: ``GET /v5/market/instruments-info`` (``category=spot``), ``/v5/market/time``
(``/v5/market/orderbook`` is served by ``BybitSim``).  Private (headers ``X-BAPI-API-KEY``,
``X-BAPI-TIMESTAMP`` in ms, ``X-BAPI-RECV-WINDOW`` (default 5000), ``X-BAPI-SIGN`` = hex
HMAC-SHA256 of ``timestamp + apiKey + recvWindow + (query string | JSON body)``):
``GET /v5/account/wallet-balance``, ``POST /v5/order/create``, ``POST /v5/order/cancel``,
``POST /v5/order/cancel-all``, ``GET /v5/order/realtime``, ``GET /v5/order/history``,
``GET /v5/execution/list``, ``GET /v5/user/query-api``, ``GET /v5/account/info``.

Envelope ``{"retCode","retMsg","result","retExtInfo","time"}``; errors are HTTP 200 with a
non-zero ``retCode``.  ``orderLinkId`` is up to 36 of ``[A-Za-z0-9_-]`` and never reused.
``/v5/order/realtime`` lists open orders, or any order when asked by ``orderId``/``orderLinkId``
(a literal ``orderId=None``, which ccxt sends, is ignored next to an ``orderLinkId`` and matches
nothing on its own).  A market buy without
``marketUnit`` is sized in quote coin (Bybit's default); IOC, FOK and market orders whose rest
is cancelled end ``PartiallyFilledCanceled`` (with fills) or ``Cancelled``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from openclaw.sim.engine.accounts import fmt_trim
from openclaw.sim.engine.market import ASK, BID, InstrumentSpec
from openclaw.sim.engine.matching import Fill, Order, OrderError
from openclaw.sim.engine.trading import Call, RestFault, TradingApi

__all__ = ["BybitFail", "BybitTrading"]

_LINK_RE = re.compile(r"^[A-Za-z0-9_\-]{1,36}$")
QUOTE_PRECISION = Decimal("0.00000001")

REJECTS = {
    "insufficient_balance": (170131, "Insufficient balance."),
    "duplicate_client_id": (170141, "Duplicate clientOrderId."),
    "tick_size": (170134, "Order price has too many decimals."),
    "bad_price": (170133, "Order price lower than the minimum."),
    "lot_size": (170137, "Order quantity has too many decimals."),
    "min_qty": (170136, "Order quantity is lower than the minimum."),
    "max_qty": (170135, "Order quantity exceeded the upper limit."),
    "min_notional": (170140, "Order value exceeded lower limit."),
    "would_take": (170130, "Data sent for parameter 'timeInForce' is not valid."),
    "halted": (170130, "Data sent for parameter 'symbol' is not valid."),
}
TIF = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PostOnly": "PO"}
TIF_OUT = {"GTC": "GTC", "IOC": "IOC", "FOK": "FOK", "PO": "PostOnly"}


def _status(o: Order) -> str:
    if o.status == "new":
        return "New"
    if o.status == "partially_filled":
        return "PartiallyFilled"
    if o.status == "filled":
        return "Filled"
    if o.status == "rejected":
        return "Rejected"
    return "PartiallyFilledCanceled" if o.filled > 0 else "Cancelled"


class _Fail(Exception):
    """A Bybit error reply: ``retCode`` and ``retMsg``."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


BybitFail = _Fail


class BybitTrading(TradingApi):
    """Bybit spot trading API on a ``BybitSim`` (see module docstring)."""

    venue = "bybit"
    client_id_scope = "all"
    post_only = "cancel"
    first_order_id = (1_900_000_000_000_000_000, 2_100_000_000_000_000_000)

    # ---- routes ------------------------------------------------------------------------

    def _add_api_routes(self, app: web.Application) -> None:
        r = self.route
        r(app, "GET", "/v5/market/instruments-info", self._h_instruments)
        r(app, "GET", "/v5/market/time", self._h_time)
        r(app, "GET", "/v5/account/wallet-balance", self._h_balance, private=True)
        r(app, "GET", "/v5/account/info", self._h_account_info, private=True)
        r(app, "GET", "/v5/user/query-api", self._h_query_api, private=True)
        r(app, "GET", "/v5/account/fee-rate", self._h_fee_rate, private=True)
        r(app, "POST", "/v5/order/create", self._h_create, private=True, order=True)
        r(app, "POST", "/v5/order/cancel", self._h_cancel, private=True)
        r(app, "POST", "/v5/order/cancel-all", self._h_cancel_all, private=True)
        r(app, "GET", "/v5/order/realtime", self._h_realtime, private=True)
        r(app, "GET", "/v5/order/history", self._h_history, private=True)
        r(app, "GET", "/v5/execution/list", self._h_executions, private=True)

    # ---- replies -----------------------------------------------------------------------

    def _reply(
        self,
        result: Any,
        code: int = 0,
        msg: str = "OK",
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        body = {
            "retCode": code,
            "retMsg": msg,
            "result": result,
            "retExtInfo": {},
            "time": self.now_ms(),
        }
        return web.Response(
            body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
        )

    def _fail(self, exc: _Fail) -> web.Response:
        return self._reply({}, exc.code, exc.msg)

    def fault_statuses(self, kind: str) -> tuple[int, ...]:
        if kind == "rate_limit":
            return (200, 429, 403)
        return super().fault_statuses(kind)

    def fault_response(self, fault: RestFault, request: web.Request) -> web.StreamResponse:
        status = fault.status or self.fault_statuses(fault.kind)[0]
        if fault.kind == "rate_limit":
            if status == 403:
                return web.Response(status=403, text="403 Forbidden", content_type="text/plain")
            reset = str(self.now_ms() + int(max(fault.seconds, 0.001) * 1000))
            headers = {
                "X-Bapi-Limit": "20",
                "X-Bapi-Limit-Status": "0",
                "X-Bapi-Limit-Reset-Timestamp": reset,
            }
            return self._reply(
                {}, 10006, "Too many visits. Exceeded the API Rate Limit.", status, headers
            )
        titles = {
            500: "500 Internal Server Error",
            502: "502 Bad Gateway",
            503: "503 Service Temporarily Unavailable",
            504: "504 Gateway Time-out",
        }
        title = titles[status]
        return web.Response(
            status=status,
            text=f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1>"
            "</center></body></html>",
            content_type="text/html",
        )

    # ---- authentication ----------------------------------------------------------------

    def authenticate(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        h = request.headers
        key = h.get("X-BAPI-API-KEY", "")
        ts = h.get("X-BAPI-TIMESTAMP", "")
        sign = h.get("X-BAPI-SIGN", "")
        window_text = h.get("X-BAPI-RECV-WINDOW", "5000")
        if not key or key != self.api_key:
            return self._reply({}, 10003, "API key is invalid.")
        if not ts.isdigit() or not window_text.isdigit():
            return self._reply(
                {},
                10002,
                "invalid request, please check your server timestamp or recv_window param",
            )
        stale = self.time_error(ts, window_text)
        if stale is not None:
            return self._reply({}, 10002, stale)
        rest = call.raw_body if request.method == "POST" else request.rel_url.raw_query_string
        origin = ts + key + window_text + rest
        if not sign or not self.sign_ok(origin, sign):
            return self._reply({}, 10004, f"error sign! origin_string[{origin}]")
        if request.method == "POST":
            try:
                body = orjson.loads(call.raw_body or "{}")
            except orjson.JSONDecodeError:
                return self._reply({}, 10001, "Request parameter error.")
            call.params = body if isinstance(body, dict) else {}
        else:
            call.params = dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))
        return None

    def time_error(self, ts: str, window_text: str) -> str | None:
        """None if ``ts`` (ms) is within ``[now - recvWindow, now + 1 s)``, else the 10002
        message (REST headers and WebSocket ``header``)."""
        now, sent, window = self.now_ms(), int(ts), int(window_text)
        if now - window <= sent < now + 1000:
            return None
        return (
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{sent}],server_timestamp[{now}],recv_window[{window}]"
        )

    def sign_ok(self, origin: str, sign: str) -> bool:
        """True if ``sign`` is the hex HMAC-SHA256 of ``origin`` (REST and WebSocket auth)."""
        expected = hmac.new(self.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, sign.lower())

    # ---- helpers -----------------------------------------------------------------------

    def _spec(self, params: dict[str, Any], required: bool = True) -> InstrumentSpec | None:
        category = params.get("category")
        if not category:
            raise _Fail(10001, "params error: Category is invalid")
        if category != "spot":
            raise _Fail(10001, f"params error: category {category} is not supported here")
        symbol = params.get("symbol")
        if not symbol:
            if required:
                raise _Fail(10001, "params error: symbol is required")
            return None
        spec = self.market.find(self.venue, str(symbol), "spot")
        if spec is None or spec.venue_symbol != symbol:
            raise _Fail(170121, "Invalid symbol.")
        return spec

    @staticmethod
    def _dec(value: Any, name: str) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            d = Decimal(str(value))
        except InvalidOperation as exc:
            raise _Fail(170130, f"Data sent for parameter '{name}' is not valid.") from exc
        if not d.is_finite() or d <= 0:
            raise _Fail(170130, f"Data sent for parameter '{name}' is not valid.")
        return d

    @staticmethod
    def _ids(params: dict[str, Any]) -> tuple[str | None, str | None]:
        oid = params.get("orderId")
        cid = params.get("orderLinkId")
        oid = None if oid in (None, "", "None", "null") else str(oid)
        cid = None if cid in (None, "", "None", "null") else str(cid)
        return oid, cid

    def _lookup(self, params: dict[str, Any]) -> Order | None:
        oid, cid = self._ids(params)
        if oid is not None:
            order = self.engine.find(order_id=oid)
            if order is not None and cid is not None and order.client_id != cid:
                return None
            return order
        if cid is not None:
            return self.engine.find(client_id=cid)
        return None

    # ---- rendering ---------------------------------------------------------------------

    def order_json(self, o: Order) -> dict[str, Any]:
        """``/v5/order/realtime`` shape."""
        quote_sized = o.quote_qty is not None
        avg = o.avg_price
        qty: Decimal | None
        if o.quote_qty is not None:
            qty = o.quote_qty
            leaves = Decimal(0)
            leaves_value = Decimal(0) if not o.is_open else o.quote_qty - o.cost
        else:
            qty = o.qty
            leaves = o.remaining
            leaves_value = Decimal(0) if o.price is None else (o.price * leaves)
        cancel = "UNKNOWN"
        if o.status in ("canceled", "expired"):
            cancel = "CancelByUser" if o.reason == "user" else "UNKNOWN"
        return {
            "orderId": str(o.id),
            "orderLinkId": o.client_id,
            "blockTradeId": "",
            "symbol": o.symbol,
            "price": "0" if o.price is None else fmt_trim(o.price),
            "qty": fmt_trim(qty or Decimal(0)),
            "side": "Buy" if o.side == "buy" else "Sell",
            "isLeverage": "0",
            "positionIdx": 0,
            "orderStatus": _status(o),
            "cancelType": cancel,
            "rejectReason": "EC_NoError"
            if o.reason != "post_only"
            else "EC_PostOnlyWillTakeLiquidity",
            "avgPrice": "" if avg is None else fmt_trim(avg.quantize(Decimal(o.spec.tick) / 10000)),
            "leavesQty": fmt_trim(leaves),
            "leavesValue": fmt_trim(leaves_value),
            "cumExecQty": fmt_trim(o.filled),
            "cumExecValue": fmt_trim(o.cost),
            "cumExecFee": fmt_trim(o.fee),
            "cumFeeDetail": {o.fee_asset: fmt_trim(o.fee)} if o.fee else {},
            "timeInForce": TIF_OUT.get(o.tif, "GTC"),
            "orderType": "Market" if o.type == "market" else "Limit",
            "stopOrderType": "",
            "orderIv": "",
            "marketUnit": ("quoteCoin" if quote_sized else "baseCoin")
            if o.type == "market"
            else "",
            "triggerPrice": "0",
            "takeProfit": "0",
            "stopLoss": "0",
            "tpTriggerBy": "",
            "slTriggerBy": "",
            "triggerDirection": 0,
            "triggerBy": "",
            "lastPriceOnCreated": "",
            "reduceOnly": False,
            "closeOnTrigger": False,
            "placeType": "",
            "smpType": "None",
            "smpGroup": 0,
            "smpOrderId": "",
            "createdTime": str(o.created),
            "updatedTime": str(o.updated),
        }

    def _exec_json(self, f: Fill) -> dict[str, Any]:
        o = self.engine.orders[f.order_id]
        return {
            "symbol": f.symbol,
            "orderId": str(f.order_id),
            "orderLinkId": f.client_id,
            "side": "Buy" if f.side == "buy" else "Sell",
            "orderPrice": "0" if o.price is None else fmt_trim(o.price),
            "orderQty": fmt_trim(o.qty if o.qty is not None else (o.quote_qty or Decimal(0))),
            "leavesQty": fmt_trim(o.remaining),
            "orderType": "Market" if o.type == "market" else "Limit",
            "stopOrderType": "",
            "execFee": fmt_trim(f.fee),
            "feeCurrency": f.fee_asset,
            "execId": str(f.id),
            "execPrice": fmt_trim(f.price),
            "execQty": fmt_trim(f.qty),
            "execType": "Trade",
            "execValue": fmt_trim(f.quote),
            "execTime": str(f.ts),
            "isMaker": f.maker,
            "feeRate": fmt_trim(f.fee_rate),
            "tradeIv": "",
            "markIv": "",
            "markPrice": "",
            "indexPrice": "",
            "underlyingPrice": "",
            "blockTradeId": "",
            "closedSize": "",
            "seq": f.id,
        }

    def instrument_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        """One ``instruments-info`` entry (spot)."""
        r = self.engine.rules(spec)
        base, quote = spec.symbol.split("/")
        return {
            "symbol": spec.venue_symbol,
            "baseCoin": base,
            "quoteCoin": quote,
            "innovation": "0",
            "status": "Closed" if self.halted(spec) else "Trading",
            "marginTrading": "none",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": spec.lot,
                "quotePrecision": fmt_trim(QUOTE_PRECISION),
                "minOrderQty": fmt_trim(r.min_qty),
                "maxOrderQty": fmt_trim(r.max_qty),
                "minOrderAmt": fmt_trim(r.min_notional),
                "maxOrderAmt": fmt_trim(r.max_notional),
            },
            "priceFilter": {"tickSize": self.published_tick(spec)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }

    # ---- handlers ----------------------------------------------------------------------

    async def _h_time(self, request: web.Request, call: Call) -> web.Response:
        ns = time.time_ns() + self.time_offset_ms * 1_000_000
        return self._reply({"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)})

    async def _h_instruments(self, request: web.Request, call: Call) -> web.Response:
        q = request.query
        category = q.get("category", "")
        if category not in ("spot", "linear", "inverse", "option"):
            return self._reply({}, 10001, "params error: Category is invalid")
        specs = self.market.instruments(self.venue, "spot") if category == "spot" else []
        if q.get("symbol"):
            specs = [s for s in specs if s.venue_symbol == q["symbol"]]
        return self._reply(
            {
                "category": category,
                "list": [self.instrument_json(s) for s in specs],
                "nextPageCursor": "",
            }
        )

    def _usd(self, asset: str) -> Decimal:
        if asset in ("USDT", "USDC"):
            return Decimal(1)
        spec = self.market.find(self.venue, f"{asset}/USDT", "spot")
        if spec is None:
            return Decimal(0)
        book = self.market.book(spec.key)
        b, a = book.best(BID), book.best(ASK)
        if b is None or a is None:
            return Decimal(0)
        return (Decimal(b + a) / 2) * Decimal(spec.tick)

    async def _h_balance(self, request: web.Request, call: Call) -> web.Response:
        p = call.params
        if p.get("accountType") != "UNIFIED":
            return self._reply({}, 10001, "accountType only support UNIFIED.")
        wanted = {c for c in str(p.get("coin", "")).split(",") if c}
        acct = self.account
        coins = []
        total_usd = Decimal(0)
        for asset in acct.assets():
            if wanted and asset not in wanted:
                continue
            total = acct.total(asset)
            usd = (total * self._usd(asset)).quantize(Decimal("0.0001"))
            total_usd += usd
            coins.append(
                {
                    "availableToBorrow": "",
                    "bonus": "0",
                    "accruedInterest": "0",
                    "availableToWithdraw": "",
                    "totalOrderIM": "0",
                    "equity": fmt_trim(total),
                    "totalPositionMM": "0",
                    "usdValue": fmt_trim(usd),
                    "spotHedgingQty": "0",
                    "unrealisedPnl": "0",
                    "collateralSwitch": True,
                    "borrowAmount": "0",
                    "totalPositionIM": "0",
                    "walletBalance": fmt_trim(total),
                    "cumRealisedPnl": "0",
                    "locked": fmt_trim(acct.held(asset)),
                    "marginCollateral": True,
                    "coin": asset,
                }
            )
        t = fmt_trim(total_usd)
        entry = {
            "totalEquity": t,
            "accountIMRate": "0",
            "totalMarginBalance": t,
            "totalInitialMargin": "0",
            "accountType": "UNIFIED",
            "totalAvailableBalance": t,
            "accountMMRate": "0",
            "totalPerpUPL": "0",
            "totalWalletBalance": t,
            "accountLTV": "0",
            "totalMaintenanceMargin": "0",
            "coin": coins,
        }
        return self._reply({"list": [entry]})

    async def _h_account_info(self, request: web.Request, call: Call) -> web.Response:
        return self._reply(
            {
                "unifiedMarginStatus": 6,
                "marginMode": "REGULAR_MARGIN",
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
                "updatedTime": str(self.now_ms()),
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
            }
        )

    async def _h_query_api(self, request: web.Request, call: Call) -> web.Response:
        return self._reply(
            {
                "id": "13770661",
                "note": "openclaw simulator",
                "apiKey": self.api_key,
                "readOnly": 0 if self.trade_enabled else 1,
                "secret": "",
                "permissions": {
                    "ContractTrade": [],
                    "Spot": ["SpotTrade"] if self.trade_enabled else [],
                    "Wallet": ["AccountTransfer", "Withdraw"] if self.withdraw_enabled else [],
                    "Options": [],
                    "Derivatives": [],
                    "CopyTrading": [],
                    "BlockTrade": [],
                    "Exchange": [],
                    "NFT": [],
                    "Affiliate": [],
                },
                "ips": ["127.0.0.1"] if self.ip_restricted else ["*"],
                "type": 1,
                "deadlineDay": -1,
                "expiredAt": "",
                "createdAt": "2026-01-01T00:00:00Z",
                "unified": 0,
                "uta": 1,
                "userID": 24617703,
                "inviterID": 0,
                "vipLevel": "No VIP",
                "mktMakerLevel": "0",
                "affiliateID": 0,
                "rsaPublicKey": "",
                "isMaster": True,
                "parentUid": "0",
                "kycLevel": "LEVEL_DEFAULT",
                "kycRegion": "",
            }
        )

    async def _h_fee_rate(self, request: web.Request, call: Call) -> web.Response:
        """``GET /v5/account/fee-rate?category=spot[&symbol=]``: the account's rates."""
        p = call.params
        if p.get("category", "spot") != "spot":
            return self._reply({}, 10001, "params error: category only support spot here")
        want = p.get("symbol")
        return self._reply({"category": "spot", "list": [
            {"symbol": s.venue_symbol, "baseCoin": s.symbol.split("/")[0],
             "takerFeeRate": fmt_trim(self.engine.taker_fee),
             "makerFeeRate": fmt_trim(self.engine.maker_fee)}
            for s in self.market.instruments(self.venue, "spot")
            if not want or s.venue_symbol == want]})

    async def _h_create(self, request: web.Request, call: Call) -> web.Response:
        try:
            order = self.create_order(call.params, call)
        except _Fail as exc:
            return self._fail(exc)
        headers = {
            "X-Bapi-Limit": "20",
            "X-Bapi-Limit-Status": "19",
            "X-Bapi-Limit-Reset-Timestamp": str(self.now_ms() + 1000),
        }
        return self._reply(
            {"orderId": str(order.id), "orderLinkId": order.client_id}, headers=headers
        )

    def create_order(self, p: dict[str, Any], call: Call) -> Order:
        """Validate and place one order from ``/v5/order/create`` parameters; raise ``_Fail``
        (shared by REST and the ``order.create`` WebSocket op)."""
        spec = self._spec(p)
        assert spec is not None
        side = p.get("side")
        if side not in ("Buy", "Sell"):
            raise _Fail(170117, "Invalid side.")
        otype = p.get("orderType")
        if otype not in ("Market", "Limit"):
            raise _Fail(170116, "Invalid orderType.")
        link = p.get("orderLinkId") or ""
        if link and not _LINK_RE.match(str(link)):
            raise _Fail(170130, "Data sent for parameter 'orderLinkId' is not valid.")
        tif_in = p.get("timeInForce") or ("IOC" if otype == "Market" else "GTC")
        if tif_in not in TIF:
            raise _Fail(170115, "Invalid timeInForce.")
        qty = self._dec(p.get("qty"), "qty")
        if qty is None:
            raise _Fail(170130, "Data sent for parameter 'qty' is not valid.")
        price = self._dec(p.get("price"), "price")
        if otype == "Limit" and price is None:
            raise _Fail(170130, "Data sent for parameter 'price' is not valid.")
        unit = p.get("marketUnit") or ""
        if unit not in ("", "baseCoin", "quoteCoin"):
            raise _Fail(170130, "Data sent for parameter 'marketUnit' is not valid.")
        quote_sized = otype == "Market" and (unit == "quoteCoin" or (unit == "" and side == "Buy"))
        if quote_sized and side == "Sell":
            raise _Fail(170130, "Data sent for parameter 'marketUnit' is not valid.")
        if quote_sized and qty % QUOTE_PRECISION != 0:
            raise _Fail(170148, "Market order amount decimal too long.")
        reject, ratio = self.take_order_faults(spec, call)
        if reject is not None:
            if reject.code is not None:
                raise _Fail(int(reject.code), reject.msg or "Order rejected.")
            tick = Decimal(spec.tick)
            book = self.market.book(spec.key)
            if side == "Buy":
                best = book.best(ASK) or 0
                band = fmt_trim((best * tick * Decimal("1.05")).quantize(tick))
                raise _Fail(170193, reject.msg or f"Buy order price cannot be higher than {band}.")
            best = book.best(BID) or 0
            band = fmt_trim((best * tick * Decimal("0.95")).quantize(tick))
            raise _Fail(170194, reject.msg or f"Sell order price cannot be lower than {band}.")
        try:
            order = self.engine.place(
                spec,
                side.lower(),
                otype.lower(),
                qty=None if quote_sized else qty,
                quote_qty=qty if quote_sized else None,
                price=price if otype == "Limit" else None,
                tif=TIF[tif_in],
                client_id=str(link),
                meta={"via": call.via},
                fill_ratio=ratio,
            )
        except OrderError as exc:
            raise _Fail(*REJECTS[exc.reason]) from exc
        return order

    def cancel_order(self, p: dict[str, Any]) -> Order:
        """Cancel the open order named by ``orderId``/``orderLinkId``; raise ``_Fail``."""
        spec = self._spec(p)
        assert spec is not None
        oid, cid = self._ids(p)
        if oid is None and cid is None:
            raise _Fail(10001, "params error: orderId or orderLinkId is required")
        order = self._lookup(p)
        if order is None or order.symbol != spec.venue_symbol or not order.is_open:
            raise _Fail(170213, "Order does not exist.")
        self.engine.cancel(order)
        return order

    async def _h_cancel(self, request: web.Request, call: Call) -> web.Response:
        try:
            order = self.cancel_order(call.params)
        except _Fail as exc:
            return self._fail(exc)
        return self._reply({"orderId": str(order.id), "orderLinkId": order.client_id})

    async def _h_cancel_all(self, request: web.Request, call: Call) -> web.Response:
        p = call.params
        try:
            spec = self._spec(p, required=False)
        except _Fail as exc:
            return self._fail(exc)
        out = []
        for order in self.engine.open_orders(None if spec is None else spec.venue_symbol):
            self.engine.cancel(order)
            out.append({"orderId": str(order.id), "orderLinkId": order.client_id})
        return self._reply({"list": out, "success": "1"})

    def _page(self, orders: list[Order], p: dict[str, Any]) -> tuple[list[Order], str]:
        """Newest first, ``limit`` (20, at most 50) per page; ``cursor`` continues where the
        last page's ``nextPageCursor`` pointed ("" on the last page), as on Bybit."""
        if p.get("orderStatus"):
            wanted = set(str(p["orderStatus"]).split(","))
            orders = [o for o in orders if _status(o) in wanted]
        orders = sorted(orders, key=lambda o: o.id, reverse=True)
        if p.get("cursor"):
            try:
                below = int(str(p["cursor"]).removeprefix("c"))
            except ValueError:
                below = 0
            orders = [o for o in orders if o.id < below]
        limit = min(int(p.get("limit") or 20), 50)
        page = orders[:limit]
        return page, (f"c{page[-1].id}" if len(orders) > limit else "")

    async def _h_realtime(self, request: web.Request, call: Call) -> web.Response:
        p = call.params
        try:
            spec = self._spec(p, required=False)
        except _Fail as exc:
            return self._fail(exc)
        symbol = None if spec is None else spec.venue_symbol
        oid, cid = self._ids(p)
        cursor = ""
        if oid is not None or cid is not None:
            order = self._lookup(p)
            found = [order] if order is not None and symbol in (None, order.symbol) else []
        elif p.get("orderId"):  # "None" and no orderLinkId: an id that matches nothing
            found = []
        else:
            found, cursor = self._page(self.engine.open_orders(symbol), p)
        return self._reply(
            {"list": [self.order_json(o) for o in found], "nextPageCursor": cursor,
             "category": "spot"}
        )

    async def _h_history(self, request: web.Request, call: Call) -> web.Response:
        p = call.params
        try:
            spec = self._spec(p, required=False)
        except _Fail as exc:
            return self._fail(exc)
        symbol = None if spec is None else spec.venue_symbol
        oid, cid = self._ids(p)
        cursor = ""
        if oid is not None or cid is not None:
            order = self._lookup(p)
            found = [order] if order is not None and symbol in (None, order.symbol) else []
        elif p.get("orderId"):
            found = []
        else:
            found, cursor = self._page(
                [o for o in self.engine.all_orders(symbol) if not o.is_open], p)
        return self._reply(
            {"list": [self.order_json(o) for o in found], "nextPageCursor": cursor,
             "category": "spot"}
        )

    async def _h_executions(self, request: web.Request, call: Call) -> web.Response:
        p = call.params
        try:
            spec = self._spec(p, required=False)
        except _Fail as exc:
            return self._fail(exc)
        fills = self.engine.trades(None if spec is None else spec.venue_symbol)
        oid, cid = self._ids(p)
        if oid is not None:
            fills = [f for f in fills if str(f.order_id) == oid]
        if cid is not None:
            fills = [f for f in fills if f.client_id == cid]
        exec_type = p.get("execType")
        if exec_type and exec_type != "Trade":
            fills = []
        fills = sorted(fills, key=lambda f: f.id, reverse=True)
        limit = min(int(p.get("limit") or 50), 100)
        return self._reply(
            {
                "list": [self._exec_json(f) for f in fills[:limit]],
                "nextPageCursor": "",
                "category": "spot",
            }
        )
