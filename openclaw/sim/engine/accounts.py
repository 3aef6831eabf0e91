"""Spot accounts of the simulated venues: free and locked balances per asset, exact decimals.

Every venue simulator owns one ``Account`` (one API key = one account).  Amounts are
``Decimal`` kept to ``DECIMALS`` (8) places: a fill's quote amount and fee are rounded half-up to
8 decimals before they move a balance, so every balance a venue prints is exact.

The default starting balance is ``DEFAULT_BALANCES`` (100,000 USDT, 2 BTC, 30 ETH) on every venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

__all__ = [
    "DECIMALS",
    "DEFAULT_BALANCES",
    "Account",
    "InsufficientBalance",
    "fmt_fixed",
    "fmt_trim",
    "quantize",
    "quantize_up",
    "to_decimal",
]

#: Decimal places of every balance movement.
DECIMALS = 8
_Q = Decimal(1).scaleb(-DECIMALS)
ZERO = Decimal(0)

#: Starting balance of every simulated account (asset -> amount).
DEFAULT_BALANCES: dict[str, str] = {"USDT": "100000", "BTC": "2", "ETH": "30"}


class InsufficientBalance(ValueError):
    """Not enough free balance for a debit or a lock."""

    def __init__(self, asset: str, needed: Decimal, free: Decimal) -> None:
        super().__init__(f"insufficient {asset}: need {needed}, free {free}")
        self.asset = asset
        self.needed = needed
        self.free = free


def to_decimal(value: Any) -> Decimal:
    """A Decimal from a str/int/Decimal (floats go through ``repr`` so 0.1 stays 0.1)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def quantize(value: Decimal) -> Decimal:
    """Round half-up to ``DECIMALS`` places (fill amounts and fees)."""
    return value.quantize(_Q, rounding=ROUND_HALF_UP)


def quantize_up(value: Decimal) -> Decimal:
    """Round up to ``DECIMALS`` places (funds locked by a resting buy)."""
    return value.quantize(_Q, rounding=ROUND_UP)


def fmt_fixed(value: Decimal, places: int = DECIMALS) -> str:
    """Binance style: fixed ``places`` decimals ("2.00000000")."""
    return f"{value:.{places}f}"


def fmt_trim(value: Decimal) -> str:
    """OKX/Bybit style: no trailing zeros, never an exponent ("2", "0.0001", "65000.1")."""
    if value == 0:
        return "0"
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


class Account:
    """Free and locked balances of one simulated spot account."""

    def __init__(self, balances: Mapping[str, Any] | None = None) -> None:
        self.free: dict[str, Decimal] = {}
        self.locked: dict[str, Decimal] = {}
        self.reset(balances)

    def reset(self, balances: Mapping[str, Any] | None = None) -> None:
        """Replace every balance (default ``DEFAULT_BALANCES``); nothing stays locked."""
        self.free.clear()
        self.locked.clear()
        for asset, amount in (DEFAULT_BALANCES if balances is None else balances).items():
            self.set(asset, amount)

    def set(self, asset: str, free: Any, locked: Any = 0) -> None:
        """Set one asset's free (and locked) balance."""
        f, lk = quantize(to_decimal(free)), quantize(to_decimal(locked))
        if f < 0 or lk < 0:
            raise ValueError(f"negative balance for {asset}")
        self.free[asset] = f
        self.locked[asset] = lk

    def assets(self) -> list[str]:
        """Every asset the account has held, sorted."""
        return sorted(set(self.free) | set(self.locked))

    def available(self, asset: str) -> Decimal:
        """Free balance."""
        return self.free.get(asset, ZERO)

    def held(self, asset: str) -> Decimal:
        """Locked balance (funds reserved by open orders)."""
        return self.locked.get(asset, ZERO)

    def total(self, asset: str) -> Decimal:
        """Free + locked."""
        return self.available(asset) + self.held(asset)

    def lock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` from free to locked; raise ``InsufficientBalance``."""
        free = self.available(asset)
        if amount > free:
            raise InsufficientBalance(asset, amount, free)
        self.free[asset] = free - amount
        self.locked[asset] = self.held(asset) + amount

    def unlock(self, asset: str, amount: Decimal) -> None:
        """Move ``amount`` (at most what is locked) back to free."""
        amount = min(amount, self.held(asset))
        self.locked[asset] = self.held(asset) - amount
        self.free[asset] = self.available(asset) + amount

    def debit(self, asset: str, amount: Decimal, *, from_locked: bool = False) -> None:
        """Take ``amount`` from the free (or locked) balance."""
        if from_locked:
            held = self.held(asset)
            if amount > held:
                raise InsufficientBalance(asset, amount, held)
            self.locked[asset] = held - amount
            return
        free = self.available(asset)
        if amount > free:
            raise InsufficientBalance(asset, amount, free)
        self.free[asset] = free - amount

    def credit(self, asset: str, amount: Decimal) -> None:
        """Add ``amount`` to the free balance."""
        self.free[asset] = self.available(asset) + amount
        self.locked.setdefault(asset, ZERO)

    def snapshot(self) -> dict[str, dict[str, str]]:
        """``{asset: {"free", "locked", "total"}}`` as plain decimal strings."""
        return {
            a: {
                "free": fmt_trim(self.available(a)),
                "locked": fmt_trim(self.held(a)),
                "total": fmt_trim(self.total(a)),
            }
            for a in self.assets()
        }
