"""Binance spot WebSocket API (``/ws-api/v3``): ``order.place``, ``order.cancel``,
``order.status``, each signed per request with HMAC-SHA256, or - with an Ed25519 key - one
``session.logon`` per connection after which requests carry no key and no signature.

Formats (docs/fast-routes.md, from binance-spot-api-docs ``web-socket-api.md``): a request is
``{"id", "method", "params"}``; a SIGNED request carries ``apiKey``, ``timestamp``,
``recvWindow`` and ``signature`` = hex HMAC-SHA256 of every other param as ``k=v`` joined by
``&`` **sorted by name**. Replies are ``{"id", "status", "result"}`` or ``{"id", "status",
"error": {"code", "msg"}}``; status 4xx means refused, 5xx means the outcome is unknown.
``session.logon`` exists only for Ed25519 keys, so with HMAC keys there is no login: every
request is signed (the templates below are already in sorted order, one HMAC per order). With an
``Ed25519Key`` the route logs on at every (re)connect: ``session.logon`` with ``apiKey``,
``timestamp`` and ``signature`` = Base64(Ed25519 signature of ``apiKey=...&timestamp=...``); on a
logged-on session a SIGNED request needs only ``timestamp`` (binance-spot-api-docs
``web-socket-api.md``, "Session Authentication"). The private key is read once from a PEM file
(``Ed25519Key.from_file``) and is never logged nor shown in a repr.
"""

from __future__ import annotations

import base64
import logging
import time
from decimal import Decimal
from pathlib import Path
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

__all__ = ["BinanceFastRoute", "Ed25519Key", "binance_unified"]

log = logging.getLogger("openclaw.execution.fast")

_STATUS = {
    "NEW": "open",
    "PARTIALLY_FILLED": "open",
    "PENDING_NEW": "open",
    "PENDING_CANCEL": "open",
    "FILLED": "closed",
    "CANCELED": "canceled",
    "REJECTED": "rejected",
    "EXPIRED": "expired",
    "EXPIRED_IN_MATCH": "expired",
}
_SIDE = {"buy": "BUY", "sell": "SELL"}


def binance_unified(result: dict[str, Any]) -> dict[str, Any]:
    """A Binance order record (FULL/RESULT reply, query, cancel) in ccxt's unified shape."""
    oid = result.get("orderId")
    if oid is None:
        raise ReplyLost("binance: reply without an orderId")
    executed = result.get("executedQty")
    avg = None
    if executed is not None and Decimal(executed) > 0:
        cq = result.get("cummulativeQuoteQty")
        if cq is None or Decimal(cq) <= 0:
            raise ReplyLost("binance: filled reply without cummulativeQuoteQty")
        avg = Decimal(cq) / Decimal(executed)
    fee = None
    fills = result.get("fills")
    if fills:
        costs: dict[str, Decimal] = {}
        for f in fills:
            asset = f.get("commissionAsset")
            if asset:
                costs[asset] = costs.get(asset, Decimal(0)) + Decimal(f.get("commission", "0"))
        if len(costs) == 1:
            (asset, cost), = costs.items()
            fee = {"cost": cost, "currency": asset}
        elif len(costs) > 1:
            raise ReplyLost(f"binance: fees in several assets {sorted(costs)} (not supported)")
    status = result.get("status")
    unified = _STATUS.get(status) if status else None
    if status and unified is None:
        # never a guess: an order in a state we do not know is UNKNOWN until a query answers
        log.warning("binance: order %s in unknown status %r", oid, status)
        raise ReplyLost(f"binance: order {oid} in unknown status {status!r}")
    return {"id": str(oid), "clientOrderId": result.get("clientOrderId"),
            "status": unified,
            "filled": executed, "average": avg, "fee": fee}


class Ed25519Key:
    """A Binance Ed25519 API key: its API key string and the private key (``session.logon``).

    Neither is shown by ``repr``/``str``; errors name the file, never its content.
    """

    __slots__ = ("_private", "api_key")

    def __init__(self, api_key: str, private_key: Any) -> None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        if not api_key:
            raise ValueError("binance: an Ed25519 key needs its API key")
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("binance: session.logon needs an Ed25519 private key")
        self.api_key = api_key
        self._private = private_key

    @classmethod
    def from_file(cls, api_key: str, path: str | Path, password: bytes | None = None
                  ) -> Ed25519Key:
        """Read a PEM (PKCS#8) Ed25519 private key file (blocking: call it before trading or
        through ``asyncio.to_thread``). Raises ``ValueError`` naming the file only."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as e:
            raise ValueError(f"binance: cannot read the Ed25519 key file {p}: "
                             f"{e.strerror or type(e).__name__}") from None
        try:
            key = load_pem_private_key(data, password)
        except (ValueError, TypeError):
            raise ValueError(f"binance: {p} is not a readable PEM private key "
                             "(wrong format or password)") from None
        finally:
            del data
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"binance: {p} holds a {type(key).__name__}, not an Ed25519 key")
        return cls(api_key, key)

    def public_pem(self) -> bytes:
        """The public half (PEM SubjectPublicKeyInfo): what the venue (or simulator) is given."""
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self._private.public_key().public_bytes(Encoding.PEM,
                                                       PublicFormat.SubjectPublicKeyInfo)

    def sign_b64(self, payload: bytes) -> str:
        """Base64 of the Ed25519 signature of ``payload``."""
        return base64.b64encode(self._private.sign(payload)).decode()

    def __repr__(self) -> str:
        return "Ed25519Key(api_key=***, private_key=***)"

    __str__ = __repr__


class BinanceFastRoute(FastRoute):
    """Binance spot order entry over the WebSocket API: per-request HMAC signatures, or one
    Ed25519 ``session.logon`` per connection (``ed25519=``)."""

    venue = "binance"

    def __init__(self, *args: Any, ed25519: Ed25519Key | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ed25519 = ed25519
        self._key_json = json_str(self._key)
        self._codes = venue_codes("binance")
        self._logon_rid: str | None = None

    @property
    def session_logon(self) -> bool:
        """True when the route logs on with Ed25519 (requests then carry no signature)."""
        return self._ed25519 is not None

    # ---- Ed25519 session.logon ------------------------------------------------------------

    def _login_frame(self) -> bytes | None:
        ed = self._ed25519
        if ed is None:
            return None                 # HMAC keys: every request is signed instead
        rid = self._logon_rid = self._next_rid()
        ts = time.time_ns() // 1_000_000
        rw = self.config.recv_window_ms
        sig = ed.sign_b64(f"apiKey={ed.api_key}&recvWindow={rw}&timestamp={ts}".encode())
        return (f'{{"id":"{rid}","method":"session.logon","params":{{"apiKey":'
                f'{json_str(ed.api_key)},"recvWindow":{rw},"signature":"{sig}",'
                f'"timestamp":{ts}}}}}').encode()

    def _is_login_reply(self, msg: dict[str, Any]) -> bool:
        return self._logon_rid is not None and msg.get("id") == self._logon_rid

    def _login_error(self, reply: dict[str, Any]) -> tuple[str, str] | None:
        if reply.get("status") == 200:
            return None
        err = reply.get("error") or {}
        return str(err.get("code", reply.get("status"))), str(err.get("msg", ""))

    def _build_place(self, order: Order) -> tuple[str, bytes]:
        cid = order.client_id
        sym = self._symbols.get(order.symbol) or self.venue_symbol(order.symbol)
        side = _SIDE[order.side]
        qty = plain(order.qty)
        rw = self.config.recv_window_ms
        ts = time.time_ns() // 1_000_000
        if self._ed25519 is not None:
            return cid, self._logged_on_place(order, cid, sym, side, qty, rw, ts)
        if order.order_type is OrderType.LIMIT:
            px = plain(order.price)
            sig = self.sign_hex(
                f"apiKey={self._key}&newClientOrderId={cid}&newOrderRespType=FULL&price={px}"
                f"&quantity={qty}&recvWindow={rw}&side={side}&symbol={sym}&timeInForce=IOC"
                f"&timestamp={ts}&type=LIMIT".encode())
            frame = (f'{{"id":"{cid}","method":"order.place","params":{{"apiKey":{self._key_json},'
                     f'"newClientOrderId":"{cid}","newOrderRespType":"FULL","price":"{px}",'
                     f'"quantity":"{qty}","recvWindow":{rw},"side":"{side}","symbol":"{sym}",'
                     f'"timeInForce":"IOC","timestamp":{ts},"type":"LIMIT",'
                     f'"signature":"{sig}"}}}}')
        else:
            sig = self.sign_hex(
                f"apiKey={self._key}&newClientOrderId={cid}&newOrderRespType=FULL"
                f"&quantity={qty}&recvWindow={rw}&side={side}&symbol={sym}"
                f"&timestamp={ts}&type=MARKET".encode())
            frame = (f'{{"id":"{cid}","method":"order.place","params":{{"apiKey":{self._key_json},'
                     f'"newClientOrderId":"{cid}","newOrderRespType":"FULL",'
                     f'"quantity":"{qty}","recvWindow":{rw},"side":"{side}","symbol":"{sym}",'
                     f'"timestamp":{ts},"type":"MARKET","signature":"{sig}"}}}}')
        return cid, frame.encode()

    @staticmethod
    def _logged_on_place(order: Order, cid: str, sym: str, side: str, qty: str, rw: int,
                         ts: int) -> bytes:
        """``order.place`` on a logged-on session: no ``apiKey``, no ``signature``."""
        if order.order_type is OrderType.LIMIT:
            return (f'{{"id":"{cid}","method":"order.place","params":{{'
                    f'"newClientOrderId":"{cid}","newOrderRespType":"FULL",'
                    f'"price":"{plain(order.price)}","quantity":"{qty}","recvWindow":{rw},'
                    f'"side":"{side}","symbol":"{sym}","timeInForce":"IOC","timestamp":{ts},'
                    f'"type":"LIMIT"}}}}').encode()
        return (f'{{"id":"{cid}","method":"order.place","params":{{'
                f'"newClientOrderId":"{cid}","newOrderRespType":"FULL","quantity":"{qty}",'
                f'"recvWindow":{rw},"side":"{side}","symbol":"{sym}","timestamp":{ts},'
                f'"type":"MARKET"}}}}').encode()

    def _check(self, msg: dict[str, Any]) -> dict[str, Any]:
        status = msg.get("status")
        if status == 200:
            result = msg.get("result")
            if not isinstance(result, dict):
                raise ReplyLost("binance: status 200 without a result object")
            return result
        err = msg.get("error") or {}
        code, text = str(err.get("code", "")), str(err.get("msg", ""))
        if status in (418, 429):
            raise VenueRejected("binance", code, text, rate_limited=True)
        # the error code before the HTTP status (-1006/-1007 may come with a 4xx), in ccxt's
        # order: the message, then the code (fast/codes.py)
        kind = self._codes.of_msg(text) or self._codes.of_code(code)
        if kind == MAYBE or not isinstance(status, int) or status >= 500:
            # the docs: a 5xx "does not necessarily mean that your request has failed"
            raise ReplyLost(f"binance status {status} {code}: {text}")
        if self._ed25519 is not None and code == "-1102" and "apiKey" in text:
            # the session is no longer logged on (the request was refused): log on again
            self._session_lost(code)
        raise VenueRejected("binance", code, text, rate_limited=kind == RATE_LIMITED)

    def _parse_place(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return binance_unified(self._check(msg))

    def _signed_by_client_id(self, method: str, order: Order, rid: str) -> bytes:
        cid = order.client_id
        sym = self.venue_symbol(order.symbol)
        rw = self.config.recv_window_ms
        ts = time.time_ns() // 1_000_000
        if self._ed25519 is not None:
            return (f'{{"id":"{rid}","method":"{method}","params":{{'
                    f'"origClientOrderId":"{cid}","recvWindow":{rw},"symbol":"{sym}",'
                    f'"timestamp":{ts}}}}}').encode()
        sig = self.sign_hex(f"apiKey={self._key}&origClientOrderId={cid}&recvWindow={rw}"
                            f"&symbol={sym}&timestamp={ts}".encode())
        return (f'{{"id":"{rid}","method":"{method}","params":{{"apiKey":{self._key_json},'
                f'"origClientOrderId":"{cid}","recvWindow":{rw},"symbol":"{sym}",'
                f'"timestamp":{ts},"signature":"{sig}"}}}}').encode()

    def _build_cancel(self, order: Order, rid: str) -> tuple[str, bytes]:
        return rid, self._signed_by_client_id("order.cancel", order, rid)

    def _parse_cancel(self, order: Order, msg: dict[str, Any]) -> dict[str, Any]:
        return binance_unified(self._check(msg))

    async def status(self, order: Order) -> dict[str, Any]:
        """``order.status`` by client id: the venue's record in ccxt's unified shape."""
        ws = self._ws
        if not self._up or ws is None:
            raise RouteDown("binance: fast route is down")
        rid = self._next_rid()
        msg = await self._request(ws, rid, self._signed_by_client_id("order.status", order, rid),
                                  0)
        return binance_unified(self._check(msg))
