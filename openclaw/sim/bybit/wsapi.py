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
from openclaw.sim.engine.matching import Order
from openclaw.sim.engine.trading import Call, RestFault
from openclaw.sim.engine.wsapi import WsApi, WsSession, dumpb

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim

__all__ = ["BybitPrivateWsApi", "BybitWsApi"]

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


class BybitPrivateWsApi(WsApi):
    """Bybit's private stream ``/v5/private``: ``auth`` as on ``/v5/trade`` (answered
    ``{"success","ret_msg","op":"auth","conn_id"}``), then ``{"op":"subscribe","args":["order",
    "execution"]}``; every change of an order of the account (any route) is pushed as
    ``{"id","topic":"execution","creationTime","data":[fill...]}`` (one row per new fill, the
    ``/v5/execution/list`` row) followed by ``{"id","topic":"order","creationTime","data":[order]}``
    (the ``/v5/order/realtime`` row), both with ``category`` "spot". ``{"op":"ping"}`` ->
    ``{"op":"pong","args":[ms],"conn_id"}``."""

    venue = "bybit"
    path = "/v5/private"
    TOPICS = ("order", "execution")

    def __init__(self, server: VenueSim, trading: BybitTrading) -> None:
        super().__init__(server, trading)
        self.api: BybitTrading = trading
        self._subs = 0
        self.engine.listeners.append(self._on_order)

    def on_open(self, sess: WsSession) -> None:
        sess.conn_id = os.urandom(10).hex() + "-" + os.urandom(1).hex()

    def _ack(self, sess: WsSession, rid: Any, op: str, ok: bool, msg: str = "") -> bytes:
        out: dict[str, Any] = {"success": ok, "ret_msg": msg, "op": op, "conn_id": sess.conn_id}
        if rid is not None:
            out["req_id"] = rid
        return dumpb(out)

    def internal_error(self, sess: WsSession, text: str) -> bytes | None:
        return self._ack(sess, None, "", False, "Internal server error.")

    def handle(self, sess: WsSession, text: str) -> bytes | None:
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            return self._ack(sess, None, "", False, "Params Error")
        op, rid, args = req.get("op"), req.get("req_id"), req.get("args")
        if op == "ping":
            return dumpb({"req_id": rid or "", "op": "pong", "args": [str(self.api.now_ms())],
                          "conn_id": sess.conn_id})
        if op == "auth":
            if sess.authed:
                return self._ack(sess, rid, "auth", False, "Repeat auth")
            if not isinstance(args, list) or len(args) != 3:
                return self._ack(sess, rid, "auth", False, "Params Error")
            key, expires, sign = args
            api = self.api
            if not isinstance(key, str) or key != api.api_key:
                return self._ack(sess, rid, "auth", False, "Invalid apikey")
            exp = str(expires)
            if not exp.isdigit() or int(exp) <= api.now_ms() or not isinstance(sign, str):
                return self._ack(sess, rid, "auth", False, "Params Error")
            if not api.sign_ok("GET/realtime" + exp, sign):
                return self._ack(sess, rid, "auth", False, "Invalid sign")
            sess.key = key
            sess.authed_at = api.now_ms()
            return self._ack(sess, rid, "auth", True)
        if op in ("subscribe", "unsubscribe"):
            if not isinstance(args, list) or not args:
                return self._ack(sess, rid, str(op), False, "Params Error")
            bad = [a for a in args if a not in self.TOPICS]
            if bad:
                msg = f"error:handler not found,topic:{bad[0]}"
                return self._ack(sess, rid, str(op), False, msg)
            if not sess.authed:
                return self._ack(sess, rid, str(op), False, "Request not authorized")
            for topic in args:
                sub = {"topic": topic}
                if op == "subscribe" and sub not in sess.subs:
                    sess.subs.append(sub)
                    self._subs += 1
                elif op == "unsubscribe" and sub in sess.subs:
                    sess.subs.remove(sub)
                    self._subs -= 1
            return self._ack(sess, rid, str(op), True)
        return self._ack(sess, rid, str(op), False, f"Params Error: unknown op {op}")

    def on_close(self, sess: WsSession) -> None:
        self._subs -= len(sess.subs)
        sess.subs.clear()

    def _on_order(self, order: Order) -> None:
        """Matching-engine listener: new fills to ``execution``, the order to ``order``."""
        if self._subs <= 0:
            return
        if self.faults and self.take_stream_drop(order.spec):
            return
        done = order.meta.get("bybit_stream_fills", 0)
        order.meta["bybit_stream_fills"] = len(order.fills)
        now = self.api.now_ms()
        frames: dict[str, list[bytes]] = {"execution": [], "order": []}
        new = order.fills[done:]
        if new:
            rows = [{"category": "spot", **self.api._exec_json(f)} for f in new]
            frames["execution"].append(dumpb({"id": os.urandom(16).hex(), "topic": "execution",
                                              "creationTime": now, "data": rows}))
        row = {"category": "spot", **self.api.order_json(order)}
        frames["order"].append(dumpb({"id": os.urandom(16).hex(), "topic": "order",
                                      "creationTime": now, "data": [row]}))
        for sess in self.sessions:
            if sess.closed or not sess.authed:
                continue
            for topic in self.TOPICS[::-1]:                # execution first, as Bybit sends
                if {"topic": topic} in sess.subs:
                    for frame in frames[topic]:
                        sess.push(frame)
