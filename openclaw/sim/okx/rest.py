"""OKX v5 spot trading REST API as ccxt's ``okx`` client uses it.

Public: ``GET /api/v5/public/instruments`` (``instType=SPOT``), ``/api/v5/public/time``
(``/api/v5/market/books`` is served by ``OkxSim``).  Private (headers ``OK-ACCESS-KEY``,
``OK-ACCESS-PASSPHRASE``, ``OK-ACCESS-TIMESTAMP`` ISO-8601 within 30 s, ``OK-ACCESS-SIGN`` =
base64 HMAC-SHA256 of ``timestamp + METHOD + path[?query] + body``):
``GET /api/v5/account/balance``, ``POST /api/v5/trade/order``, ``POST /api/v5/trade/batch-orders``,
``GET /api/v5/trade/order``, ``POST /api/v5/trade/cancel-order``,
``POST /api/v5/trade/cancel-batch-orders``, ``GET /api/v5/trade/orders-pending``,
``GET /api/v5/trade/orders-history[-archive]``, ``GET /api/v5/trade/fills[-history]``.

Envelope ``{"code","msg","data"}``; a failed order is ``code "1"`` (all failed) or ``"2"``
(batch partly failed) with ``sCode``/``sMsg`` per order; authentication errors are HTTP 401.
``clOrdId`` is 1-32 letters/digits and never reused (our rule).  An IOC, FOK or market order
whose rest is cancelled ends ``canceled`` (with its fills); post-only orders that would take are
created and cancelled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import zlib
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from openclaw.sim.engine.accounts import fmt_trim
from openclaw.sim.engine.market import ASK, BID, InstrumentSpec
from openclaw.sim.engine.matching import Fill, Order, OrderError, Rules, default_rules
from openclaw.sim.engine.trading import Call, RestFault, TradingApi

__all__ = ["OkxTrading", "inst_id_code"]

_CID_RE = re.compile(r"^[A-Za-z0-9]{1,32}$")
_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
TIME_WINDOW_MS = 30_000

STATE = {
    "new": "live",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "canceled": "canceled",
    "expired": "canceled",
    "rejected": "canceled",
}
CANCEL_SOURCE = {"user": "1", "ioc": "14", "market": "14", "fok": "14", "post_only": "31"}
ORD_TYPES = ("market", "limit", "post_only", "fok", "ioc")


def inst_id_code(inst_id: str) -> int:
    """The instrument's ``instIdCode`` (``public/instruments``): OKX's integer id of an
    instrument, which WebSocket order operations carry instead of ``instId`` (2026). A stable
    number per instrument id here (OKX assigns its own)."""
    return 10_000 + zlib.crc32(inst_id.encode()) % 9_000_000

REJECTS = {
    "insufficient_balance": ("51008", "Order failed. Insufficient {asset} balance in account."),
    "duplicate_client_id": ("51016", "Duplicated clOrdId"),
    "tick_size": ("51000", "Parameter px error"),
    "bad_price": ("51000", "Parameter px error"),
    "lot_size": ("51121", "Order quantity must be a multiple of the lot size."),
    "min_qty": ("51020", "Your order should meet or exceed the minimum order amount."),
    "max_qty": ("51000", "Parameter sz error"),
    "min_notional": ("51020", "Your order should meet or exceed the minimum order amount."),
    "would_take": ("51000", "Parameter ordType error"),
    "halted": ("51001", "Instrument ID does not exist."),
}


def _s(value: Decimal | None) -> str:
    return "" if value is None else fmt_trim(value)


class _Fail(Exception):
    def __init__(self, code: str, msg: str) -> None:
        super().__init__(msg)
        self.code, self.msg = code, msg


class OkxTrading(TradingApi):
    """OKX spot trading API on an ``OkxSim`` (see module docstring)."""

    venue = "okx"
    client_id_scope = "all"
    post_only = "cancel"
    default_maker_fee = "0.0008"
    default_taker_fee = "0.001"
    first_order_id = (2_000_000_000_000_000_000, 3_000_000_000_000_000_000)

    def rules_of(self, spec: InstrumentSpec) -> Rules:
        # OKX spot has a minimum size (minSz) but no minimum notional.
        return replace(default_rules(spec), min_notional=Decimal(0))

    # ---- routes ------------------------------------------------------------------------

    def _add_api_routes(self, app: web.Application) -> None:
        r = self.route
        r(app, "GET", "/api/v5/public/instruments", self._h_instruments)
        r(app, "GET", "/api/v5/public/time", self._h_time)
        r(app, "GET", "/api/v5/account/balance", self._h_balance, private=True)
        r(app, "GET", "/api/v5/account/config", self._h_account_config, private=True)
        r(app, "GET", "/api/v5/account/trade-fee", self._h_trade_fee, private=True)
        r(app, "POST", "/api/v5/trade/order", self._h_place, private=True, order=True)
        r(app, "POST", "/api/v5/trade/batch-orders", self._h_place, private=True, order=True)
        r(app, "GET", "/api/v5/trade/order", self._h_get_order, private=True)
        r(app, "POST", "/api/v5/trade/cancel-order", self._h_cancel, private=True)
        r(app, "POST", "/api/v5/trade/cancel-batch-orders", self._h_cancel, private=True)
        r(app, "GET", "/api/v5/trade/orders-pending", self._h_pending, private=True)
        r(app, "GET", "/api/v5/trade/orders-history", self._h_history, private=True)
        r(app, "GET", "/api/v5/trade/orders-history-archive", self._h_history, private=True)
        r(app, "GET", "/api/v5/trade/fills", self._h_fills, private=True)
        r(app, "GET", "/api/v5/trade/fills-history", self._h_fills, private=True)

    # ---- replies -----------------------------------------------------------------------

    @staticmethod
    def _reply(
        data: list[Any], code: str = "0", msg: str = "", status: int = 200, times: bool = False
    ) -> web.Response:
        body: dict[str, Any] = {"code": code, "data": data, "msg": msg}
        if times:
            us = str(time.time_ns() // 1000)
            body["inTime"], body["outTime"] = us, us
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    @staticmethod
    def _error(code: str, msg: str, status: int = 200) -> web.Response:
        body = {"msg": msg, "code": code}
        return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")

    def fault_response(self, fault: RestFault, request: web.Request) -> web.StreamResponse:
        status = fault.status or self.fault_statuses(fault.kind)[0]
        if fault.kind == "rate_limit":
            return self._error("50011", "Too Many Requests", status)
        if status in (502, 504):
            title = "502 Bad Gateway" if status == 502 else "504 Gateway Time-out"
            return web.Response(
                status=status,
                text=f"<html><head><title>{title}</title></head><body><center><h1>{title}"
                "</h1></center></body></html>",
                content_type="text/html",
            )
        if status == 503:
            return self._error(
                "50001", "Service temporarily unavailable. Please try again later.", 503
            )
        return self._error("50026", "System error. Try again later.", status)

    # ---- authentication ----------------------------------------------------------------

    def authenticate(self, request: web.Request, call: Call) -> web.StreamResponse | None:
        h = request.headers
        key, sign = h.get("OK-ACCESS-KEY", ""), h.get("OK-ACCESS-SIGN", "")
        ts, passphrase = h.get("OK-ACCESS-TIMESTAMP", ""), h.get("OK-ACCESS-PASSPHRASE", "")
        if not key:
            return self._error("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.', 401)
        if not sign:
            return self._error("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.', 401)
        if not ts:
            return self._error(
                "50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.', 401
            )
        if not passphrase:
            return self._error(
                "50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.', 401
            )
        if key != self.api_key:
            return self._error("50111", "Invalid OK-ACCESS-KEY.", 401)
        if not _TS_RE.match(ts):
            return self._error("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        sent_ms = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
        if abs(self.now_ms() - sent_ms) > TIME_WINDOW_MS:
            return self._error("50102", "Timestamp request expired.", 401)
        if passphrase != self.passphrase:
            return self._error("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        prehash = ts + request.method + request.raw_path + call.raw_body
        if not self.sign_ok(prehash, sign):
            return self._error("50113", "Invalid Sign.", 401)
        return None

    def sign_ok(self, prehash: str, sign: str) -> bool:
        """True if ``sign`` is Base64(HMAC-SHA256(secret, prehash)) (REST and WebSocket login)."""
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), prehash.encode(), hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(expected, sign)

    # ---- params ------------------------------------------------------------------------

    @staticmethod
    def _query(request: web.Request) -> dict[str, str]:
        return dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))

    @staticmethod
    def _json_body(call: Call) -> Any:
        try:
            return orjson.loads(call.raw_body or "{}")
        except orjson.JSONDecodeError:
            return None

    def _spec(self, inst_id: Any) -> InstrumentSpec:
        if not inst_id:
            raise _Fail("50014", "Parameter instId can not be empty.")
        spec = self.market.find(self.venue, str(inst_id), "spot")
        if spec is None or spec.venue_symbol != inst_id:
            raise _Fail("51001", "Instrument ID does not exist.")
        return spec

    @staticmethod
    def _dec(value: Any, name: str) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            d = Decimal(str(value))
        except InvalidOperation as exc:
            raise _Fail("51000", f"Parameter {name} error") from exc
        if not d.is_finite() or d <= 0:
            raise _Fail("51000", f"Parameter {name} error")
        return d

    # ---- rendering ---------------------------------------------------------------------

    def order_json(self, o: Order) -> dict[str, Any]:
        """``GET /api/v5/trade/order`` shape."""
        last = o.fills[-1] if o.fills else None
        base, quote = o.base, o.quote
        quote_sized = o.quote_qty is not None
        avg = o.avg_price
        return {
            "accFillSz": fmt_trim(o.filled),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": "" if avg is None else fmt_trim(avg.quantize(Decimal(o.spec.tick) / 10000)),
            "cTime": str(o.created),
            "cancelSource": CANCEL_SOURCE.get(o.reason, "")
            if o.status in ("canceled", "expired")
            else "",
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": o.client_id,
            "fee": fmt_trim(-o.fee) if o.fee else "0",
            "feeCcy": o.fee_asset,
            "fillPx": "" if last is None else fmt_trim(last.price),
            "fillSz": "0" if last is None else fmt_trim(last.qty),
            "fillTime": "" if last is None else str(last.ts),
            "instId": o.symbol,
            "instType": "SPOT",
            "isTpLimit": "false",
            "lever": "",
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": str(o.id),
            "ordType": o.meta.get("ordType", o.type),
            "pnl": "0",
            "posSide": "net",
            "px": _s(o.price),
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": quote if o.side == "buy" else base,
            "reduceOnly": "false",
            "side": o.side,
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": STATE[o.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": _s(o.quote_qty if quote_sized else o.qty),
            "tag": o.meta.get("tag", ""),
            "tdMode": "cash",
            "tgtCcy": o.meta.get("tgtCcy", ""),
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": "" if last is None else str(last.id),
            "uTime": str(o.updated),
        }

    def _fill_json(self, f: Fill) -> dict[str, Any]:
        order = self.engine.orders[f.order_id]
        return {
            "instType": "SPOT",
            "instId": f.symbol,
            "tradeId": str(f.id),
            "ordId": str(f.order_id),
            "clOrdId": f.client_id,
            "billId": str(f.id * 7 + 1000003),
            "subType": "1" if f.side == "buy" else "2",
            "tag": order.meta.get("tag", ""),
            "fillPx": fmt_trim(f.price),
            "fillSz": fmt_trim(f.qty),
            "fillIdxPx": "",
            "fillPnl": "0",
            "fillPxVol": "",
            "fillPxUsd": "",
            "fillMarkVol": "",
            "fillFwdPx": "",
            "fillMarkPx": "",
            "side": f.side,
            "posSide": "net",
            "execType": "M" if f.maker else "T",
            "feeCcy": f.fee_asset,
            "fee": fmt_trim(-f.fee) if f.fee else "0",
            "feeRate": fmt_trim(-f.fee_rate),
            "ts": str(f.ts),
            "fillTime": str(f.ts),
        }

    def instrument_json(self, spec: InstrumentSpec) -> dict[str, Any]:
        """One ``public/instruments`` entry."""
        r = self.engine.rules(spec)
        base, quote = spec.symbol.split("/")
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": base,
            "category": "1",
            "ctMult": "",
            "ctType": "",
            "ctVal": "",
            "ctValCcy": "",
            "contTdSwTime": "",
            "expTime": "",
            "futureSettlement": False,
            "instFamily": "",
            "instId": spec.venue_symbol,
            "instIdCode": inst_id_code(spec.venue_symbol),
            "instType": "SPOT",
            "lever": "",
            "listTime": "1548133413000",
            "lotSz": spec.lot,
            "maxIcebergSz": fmt_trim(r.max_qty),
            "maxLmtAmt": "20000000",
            "maxLmtSz": fmt_trim(r.max_qty),
            "maxMktAmt": "1000000",
            "maxMktSz": "1000000",
            "maxStopSz": "1000000",
            "maxTriggerSz": fmt_trim(r.max_qty),
            "maxTwapSz": fmt_trim(r.max_qty),
            "minSz": fmt_trim(r.min_qty),
            "openType": "",
            "optType": "",
            "quoteCcy": quote,
            "ruleType": "normal",
            "settleCcy": "",
            "state": "suspend" if self.halted(spec) else "live",
            "stk": "",
            "tickSz": self.published_tick(spec),
            "tradeQuoteCcyList": [quote],
            "uly": "",
        }

    def _usd(self, asset: str) -> Decimal | None:
        if asset in ("USDT", "USDC", "USD"):
            return Decimal(1)
        spec = self.market.find(self.venue, f"{asset}/USDT", "spot")
        if spec is None:
            return None
        book = self.market.book(spec.key)
        b, a = book.best(BID), book.best(ASK)
        if b is None or a is None:
            return None
        return (Decimal(b + a) / 2) * Decimal(spec.tick)

    # ---- handlers ----------------------------------------------------------------------

    async def _h_time(self, request: web.Request, call: Call) -> web.Response:
        return self._reply([{"ts": str(self.now_ms())}])

    async def _h_instruments(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        inst_type = q.get("instType", "")
        if not inst_type:
            return self._error("50014", "Parameter instType can not be empty.", 400)
        if inst_type not in ("SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
            return self._error("51000", "Parameter instType error", 400)
        specs = self.market.instruments(self.venue, "spot") if inst_type == "SPOT" else []
        if q.get("instId"):
            specs = [s for s in specs if s.venue_symbol == q["instId"]]
            if not specs:
                return self._error("51001", "Instrument ID does not exist.")
        return self._reply([self.instrument_json(s) for s in specs])

    async def _h_account_config(self, request: web.Request, call: Call) -> web.Response:
        """``GET /api/v5/account/config``: the account and the API key's ``perm`` / ``ip``."""
        perm = ["read_only"] + (["trade"] if self.trade_enabled else []) + (
            ["withdraw"] if self.withdraw_enabled else [])
        return self._reply([{
            "acctLv": "1", "autoLoan": False, "ctIsoMode": "automatic", "greeksType": "PA",
            "ip": "127.0.0.1" if self.ip_restricted else "", "kycLv": "2",
            "label": "openclaw simulator", "level": "Lv1", "levelTmp": "",
            "liquidationGear": "-1", "mainUid": "44705892343619584",
            "mgnIsoMode": "automatic", "opAuth": "0", "perm": ",".join(perm),
            "posMode": "net_mode", "roleType": "0", "spotBorrowAutoRepay": False,
            "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [],
            "traderInsts": [], "type": "0", "uid": "44705892343619584"}])

    async def _h_trade_fee(self, request: web.Request, call: Call) -> web.Response:
        """``GET /api/v5/account/trade-fee?instType=SPOT``: the account's rates (OKX writes a
        fee charged as a negative number)."""
        q = self._query(request)
        if q.get("instType") != "SPOT":
            return self._error("51000", "Parameter instType error")
        return self._reply([{
            "category": "1", "delivery": "", "exercise": "", "instType": "SPOT",
            "level": "Lv1", "maker": fmt_trim(-self.engine.maker_fee),
            "taker": fmt_trim(-self.engine.taker_fee), "makerU": "", "takerU": "",
            "makerUSDC": "", "takerUSDC": "", "ruleType": "normal",
            "ts": str(self.now_ms()), "fiat": []}])

    async def _h_balance(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        wanted = {c for c in q.get("ccy", "").split(",") if c}
        acct = self.account
        now = str(self.now_ms())
        details = []
        total_usd = Decimal(0)
        for asset in acct.assets():
            if wanted and asset not in wanted:
                continue
            free, held, total = acct.available(asset), acct.held(asset), acct.total(asset)
            px = self._usd(asset)
            usd = None if px is None else (total * px).quantize(Decimal("0.0001"))
            if usd is not None:
                total_usd += usd
            details.append(
                {
                    "accAvgPx": "",
                    "availBal": fmt_trim(free),
                    "availEq": fmt_trim(free),
                    "borrowFroz": "",
                    "cashBal": fmt_trim(total),
                    "ccy": asset,
                    "clSpotInUseAmt": "",
                    "crossLiab": "",
                    "disEq": "" if usd is None else fmt_trim(usd),
                    "eq": fmt_trim(total),
                    "eqUsd": "" if usd is None else fmt_trim(usd),
                    "fixedBal": "0",
                    "frozenBal": fmt_trim(held),
                    "imr": "",
                    "interest": "",
                    "isoEq": "0",
                    "isoLiab": "",
                    "isoUpl": "0",
                    "liab": "",
                    "maxLoan": "",
                    "maxSpotInUse": "",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalLever": "",
                    "openAvgPx": "",
                    "ordFrozen": fmt_trim(held),
                    "rewardBal": "0",
                    "smtSyncEq": "0",
                    "spotBal": "",
                    "spotInUseAmt": "",
                    "spotIsoBal": "0",
                    "spotUpl": "",
                    "spotUplRatio": "",
                    "stgyEq": "0",
                    "totalPnl": "",
                    "totalPnlRatio": "",
                    "twap": "0",
                    "uTime": now,
                    "upl": "",
                    "uplLiab": "",
                }
            )
        data = {
            "adjEq": "",
            "availEq": "",
            "borrowFroz": "",
            "details": details,
            "imr": "",
            "isoEq": "0",
            "mgnRatio": "",
            "mmr": "",
            "notionalUsd": "",
            "notionalUsdForBorrow": "",
            "notionalUsdForFutures": "",
            "notionalUsdForOption": "",
            "notionalUsdForSwap": "",
            "ordFroz": "",
            "totalEq": fmt_trim(total_usd),
            "uTime": now,
            "upl": "",
        }
        return self._reply([data])

    def _place_one(self, req: Any, call: Call) -> dict[str, Any]:
        """Place one order of a request (REST body or WebSocket ``args`` item); its result
        row with ``sCode``/``sMsg`` (shared by REST and WebSocket)."""
        ts = str(self.now_ms())
        cid = str(req.get("clOrdId") or "") if isinstance(req, dict) else ""
        tag = str(req.get("tag") or "") if isinstance(req, dict) else ""
        out = {
            "clOrdId": cid,
            "ordId": "",
            "sCode": "0",
            "sMsg": "Order placed",
            "tag": tag,
            "ts": ts,
        }
        try:
            if not isinstance(req, dict):
                raise _Fail("50000", "Body can not be empty.")
            spec = self._spec(req.get("instId"))
            if cid and not _CID_RE.match(cid):
                raise _Fail("51000", "Parameter clOrdId error")
            td_mode = req.get("tdMode")
            if not td_mode:
                raise _Fail("50014", "Parameter tdMode can not be empty.")
            if td_mode != "cash":
                raise _Fail("51000", "Parameter tdMode error")
            side = req.get("side")
            if side not in ("buy", "sell"):
                raise _Fail("51000", "Parameter side error")
            ord_type = req.get("ordType")
            if ord_type not in ORD_TYPES:
                raise _Fail("51000", "Parameter ordType error")
            sz = self._dec(req.get("sz"), "sz")
            if sz is None:
                raise _Fail("51000", "Parameter sz error")
            px = self._dec(req.get("px"), "px")
            if ord_type != "market" and px is None:
                raise _Fail("51000", "Parameter px error")
            tgt = req.get("tgtCcy") or ""
            if tgt not in ("", "base_ccy", "quote_ccy"):
                raise _Fail("51000", "Parameter tgtCcy error")
            quote_sized = ord_type == "market" and (
                tgt == "quote_ccy" or (tgt == "" and side == "buy")
            )
            if quote_sized and side == "sell":
                raise _Fail("51000", "Parameter tgtCcy error")
            reject, ratio = self.take_order_faults(spec, call)
            if reject is not None:
                code = reject.code or "51006"
                msg = reject.msg or (
                    "Order price is not within the price limit (max buy price: "
                    f"{self._band(spec, 1)}, min sell price: {self._band(spec, -1)})"
                )
                raise _Fail(code, msg)
            try:
                order = self.engine.place(
                    spec,
                    side,
                    "market" if ord_type == "market" else "limit",
                    qty=None if quote_sized else sz,
                    quote_qty=sz if quote_sized else None,
                    price=None if ord_type == "market" else px,
                    tif={"limit": "GTC", "post_only": "PO", "fok": "FOK", "ioc": "IOC"}.get(
                        ord_type, "IOC"
                    ),
                    client_id=cid,
                    meta={"ordType": ord_type, "tag": tag, "tgtCcy": tgt, "via": call.via},
                    fill_ratio=ratio,
                )
            except OrderError as exc:
                code, msg = REJECTS[exc.reason]
                raise _Fail(code, msg.format(asset=exc.info.get("asset", ""))) from exc
            out["ordId"] = str(order.id)
        except _Fail as exc:
            out["sCode"], out["sMsg"] = exc.code, exc.msg
        return out

    def _band(self, spec: InstrumentSpec, sign: int) -> str:
        book = self.market.book(spec.key)
        best = book.best(ASK if sign > 0 else BID)
        if best is None:
            return "0"
        tick = Decimal(spec.tick)
        return fmt_trim((best * tick * (1 + Decimal("0.05") * sign)).quantize(tick))

    async def _h_place(self, request: web.Request, call: Call) -> web.Response:
        body = self._json_body(call)
        batch = request.path.endswith("batch-orders")
        if body is None or (not batch and not isinstance(body, dict)):
            return self._error("50002", "JSON syntax error", 400)
        reqs = body if isinstance(body, list) else [body]
        if not reqs:
            return self._error("50000", "Body can not be empty.", 400)
        if len(reqs) > 20:
            return self._error("51000", "Parameter request error", 400)
        results = [self._place_one(r, call) for r in reqs]
        failed = sum(1 for r in results if r["sCode"] != "0")
        if failed == 0:
            return self._reply(results, times=True)
        if failed == len(results):
            return self._reply(results, "1", "All operations failed", times=True)
        return self._reply(results, "2", "Batch operation partially succeeded", times=True)

    def _lookup(self, params: dict[str, Any], spec: InstrumentSpec) -> Order | None:
        oid, cid = params.get("ordId"), params.get("clOrdId")
        if oid:
            order = self.engine.find(order_id=oid)
        elif cid:
            order = self.engine.find(client_id=str(cid))
        else:
            raise _Fail("51000", "Parameter ordId error")
        if order is None or order.symbol != spec.venue_symbol:
            return None
        if oid and cid and order.client_id != cid:
            return None
        return order

    async def _h_get_order(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        try:
            spec = self._spec(q.get("instId"))
            order = self._lookup(q, spec)
        except _Fail as exc:
            return self._error(exc.code, exc.msg, 400 if exc.code == "50014" else 200)
        if order is None:
            return self._reply([], "51603", "Order does not exist")
        return self._reply([self.order_json(order)])

    def _cancel_one(self, req: Any) -> dict[str, Any]:
        """Cancel one order (REST body or WebSocket ``args`` item); its result row."""
        ts = str(self.now_ms())
        if not isinstance(req, dict):
            req = {}
        out = {
            "clOrdId": str(req.get("clOrdId") or ""),
            "ordId": str(req.get("ordId") or ""),
            "sCode": "0",
            "sMsg": "",
            "ts": ts,
        }
        try:
            spec = self._spec(req.get("instId"))
            order = self._lookup(req, spec)
            if order is None:
                raise _Fail(
                    "51400",
                    "Cancellation failed as the order has been filled, canceled or does not exist.",
                )
            if order.status in ("canceled", "expired", "rejected"):
                raise _Fail("51401", "Cancellation failed as the order is already canceled.")
            if order.status == "filled":
                raise _Fail("51402", "Cancellation failed as the order is already completed.")
            self.engine.cancel(order)
            out["ordId"], out["clOrdId"] = str(order.id), order.client_id
        except _Fail as exc:
            out["sCode"], out["sMsg"] = exc.code, exc.msg
        return out

    async def _h_cancel(self, request: web.Request, call: Call) -> web.Response:
        body = self._json_body(call)
        batch = request.path.endswith("batch-orders")
        if body is None or (not batch and not isinstance(body, dict)):
            return self._error("50002", "JSON syntax error", 400)
        reqs = body if isinstance(body, list) else [body]
        results = [self._cancel_one(r) for r in reqs]
        failed = sum(1 for r in results if r["sCode"] != "0")
        if failed == 0:
            return self._reply(results, times=True)
        if failed == len(results):
            return self._reply(results, "1", "All operations failed", times=True)
        return self._reply(results, "2", "Batch operation partially succeeded", times=True)

    def _filter_orders(self, orders: list[Order], q: dict[str, str]) -> list[Order]:
        if q.get("instType") not in (None, "", "SPOT"):
            return []
        if q.get("instId"):
            orders = [o for o in orders if o.symbol == q["instId"]]
        if q.get("ordType"):
            kinds = set(q["ordType"].split(","))
            orders = [o for o in orders if o.meta.get("ordType", o.type) in kinds]
        if q.get("state"):
            orders = [o for o in orders if STATE[o.status] == q["state"]]
        orders = sorted(orders, key=lambda o: o.id, reverse=True)
        if q.get("after"):
            orders = [o for o in orders if o.id < int(q["after"])]
        if q.get("before"):
            orders = [o for o in orders if o.id > int(q["before"])]
        limit = min(int(q.get("limit") or 100), 100)
        return orders[:limit]

    async def _h_pending(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        orders = self._filter_orders(self.engine.open_orders(), q)
        return self._reply([self.order_json(o) for o in orders])

    async def _h_history(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        if not q.get("instType"):
            return self._error("50014", "Parameter instType can not be empty.", 400)
        orders = [o for o in self.engine.all_orders() if not o.is_open]
        orders = self._filter_orders(orders, q)
        return self._reply([self.order_json(o) for o in orders])

    async def _h_fills(self, request: web.Request, call: Call) -> web.Response:
        q = self._query(request)
        if request.path.endswith("history") and not q.get("instType"):
            return self._error("50014", "Parameter instType can not be empty.", 400)
        if q.get("instType") not in (None, "", "SPOT"):
            return self._reply([])
        fills = self.engine.trades(q.get("instId") or None)
        if q.get("ordId"):
            fills = [f for f in fills if str(f.order_id) == q["ordId"]]
        fills = sorted(fills, key=lambda f: f.id, reverse=True)
        limit = min(int(q.get("limit") or 100), 100)
        return self._reply([self._fill_json(f) for f in fills[:limit]])
