"""Bybit preflight probes (``openclaw-trading doctor``): the API key's permissions and the
public WebSocket to ping. Facts and sources: docs/venues/bybit.md."""

from __future__ import annotations

from typing import Any

from openclaw.venues.kit import KeyPermissions


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /v5/user/query-api``: ``permissions.Spot`` holds ``SpotTrade`` for a trading key
    (``readOnly`` 0); ``permissions.Wallet`` holds ``Withdraw`` for a key that can withdraw;
    ``ips`` is ``["*"]`` when unbound."""
    r = (await client.private_get_v5_user_query_api())["result"]
    perms = r.get("permissions") or {}
    return KeyPermissions(
        trade="SpotTrade" in (perms.get("Spot") or []) and not int(r.get("readOnly") or 0),
        withdraw="Withdraw" in (perms.get("Wallet") or []),
        ip_restricted=(r.get("ips") or ["*"]) != ["*"])


def public_ws_url(ws: str) -> str:
    """The spot public endpoint under the feed's base (``wss://host`` + ``/v5/public/spot``)."""
    return ws.rstrip("/") + "/v5/public/spot"
