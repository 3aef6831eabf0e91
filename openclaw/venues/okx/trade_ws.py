"""OKX private WebSocket (``/ws/v5/private``): ``login``, then ``order`` and ``cancel-order``.

Formats (docs/fast-routes.md, from the OKX v5 API documentation): login is
``{"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}`` with ``timestamp`` in Unix
seconds and ``sign`` = Base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify")); the
answer is ``{"event":"login","code":"0",...}`` or ``{"event":"error","code":"60009",...}``.
Orders are ``{"id","op":"order","args":[{...}]}`` answered by ``{"id","op","code","msg",
"data":[{"ordId","clOrdId","sCode","sMsg",...}]}`` (``code`` "1": the order failed, see
``sCode``). Keepalive: the text ``ping`` answered by ``pong`` (the venue drops a connection
silent for 30 s). The reply carries ids only: fills come from the order query, as on ccxt.

Since 2026-03 OKX production refuses WebSocket order operations that name the instrument by
``instId``: they carry ``instIdCode``, the integer of ``public/instruments`` (docs/venues/okx.md
§instIdCode). The codes come from the ccxt markets the route is given at start
(``use_markets``); an instrument without a code goes through ccxt (``RouteDown``: nothing sent).
"""

from __future__ import annotations

import base64
import hmac
import time
from typing import Any

from openclaw.execution.fast.base import (
    FastRoute,
    ReplyLost,
    RouteDown,
    VenueRejected,
    json_str,
    plain,
)
from openclaw.execution.fast.codes import MAYBE, RATE_LIMITED, venue_codes
from openclaw.model.orders import Order, OrderType

__all__ = ["OkxFastRoute", "okx_login_sign"]

# the request was not processed because the connection is not (or no longer) logged in
_SESSION_CODES = frozenset({"60011"})
# Outcome of an error code: ccxt's own OKX map (fast/codes.py: 50001, 50004, 50005, 50013, 50026
# ... may exist; 50011, 60014 ... rate limits), plus OKX-documented codes ccxt does not map:
# 51149 "order timed out" (may exist), 50061 sub-account rate limit (refused)
_MAYBE_EXTRA = frozenset({"51149"})
_RATE_EXTRA = frozenset({"50061"})


def okx_login_sign(secret: bytes, timestamp: str) -> str:
    """Base64(HMAC-SHA256(secret, timestamp + 'GET' + '/users/self/verify'))."""
    mac = hmac.new(secret, f"{timestamp}GET/users/self/verify".encode(), "sha256")
    return base64.b64encode(mac.digest()).decode()


class OkxFastRoute(FastRoute):
    """OKX spot order entry over the logged-in private WebSocket."""

    venue = "okx"
    symbol_sep = "-"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self._passphrase:
            raise ValueError("okx: the fast route needs the API passphrase")
        self._codes = venue_codes("okx")
        self.inst_codes: dict[str, int] = {}     # unified symbol -> instIdCode

    def use_markets(self, markets: dict[str, Any]) -> None:
        """Take each spot market's ``instIdCode`` from ccxt's markets (``load_markets``)."""
        for symbol, m in markets.items():
            code = m.get("instIdCode")
            if code is None:
                code = (m.get("info") or {}).get("instIdCode")
            if code not in (None, ""):
                self.inst_codes[symbol] = int(code)

    def _inst_code(self, order: Order) -> int:
        code = self.inst_codes.get(order.symbol)
        if code is None:
            raise RouteDown(f"okx: no instIdCode known for {order.symbol}")
        return code

    def _login_frame(self) -> bytes | None:
        ts = str(int(time.time()))
        sign = okx_login_sign(self._secret, ts)
        return (f'{{"op":"login","args":[{{"apiKey":{json_str(self._key)},'
                f'"passphrase":{json_str(self._passphrase)},"timestamp":"{ts}",'
                f'"sign":"{sign}"}}]}}').encode()

    def _is_login_reply(self, msg: dict[str, Any]) -> bool:
        return msg.get("event") in ("login", "error") and "id" not in msg

    def _login_error(self, reply: dict[str, Any]) -> tuple[str, str] | None:
        if reply.get("event") == "login" and str(reply.get("code")) == "0":
            return None
        return str(reply.get("code", "")), str(reply.get("msg", ""))

    def _unsolicited(self, msg: dict[str, Any]) -> None:
        # live OKX may report "Please log in" as an event:error frame without the request id:
        # log in again at once (the order itself then times out and is resolved by a query)
        if msg.get("event") == "error" and str(msg.get("code")) in _SESSION_CODES:
            self._session_lost(str(msg.get("code")))
        super()._unsolicited(msg)

    def _ping_frame(self) -> str | None:
        return "ping"

    def _build_place(self, order: Order) -> tuple[str, bytes]:
        cid = order.client_id
        inst = self._inst_code(order)
        qty = plain(order.qty)
        if order.order_type is OrderType.LIMIT:
            frame = (f'{{"id":"{cid}","op":"order","args":[{{"instIdCode":{inst},'
                     f'"tdMode":"cash","side":"{order.side.value}","ordType":"ioc",'
                     f'"px":"{plain(order.price)}","sz":"{qty}","clOrdId":"{cid}"}}]}}')
        else:
            frame = (f'{{"id":"{cid}","op":"order","args":[{{"instIdCode":{inst},'
                     f'"tdMode":"cash","side":"{order.side.value}","ordType":"market",'
                     f'"sz":"{qty}","tgtCcy":"base_ccy","clOrdId":"{cid}"}}]}}')
        return cid, frame.encode()

    def _result(self, msg: dict[str, Any]) -> dict[str, Any]:
        code = str(msg.get("code", ""))
        data = msg.get("data")
        first = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        if code == "0":
            if str(first.get("sCode", "0")) != "0":
                raise VenueRejected("okx", str(first.get("sCode")), str(first.get("sMsg", "")))
            oid = first.get("ordId")
            if not oid:
                raise ReplyLost("okx: code 0 without an ordId")
            return {"id": str(oid), "clientOrderId": first.get("clOrdId") or None,
                    "status": None, "filled": None}
        if code in ("1", "2") and first:
            s_code, s_msg = str(first.get("sCode", "")), str(first.get("sMsg", ""))
            # ccxt's order: the order's sCode, its sMsg (broad), then the top-level code
            kind = self._kind(s_code) or self._codes.of_msg(s_msg) or self._kind(code)
            if kind == MAYBE:
                raise ReplyLost(f"okx {s_code}: {s_msg}")
            raise VenueRejected("okx", s_code, s_msg, rate_limited=kind == RATE_LIMITED)
        text = str(msg.get("msg", ""))
        if code in _SESSION_CODES:
            self._session_lost(code)
        kind = self._kind(code) or self._codes.of_msg(text)
        if kind == MAYBE:
            raise ReplyLost(f"okx {code}: {text}")
        raise VenueRejected("okx", code, text, rate_limited=kind == RATE_LIMITED)

    def _kind(self, code: str) -> str | None:
        """The outcome of an OKX code (codes.py), None when neither ccxt nor we map it."""
        if code in _MAYBE_EXTRA:
            return MAYBE
        if code in _RATE_EXTRA:
            return RATE_LIMITED
        return self._codes.of_code(code)

    def _parse_place(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return self._result(msg)

    def _build_cancel(self, order: Order, rid: str) -> tuple[str, bytes]:
        inst = self._inst_code(order)
        return rid, (f'{{"id":"{rid}","op":"cancel-order","args":[{{"instIdCode":{inst},'
                     f'"clOrdId":"{order.client_id}"}}]}}').encode()

    def _parse_cancel(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return self._result(msg)
