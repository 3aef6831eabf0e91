"""Login and signature checks of the trading WebSocket APIs, with the venues' own error codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from support.wsapiclient import (
    API_KEY,
    VenueWs,
    WsClient,
    binance_signed,
    bybit_auth_args,
    fault,
    now_ms,
    okx_login_args,
    orders,
    run,
    start,
)

# The HMAC example of Binance's WebSocket API documentation (web-socket-api.md).
DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_PARAMS: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01000000",
    "price": "52000.00",
    "newOrderRespType": "ACK",
    "recvWindow": 100,
    "timestamp": 1645423376532,
    "apiKey": DOC_KEY,
}
DOC_SIGNATURE = "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"


def _binance_order(**over: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "quantity": "0.001",
        "apiKey": API_KEY,
        "timestamp": now_ms(),
    }
    params.update(over)
    return params


def test_binance_doc_signature_vector() -> None:
    """The documented example verifies (the old timestamp is then the only problem: -1021);
    one changed character makes it -1022."""
    assert binance_signed(DOC_PARAMS, DOC_SECRET)["signature"] == DOC_SIGNATURE

    async def body() -> None:
        sims = await start(trading={"api_key": DOC_KEY, "secret": DOC_SECRET})
        c = await WsClient.open(sims.urls["binance"]["ws_api"], "id")
        try:
            good = {**DOC_PARAMS, "signature": DOC_SIGNATURE}
            reply = await c.request({"id": "doc", "method": "order.place", "params": good})
            assert reply["status"] == 400
            assert reply["error"]["code"] == -1021
            bad = {**good, "signature": "dc" + DOC_SIGNATURE[2:]}
            reply = await c.request({"id": "bad", "method": "order.place", "params": bad})
            assert reply["error"] == {
                "code": -1022,
                "msg": "Signature for this request is not valid.",
            }
            assert "rateLimits" in reply
        finally:
            await c.close()
            await sims.aclose()

    run(body)


def test_binance_request_errors() -> None:
    async def body() -> None:
        sims = await start()
        c = await WsClient.open(sims.urls["binance"]["ws_api"], "id")
        try:

            async def place(rid: str, params: dict[str, Any]) -> Any:
                return await c.request({"id": rid, "method": "order.place", "params": params})

            r = await place("k", binance_signed(_binance_order(apiKey="nope")))
            assert (r["status"], r["error"]["code"]) == (401, -2015)
            r = await place("s", {**binance_signed(_binance_order()), "signature": "00" * 32})
            assert (r["status"], r["error"]["code"]) == (400, -1022)
            r = await place("t", binance_signed(_binance_order(timestamp=now_ms() - 60_000)))
            assert r["error"]["code"] == -1021
            r = await place("f", binance_signed(_binance_order(timestamp=now_ms() + 5_000)))
            assert r["error"]["code"] == -1021
            r = await place("w", binance_signed(_binance_order(recvWindow=70_000)))
            assert r["error"]["code"] == -1131
            r = await place("n", _binance_order())
            assert r["error"]["code"] == -1102 and "signature" in r["error"]["msg"]
            r = await place("q", binance_signed(_binance_order(quantity="0.0000001")))
            assert r["error"]["code"] == -1013
            r = await place("b", binance_signed(_binance_order(quantity="500")))
            assert (r["status"], r["error"]["code"]) == (400, -2010)
            r = await c.request({"id": 7, "method": "no.such"})
            assert r["id"] == 7 and r["status"] == 400
            assert await orders(sims.urls["binance"]["rest"]) == []
            r = await c.request({"id": None, "method": "ping"})
            assert r["status"] == 200 and r["result"] == {}
            r = await c.request(
                {"id": "t", "method": "time", "params": {"returnRateLimits": False}}
            )
            assert abs(r["result"]["serverTime"] - now_ms()) < 5_000 and "rateLimits" not in r
            s = binance_signed(
                {"symbol": "BTCUSDT", "orderId": 1, "apiKey": API_KEY, "timestamp": now_ms()}
            )
            r = await c.request({"id": "st", "method": "order.status", "params": s})
            assert (r["status"], r["error"]["code"]) == (400, -2013)
        finally:
            await c.close()
            await sims.aclose()

    run(body)


def test_binance_ed25519_session_logon() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    ed_key = "ed25519-test-key"

    def ed_signed(params: dict[str, Any]) -> dict[str, Any]:
        payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
        return {**params, "signature": base64.b64encode(private.sign(payload.encode())).decode()}

    async def body() -> None:
        opts = {"wsapi": {"ed25519_api_key": ed_key, "ed25519_public_key": pem.decode()}}
        sims = await start(binance_options=opts)
        c = await WsClient.open(sims.urls["binance"]["ws_api"], "id")
        base = sims.urls["binance"]["rest"]
        try:
            r = await c.request({"id": 1, "method": "session.status"})
            assert r["result"]["apiKey"] is None
            hmac_logon = binance_signed({"apiKey": API_KEY, "timestamp": now_ms()})
            r = await c.request({"id": 2, "method": "session.logon", "params": hmac_logon})
            assert (r["status"], r["error"]["code"]) == (401, -2015)
            wrong = ed_signed({"apiKey": ed_key, "timestamp": now_ms()})
            wrong["signature"] = base64.b64encode(b"\0" * 64).decode()
            r = await c.request({"id": 3, "method": "session.logon", "params": wrong})
            assert r["error"]["code"] == -1022
            logon = ed_signed({"apiKey": ed_key, "timestamp": now_ms()})
            r = await c.request({"id": 4, "method": "session.logon", "params": logon})
            assert r["status"] == 200 and r["result"]["apiKey"] == ed_key
            assert r["result"]["authorizedSince"] is not None
            # Logged on: timestamp only.
            p = {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "MARKET",
                "quantity": "0.001",
                "newClientOrderId": "edsess1",
                "timestamp": now_ms(),
            }
            r = await c.request({"id": 5, "method": "order.place", "params": p})
            assert r["status"] == 200 and r["result"]["status"] == "FILLED"
            r = await c.request(
                {"id": 6, "method": "order.place", "params": {**p, "timestamp": now_ms() - 60_000}}
            )
            assert r["error"]["code"] == -1021
            # A per-request Ed25519 signature works without a session too.
            await c.request({"id": 7, "method": "session.logout"})
            r = await c.request({"id": 8, "method": "order.place", "params": p})
            assert r["error"]["code"] == -1102
            signed = ed_signed(
                {**p, "newClientOrderId": "edreq1", "apiKey": ed_key, "timestamp": now_ms()}
            )
            r = await c.request({"id": 9, "method": "order.place", "params": signed})
            assert r["status"] == 200
            # expire_session drops the logon.
            r = await c.request(
                {
                    "id": 10,
                    "method": "session.logon",
                    "params": ed_signed({"apiKey": ed_key, "timestamp": now_ms()}),
                }
            )
            assert r["status"] == 200
            await fault(base, "expire_session")
            r = await c.request({"id": 11, "method": "session.status"})
            assert r["result"]["apiKey"] is None
            r = await c.request(
                {
                    "id": 12,
                    "method": "order.place",
                    "params": {**p, "newClientOrderId": "edexp1", "timestamp": now_ms()},
                }
            )
            assert r["error"]["code"] == -1102
            assert {o["client_id"] for o in await orders(base)} == {"edsess1", "edreq1"}
        finally:
            await c.close()
            await sims.aclose()

    run(body)


def test_okx_login_errors_and_expiry() -> None:
    async def body() -> None:
        sims = await start()
        url = sims.urls["okx"]["ws_private"]
        c = await WsClient.open(url, "id")
        try:
            await c.send("ping")
            assert await c.recv() == "pong"

            async def login(arg: Any) -> Any:
                await c.send({"op": "login", "args": [arg]})
                return await c.recv()

            cases = [
                ({**okx_login_args(), "apiKey": "nope"}, "60005"),
                (okx_login_args(ts=str(int(time.time()) - 120)), "60006"),
                (okx_login_args(ts="abc"), "60004"),
                ({**okx_login_args(), "sign": "AAAA"}, "60007"),
                (okx_login_args(passphrase="wrong"), "60024"),
                ({k: v for k, v in okx_login_args().items() if k != "sign"}, "60009"),
            ]
            for arg, code in cases:
                msg = await login(arg)
                assert msg["event"] == "error" and msg["code"] == code, (arg, msg)
                assert msg["connId"]
            msg = await login(okx_login_args())
            assert msg == {"event": "login", "code": "0", "msg": "", "connId": msg["connId"]}
            ws = VenueWs("okx", c)
            reply = await ws.place_wait("buy", "0.001", None, "okexp1")
            assert ws.accepted(reply)
            await fault(sims.urls["okx"]["rest"], "expire_session")
            reply = await ws.place_wait("buy", "0.001", None, "okexp2")
            assert reply["code"] == "60011" and reply["msg"] == "Please log in"
            await ws.login()
            reply = await ws.place_wait("buy", "0.001", None, "okexp3")
            assert ws.accepted(reply)
            cids = {o["client_id"] for o in await orders(sims.urls["okx"]["rest"])}
            assert cids == {"okexp1", "okexp3"}
        finally:
            await c.close()
            await sims.aclose()

    run(body)


def test_bybit_auth_errors_and_expiry() -> None:
    async def body() -> None:
        sims = await start()
        c = await WsClient.open(sims.urls["bybit"]["ws_trade"], "reqId")
        try:
            r = await c.request({"reqId": "p", "op": "ping"})
            assert r["op"] == "pong" and r["retCode"] == 0

            async def auth(rid: str, args: Any) -> Any:
                return await c.request({"reqId": rid, "op": "auth", "args": args})

            assert (await auth("a1", bybit_auth_args(key="nope")))["retCode"] == 10003
            assert (await auth("a2", bybit_auth_args(secret="nope")))["retCode"] == 10004
            expired = bybit_auth_args(expires=now_ms() - 1000)
            assert (await auth("a3", expired))["retCode"] == 10001
            assert (await auth("a4", ["only-two", 1]))["retCode"] == 10001
            ok = await auth("a5", bybit_auth_args())
            assert ok["retCode"] == 0 and ok["retMsg"] == "OK" and ok["op"] == "auth"
            assert ok["connId"]
            assert (await auth("a6", bybit_auth_args()))["retCode"] == 20001

            ws = VenueWs("bybit", c)
            r = await ws.place_wait("buy", "0.001", None, "byexp1")
            assert ws.accepted(r) and r["op"] == "order.create"
            assert set(r["header"]) >= {"X-Bapi-Limit", "X-Bapi-Limit-Status", "Traceid", "Timenow"}
            stale = {
                "reqId": "st1",
                "header": {"X-BAPI-TIMESTAMP": str(now_ms() - 60_000)},
                "op": "order.create",
                "args": [
                    {
                        "category": "spot",
                        "symbol": "BTCUSDT",
                        "side": "Buy",
                        "orderType": "Market",
                        "qty": "1",
                        "orderLinkId": "bystale",
                    }
                ],
            }
            r = await c.request(stale)
            assert r["retCode"] == 10002 and r["data"] == {}
            r = await c.request({**stale, "header": {"X-BAPI-TIMESTAMP": str(now_ms())}})
            assert r["retCode"] == 20006  # reqId used before on this connection
            await fault(sims.urls["bybit"]["rest"], "expire_session")
            r = await ws.place_wait("buy", "0.001", None, "byexp2")
            assert r["retCode"] == 10003
            await ws.login()
            r = await ws.place_wait("buy", "0.001", None, "byexp3")
            assert ws.accepted(r)
            cids = {o["client_id"] for o in await orders(sims.urls["bybit"]["rest"])}
            assert cids == {"byexp1", "byexp3"}
        finally:
            await c.close()
            await sims.aclose()

    run(body)


def test_signature_helpers_match_rest_style_hmac() -> None:
    """The test's own HMACs are plain hmac/hashlib (a sanity check of the helpers)."""
    exp = 1711010121452
    args = bybit_auth_args(key="k", secret="s", expires=exp)
    assert args[2] == hmac.new(b"s", f"GET/realtime{exp}".encode(), hashlib.sha256).hexdigest()
    arg = okx_login_args(key="k", secret="s", passphrase="p", ts="1538054050")
    raw = hmac.new(b"s", b"1538054050GET/users/self/verify", hashlib.sha256).digest()
    assert arg["sign"] == base64.b64encode(raw).decode()


def test_binance_account_and_open_orders_over_ws() -> None:
    async def body() -> None:
        sims = await start()
        c = await WsClient.open(sims.urls["binance"]["ws_api"], "id")
        try:
            limit = _binance_order(
                type="LIMIT",
                price="1000.00",
                quantity="0.01",
                timeInForce="GTC",
                newClientOrderId="bnopen1",
            )
            r = await c.request({"id": 1, "method": "order.place", "params": binance_signed(limit)})
            assert r["result"]["status"] == "NEW", r
            params = binance_signed({"symbol": "BTCUSDT", "apiKey": API_KEY, "timestamp": now_ms()})
            r = await c.request({"id": 2, "method": "openOrders.status", "params": params})
            assert [o["clientOrderId"] for o in r["result"]] == ["bnopen1"]
            params = binance_signed({"apiKey": API_KEY, "timestamp": now_ms()})
            r = await c.request({"id": 3, "method": "account.status", "params": params})
            usdt = next(b for b in r["result"]["balances"] if b["asset"] == "USDT")
            assert usdt["locked"] == "10.00000000"  # 1000 x 0.01 held by the open order
        finally:
            await c.close()
            await sims.aclose()

    run(body)
