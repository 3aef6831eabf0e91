"""Binance preflight probes (``openclaw-trading doctor``): the API key's permissions and the
public WebSocket to ping. Facts and sources: docs/venues/binance.md."""

from __future__ import annotations

from typing import Any

from openclaw.venues.kit import KeyPermissions


async def key_permissions(client: Any) -> KeyPermissions:
    """``GET /sapi/v1/account/apiRestrictions`` (signed, weight 1)."""
    r = await client.sapi_get_account_apirestrictions()
    return KeyPermissions(trade=bool(r.get("enableSpotAndMarginTrading")),
                          withdraw=bool(r.get("enableWithdrawals")),
                          ip_restricted=bool(r.get("ipRestrict")))


def public_ws_url(ws: str) -> str:
    """The public stream endpoint under the feed's base (``wss://host:port`` + ``/ws``)."""
    return ws.rstrip("/") + "/ws"
