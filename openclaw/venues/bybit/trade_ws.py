"""Bybit trade WebSocket (``/v5/trade``): ``auth``, then ``order.create`` and ``order.cancel``.

Formats (docs/fast-routes.md, from Bybit's "Websocket Trade Guideline"): auth is
``{"op":"auth","args":[apiKey, expires, signature]}`` with ``expires`` a future Unix time in ms
and ``signature`` = hex HMAC-SHA256(secret, "GET/realtime" + expires), answered by
``{"op":"auth","retCode":0,...}`` (10004 invalid sign, 10001 param error, 20001 repeat auth).
Requests are ``{"reqId","header":{"X-BAPI-TIMESTAMP","X-BAPI-RECV-WINDOW"},"op","args":[{...}]}``
(one order per request) answered by ``{"reqId","retCode","retMsg","op","data":{"orderId",
"orderLinkId"},"header":{...}}``. Keepalive: ``{"op":"ping"}`` every 20 s. The reply carries
ids only: fills come from the order query, as on ccxt.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from openclaw.execution.fast.base import (
    FastRoute,
    ReplyLost,
    VenueRejected,
    json_str,
    plain,
)
from openclaw.execution.fast.codes import MAYBE, RATE_LIMITED, venue_codes
from openclaw.model.orders import Order, OrderType

__all__ = ["BybitFastRoute", "bybit_auth_sign"]

_SIDE = {"buy": "Buy", "sell": "Sell"}
# the connection is not (or no longer) authenticated
_SESSION_CODES = frozenset({"10003"})
# Outcome of an error code: ccxt's own Bybit map (fast/codes.py: 170007 timeout may exist;
# 10006, 10018 ... rate limits; 10002 stale timestamp refused), plus Bybit-documented codes ccxt
# leaves generic: 10016 server error (may exist), 10403/10429/20003 rate limits (refused)
_MAYBE_EXTRA = frozenset({"10016"})
_RATE_EXTRA = frozenset({"10403", "10429", "20003"})


def bybit_auth_sign(secret: bytes, expires: int) -> str:
    """hex HMAC-SHA256(secret, 'GET/realtime' + expires)."""
    return hmac.new(secret, f"GET/realtime{expires}".encode(), "sha256").hexdigest()


class BybitFastRoute(FastRoute):
    """Bybit spot order entry over the authenticated trade WebSocket."""

    venue = "bybit"
    reply_id_key = "reqId"
    auth_ttl_ms = 10_000   # ``expires`` of the auth request, from now

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._codes = venue_codes("bybit")

    def _login_frame(self) -> bytes | None:
        expires = time.time_ns() // 1_000_000 + self.auth_ttl_ms
        sign = bybit_auth_sign(self._secret, expires)
        return f'{{"op":"auth","args":[{json_str(self._key)},{expires},"{sign}"]}}'.encode()

    def _is_login_reply(self, msg: dict[str, Any]) -> bool:
        return msg.get("op") == "auth"

    def _login_error(self, reply: dict[str, Any]) -> tuple[str, str] | None:
        if reply.get("retCode") == 0:
            return None
        return str(reply.get("retCode", "")), str(reply.get("retMsg", ""))

    def _is_keepalive(self, msg: dict[str, Any]) -> bool:
        return msg.get("op") == "pong"

    def _ping_frame(self) -> str | None:
        return '{"op":"ping"}'

    def _build_place(self, order: Order) -> tuple[str, bytes]:
        cid = order.client_id
        sym = self._symbols.get(order.symbol) or self.venue_symbol(order.symbol)
        side = _SIDE[order.side]
        qty = plain(order.qty)
        head = (f'{{"reqId":"{cid}","header":{{"X-BAPI-TIMESTAMP":"{time.time_ns() // 1_000_000}",'
                f'"X-BAPI-RECV-WINDOW":"{self.config.recv_window_ms}"}},"op":"order.create",'
                f'"args":[{{"category":"spot","symbol":"{sym}","side":"{side}",')
        if order.order_type is OrderType.LIMIT:
            frame = (f'{head}"orderType":"Limit","qty":"{qty}","price":"{plain(order.price)}",'
                     f'"timeInForce":"IOC","orderLinkId":"{cid}"}}]}}')
        else:
            frame = (f'{head}"orderType":"Market","qty":"{qty}","marketUnit":"baseCoin",'
                     f'"orderLinkId":"{cid}"}}]}}')
        return cid, frame.encode()

    def _result(self, msg: dict[str, Any]) -> dict[str, Any]:
        code = msg.get("retCode")
        if code == 0:
            data = msg.get("data")
            if not isinstance(data, dict) or not data.get("orderId"):
                raise ReplyLost("bybit: retCode 0 without an orderId")
            return {"id": str(data["orderId"]), "clientOrderId": data.get("orderLinkId") or None,
                    "status": None, "filled": None}
        code_s, text = str(code), str(msg.get("retMsg", ""))
        if code_s in _SESSION_CODES:
            self._session_lost(code_s)
        # ccxt's order: the message (broad) first, then the code
        if code_s in _MAYBE_EXTRA:
            kind: str | None = MAYBE
        elif code_s in _RATE_EXTRA:
            kind = RATE_LIMITED
        else:
            kind = self._codes.of_msg(text) or self._codes.of_code(code_s)
        if kind == MAYBE or code is None:
            raise ReplyLost(f"bybit {code_s}: {text}")
        raise VenueRejected("bybit", code_s, text, rate_limited=kind == RATE_LIMITED)

    def _parse_place(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return self._result(msg)

    def _build_cancel(self, order: Order, rid: str) -> tuple[str, bytes]:
        sym = self.venue_symbol(order.symbol)
        return rid, (f'{{"reqId":"{rid}","header":{{"X-BAPI-TIMESTAMP":'
                     f'"{time.time_ns() // 1_000_000}","X-BAPI-RECV-WINDOW":'
                     f'"{self.config.recv_window_ms}"}},"op":"order.cancel","args":[{{'
                     f'"category":"spot","symbol":"{sym}","orderLinkId":"{order.client_id}"}}]}}'
                     ).encode()

    def _parse_cancel(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return self._result(msg)
