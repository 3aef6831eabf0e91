"""OKX ``orders`` channel on the private WebSocket (``/ws/v5/private``): login as the trading
route does, ``{"op":"subscribe","args":[{"channel":"orders","instType":"SPOT"}]}``, then
``{"arg":{"channel":"orders",...},"data":[order]}`` with ``state``, ``accFillSz``, ``avgPx``
and the cumulative ``fee`` (negative when charged) in ``feeCcy`` (docs/venues/okx.md)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import websockets

from openclaw.execution.stream import OrderUpdate, PrivateStream, StreamLoginError, dec
from openclaw.venues.okx.trade_ws import okx_login_sign

__all__ = ["OkxPrivateStream"]

_STATUS = {"live": "open", "partially_filled": "open", "filled": "closed",
           "canceled": "canceled", "mmp_canceled": "canceled"}


class OkxPrivateStream(PrivateStream):
    """Order updates of the account from the ``orders`` channel."""

    venue = "okx"

    def _ping_frame(self) -> str | None:
        return "ping"

    async def _handshake(self, ws: websockets.ClientConnection) -> None:
        if not self._passphrase:
            raise ValueError("okx: the private stream needs the API passphrase")
        ts = str(int(time.time()))
        login = {"op": "login", "args": [{
            "apiKey": self._key, "passphrase": self._passphrase, "timestamp": ts,
            "sign": okx_login_sign(self._secret, ts)}]}
        reply = await self._request(ws, orjson.dumps(login).decode(),
                                    lambda m: m.get("event") in ("login", "error"))
        if reply.get("event") != "login" or str(reply.get("code")) != "0":
            raise StreamLoginError(f"okx {reply.get('code')}: {reply.get('msg')}")
        sub = {"op": "subscribe", "args": [{"channel": "orders", "instType": "SPOT"}]}
        reply = await self._request(ws, orjson.dumps(sub).decode(),
                                    lambda m: m.get("event") in ("subscribe", "error"))
        if reply.get("event") != "subscribe":
            raise StreamLoginError(f"okx {reply.get('code')}: {reply.get('msg')}")

    def parse(self, msg: dict[str, Any]) -> list[OrderUpdate]:
        arg = msg.get("arg")
        data = msg.get("data")
        if not isinstance(arg, dict) or arg.get("channel") != "orders" or not isinstance(
                data, list):
            return []
        out = []
        for d in data:
            if not isinstance(d, dict) or not d.get("clOrdId"):
                continue
            filled = dec(d.get("accFillSz"))
            fee = dec(d.get("fee"))
            out.append(OrderUpdate(
                client_id=str(d["clOrdId"]), venue_order_id=str(d.get("ordId")),
                status=_STATUS.get(str(d.get("state")), "open"), filled=filled,
                average=dec(d.get("avgPx")) if filled and d.get("avgPx") else None,
                fee_cost=-fee, fee_asset=d.get("feeCcy") or None))
        return out
