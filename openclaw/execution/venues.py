"""One ccxt async client per venue, pointed at the simulators or the real venue.

docs/venues/ccxt.md section 1: every ``urls['api']`` entry is redirected (keeping its path) so
that no call can leave for the real host by accident; ``load_markets`` is kept to spot; ccxt's
own rate limiter is off (it delays every call by 9-52 ms) and replaced by our per-venue buckets;
Bybit's account probes are preset; ``close()`` does not sleep. Keys come from the environment
(or the caller) and are never logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from openclaw.model.venues import CRYPTO_VENUES, crypto_venue

#: the ccxt class of each crypto venue (model/venues.py)
VENUE_CLASSES = {n: crypto_venue(n).ccxt_id for n in CRYPTO_VENUES}

# the simulators' documented test credentials
SIM_KEY = "openclaw-test-key"
SIM_SECRET = "openclaw-test-secret"
SIM_PASSPHRASE = "openclaw-test-pass"


@dataclass(frozen=True)
class Credentials:
    """API credentials; ``repr`` never shows them."""

    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, key_var: str, secret_var: str, password_var: str = "") -> Credentials:
        """Read credentials from environment variables (names, not values, are configured)."""
        missing = [v for v in (key_var, secret_var) if not os.environ.get(v)]
        if password_var and not os.environ.get(password_var):
            missing.append(password_var)
        if missing:
            raise KeyError(f"missing credentials in environment: {', '.join(missing)}")
        return cls(os.environ[key_var], os.environ[secret_var],
                   os.environ.get(password_var, "") if password_var else "")

    @classmethod
    def simulator(cls) -> Credentials:
        return cls(SIM_KEY, SIM_SECRET, SIM_PASSPHRASE)


def _redirect(api: dict[str, Any], base: str) -> dict[str, Any]:
    """Every string URL of ccxt's ``urls['api']`` table -> ``base`` + its original path."""
    out: dict[str, Any] = {}
    for key, url in api.items():
        if isinstance(url, str):
            path = urlsplit(url.replace("{hostname}", "x")).path
            out[key] = base.rstrip("/") + path
        elif isinstance(url, dict):
            out[key] = _redirect(url, base)
        else:
            out[key] = url
    return out


def make_client(venue: str, credentials: Credentials, base_url: str | None = None,
                timeout_ms: int = 5000, headers: dict[str, str] | None = None) -> Any:
    """A ccxt async client for ``venue``; ``base_url`` (http://127.0.0.1:PORT for simulators,
    a venue environment's REST host) replaces the host of every ccxt URL, None keeps ccxt's
    production table; ``headers`` go on every request (OKX demo: ``x-simulated-trading``)."""
    import ccxt.async_support as ccxt_async

    spec = crypto_venue(venue)          # UnknownVenueError for a venue not in the registry
    cls = getattr(ccxt_async, spec.ccxt_id)
    config: dict[str, Any] = {
        "apiKey": credentials.api_key,
        "secret": credentials.secret,
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "timeout_on_exit": 0,
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    if credentials.password:
        config["password"] = credentials.password
    if headers:
        config["headers"] = dict(headers)
    # each venue's ccxt options and capability overrides (model/venues.py, docs/venues/ccxt.md)
    config["options"].update(spec.ccxt_options)
    if spec.ccxt_has:
        config["has"] = dict(spec.ccxt_has)
    if base_url is not None:
        probe = cls()
        config["urls"] = {"api": _redirect(probe.urls["api"], base_url)}
    return cls(config)
