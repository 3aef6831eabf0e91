"""OKX's order history through ccxt: every order of a symbol since a time, paged.

OKX ``GET /api/v5/trade/orders-history`` (ccxt asks for state=filled and state=canceled
separately): newest first, 100 per page, continued ``after`` the oldest order id; plus
``orders-pending``.
"""

from __future__ import annotations

from typing import Any

MAX_PAGES = 1000


async def list_orders(client: Any, symbol: str, since_ms: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # ccxt asks orders-history for state=filled (closed) and state=canceled separately
    for fetch in (client.fetch_closed_orders, client.fetch_canceled_orders):
        params: dict[str, Any] = {}
        for _ in range(MAX_PAGES):
            page = await fetch(symbol, None, 100, params)
            out += page
            if len(page) < 100 or min(o.get("timestamp") or 0 for o in page) < since_ms:
                break
            params = {"after": str(min(int(o["id"]) for o in page))}
        else:
            raise RuntimeError(f"okx {symbol}: more than {MAX_PAGES} pages of orders")
    return out + await client.fetch_open_orders(symbol)
