"""Which venue errors leave an order's fate unknown: one rule for the ccxt and the fast routes.

ccxt turns a venue's error code or message into an exception class through the exchange's own
``exceptions`` maps (``exact``: code or message -> class; ``broad``: substring of the message ->
class; Binance also a ``spot`` section consulted first for ``/api/v3`` URLs). The Router decides an
order's state from that class (``outcome_of``); the fast routes read the same maps (``VenueCodes``)
so the same code means the same thing on both routes:

* ``MAYBE``: ccxt's ``NetworkError``/``OperationFailed`` family (``RequestTimeout``,
  ``ExchangeNotAvailable``, ``OnMaintenance``, ``BadResponse``, ``NullResponse`` ...): the order
  may exist -> UNKNOWN until a query by client id answers;
* ``RATE_LIMITED``: ``RateLimitExceeded``/``DDoSProtection``: refused, back off;
* ``REFUSED``: everything else, including ``InvalidNonce`` (a stale timestamp is refused before
  matching) -> REJECTED.

The maps are read from the installed ccxt at first use (``ccxt.<venue>().exceptions``; ccxt 4.5.90
when this was written), not copied, so a ccxt upgrade moves both routes together.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from openclaw.model.venues import crypto_venue

__all__ = ["MAYBE", "RATE_LIMITED", "REFUSED", "VenueCodes", "outcome_of", "venue_codes"]

MAYBE = "maybe"
RATE_LIMITED = "rate_limited"
REFUSED = "refused"


@functools.cache
def _families() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(maybe, rate-limited, refused-despite-maybe) ccxt classes (ccxt imported on first use)."""
    import ccxt  # type: ignore[import-untyped]

    return ((ccxt.NetworkError, ccxt.OperationFailed),
            (ccxt.RateLimitExceeded, ccxt.DDoSProtection),
            (ccxt.InvalidNonce,))


def kind_of_class(cls: type) -> str:
    """The outcome ccxt's exception class ``cls`` means for an order (see the module doc)."""
    maybe, rate, refused = _families()
    if issubclass(cls, rate):
        return RATE_LIMITED
    if issubclass(cls, refused):
        return REFUSED
    if issubclass(cls, maybe):
        return MAYBE
    return REFUSED


def outcome_of(exc: BaseException) -> str | None:
    """The outcome a ccxt exception means (``MAYBE``/``RATE_LIMITED``/``REFUSED``), or None when
    ``exc`` is not a ccxt error (the caller decides from its own attributes)."""
    import ccxt  # type: ignore[import-untyped]

    if not isinstance(exc, ccxt.BaseError):
        return None
    if type(exc) is ccxt.ExchangeError:
        # ccxt's "unknown message": it could not say what the venue meant -> may exist
        return MAYBE
    return kind_of_class(type(exc))


@dataclass(frozen=True)
class VenueCodes:
    """One venue's ccxt error maps as outcomes: ``exact`` (code or message) and ``broad``."""

    venue: str
    exact: dict[str, str]
    broad: tuple[tuple[str, str], ...]

    def of_code(self, code: str | None) -> str | None:
        """The outcome ccxt's exact map gives ``code``; None if ccxt does not map it."""
        return self.exact.get(code) if code else None

    def of_msg(self, msg: str | None) -> str | None:
        """The outcome of a message: ccxt's exact map first, then its broad substrings."""
        if not msg:
            return None
        kind = self.exact.get(msg)
        if kind is not None:
            return kind
        for needle, k in self.broad:
            if needle in msg:
                return k
        return None


def _outcomes(m: dict[str, Any]) -> dict[str, str]:
    return {str(k): kind_of_class(c) for k, c in m.items() if isinstance(c, type)}


@functools.cache
def venue_codes(venue: str) -> VenueCodes:
    """``venue``'s error maps read from the installed ccxt (built once per process)."""
    import ccxt  # type: ignore[import-untyped]

    spec = crypto_venue(venue)
    exc = getattr(ccxt, spec.ccxt_id)().exceptions
    exact = _outcomes(exc.get("exact", {}))
    broad = dict(_outcomes(exc.get("broad", {})))
    # ccxt consults the URL's section (Binance: ``spot`` for /api/v3) before the general maps
    for section in spec.ccxt_error_sections:
        sec = exc.get(section, {})
        exact.update(_outcomes(sec.get("exact", {})))
        broad = {**_outcomes(sec.get("broad", {})), **broad}
    return VenueCodes(venue, exact, tuple(broad.items()))
