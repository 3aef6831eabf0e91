"""Bybit's order history through ccxt: every order of a symbol since a time, paged.

Bybit ``GET /v5/order/history``: newest first, 50 per page, continued with
``nextPageCursor``; plus ``/v5/order/realtime``.
"""

from __future__ import annotations

from typing import Any

MAX_PAGES = 1000


async def list_orders(client: Any, symbol: str, since_ms: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    client.enableLastJsonResponse = True         # the page cursor is in the raw reply only
    for _ in range(MAX_PAGES):
        page = await client.fetch_canceled_and_closed_orders(symbol, None, 50, params)
        out += page
        raw = client.last_json_response or {}
        cursor = (raw.get("result") or {}).get("nextPageCursor") if isinstance(raw, dict) else ""
        if not cursor or not page or min(o.get("timestamp") or 0 for o in page) < since_ms:
            break
        params = {"cursor": cursor}
    else:
        raise RuntimeError(f"bybit {symbol}: more than {MAX_PAGES} pages of orders")
    return out + await client.fetch_open_orders(symbol)
