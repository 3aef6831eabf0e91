"""Binance's order history through ccxt: every order of a symbol since a time, paged.

Binance ``GET /api/v3/allOrders``: ascending, 1,000 per page, continued from the next ``orderId``.
"""

from __future__ import annotations

from typing import Any

MAX_PAGES = 1000


async def list_orders(client: Any, symbol: str, since_ms: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    since: int | None = since_ms
    params: dict[str, Any] = {}
    for _ in range(MAX_PAGES):
        page = await client.fetch_orders(symbol, since, 1000, params)
        out += page
        if len(page) < 1000:
            return out
        since, params = None, {"orderId": max(int(o["id"]) for o in page) + 1}
    raise RuntimeError(f"binance {symbol}: more than {MAX_PAGES} pages of orders")
