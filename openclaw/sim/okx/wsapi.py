"""OKX v5 private WebSocket (``/ws/v5/private``) on an ``OkxSim``'s port: login, order entry
and the ``orders`` channel.

* ``{"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}`` with ``timestamp`` in
  Unix seconds (within 30 s of the venue clock) and ``sign`` =
  Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")) ->
  ``{"event":"login","code":"0","msg":"","connId"}``; failures are
  ``{"event":"error","code","msg","connId"}``: 60004 invalid timestamp, 60005 invalid apiKey,
  60006 timestamp expired, 60007 invalid sign, 60009 login failed (malformed args),
  60024 wrong passphrase.
* ``{"id","op":"order"|"batch-orders"|"cancel-order"|"batch-cancel-orders","args":[...]}``, each
  order identified by ``instIdCode`` (the integer of ``public/instruments``), not ``instId``:
  required by OKX production since 2026-03 (docs/venues/okx.md); an order without it fails with
  ``sCode`` 50014 "Parameter instIdCode can not be empty.", an unknown code with 51001 ->
  ``{"id","op","data":[{ordId, clOrdId, tag, ts, sCode, sMsg}],"code","msg","inTime",
  "outTime"}``; ``code`` "0" (all accepted), "1" (all failed), "2" (partly); per-order
  ``sCode``/``sMsg`` are the REST ones (same ``OkxTrading._place_one`` / ``_cancel_one``).
  Without a login: ``code`` 60011 "Please log in".
* ``{"op":"subscribe","args":[{"channel":"orders","instType":"SPOT"|"ANY","instId"?}]}``: every
  change of an order of this venue (placed over REST or WebSocket, filled by the market,
  cancelled) is pushed as ``{"arg":{"channel":"orders","instType","uid"},"data":[order]}``.
* text ``ping`` -> ``pong``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from openclaw.sim.engine.matching import Order
from openclaw.sim.engine.trading import RestFault
from openclaw.sim.engine.wsapi import WsApi, WsSession, dumpb
from openclaw.sim.okx.rest import OkxTrading, inst_id_code

if TYPE_CHECKING:
    from openclaw.sim.engine.base import VenueSim

__all__ = ["OkxWsApi"]

TIME_WINDOW_S = 30.0
UID = "448239284715012096"
_ORDER_OPS = frozenset({"order", "batch-orders"})
_CANCEL_OPS = frozenset({"cancel-order", "batch-cancel-orders"})


def _us() -> str:
    return str(time.time_ns() // 1000)


class OkxWsApi(WsApi):
    """OKX ``/ws/v5/private`` (see module docstring)."""

    venue = "okx"
    path = "/ws/v5/private"

    def __init__(self, server: VenueSim, trading: OkxTrading) -> None:
        super().__init__(server, trading)
        self.api: OkxTrading = trading
        self._order_subs = 0
        self.engine.listeners.append(self._on_order)

    # ---- replies -----------------------------------------------------------------------

    @staticmethod
    def _event_error(sess: WsSession, code: str, msg: str, rid: Any = None) -> bytes:
        out: dict[str, Any] = {}
        if rid is not None:
            out["id"] = rid
        out.update({"event": "error", "code": code, "msg": msg, "connId": sess.conn_id})
        return dumpb(out)

    @staticmethod
    def _op_reply(rid: Any, op: str, data: list[Any], code: str, msg: str, t_in: str) -> bytes:
        return dumpb(
            {
                "id": "" if rid is None else rid,
                "op": op,
                "data": data,
                "code": code,
                "msg": msg,
                "inTime": t_in,
                "outTime": _us(),
            }
        )

    def _fault_reply(self, rid: Any, op: str, fault: RestFault, t_in: str) -> bytes:
        if fault.kind == "rate_limit":
            return self._op_reply(rid, op, [], "50011", "Too Many Requests", t_in)
        status = fault.status or 503
        if status == 503:
            msg = "Service temporarily unavailable. Please try again later."
            return self._op_reply(rid, op, [], "50001", msg, t_in)
        return self._op_reply(rid, op, [], "50026", "System error. Try again later.", t_in)

    def internal_error(self, sess: WsSession, text: str) -> bytes | None:
        return self._event_error(sess, "50026", "System error. Try again later.")

    # ---- requests ----------------------------------------------------------------------

    def handle(self, sess: WsSession, text: str) -> bytes | None:
        if text == "ping":
            return b"pong"
        t_in = _us()
        try:
            req = orjson.loads(text)
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            return self._event_error(sess, "60012", f"Invalid request: {text[:200]}")
        op = req.get("op")
        rid = req.get("id")
        args = req.get("args")
        if op in _ORDER_OPS or op in _CANCEL_OPS:
            return self._trade(sess, rid, str(op), args, t_in)
        if op == "login":
            return self._login(sess, rid, args)
        if op in ("subscribe", "unsubscribe"):
            return self._subscribe(sess, rid, str(op), args)
        return self._event_error(sess, "60019", f"Invalid op: {op}", rid)

    def _trade(self, sess: WsSession, rid: Any, op: str, args: Any, t_in: str) -> bytes | None:
        placing = op in _ORDER_OPS
        call = self.call(True, placing)
        fault = self.request_fault(call)
        if fault is not None:
            return self._fault_reply(rid, op, fault, t_in)
        if not sess.authed:
            return self._op_reply(rid, op, [], "60011", "Please log in", t_in)
        single = op in ("order", "cancel-order")
        if not isinstance(args, list) or not args or (single and len(args) != 1) or len(args) > 20:
            return self._op_reply(rid, op, [], "60013", "Invalid args", t_in)
        refused = [self._by_code(a) for a in args]
        if placing:
            rows = [r or self.api._place_one(self._with_inst_id(a), call)
                    for r, a in zip(refused, args, strict=True)]
        else:
            rows = [r or self.api._cancel_one(self._with_inst_id(a))
                    for r, a in zip(refused, args, strict=True)]
        failed = sum(1 for r in rows if r["sCode"] != "0")
        if placing and self.faults:
            for row in rows:
                if row["ordId"]:
                    order = self.engine.find(order_id=row["ordId"])
                    if order is not None and self.take_drop(order.spec):
                        self.drop_all()
                        return None
        code = "0" if failed == 0 else ("1" if failed == len(rows) else "2")
        out = self._op_reply(rid, op, rows, code, "", t_in)
        if call.hold:
            self.hold(sess, out, call.hold)
            return None
        return out

    def _codes(self) -> dict[int, str]:
        codes: dict[int, str] | None = getattr(self, "_code_map", None)
        if codes is None:
            codes = {inst_id_code(s.venue_symbol): s.venue_symbol
                     for s in self.market.instruments(self.venue, "spot")}
            self._code_map = codes
        return codes

    def _by_code(self, arg: Any) -> dict[str, Any] | None:
        """The failed row of an order operation without a known ``instIdCode``, else None."""
        if not isinstance(arg, dict):
            return None
        code = arg.get("instIdCode")
        fail = None
        if code is None or code == "":
            fail = ("50014", "Parameter instIdCode can not be empty.")
        else:
            try:
                known = int(code) in self._codes()
            except (TypeError, ValueError):
                known = False
            if not known:
                fail = ("51001", "Instrument ID does not exist.")
        if fail is None:
            return None
        return {"clOrdId": str(arg.get("clOrdId") or ""), "ordId": "", "sCode": fail[0],
                "sMsg": fail[1], "tag": str(arg.get("tag") or ""), "ts": str(self.api.now_ms())}

    def _with_inst_id(self, arg: Any) -> Any:
        if not isinstance(arg, dict):
            return arg
        out = dict(arg)
        out["instId"] = self._codes()[int(arg["instIdCode"])]
        return out

    def _login(self, sess: WsSession, rid: Any, args: Any) -> bytes:
        if not isinstance(args, list) or not args:
            return self._event_error(sess, "60009", "Login failed.", rid)
        if len(args) > 1:
            msg = "This operation does not support multiple accounts login."
            return self._event_error(sess, "60021", msg, rid)
        arg = args[0]
        if not isinstance(arg, dict) or not all(
            isinstance(arg.get(k), str) and arg.get(k)
            for k in ("apiKey", "passphrase", "timestamp", "sign")
        ):
            return self._event_error(sess, "60009", "Login failed.", rid)
        api = self.api
        if arg["apiKey"] != api.api_key:
            return self._event_error(sess, "60005", "Invalid apiKey", rid)
        ts = arg["timestamp"]
        try:
            sent = float(ts)
        except ValueError:
            return self._event_error(sess, "60004", "Invalid timestamp", rid)
        if abs(api.now_ms() / 1000.0 - sent) > TIME_WINDOW_S:
            return self._event_error(sess, "60006", "Timestamp request expired", rid)
        if arg["passphrase"] != api.passphrase:
            return self._event_error(sess, "60024", "Wrong passphrase", rid)
        if not api.sign_ok(ts + "GET" + "/users/self/verify", arg["sign"]):
            return self._event_error(sess, "60007", "Invalid sign", rid)
        sess.key = arg["apiKey"]
        sess.authed_at = api.now_ms()
        sess.meta.pop("expired", None)
        out: dict[str, Any] = {}
        if rid is not None:
            out["id"] = rid
        out.update({"event": "login", "code": "0", "msg": "", "connId": sess.conn_id})
        return dumpb(out)

    # ---- orders channel ----------------------------------------------------------------

    def _subscribe(self, sess: WsSession, rid: Any, op: str, args: Any) -> bytes:
        if not isinstance(args, list) or not args:
            return self._event_error(sess, "60013", "Invalid args", rid)
        if not sess.authed:
            return self._event_error(sess, "60011", "Please log in", rid)
        acks: list[bytes] = []
        for arg in args:
            if not isinstance(arg, dict) or arg.get("channel") != "orders":
                ch = arg.get("channel") if isinstance(arg, dict) else arg
                return self._event_error(
                    sess, "60018", f"Wrong URL or channel:{ch} doesn't exist.", rid
                )
            inst_type = arg.get("instType")
            if inst_type not in ("SPOT", "ANY", "MARGIN", "SWAP", "FUTURES", "OPTION"):
                return self._event_error(sess, "60013", "Invalid args", rid)
            sub = {k: arg[k] for k in ("channel", "instType", "instId") if arg.get(k)}
            if op == "subscribe":
                if sub not in sess.subs:
                    sess.subs.append(sub)
                    self._order_subs += 1
            elif sub in sess.subs:
                sess.subs.remove(sub)
                self._order_subs -= 1
            ack: dict[str, Any] = {}
            if rid is not None:
                ack["id"] = rid
            ack.update({"event": op, "arg": sub, "connId": sess.conn_id})
            acks.append(dumpb(ack))
        for extra in acks[1:]:
            sess.push(extra)
        return acks[0]

    def on_close(self, sess: WsSession) -> None:
        self._order_subs -= len(sess.subs)
        sess.subs.clear()

    def _on_order(self, order: Order) -> None:
        """Matching-engine listener: push the order to every ``orders`` subscriber."""
        if self._order_subs <= 0:
            return
        if self.faults and self.take_stream_drop(order.spec):
            return
        row: dict[str, Any] | None = None
        for sess in self.sessions:
            if not sess.subs or not sess.authed or sess.closed:
                continue
            for sub in sess.subs:
                if sub["instType"] not in ("SPOT", "ANY"):
                    continue
                if sub.get("instId") not in (None, order.symbol):
                    continue
                if row is None:
                    row = self._push_row(order)
                arg = {"channel": "orders", "instType": sub["instType"], "uid": UID}
                if "instId" in sub:
                    arg["instId"] = sub["instId"]
                sess.push(dumpb({"arg": arg, "data": [row]}))
                break

    def _push_row(self, order: Order) -> dict[str, Any]:
        row = self.api.order_json(order)
        last = order.fills[-1] if order.fills else None
        row.update(
            {
                "amendResult": "",
                "code": "0",
                "execType": "" if last is None else ("M" if last.maker else "T"),
                "fillFee": "0" if last is None or not last.fee else f"-{last.fee.normalize():f}",
                "fillFeeCcy": "" if last is None else last.fee_asset,
                "fillNotionalUsd": "",
                "msg": "",
                "notionalUsd": "",
                "reqId": "",
            }
        )
        return row
