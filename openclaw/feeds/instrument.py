"""What a feed subscribes to: one instrument of one venue, with its exact tick and lot."""

from __future__ import annotations

from dataclasses import dataclass

VENUES = ("binance", "okx", "bybit")
BYBIT_CATEGORIES = ("spot", "linear", "inverse")


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
        if self.venue not in VENUES:
            raise ValueError(f"unknown venue {self.venue!r}; expected one of {VENUES}")
        if not self.symbol:
            raise ValueError("instrument symbol must not be empty")
        if self.venue == "bybit" and self.category not in BYBIT_CATEGORIES:
            raise ValueError(f"unknown Bybit category {self.category!r}")

    @property
    def key(self) -> str:
        """The name replay and the CLI print: the venue's symbol, with the category on Bybit."""
        return f"{self.category}:{self.symbol}" if self.venue == "bybit" else self.symbol

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
