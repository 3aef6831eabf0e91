"""Every typed error openclaw raises (the hot-path ones are defined in ``_core``)."""

from openclaw._core.errors import (
    BookError,
    CapacityError,
    LevelFormatError,
    MessageFormatError,
    OpenclawError,
    PriceParseError,
)

__all__ = [
    "BookError",
    "CapacityError",
    "LevelFormatError",
    "MessageFormatError",
    "OpenclawError",
    "PriceParseError",
]
