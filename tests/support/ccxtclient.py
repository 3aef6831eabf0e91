"""Helpers for driving the real ccxt async clients against the simulators (docs/venues/ccxt.md §1).

Written against ccxt's public configuration only; nothing here imports the simulators' matching
or signing code, so a bug there is not mirrored on the client side.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import ccxt.async_support as ccxt

from support.aio import deadline

T = TypeVar("T")

API_KEY = "openclaw-test-key"
SECRET = "openclaw-test-secret"
PASSPHRASE = "openclaw-test-pass"
VENUES = ("binance", "okx", "bybit")
SYMBOL = "BTC/USDT"


run = deadline(20.0)


def local_urls(venue: str, base: str) -> dict[str, str]:
    """Every ``urls['api']`` entry of a venue redirected to ``base``, keeping each path."""
    probe = getattr(ccxt, venue)()
    out = {}
    for key, url in probe.urls["api"].items():
        if isinstance(url, str):
            out[key] = base + urlsplit(url.replace("{hostname}", "x")).path
    return out


def make_client(
    venue: str,
    base: str,
    *,
    api_key: str = API_KEY,
    secret: str = SECRET,
    password: str = PASSPHRASE,
    timeout_ms: int = 5000,
    options: dict[str, Any] | None = None,
) -> Any:
    """A ccxt async client configured as docs/venues/ccxt.md §1 says (spot, rate limiter off)."""
    config: dict[str, Any] = {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "timeout_on_exit": 0,
        "urls": {"api": local_urls(venue, base)},
    }
    opts: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}}
    if venue == "binance":
        opts.update({"fetchCurrencies": False, "fetchMargins": False})
    else:
        config["has"] = {"fetchCurrencies": False}
    if venue == "okx":
        config["password"] = password
    if venue == "bybit":
        opts.update(
            {
                "defaultType": "spot",
                "enableUnifiedAccount": True,
                "enableUnifiedMargin": False,
                "fetchOrder": {"acknowledged": True},
            }
        )
    opts.update(options or {})
    config["options"] = opts
    return getattr(ccxt, venue)(config)


async def sim_get(base: str, path: str) -> Any:
    """GET a control endpoint, JSON body."""
    async with aiohttp.ClientSession() as s, s.get(base + path) as r:
        return json.loads(await r.text())


async def sim_post(base: str, path: str, body: Any = None) -> tuple[int, Any]:
    """POST a control endpoint with a JSON body."""
    async with aiohttp.ClientSession() as s, s.post(base + path, json=body or {}) as r:
        return r.status, json.loads(await r.text())


def D(x: Any) -> Decimal:
    """Decimal from whatever ccxt returns (floats via repr)."""
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))


def client_id(venue: str, tag: str) -> str:
    """A client order id legal on every venue (``[A-Za-z0-9]{1,32}``)."""
    return (venue[:2] + tag)[:32]


def cid_params(venue: str, cid: str) -> dict[str, str]:
    """The params that look an order up by client id (Bybit needs its native key)."""
    return {"orderLinkId": cid} if venue == "bybit" else {"clientOrderId": cid}


class Env:
    """One running simulator cluster plus a ccxt client for one venue."""

    def __init__(self, sims: Any, venue: str, ex: Any) -> None:
        self.sims = sims
        self.venue = venue
        self.ex = ex
        self.base = sims.urls[venue]["rest"]

    async def truth_balances(self) -> dict[str, dict[str, Decimal]]:
        """``GET /_sim/balances`` as Decimals."""
        raw = (await sim_get(self.base, "/_sim/balances"))["balances"]
        return {a: {k: Decimal(v) for k, v in b.items()} for a, b in raw.items()}

    async def truth_orders(self) -> list[dict[str, Any]]:
        """``GET /_sim/orders``."""
        return (await sim_get(self.base, "/_sim/orders"))["orders"]

    async def fault(self, kind: str, **params: Any) -> dict[str, Any]:
        """``POST /_sim/fault``; asserts it was accepted."""
        status, body = await sim_post(self.base, "/_sim/fault", {"kind": kind, **params})
        assert status == 200, body
        return body

    async def true_book(self, symbol: str = "BTCUSDT", depth: int = 20) -> dict[str, Any]:
        """``GET /_sim/book``."""
        return await sim_get(self.base, f"/_sim/book?symbol={symbol}&depth={depth}")


async def open_env(
    venue: str, *, seed: int = 7, client: dict[str, Any] | None = None, **kw: Any
) -> Env:
    """Start paused simulators and a configured, market-loaded ccxt client for ``venue``."""
    from openclaw.sim import start_simulators

    sims = await start_simulators(seed=seed, paused=True, **kw)
    ex = make_client(venue, sims.urls[venue]["rest"], **(client or {}))
    return Env(sims, venue, ex)


async def close_env(env: Env) -> None:
    """Close the client, then the simulators."""
    try:
        await env.ex.close()
    finally:
        await env.sims.aclose()


def with_env(
    venue: str, body: Callable[[Env], Awaitable[None]], timeout: float = 20.0, **kw: Any
) -> None:
    """Run ``body(env)`` in a fresh event loop with a fresh cluster and client."""

    async def main() -> None:
        env = await open_env(venue, **kw)
        try:
            await body(env)
        finally:
            await close_env(env)

    run(main, timeout)
