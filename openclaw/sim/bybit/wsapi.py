"""Bybit v5 trade WebSocket (``/v5/trade``) on a ``BybitSim``'s port.

* ``{"reqId"?,"op":"auth","args":[apiKey, expires, signature]}`` with ``signature`` = hex
  HMAC-SHA256(secret, "GET/realtime" + expires) and ``expires`` (ms) in the future ->
  ``{"reqId"?,"retCode":0,"retMsg":"OK","op":"auth","connId"}``; failures: 10003 invalid key,
  10004 invalid sign, 10001 params error (malformed or expired ``expires``), 20001 repeat auth.
* ``{"reqId","header":{"X-BAPI-TIMESTAMP","X-BAPI-RECV-WINDOW"?},"op":"order.create"|
  "order.cancel","args":[{category:"spot", ...}]}`` (one order per request, the REST
  ``/v5/order/create`` / ``cancel`` parameters, same checks and codes as ``BybitTrading``) ->
  ``{"reqId","retCode","retMsg","op","data":{"orderId","orderLinkId"},"retExtInfo":{},
  "header":{"X-Bapi-Limit","X-Bapi-Limit-Status","X-Bapi-Limit-Reset-Timestamp","Traceid",
  "Timenow"},"connId"}``; a failure has ``data: {}``.  ``X-BAPI-TIMESTAMP`` outside
  ``[now - recvWindow, now + 1 s)`` -> 10002; a ``reqId`` used before on the connection -> 20006;
  no auth -> 10003 (our choice, see README).
* ``{"op":"ping"}`` -> ``{"retCode":0,"retMsg":"OK","op":"pong","data":[ms],"connId"}``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import orjson

from openclaw.sim.bybit.rest import BybitFail, BybitTrading
from openclaw.sim.engine.trading import Call, RestFault
from openclaw.sim.engine.wsapi import WsApi, WsSession, dumpb

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim

__all__ = ["BybitWsApi"]

_TRADE_OPS = frozenset({"order.create", "order.cancel", "order.amend"})
MAX_REQ_IDS = 10_000


class BybitWsApi(WsApi):
    """Bybit ``/v5/trade`` (see module docstring)."""

    venue = "bybit"
    path = "/v5/trade"

    def __init__(self, server: VenueSim, trading: BybitTrading) -> None:
        super().__init__(server, trading)
        self.api: BybitTrading = trading

    def on_open(self, sess: WsSession) -> None:
        sess.conn_id = os.urandom(10).hex() + "-" + os.urandom(1).hex()
        sess.meta["req_ids"] = set()

    # ---- replies -----------------------------------------------------------------------

    def _simple(self, sess: WsSession, rid: Any, op: str, code: int, msg: str) -> bytes:
        out: dict[str, Any] = {}
        if rid is not None:
            out["reqId"] = rid
        out.update({"retCode": code, "retMsg": msg, "op": op, "connId": sess.conn_id})
        return dumpb(out)

    def _trade_reply(
        self, sess: WsSession, rid: Any, op: str, code: int, msg: str, data: dict[str, Any]
    ) -> bytes:
        now = self.api.now_ms()
        out: dict[str, Any] = {}
        if rid is not None:
            out["reqId"] = rid
        out.update(
            {
                "retCode": code,
                "retMsg": msg,
                "op": op,
                "data": data,
                "retExtInfo": {},
                "header": {
                    "X-Bapi-Limit": "20",
                    "X-Bapi-Limit-Status": "19" if code != 10006 else "0",
                    "X-Bapi-Limit-Reset-Timestamp": str(now + 1000),
                    "Traceid": os.urandom(16).hex(),
                    "Timenow": str(now),
                },
                "connId": sess.conn_id,
            }
        )
        return dumpb(out)

    def _fault_reply(self, sess: WsSession, rid: Any, op: str, fault: RestFault) -> bytes:
        if fault.kind == "rate_limit":
            msg = "Too many visits. Exceeded the API Rate Limit."
            return self._trade_reply(sess, rid, op, 10006, msg, {})
        return self._trade_reply(sess, rid, op, 10016, "Internal server error.", {})

    def internal_error(self, sess: WsSession, text: str) -> bytes | None:
        return self._simple(sess, None, "", 10016, "Internal server error.")

    # ---- requests ----------------------------------------------------------------------

    def handle(self, sess: WsSession, text: str) -> bytes | None:
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            return self._simple(sess, None, "", 10001, "Params Error")
        op = req.get("op")
        rid = req.get("reqId")
        if op in _TRADE_OPS:
            return self._trade(sess, rid, str(op), req)
        if op == "ping":
            out: dict[str, Any] = {}
            if rid is not None:
                out["reqId"] = rid
            out.update(
                {
                    "retCode": 0,
                    "retMsg": "OK",
                    "op": "pong",
                    "data": [str(self.api.now_ms())],
                    "connId": sess.conn_id,
                }
            )
            return dumpb(out)
        if op == "auth":
            return self._auth(sess, rid, req.get("args"))
        return self._simple(sess, rid, str(op), 10001, f"Params Error: unknown op {op}")

    def _auth(self, sess: WsSession, rid: Any, args: Any) -> bytes:
        if sess.authed:
            return self._simple(sess, rid, "auth", 20001, "Repeat auth")
        if not isinstance(args, list) or len(args) != 3:
            return self._simple(sess, rid, "auth", 10001, "Params Error")
        key, expires, sign = args
        api = self.api
        if not isinstance(key, str) or key != api.api_key:
            return self._simple(sess, rid, "auth", 10003, "Invalid apikey")
        exp_text = str(expires)
        if not exp_text.isdigit() or int(exp_text) <= api.now_ms() or not isinstance(sign, str):
            return self._simple(sess, rid, "auth", 10001, "Params Error")
        if not api.sign_ok("GET/realtime" + exp_text, sign):
            return self._simple(sess, rid, "auth", 10004, "Invalid sign")
        sess.key = key
        sess.authed_at = api.now_ms()
        sess.meta.pop("expired", None)
        return self._simple(sess, rid, "auth", 0, "OK")

    def _trade(self, sess: WsSession, rid: Any, op: str, req: dict[str, Any]) -> bytes | None:
        if rid is not None:
            seen: set[Any] = sess.meta["req_ids"]
            if rid in seen:
                return self._trade_reply(sess, rid, op, 20006, "reqId is duplicated", {})
            if len(seen) >= MAX_REQ_IDS:
                seen.clear()
            seen.add(rid)
        creating = op == "order.create"
        call = self.call(True, creating)
        fault = self.request_fault(call)
        if fault is not None:
            return self._fault_reply(sess, rid, op, fault)
        if not sess.authed:
            return self._trade_reply(sess, rid, op, 10003, "Request not authorized", {})
        header = req.get("header")
        if not isinstance(header, dict) or "X-BAPI-TIMESTAMP" not in header:
            msg = "Params Error: header X-BAPI-TIMESTAMP is required"
            return self._trade_reply(sess, rid, op, 10001, msg, {})
        ts = str(header["X-BAPI-TIMESTAMP"])
        window = str(header.get("X-BAPI-RECV-WINDOW", "5000"))
        if not ts.isdigit() or not window.isdigit():
            msg = "invalid request, please check your server timestamp or recv_window param"
            return self._trade_reply(sess, rid, op, 10002, msg, {})
        stale = self.api.time_error(ts, window)
        if stale is not None:
            return self._trade_reply(sess, rid, op, 10002, stale, {})
        args = req.get("args")
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            return self._trade_reply(sess, rid, op, 10001, "Params Error", {})
        if op == "order.amend":
            return self._trade_reply(sess, rid, op, 10001, "order.amend is not simulated", {})
        return self._order(sess, rid, op, args[0], call)

    def _order(
        self, sess: WsSession, rid: Any, op: str, p: dict[str, Any], call: Call
    ) -> bytes | None:
        try:
            if op == "order.create":
                order = self.api.create_order(p, call)
                if self.faults and self.take_drop(order.spec):
                    self.drop_all()
                    return None
            else:
                order = self.api.cancel_order(p)
        except BybitFail as exc:
            return self._trade_reply(sess, rid, op, exc.code, exc.msg, {})
        data = {"orderId": str(order.id), "orderLinkId": order.client_id}
        out = self._trade_reply(sess, rid, op, 0, "OK", data)
        if call.hold:
            self.hold(sess, out, call.hold)
            return None
        return out
