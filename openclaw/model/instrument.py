"""What a feed subscribes to: one instrument of one venue, with its exact tick and lot."""

from __future__ import annotations

from dataclasses import dataclass

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
