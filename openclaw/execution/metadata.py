"""Instrument metadata from the venues themselves (tick, lot, min/max size, min notional, price
limits, trading status, the account's taker fee), cached on disk with an age limit.

Why: a hand-copied tick size that the venue changed is found only when the venue rejects a leg
mid-arbitrage (a naked leg). The venue's own metadata is read through ccxt (``load_markets``:
Binance ``exchangeInfo``, OKX ``public/instruments``, Bybit ``market/instruments-info``) and
fees through ``fetch_trading_fees`` (Binance ``sapi/v1/asset/tradeFee``, Bybit
``v5/account/fee-rate``) or ``fetch_trading_fee`` (OKX ``account/trade-fee``, one spot rate).
The cache keeps ccxt's raw spot markets so that a fresh one primes the client
(``set_markets``) and the venue is not asked again; file writes are atomic.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from openclaw.model.instrument import InstrumentMeta
from openclaw.model.venues import crypto_venue

__all__ = ["MetadataCache", "VenueMetadata", "fetch_fees", "market_meta", "venue_metadata"]

log = logging.getLogger("openclaw.execution.metadata")


@dataclass
class VenueMetadata:
    """One venue's spot markets as it publishes them (``instruments`` by unified symbol)."""

    venue: str
    fetched_at: float                      # epoch seconds of the venue's answer
    instruments: dict[str, InstrumentMeta] = field(default_factory=dict)
    source: str = "venue"                  # "venue" or "cache"
    fee_error: str = ""                    # why the account's fees are not known

    def find(self, symbol: str) -> InstrumentMeta | None:
        """By unified symbol (``BTC/USDT``) or by the venue's id (``BTCUSDT``)."""
        m = self.instruments.get(symbol)
        if m is not None:
            return m
        return next((x for x in self.instruments.values() if x.symbol == symbol), None)

    @property
    def age_s(self) -> float:
        return max(0.0, time.time() - self.fetched_at)


def _dec(x: Any) -> Decimal | None:
    """ccxt's numbers (floats, via repr so 0.01 stays 0.01) as Decimals; None stays None."""
    if x is None or x == "":
        return None
    return Decimal(repr(x)) if isinstance(x, float) else Decimal(str(x))


def market_meta(venue: str, m: dict[str, Any], taker_fee: Decimal | None = None
                ) -> InstrumentMeta | None:
    """An ``InstrumentMeta`` from one ccxt unified market (None if it has no tick or lot)."""
    prec, lim = m.get("precision") or {}, m.get("limits") or {}
    tick, lot = _dec(prec.get("price")), _dec(prec.get("amount"))
    if tick is None or lot is None:
        return None
    info = m.get("info") or {}
    status = str(info.get("status") or info.get("state") or "")
    amount, cost, price = (lim.get(k) or {} for k in ("amount", "cost", "price"))
    return InstrumentMeta(
        venue=venue, symbol=str(m["id"]), unified=str(m["symbol"]), base=str(m["base"]),
        quote=str(m["quote"]), tick_size=tick, lot_size=lot, min_qty=_dec(amount.get("min")),
        max_qty=_dec(amount.get("max")), min_notional=_dec(cost.get("min")),
        min_price=_dec(price.get("min")), max_price=_dec(price.get("max")), status=status,
        active=m.get("active") is not False, taker_fee=taker_fee)


async def fetch_fees(client: Any, venue: str, symbols: list[str]
                     ) -> tuple[dict[str, Decimal], str]:
    """The account's taker rates per unified symbol, and why not if the venue would not say
    (never raises: the caller falls back to the configured rate). Which ccxt call: the venue's
    ``ccxt_fee_call`` (model/venues.py)."""
    call = crypto_venue(venue).ccxt_fee_call
    try:
        if call == "fetch_trading_fees":
            got = await client.fetch_trading_fees()
            return {s: d for s, f in got.items() if (d := _dec(f.get("taker"))) is not None}, ""
        if call == "fetch_trading_fee" and symbols:
            # one rate per account tier and market type: the first symbol's stands for all
            f = await client.fetch_trading_fee(symbols[0])
            rate = _dec(f.get("taker"))
            return ({s: rate for s in symbols} if rate is not None else {}), ""
        return {}, f"{venue}: no fee call known"
    except Exception as e:  # noqa: BLE001 - a fee read is advisory: reported, never fatal
        return {}, f"{type(e).__name__}: {str(e)[:160]}"


async def venue_metadata(client: Any, venue: str, *, fees: bool = True,
                         fee_symbols: list[str] | None = None) -> VenueMetadata:
    """The venue's spot markets as ccxt loaded them (``load_markets``: a request only when the
    client has none yet), with the account's taker fees when ``fees``."""
    markets = await client.load_markets()
    rates: dict[str, Decimal] = {}
    fee_error = ""
    if fees:
        wanted = fee_symbols or [s for s, m in markets.items() if m.get("spot", True)]
        rates, fee_error = await fetch_fees(client, venue, wanted)
    out = VenueMetadata(venue, time.time(), fee_error=fee_error)
    for sym, m in markets.items():
        if m.get("type", "spot") != "spot":
            continue
        meta = market_meta(venue, m, rates.get(sym))
        if meta is not None:
            out.instruments[sym] = meta
    return out


class MetadataCache:
    """ccxt's raw spot markets and the fees of one venue endpoint, one JSON file each under
    ``directory``; older than ``max_age_s``: not used. Blocking file I/O: call through
    ``asyncio.to_thread`` (the ``aload`` / ``asave`` helpers do)."""

    def __init__(self, directory: str | os.PathLike[str], max_age_s: float) -> None:
        self.dir = Path(directory)
        self.max_age_s = max_age_s

    def path(self, venue: str, endpoint: str) -> Path:
        """The file of ``venue`` at ``endpoint`` (its REST URL: testnet and live differ)."""
        digest = hashlib.sha256(endpoint.encode()).hexdigest()[:12]
        return self.dir / f"{venue}-{digest}.json"

    def load(self, venue: str, endpoint: str) -> dict[str, Any] | None:
        """The cached entry if it exists, parses and is younger than ``max_age_s``."""
        p = self.path(venue, endpoint)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            if time.time() - float(data["fetched_at"]) > self.max_age_s:
                return None
            if not isinstance(data.get("markets"), dict):
                return None
            return data
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, venue: str, endpoint: str, markets: dict[str, Any],
             fees: dict[str, str], fetched_at: float) -> Path:
        """Write the entry whole, then move it into place (a reader never sees half)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        p = self.path(venue, endpoint)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        spot = {s: m for s, m in markets.items() if m.get("type", "spot") == "spot"}
        tmp.write_text(json.dumps({"venue": venue, "endpoint": endpoint,
                                   "fetched_at": fetched_at, "markets": spot, "fees": fees},
                                  default=str), encoding="utf-8")
        os.replace(tmp, p)
        return p

    async def aload(self, venue: str, endpoint: str) -> dict[str, Any] | None:
        return await asyncio.to_thread(self.load, venue, endpoint)

    async def asave(self, venue: str, endpoint: str, meta: VenueMetadata,
                    markets: dict[str, Any]) -> Path:
        fees = {s: str(m.taker_fee) for s, m in meta.instruments.items()
                if m.taker_fee is not None}
        return await asyncio.to_thread(self.save, venue, endpoint, markets, fees,
                                       meta.fetched_at)


def from_cache(venue: str, client: Any, entry: dict[str, Any]) -> VenueMetadata:
    """Prime ``client`` with a cache entry's markets (``load_markets`` then asks nothing) and
    return the metadata it holds."""
    client.set_markets(entry["markets"])
    fees = {s: Decimal(v) for s, v in (entry.get("fees") or {}).items()}
    out = VenueMetadata(venue, float(entry["fetched_at"]), source="cache")
    for sym, m in client.markets.items():
        meta = market_meta(venue, m, fees.get(sym))
        if meta is not None:
            out.instruments[sym] = meta
    return out
