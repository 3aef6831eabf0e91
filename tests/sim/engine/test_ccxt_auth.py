"""Each venue's request signature scheme: bad secret, wrong key, stale clock, missing key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest
from support.ccxtclient import (
    API_KEY,
    PASSPHRASE,
    SECRET,
    SYMBOL,
    VENUES,
    Env,
    make_client,
    sim_post,
    with_env,
)

#: venue -> (HTTP status, code) for: bad signature, unknown key, stale timestamp, missing key
EXPECTED: dict[str, dict[str, tuple[int, Any]]] = {
    "binance": {
        "sign": (400, -1022),
        "key": (401, -2015),
        "stale": (400, -1021),
        "missing": (401, -2014),
    },
    "okx": {
        "sign": (401, "50113"),
        "key": (401, "50111"),
        "stale": (401, "50102"),
        "missing": (401, "50103"),
    },
    "bybit": {
        "sign": (200, 10004),
        "key": (200, 10003),
        "stale": (200, 10002),
        "missing": (200, 10003),
    },
}
#: a signed read-only endpoint per venue
ACCOUNT = {
    "binance": "/api/v3/account",
    "okx": "/api/v5/account/balance",
    "bybit": "/v5/account/wallet-balance?accountType=UNIFIED",
}


async def raw_signed(
    venue: str, base: str, key: str = API_KEY, secret: str = SECRET, ts: int | None = None
) -> tuple[int, Any]:
    """GET the account endpoint signed as docs/venues/ccxt.md §3 describes (without ccxt)."""
    ts = int(time.time() * 1000) if ts is None else ts
    path, _, query = ACCOUNT[venue].partition("?")
    headers: dict[str, str] = {}
    if venue == "binance":
        query = f"timestamp={ts}&recvWindow=10000"
        sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        query += f"&signature={sig}"
        headers["X-MBX-APIKEY"] = key
    elif venue == "okx":
        iso = (
            datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{ts % 1000:03d}Z"
        )
        prehash = iso + "GET" + path
        mac = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
        headers.update(
            {
                "OK-ACCESS-KEY": key,
                "OK-ACCESS-PASSPHRASE": PASSPHRASE,
                "OK-ACCESS-TIMESTAMP": iso,
                "OK-ACCESS-SIGN": base64.b64encode(mac).decode(),
            }
        )
    else:
        origin = f"{ts}{key}5000{query}"
        headers.update(
            {
                "X-BAPI-API-KEY": key,
                "X-BAPI-TIMESTAMP": str(ts),
                "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": hmac.new(
                    secret.encode(), origin.encode(), hashlib.sha256
                ).hexdigest(),
            }
        )
    url = base + path + (f"?{query}" if query else "")
    async with aiohttp.ClientSession() as s, s.get(url, headers=headers) as r:
        return r.status, json.loads(await r.text())


def code_of(venue: str, body: Any) -> Any:
    return body["retCode"] if venue == "bybit" else body["code"]


async def expect(env: Env, exc_type: type, case: str, **client: Any) -> None:
    ex = make_client(env.venue, env.base, **client)
    try:
        with pytest.raises(exc_type):
            await ex.fetch_balance()
        _status, code = EXPECTED[env.venue][case]
        assert ex.last_http_response is not None
        body = json.loads(ex.last_http_response)
        assert code_of(env.venue, body) == code
    finally:
        await ex.close()


@pytest.mark.parametrize("venue", VENUES)
def test_signature_failures_get_the_venue_errors(venue: str) -> None:
    async def body(env: Env) -> None:
        # the right credentials work, public calls need none
        assert (await env.ex.fetch_balance())["BTC"]["total"] == 2.0
        anonymous = make_client(venue, env.base, api_key="", secret="", password="")
        try:
            assert SYMBOL in await anonymous.load_markets()
        finally:
            await anonymous.close()
        await expect(env, ccxt.AuthenticationError, "sign", secret="not-the-secret")
        await expect(env, ccxt.AuthenticationError, "key", api_key="someone-else")
        if venue == "okx":
            ex = make_client(venue, env.base, password="wrong-pass")
            try:
                with pytest.raises(ccxt.AuthenticationError, match="50105"):
                    await ex.fetch_balance()
            finally:
                await ex.close()
        # the venue's clock runs 60 s ahead (then behind): the client's timestamps are stale
        for offset in (60_000, -60_000):
            status, _ = await sim_post(env.base, "/_sim/config", {"time_offset_ms": offset})
            assert status == 200
            await expect(env, ccxt.InvalidNonce, "stale")
        await sim_post(env.base, "/_sim/config", {"time_offset_ms": 0})
        assert (await env.ex.fetch_balance())["BTC"]["total"] == 2.0
        # no key at all (ccxt refuses to send that, so a raw request)
        async with aiohttp.ClientSession() as s, s.get(env.base + ACCOUNT[venue]) as r:
            status, code = EXPECTED[venue]["missing"]
            assert r.status == status
            assert code_of(venue, json.loads(await r.text())) == code
        # HTTP status and code of each case, with requests signed here per docs/venues/ccxt.md §3
        now = int(time.time() * 1000)
        for case, kw in (
            ("sign", {"secret": "x"}),
            ("key", {"key": "x"}),
            ("stale", {"ts": now - 70_000}),
        ):
            status, body = await raw_signed(venue, env.base, **kw)
            assert (status, code_of(venue, body)) == EXPECTED[venue][case], case
        assert (await raw_signed(venue, env.base))[0] == 200

    with_env(venue, body)


def test_configured_credentials_replace_the_defaults() -> None:
    creds = {"api_key": "k2", "secret": "s2", "passphrase": "p2"}

    async def body(env: Env) -> None:
        with pytest.raises(ccxt.AuthenticationError):
            await env.ex.fetch_balance()  # the default key is no longer valid
        ex = make_client("okx", env.base, api_key="k2", secret="s2", password="p2")
        try:
            assert (await ex.fetch_balance())["USDT"]["total"] == 100000.0
        finally:
            await ex.close()

    with_env("okx", body, trading=creds)
