"""What a feed subscribes to: one instrument of one venue, with its exact tick and lot."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from openclaw.model.venues import crypto_venue


@dataclass(frozen=True)
class Instrument:
    """A venue instrument: ``symbol`` as the venue writes it in messages (BTCUSDT, BTC-USDT)."""

    venue: str
    symbol: str
    tick_size: str
    lot_size: str
    category: str = "spot"
    base: str = ""
    quote: str = ""

    def __post_init__(self) -> None:
        spec = crypto_venue(self.venue)       # UnknownVenueError (a KeyError) if not listed
        if not self.symbol:
            raise ValueError("instrument symbol must not be empty")
        if self.category not in spec.categories:
            raise ValueError(f"unknown {self.venue} category {self.category!r}; expected one of "
                             f"{spec.categories}")

    @property
    def key(self) -> str:
        """The name replay and the CLI print: the venue's symbol, with the category on Bybit."""
        if crypto_venue(self.venue).category_in_book_key:
            return f"{self.category}:{self.symbol}"
        return self.symbol

    @property
    def pair(self) -> str:
        """Normalised ``BASE/QUOTE`` (for merging one symbol across venues)."""
        if self.base and self.quote:
            return f"{self.base}/{self.quote}"
        if "-" in self.symbol:
            b, q = self.symbol.split("-")[:2]
            return f"{b}/{q}"
        for q in ("USDT", "USDC", "BTC", "ETH", "EUR", "USD"):
            if self.symbol.endswith(q) and len(self.symbol) > len(q):
                return f"{self.symbol[: -len(q)]}/{q}"
        return self.symbol


@dataclass(frozen=True)
class InstrumentMeta:
    """What a venue publishes about one market (its metadata: Binance ``exchangeInfo``, OKX
    ``public/instruments``, Bybit ``market/instruments-info``, read through ccxt). Decimal
    fields are None where the venue publishes nothing (OKX: no minimum notional)."""

    venue: str
    symbol: str                 # the venue's own id (BTCUSDT, BTC-USDT)
    unified: str                # BASE/QUOTE
    base: str
    quote: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    min_notional: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    status: str = ""            # the venue's word (TRADING, live, Trading; HALT, suspend...)
    active: bool = True         # trading now
    taker_fee: Decimal | None = None    # the account's rate (0.001 = 10 bps) when known

    def as_dict(self) -> dict[str, str | bool | None]:
        """Plain strings (the disk cache, JSON outputs)."""
        out: dict[str, str | bool | None] = {}
        for k, v in self.__dict__.items():
            out[k] = v if v is None or isinstance(v, (bool, str)) else _plain(v)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> InstrumentMeta:
        """The inverse of ``as_dict``."""
        kw: dict[str, object] = {}
        for f in fields(cls):
            v = d.get(f.name)
            if f.name in _DECIMALS:
                kw[f.name] = None if v is None else Decimal(str(v))
            elif v is not None:
                kw[f.name] = v
        return cls(**kw)  # type: ignore[arg-type]


_DECIMALS = ("tick_size", "lot_size", "min_qty", "max_qty", "min_notional", "min_price",
             "max_price", "taker_fee")


def _plain(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``1E-8`` -> ``0.00000001``)."""
    return format(d.normalize(), "f")
