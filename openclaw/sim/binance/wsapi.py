"""Binance spot WebSocket API (``/ws-api/v3``) on a ``BinanceSim``'s port.

Requests are JSON text frames ``{"id", "method", "params"}``; replies are
``{"id", "status", "result"}`` or ``{"id", "status", "error": {"code", "msg"}}`` plus
``rateLimits`` (omitted with ``returnRateLimits=false`` in the URL or the params).  Methods:
``ping``, ``time``, ``session.logon`` / ``session.status`` / ``session.logout``,
``order.place``, ``order.cancel``, ``order.status``, ``openOrders.status``, ``account.status``,
``userDataStream.subscribe`` (a logged-on session), ``userDataStream.subscribe.signature`` (any
session: ``apiKey``, ``timestamp``, ``signature``) -> ``{"subscriptionId": n}`` and
``userDataStream.unsubscribe``. A subscribed session gets every change of every order of the
account (placed over REST or WebSocket, filled, cancelled, expired) as
``{"subscriptionId": n, "event": {"e": "executionReport", ...}}``: ``x`` NEW, one TRADE per fill
(``t`` trade id, ``l``/``L`` its quantity/price, ``n``/``N`` its commission, ``z``/``Z``
cumulative), then CANCELED/EXPIRED. ``userDataStream.start/ping/stop`` were retired on
2026-02-20 (docs/venues/binance.md) and are answered as unsupported.

Signed methods carry ``apiKey``, ``timestamp`` (ms or µs), optional ``recvWindow`` and
``signature`` in ``params``: HMAC-SHA256 hex over every param except ``signature``, sorted by
name, as ``k=v&k=v``; the checks, codes and the order logic are those of the REST side
(``BinanceTrading.verify``, ``new_order``, ``cancel_order``, ``query_order``).  After
``session.logon`` (Ed25519 keys only, as on Binance: configure ``ed25519_api_key`` and
``ed25519_public_key``) a signed request needs only ``timestamp``.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson

from openclaw.sim.binance.rest import BinanceReject, BinanceTrading, f8
from openclaw.sim.engine.matching import Order
from openclaw.sim.engine.trading import Call, RestFault
from openclaw.sim.engine.wsapi import WsApi, WsSession, dumpb

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim

__all__ = ["BinanceWsApi"]

_PRIVATE = frozenset(
    {"order.place", "order.cancel", "order.status", "openOrders.status", "account.status",
     "userDataStream.subscribe.signature"}
)
_STREAM_STATUS = {"new": "NEW", "partially_filled": "PARTIALLY_FILLED", "filled": "FILLED",
                  "canceled": "CANCELED", "expired": "EXPIRED", "rejected": "REJECTED"}
_WEIGHTS = {
    "ping": 1,
    "time": 1,
    "session.logon": 2,
    "session.status": 2,
    "session.logout": 2,
    "order.place": 1,
    "order.cancel": 1,
    "order.status": 4,
    "openOrders.status": 6,
    "account.status": 20,
    "userDataStream.subscribe": 2,
    "userDataStream.subscribe.signature": 2,
    "userDataStream.unsubscribe": 2,
}


def _mandatory(name: str) -> str:
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def _text(value: Any) -> str:
    """A JSON param value as it appears in the signature payload."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, dict)):
        return orjson.dumps(value).decode()
    return str(value)


class BinanceWsApi(WsApi):
    """Binance ``/ws-api/v3`` (see module docstring)."""

    venue = "binance"
    path = "/ws-api/v3"

    def __init__(
        self,
        server: VenueSim,
        trading: BinanceTrading,
        *,
        ed25519_api_key: str | None = None,
        ed25519_public_key: str | bytes | None = None,
    ) -> None:
        super().__init__(server, trading)
        self.api: BinanceTrading = trading
        self.ed25519_api_key = ed25519_api_key
        self._ed_key: Any = None
        if ed25519_public_key is not None:
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            pem = (
                ed25519_public_key.encode()
                if isinstance(ed25519_public_key, str)
                else ed25519_public_key
            )
            self._ed_key = load_pem_public_key(pem)
            if ed25519_api_key is None:
                raise ValueError("ed25519_public_key needs ed25519_api_key")
        self._stream_subs = 0
        self._next_sub = 0
        self.engine.listeners.append(self._on_order)

    def on_open(self, sess: WsSession) -> None:
        flag = sess.request.query.get("returnRateLimits", "true").lower()
        sess.meta["rate_limits"] = flag != "false"

    # ---- replies -----------------------------------------------------------------------

    def _rate_limits(self, weight: int, orders: int | None) -> list[dict[str, Any]]:
        api = self.api
        out: list[dict[str, Any]] = []
        if orders is not None:
            out.append(
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND",
                    "intervalNum": 10,
                    "limit": 100,
                    "count": orders,
                }
            )
            out.append(
                {
                    "rateLimitType": "ORDERS",
                    "interval": "DAY",
                    "intervalNum": 1,
                    "limit": 200000,
                    "count": api._order_count_1d,
                }
            )
        out.append(
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
                "count": api._used_weight(weight),
            }
        )
        return out

    def _reply(
        self,
        rid: Any,
        status: int,
        body: Any,
        rate: bool,
        weight: int,
        orders: int | None = None,
    ) -> bytes:
        out: dict[str, Any] = {"id": rid, "status": status}
        if status == 200:
            out["result"] = body
        else:
            out["error"] = body
        if rate:
            out["rateLimits"] = self._rate_limits(weight, orders)
        else:
            self.api._used_weight(weight)
        return dumpb(out)

    def _error(self, rid: Any, exc: BinanceReject, rate: bool, weight: int) -> bytes:
        return self._reply(rid, exc.status, {"code": exc.code, "msg": exc.msg}, rate, weight)

    def _fault_reply(self, rid: Any, fault: RestFault, rate: bool, weight: int) -> bytes:
        api = self.api
        status = fault.status or api.fault_statuses(fault.kind)[0]
        if fault.kind == "rate_limit":
            now = api.now_ms()
            retry = now + int(max(fault.seconds, 0.001) * 1000)
            if status == 418:
                msg = (
                    f"Way too much request weight used; IP banned until {retry}. "
                    "Please use WebSocket Streams for live updates to avoid bans."
                )
            else:
                msg = (
                    "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per "
                    "minute. Please use the websocket for live updates to avoid bans."
                )
            body = {"code": -1003, "msg": msg, "data": {"serverTime": now, "retryAfter": retry}}
            return self._reply(rid, status, body, rate, weight)
        if status == 500:
            body = {"code": -1000, "msg": "An unknown error occured while processing the request."}
        else:
            body = {
                "code": -1001,
                "msg": "Internal error; unable to process your request. Please try again.",
            }
        return self._reply(rid, status, body, rate, weight)

    def internal_error(self, sess: WsSession, text: str) -> bytes | None:
        body = {"code": -1000, "msg": "An unknown error occured while processing the request."}
        return dumpb({"id": None, "status": 500, "error": body})

    # ---- requests ----------------------------------------------------------------------

    def handle(self, sess: WsSession, text: str) -> bytes | None:
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            body = {"code": -1102, "msg": "Malformed request: not a JSON object."}
            return dumpb({"id": None, "status": 400, "error": body})
        rid = req.get("id")
        method = req.get("method")
        raw = req.get("params")
        if raw is None:
            raw = {}
        if isinstance(method, str) and method.startswith("v3/"):
            method = method[3:]
        if not isinstance(method, str) or not method:
            body = {"code": -1102, "msg": _mandatory("method")}
            return dumpb({"id": rid, "status": 400, "error": body})
        if method not in _WEIGHTS:
            body = {"code": -1020, "msg": "This operation is not supported."}
            return dumpb({"id": rid, "status": 400, "error": body})
        if not isinstance(raw, dict):
            body = {"code": -1102, "msg": _mandatory("params")}
            return dumpb({"id": rid, "status": 400, "error": body})
        params = {k: _text(v) for k, v in raw.items()}
        rate = sess.meta.get("rate_limits", True)
        if "returnRateLimits" in params:
            rate = params["returnRateLimits"].lower() != "false"
        weight = _WEIGHTS[method]
        private = method in _PRIVATE or method == "session.logon"
        is_order = method == "order.place"
        call = self.call(private, is_order, params)
        fault = self.request_fault(call)
        if fault is not None:
            return self._fault_reply(rid, fault, rate, weight)
        try:
            if method == "ping":
                return self._reply(rid, 200, {}, rate, weight)
            if method == "time":
                return self._reply(rid, 200, {"serverTime": self.api.now_ms()}, rate, weight)
            if method == "session.logon":
                self._logon(sess, params)
                return self._reply(rid, 200, self._session(sess), rate, weight)
            if method == "session.status":
                return self._reply(rid, 200, self._session(sess), rate, weight)
            if method == "session.logout":
                sess.logout()
                return self._reply(rid, 200, self._session(sess), rate, weight)
            if method.startswith("userDataStream."):
                return self._reply(rid, 200, self._user_data(sess, method, params), rate, weight)
            self._authorize(sess, params)
            if is_order:
                return self._place(sess, rid, params, call, rate, weight)
            if method == "order.cancel":
                return self._reply(rid, 200, self.api.cancel_order(params), rate, weight)
            if method == "order.status":
                order = self.api.query_order(params)
                return self._reply(rid, 200, self.api.order_json(order), rate, weight)
            if method == "openOrders.status":
                sym = params.get("symbol")
                spec = self.api._spec(sym, required=False)
                orders = self.engine.open_orders(None if spec is None else spec.venue_symbol)
                listing = [self.api.order_json(o) for o in orders]
                return self._reply(rid, 200, listing, rate, 6 if spec is not None else 80)
            return self._reply(rid, 200, self.api.account_json(params), rate, weight)
        except BinanceReject as exc:
            return self._error(rid, exc, rate, weight)

    def _place(
        self, sess: WsSession, rid: Any, params: dict[str, str], call: Call, rate: bool, weight: int
    ) -> bytes | None:
        order, resp_type = self.api.new_order(params, call)
        if self.faults and self.take_drop(order.spec):
            self.drop_all()
            return None
        count = self.api._count_order()
        out = self._reply(
            rid, 200, self.api._new_order_json(order, resp_type), rate, weight, orders=count
        )
        if call.hold:
            self.hold(sess, out, call.hold)
            return None
        return out

    # ---- authentication ----------------------------------------------------------------

    @staticmethod
    def _payload(params: dict[str, str]) -> str:
        return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")

    def _verify(self, params: dict[str, str]) -> str:
        """Per-request signature (HMAC or Ed25519); the API key."""
        key = params.get("apiKey", "")
        signature = params.get("signature")
        payload = self._payload(params)
        if self._ed_key is not None and key == self.ed25519_api_key:
            if not signature:
                raise BinanceReject(-1102, _mandatory("signature"))
            try:
                self._ed_key.verify(base64.b64decode(signature), payload.encode())
            except Exception as exc:  # InvalidSignature or a malformed base64 string
                raise BinanceReject(-1022, "Signature for this request is not valid.") from exc
            self.api.check_time(params)
            return key
        self.api.verify(key, payload, signature, params)
        return key

    def _authorize(self, sess: WsSession, params: dict[str, str]) -> None:
        """A signed request: explicit ``apiKey`` + ``signature``, or the logged-on session."""
        if "apiKey" in params or "signature" in params or not sess.authed:
            if not params.get("apiKey"):
                raise BinanceReject(-1102, _mandatory("apiKey"))
            self._verify(params)
            return
        self.api.check_time(params)

    def _logon(self, sess: WsSession, params: dict[str, str]) -> None:
        key = params.get("apiKey", "")
        if not key:
            raise BinanceReject(-1102, _mandatory("apiKey"))
        if self._ed_key is None or key != self.ed25519_api_key:
            # session.logon is for Ed25519 keys only: an HMAC (or unknown) key may not use it.
            raise BinanceReject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        self._verify(params)
        sess.key = key
        sess.authed_at = self.api.now_ms()
        sess.meta.pop("expired", None)

    # ---- user data stream --------------------------------------------------------------

    def _user_data(self, sess: WsSession, method: str, params: dict[str, str]) -> dict[str, Any]:
        if method == "userDataStream.subscribe.signature":
            if not params.get("apiKey"):
                raise BinanceReject(-1102, _mandatory("apiKey"))
            self._verify(params)
        elif method == "userDataStream.subscribe":
            if not sess.authed:
                raise BinanceReject(-2015, "Invalid API-key, IP, or permissions for action.", 401)
        else:  # unsubscribe (all, or one subscriptionId)
            want = params.get("subscriptionId")
            kept = [s for s in sess.subs
                    if want is not None and str(s["subscriptionId"]) != want]
            self._stream_subs -= len(sess.subs) - len(kept)
            sess.subs[:] = kept
            return {}
        sub = {"subscriptionId": self._next_sub}
        self._next_sub += 1
        sess.subs.append(sub)
        self._stream_subs += 1
        return sub

    def on_close(self, sess: WsSession) -> None:
        self._stream_subs -= len(sess.subs)
        sess.subs.clear()

    def _on_order(self, order: Order) -> None:
        """Matching-engine listener: the order's execution reports to every subscription."""
        if self._stream_subs <= 0:
            return
        if self.faults and self.take_stream_drop(order.spec):
            return
        events = self._execution_reports(order)
        for sess in self.sessions:
            if sess.closed:
                continue
            for sub in sess.subs:
                for ev in events:
                    sess.push(dumpb({"subscriptionId": sub["subscriptionId"], "event": ev}))

    def _execution_reports(self, o: Order) -> list[dict[str, Any]]:
        """NEW (first sight), one TRADE per fill not reported yet, then the final state."""
        done = o.meta.get("_reported")
        out: list[dict[str, Any]] = []
        now = self.api.now_ms()
        if done is None:
            done = o.meta["_reported"] = {"fills": 0, "final": False}
            out.append(self._report(o, "NEW", "NEW", None, now, 0, 0))
        cum = cost = 0
        fills = o.fills
        for i, f in enumerate(fills):
            cum += f.qty
            cost += f.quote
            if i < done["fills"]:
                continue
            last = i == len(fills) - 1
            status = _STREAM_STATUS[o.status] if last and o.status == "filled" else (
                "PARTIALLY_FILLED")
            out.append(self._report(o, "TRADE", status, f, now, cum, cost))
        done["fills"] = len(fills)
        if o.status in ("canceled", "expired", "rejected") and not done["final"]:
            done["final"] = True
            x = {"canceled": "CANCELED", "expired": "EXPIRED", "rejected": "REJECTED"}[o.status]
            out.append(self._report(o, x, x, None, now, o.filled, o.cost))
        return out

    def _report(self, o: Order, x: str, status: str, f: Any, now: int, cum: Any,
                cost: Any) -> dict[str, Any]:
        api = self.api
        return {
            "e": "executionReport", "E": now, "s": o.symbol, "c": o.client_id,
            "S": o.side.upper(), "o": api._type(o), "f": api._tif(o), "q": api._orig_qty(o),
            "p": f8(o.price), "P": "0.00000000", "F": "0.00000000", "g": -1, "C": "",
            "x": x, "X": status, "r": "NONE", "i": o.id,
            "l": f8(f.qty if f is not None else 0), "z": f8(cum),
            "L": f8(f.price if f is not None else 0),
            "n": f8(f.fee if f is not None else 0),
            "N": f.fee_asset if f is not None else None,
            "T": f.ts if f is not None else o.updated, "t": f.id if f is not None else -1,
            "v": 0, "I": o.id * 2 + (f.id if f is not None else 0),
            "w": o.is_open, "m": bool(f.maker) if f is not None else False, "M": False,
            "O": o.created, "Z": f8(cost), "Y": f8(f.quote if f is not None else 0),
            "Q": f8(o.quote_qty), "W": o.created, "V": "EXPIRE_MAKER",
        }

    def _session(self, sess: WsSession) -> dict[str, Any]:
        return {
            "apiKey": sess.key,
            "authorizedSince": sess.authed_at,
            "connectedSince": sess.connected_at,
            "returnRateLimits": bool(sess.meta.get("rate_limits", True)),
            "serverTime": self.api.now_ms(),
            "userDataStream": bool(sess.subs),
        }
