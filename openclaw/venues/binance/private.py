"""Binance spot user data over the WebSocket API (``/ws-api/v3``): ``executionReport``.

Since 2026-02-20 the REST listenKey endpoints (``/api/v3/userDataStream``) and
``userDataStream.start/ping/stop`` are gone (docs/venues/binance.md §user data): a session
subscribes with ``userDataStream.subscribe.signature`` (``apiKey``, ``timestamp``, HMAC-SHA256
``signature`` over the sorted params, any key type) and then receives
``{"subscriptionId", "event": {"e": "executionReport", ...}}``: ``c`` client id, ``i`` order
id, ``X`` status, ``z`` cumulative quantity, ``Z`` cumulative quote, ``l``/``n``/``N`` the last
trade's quantity and commission (Binance sends no cumulative commission).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

import orjson
import websockets

from openclaw.execution.stream import OrderUpdate, PrivateStream, StreamLoginError, dec

__all__ = ["BinancePrivateStream"]

_STATUS = {"NEW": "open", "PARTIALLY_FILLED": "open", "FILLED": "closed",
           "CANCELED": "canceled", "PENDING_CANCEL": "open", "EXPIRED": "expired",
           "EXPIRED_IN_MATCH": "expired", "REJECTED": "rejected"}


class BinancePrivateStream(PrivateStream):
    """``executionReport`` s of the account through a WS-API user data subscription."""

    venue = "binance"

    async def _handshake(self, ws: websockets.ClientConnection) -> None:
        params = {"apiKey": self._key, "timestamp": str(int(time.time() * 1000))}
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        params["signature"] = hmac.new(self._secret, payload.encode(), "sha256").hexdigest()
        frame = orjson.dumps({"id": "uds", "method": "userDataStream.subscribe.signature",
                              "params": params}).decode()
        reply = await self._request(ws, frame, lambda m: m.get("id") == "uds")
        if reply.get("status") != 200:
            err = reply.get("error") or {}
            raise StreamLoginError(f"binance {err.get('code')}: {err.get('msg')}")

    def parse(self, msg: dict[str, Any]) -> list[OrderUpdate]:
        ev = msg.get("event")
        if not isinstance(ev, dict) or ev.get("e") != "executionReport":
            return []
        filled = dec(ev.get("z"))
        cost = dec(ev.get("Z"))
        trade = ev.get("x") == "TRADE"
        return [OrderUpdate(
            client_id=str(ev.get("c") or ""), venue_order_id=str(ev.get("i")),
            status=_STATUS.get(str(ev.get("X")), "open"), filled=filled,
            average=cost / filled if filled else None,
            fee_asset=ev.get("N") if trade else None,
            last_qty=dec(ev.get("l")) if trade else dec(0),
            last_fee=dec(ev.get("n")) if trade else None)]
