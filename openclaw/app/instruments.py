"""A run's instruments completed and checked against the venues' own metadata, and the taker
fees the detector counts.

An instrument may be given by venue and unified symbol only (``BTC/USDT``): the venue's symbol,
tick, lot, min/max size and min notional come from its metadata (execution/metadata.py).
Values still written by hand must agree with the venue's: every disagreement is listed at once
(``MetadataMismatchError``, a ``ConfigError``) naming the field, the instrument and both values,
before anything is sent. A market the venue does not trade (halted) is refused the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from openclaw.app.config import Config, ConfigError, InstrumentConfig
from openclaw.execution.metadata import VenueMetadata
from openclaw.model.instrument import InstrumentMeta

__all__ = ["DEFAULT_TAKER_FEE_BPS", "MetadataMismatchError", "apply_metadata", "taker_fees"]

#: the taker fee assumed when neither the venue nor the config gives one (docs/venues/<v>.md)
DEFAULT_TAKER_FEE_BPS = 10.0

_CHECKED = ("tick_size", "lot_size", "min_notional", "min_qty", "max_qty")


class MetadataMismatchError(ConfigError):
    """Configured instruments the venues' metadata contradicts (or that do not trade)."""


def _fmt(d: Decimal | None) -> str:
    return "none" if d is None else format(Decimal(d).normalize(), "f")


def check_instrument(i: int, inst: InstrumentConfig, meta: InstrumentMeta | None
                     ) -> list[tuple[str, str]]:
    """Every way ``inst`` (``instruments[i]``) disagrees with the venue's ``meta``."""
    where = f"instruments[{i}]"
    if meta is None:
        return [(f"{where}.symbol", f"{inst.venue} lists no spot market {inst.symbol}")]
    name = f"{inst.venue} {meta.unified}"
    errors: list[tuple[str, str]] = []
    if "/" not in inst.symbol and inst.symbol != meta.symbol:
        errors.append((f"{where}.symbol", f"{name}: config {inst.symbol} but the venue's id is "
                                          f"{meta.symbol}"))
    for key in _CHECKED:
        given, venue = getattr(inst, key), getattr(meta, key)
        if given is None or venue is None:
            continue
        if Decimal(given) != venue:
            errors.append((f"{where}.{key}", f"{name}: config {_fmt(given)} but the venue "
                                             f"publishes {_fmt(venue)}"))
    if not meta.active:
        errors.append((where, f"{name} is not trading (venue status {meta.status or '?'})"))
    return errors


def apply_metadata(cfg: Config, metas: dict[str, VenueMetadata], source: str,
                   venues: set[str] | None = None) -> Config:
    """``cfg`` with each instrument of ``venues`` (default: those in ``metas``) completed from
    its venue's metadata; ``MetadataMismatchError`` listing every disagreement."""
    errors: list[tuple[str, str]] = []
    out: list[InstrumentConfig] = []
    for i, inst in enumerate(cfg.instruments):
        vm = metas.get(inst.venue)
        if vm is None or (venues is not None and inst.venue not in venues):
            out.append(inst)
            continue
        meta = vm.find(inst.unified) or vm.find(inst.symbol)
        found = check_instrument(i, inst, meta)
        errors += found
        if meta is None or found:
            out.append(inst)
            continue
        out.append(inst.model_copy(update={
            "symbol": meta.symbol, "base": meta.base, "quote": meta.quote,
            "tick_size": meta.tick_size, "lot_size": meta.lot_size,
            "min_notional": inst.min_notional if meta.min_notional is None
            else meta.min_notional,
            "min_qty": meta.min_qty, "max_qty": meta.max_qty}))
    if errors:
        raise MetadataMismatchError(source, errors)
    return cfg.model_copy(update={"instruments": out})


def unresolved(cfg: Config) -> list[tuple[str, str]]:
    """Instruments still missing a venue symbol, tick or lot (no metadata for their venue)."""
    return [(f"instruments[{i}]", f"{inst.venue} {inst.symbol}: tick_size/lot_size unknown "
                                  "(the venue's metadata was not read)")
            for i, inst in enumerate(cfg.instruments) if not inst.resolved]


def taker_fees(cfg: Config, metas: dict[str, VenueMetadata]) -> dict[str, dict[str, Any]]:
    """Per venue: the taker fee in bps the detector counts and where it comes from: the
    config's ``taker_fee_bps`` when written (an override), else the account's rate from the
    venue (the highest among the configured markets), else ``DEFAULT_TAKER_FEE_BPS``."""
    out: dict[str, dict[str, Any]] = {}
    for name, v in cfg.venues.items():
        if "taker_fee_bps" in v.model_fields_set:
            out[name] = {"bps": v.taker_fee_bps, "source": "config"}
            continue
        vm = metas.get(name)
        rates = [m.taker_fee for inst in cfg.instruments if inst.venue == name and vm
                 and (m := vm.find(inst.unified) or vm.find(inst.symbol)) is not None
                 and m.taker_fee is not None]
        if rates:
            out[name] = {"bps": float(max(rates) * 10_000), "source": "venue"}
        else:
            why = vm.fee_error if vm is not None and vm.fee_error else "not read"
            out[name] = {"bps": DEFAULT_TAKER_FEE_BPS, "source": f"default ({why})"}
    return out
