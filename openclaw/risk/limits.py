"""Risk limits as pydantic v2 models, converted exactly into the engine's integer units.

Config speaks the venue's language (decimal prices, sizes in base units, notionals in quote
units, collars in bps); the Cython engine speaks ticks, lots, notional units (tick * lot) and
asset units. The conversion is done here once, with exact rationals: a maximum rounds down and a
minimum rounds up, so the integer check accepts exactly the orders the decimal limit accepts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from openclaw._core.errors import RiskConfigError
from openclaw._core.risk import RiskEngine

UNITS_MAX = 2**62 - 1

PosDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
NonNegDecimal = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VenueLimits(_Model):
    """Per-venue throttle (token bucket of ``max_orders`` per ``interval_ms``) and open orders."""

    name: Name
    max_orders: int | None = Field(None, ge=1)
    interval_ms: int = Field(1000, ge=1)
    max_open_orders: int | None = Field(None, ge=0)


class AssetConfig(_Model):
    """An asset: its balance unit (default: the finest its instruments need) and its value."""

    name: Name
    unit: PosDecimal | None = None
    value: float = Field(1.0, ge=0, allow_inf_nan=False)  # account currency per whole asset


class InstrumentLimits(_Model):
    """One instrument on one venue: exchange rules (conformance) and risk limits.

    Quantities are in base units, notionals in quote units, all as exact decimals; ``None``
    turns a limit off.
    """

    venue: Name
    symbol: Name
    base: Name
    quote: Name
    tick_size: PosDecimal
    lot_size: PosDecimal
    price_increment: PosDecimal | None = None  # default: tick_size
    size_increment: PosDecimal | None = None  # default: lot_size
    min_qty: NonNegDecimal | None = None
    max_qty: NonNegDecimal | None = None
    min_notional: NonNegDecimal | None = None
    max_notional: NonNegDecimal | None = None
    max_order_qty: NonNegDecimal | None = None
    max_order_notional: NonNegDecimal | None = None
    collar_bps: NonNegDecimal | None = None
    max_book_age_ms: int | None = Field(1000, ge=0)
    max_position: NonNegDecimal | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.venue, self.symbol)


class RiskLimits(_Model):
    """Everything the risk engine is loaded with."""

    venues: list[VenueLimits] = Field(min_length=1)
    assets: list[AssetConfig] = Field(default_factory=list)
    instruments: list[InstrumentLimits] = Field(min_length=1)
    max_gross_exposure: float | None = Field(None, ge=0, allow_inf_nan=False)
    daily_loss_limit: float | None = Field(None, gt=0, allow_inf_nan=False)
    max_open_ids: int = Field(4096, ge=1, le=2**26)
    max_list_len: int = Field(16, ge=1, le=4096)


def _frac(x: Decimal) -> Fraction:
    return Fraction(x)


def _multiple(name: str, value: Decimal, unit: Decimal) -> int:
    """value / unit, which must be a positive integer."""
    q = _frac(value) / _frac(unit)
    if q.denominator != 1 or q < 1 or q > UNITS_MAX:
        raise RiskConfigError(name, str(value), f"must be a positive integer multiple of {unit}")
    return int(q)


def _limit(name: str, value: Decimal | None, unit: Fraction, up: bool, none: int) -> int:
    """A limit in integer units: ceil for minima (``up``), floor for maxima; ``none`` if None."""
    if value is None:
        return none
    q = _frac(value) / unit
    n = math.ceil(q) if up else math.floor(q)
    if n > UNITS_MAX:
        raise RiskConfigError(name, str(value), "larger than 2**62-1 units (use None for no limit)")
    return n


def _decimals(x: Fraction) -> int:
    """Decimal places of a terminating decimal."""
    e = 0
    while x.denominator != 1:
        x *= 10
        e += 1
        if e > 30:
            raise RiskConfigError("unit", str(x), "not a terminating decimal")
    return e


@dataclass
class RiskIndex:
    """Names -> indices of a loaded engine, and exact decimal -> integer unit conversions."""

    venues: dict[str, int] = field(default_factory=dict)
    assets: dict[str, int] = field(default_factory=dict)
    instruments: dict[tuple[str, str], int] = field(default_factory=dict)
    asset_units: dict[str, Decimal] = field(default_factory=dict)
    specs: list[InstrumentLimits] = field(default_factory=list)

    def venue(self, name: str) -> int:
        return self._get(self.venues, name, "venue")

    def asset(self, name: str) -> int:
        return self._get(self.assets, name, "asset")

    def instrument(self, venue: str, symbol: str) -> int:
        return self._get(self.instruments, (venue, symbol), "instrument")

    def to_ticks(self, inst: int, price: Decimal | str | int) -> int:
        """A decimal price of instrument ``inst`` in ticks (exact; not on the tick raises)."""
        return self._exact(price, self.specs[inst].tick_size, "price")

    def to_lots(self, inst: int, qty: Decimal | str | int) -> int:
        return self._exact(qty, self.specs[inst].lot_size, "qty")

    def to_asset_units(self, asset: str, amount: Decimal | str | int) -> int:
        """A balance in asset units; rounds down (a free balance is never overstated)."""
        return math.floor(_frac(Decimal(amount)) / _frac(self.asset_units[asset]))

    @staticmethod
    def _exact(value: Decimal | str | int, unit: Decimal, name: str) -> int:
        q = _frac(Decimal(value)) / _frac(unit)
        if q.denominator != 1:
            raise RiskConfigError(name, str(value), f"not a multiple of {unit}")
        return int(q)

    @staticmethod
    def _get(d: dict, key: object, what: str) -> int:
        try:
            return d[key]
        except KeyError:
            raise RiskConfigError(what, key, "unknown") from None


def make_index(limits: RiskLimits) -> RiskIndex:
    """Assign indices (config order) and balance units; check names and cross references."""
    ix = RiskIndex()
    for v in limits.venues:
        if v.name in ix.venues:
            raise RiskConfigError("venues", v.name, "duplicate venue")
        ix.venues[v.name] = len(ix.venues)
    declared: dict[str, AssetConfig] = {}
    for a in limits.assets:
        if a.name in declared:
            raise RiskConfigError("assets", a.name, "duplicate asset")
        declared[a.name] = a
        ix.assets[a.name] = len(ix.assets)
    for inst in limits.instruments:
        if inst.venue not in ix.venues:
            raise RiskConfigError("instruments.venue", inst.venue, f"unknown venue ({inst.symbol})")
        if inst.base == inst.quote:
            raise RiskConfigError("instruments.quote", inst.quote, "base and quote are the same")
        if inst.key in ix.instruments:
            raise RiskConfigError("instruments", inst.key, "duplicate instrument")
        ix.instruments[inst.key] = len(ix.instruments)
        ix.specs.append(inst)
        for name in (inst.base, inst.quote):
            if name not in ix.assets:
                ix.assets[name] = len(ix.assets)
    needs: dict[str, list[Fraction]] = {name: [] for name in ix.assets}
    for inst in limits.instruments:
        needs[inst.quote].append(_frac(inst.tick_size) * _frac(inst.lot_size))
        needs[inst.base].append(_frac(inst.lot_size))
    for name in ix.assets:
        cfg = declared.get(name)
        if cfg is not None and cfg.unit is not None:
            ix.asset_units[name] = cfg.unit
        else:
            e = max((_decimals(x) for x in needs[name]), default=0)
            ix.asset_units[name] = Decimal(1).scaleb(-e)
    return ix


def load_limits(engine: RiskEngine, limits: RiskLimits) -> RiskIndex:
    """Load (or reload) ``limits`` into an engine of the same shape; state is kept.

    Reloading refills the venues' token buckets. Returns the index (also set as engine.index).
    """
    ix = make_index(limits)
    shape = (len(ix.instruments), len(ix.venues), len(ix.assets))
    if shape != (engine.n_instruments, engine.n_venues, engine.n_assets):
        raise RiskConfigError("shape", shape, "instruments/venues/assets differ from the engine's")
    for v in limits.venues:
        engine.set_venue(
            ix.venues[v.name],
            max_orders=v.max_orders if v.max_orders is not None else -1,
            interval_ns=v.interval_ms * 1_000_000,
            max_open_orders=v.max_open_orders if v.max_open_orders is not None else -1,
        )
    values = {a.name: a.value for a in limits.assets}
    for name, a in ix.assets.items():
        engine.set_asset_value(a, values.get(name, 1.0))
    for i, inst in enumerate(limits.instruments):
        notional_unit = _frac(inst.tick_size) * _frac(inst.lot_size)
        lot = _frac(inst.lot_size)
        k = f"instruments[{inst.venue}:{inst.symbol}]"
        qf = notional_unit / _frac(ix.asset_units[inst.quote])
        bf = lot / _frac(ix.asset_units[inst.base])
        if qf.denominator != 1 or qf > UNITS_MAX:
            raise RiskConfigError(
                f"{k}.quote unit",
                str(ix.asset_units[inst.quote]),
                "tick*lot must be a multiple of the quote asset's unit",
            )
        if bf.denominator != 1 or bf > UNITS_MAX:
            raise RiskConfigError(
                f"{k}.base unit",
                str(ix.asset_units[inst.base]),
                "lot must be a multiple of the base asset's unit",
            )
        collar = -1
        if inst.collar_bps is not None:
            c = _frac(inst.collar_bps) * 10_000
            if c.denominator != 1 or c > UNITS_MAX:
                raise RiskConfigError(
                    f"{k}.collar_bps", str(inst.collar_bps), "at most 4 decimal places"
                )
            collar = int(c)
        engine.set_instrument(
            i,
            venue=ix.venues[inst.venue],
            base=ix.assets[inst.base],
            quote=ix.assets[inst.quote],
            tick_size=str(inst.tick_size),
            lot_size=str(inst.lot_size),
            price_mult=_multiple(
                f"{k}.price_increment", inst.price_increment or inst.tick_size, inst.tick_size
            ),
            lot_mult=_multiple(
                f"{k}.size_increment", inst.size_increment or inst.lot_size, inst.lot_size
            ),
            min_qty=_limit(f"{k}.min_qty", inst.min_qty, lot, True, 0),
            max_qty=_limit(f"{k}.max_qty", inst.max_qty, lot, False, -1),
            min_notional=_limit(f"{k}.min_notional", inst.min_notional, notional_unit, True, 0),
            max_notional=_limit(f"{k}.max_notional", inst.max_notional, notional_unit, False, -1),
            max_order_qty=_limit(f"{k}.max_order_qty", inst.max_order_qty, lot, False, -1),
            max_order_notional=_limit(
                f"{k}.max_order_notional", inst.max_order_notional, notional_unit, False, -1
            ),
            collar_e8=collar,
            max_book_age_ns=(
                inst.max_book_age_ms * 1_000_000 if inst.max_book_age_ms is not None else -1
            ),
            max_position=_limit(f"{k}.max_position", inst.max_position, lot, False, -1),
            quote_factor=int(qf),
            base_factor=int(bf),
        )
    engine.set_global_limits(
        max_gross_exposure=(
            limits.max_gross_exposure if limits.max_gross_exposure is not None else -1.0
        ),
        daily_loss_limit=limits.daily_loss_limit if limits.daily_loss_limit is not None else -1.0,
    )
    engine.index = ix
    return ix


def build_engine(limits: RiskLimits) -> RiskEngine:
    """A new RiskEngine sized for ``limits`` and loaded with them (``engine.index`` names it)."""
    ix = make_index(limits)
    engine = RiskEngine(
        len(ix.instruments),
        len(ix.venues),
        len(ix.assets),
        max_open_ids=limits.max_open_ids,
        max_list_len=limits.max_list_len,
    )
    load_limits(engine, limits)
    return engine
