"""OKX preflight probes (``openclaw-trading doctor``): the API key's permissions and the
public WebSocket to ping. Facts and sources: docs/venues/okx.md."""

from __future__ import annotations

from typing import Any

from openclaw.venues.kit import KeyPermissions


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /api/v5/account/config``: ``perm`` is ``read_only``, ``trade``, ``withdraw``
    joined by commas; ``ip`` the key's bound addresses ("" when unbound)."""
    data = (await client.private_get_account_config())["data"][0]
    perm = {p.strip() for p in str(data.get("perm", "")).split(",")}
    return KeyPermissions(trade="trade" in perm, withdraw="withdraw" in perm,
                          ip_restricted=bool(data.get("ip")))


def public_ws_url(ws: str) -> str:
    """The feed's ``ws`` is already the public URL (``.../ws/v5/public``)."""
    return ws
