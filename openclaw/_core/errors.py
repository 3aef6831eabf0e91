"""Typed errors of the hot path.

Defined inside ``_core`` so the Cython modules depend on nothing of the shell; ``openclaw.errors``
re-exports them. Every error names the field and the value that was rejected.
"""

from __future__ import annotations


class OpenclawError(Exception):
    """Base class of every error openclaw raises on purpose."""


class BookError(OpenclawError, ValueError):
    """Input an order book refused; the book is left exactly as it was."""


class PriceParseError(BookError):
    """A price or size that is not an exact, finite, non-negative multiple of its tick/lot."""

    def __init__(self, field: str, value: object, reason: str, detail: str = "") -> None:
        self.field = field
        self.value = value
        self.reason = reason
        msg = f"invalid {field} {value!r}: {reason}"
        if detail:
            msg += f" ({detail})"
        super().__init__(msg)


class LevelFormatError(BookError):
    """A level that is not a (price, size) pair, or a side that is not a sequence of them."""

    def __init__(self, field: str, value: object, detail: str) -> None:
        self.field = field
        self.value = value
        self.reason = "format"
        super().__init__(f"invalid {field} {value!r}: {detail}")


class CapacityError(BookError):
    """A capacity, depth or book id outside what was allocated."""


class MessageFormatError(OpenclawError, ValueError):
    """A venue message that is not JSON of the expected shape (feeds skip and count it)."""

    def __init__(self, venue: str, detail: str, offset: int = -1) -> None:
        self.venue = venue
        self.detail = detail
        self.offset = offset
        where = f" at byte {offset}" if offset >= 0 else ""
        super().__init__(f"malformed {venue} message{where}: {detail}")


class RiskError(OpenclawError, ValueError):
    """A risk-engine call with an index or argument outside what was configured."""


class RiskConfigError(RiskError):
    """Risk limits that cannot be loaded into the engine: names the field, the value and why."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid risk config {field} {value!r}: {reason}")
