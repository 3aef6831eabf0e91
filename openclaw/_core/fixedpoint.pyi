"""Type stubs of ``openclaw._core.fixedpoint`` (Cython): exact decimal <-> integer units."""

from decimal import Decimal

from openclaw._core.errors import LevelFormatError as LevelFormatError
from openclaw._core.errors import PriceParseError as PriceParseError

def to_units(value: str | int | float | Decimal | bytes, unit: str | Decimal = "1") -> int: ...
def format_decimal(u: int, unit: str | Decimal = "1") -> str: ...
