"""Render an exact value ``n * unit`` (``unit`` a decimal string) in many equivalent spellings.

Plain Python, no openclaw. Used by the property tests to feed the same number to the book as
``"65000.01"``, ``"65000.0100000"``, ``"6.500001e4"``, ``"6500001e-2"``, ``b"65000.01"``,
``65000.01`` (float), ...
"""

from __future__ import annotations

from fractions import Fraction

STYLES = (
    "plain",  # 65000.01
    "padded",  # 65000.0100000
    "lead0",  # 0065000.01
    "bare",  # .5 / 5.
    "plus",  # +65000.01
    "sci",  # 6.500001e4
    "sci_upper",  # 6.500001E+4
    "intexp",  # 6500001e-2
    "intexp_shift",  # 650000100e-4 (un-normalised mantissa)
    "bytes",  # b"65000.01"
    "float",  # 65000.01
    "int",  # only for integral values, otherwise falls back to plain
)

# A float that came from a decimal string is within 1e-6 units of the exact value only while the
# number of units is small enough (53-bit mantissa): keep float styles below this many units.
FLOAT_SAFE_UNITS = 2**30


def split_decimal(text: str) -> tuple[int, int]:
    """'0.25' -> (25, -2): integer mantissa and power of ten of a plain decimal string."""
    if "." in text:
        ip, fp = text.split(".")
    else:
        ip, fp = text, ""
    return int(ip + fp or "0"), -len(fp)


def value_of(n: int, unit: str) -> Fraction:
    m, e = split_decimal(unit)
    return n * m * Fraction(10) ** e


def _digits_exp(n: int, unit: str) -> tuple[str, int]:
    """Normalised (digits, exp) with value = int(digits) * 10**exp, digits without trailing 0."""
    m, e = split_decimal(unit)
    v = n * m
    if v == 0:
        return "0", 0
    d = str(v)
    stripped = d.rstrip("0")
    return stripped, e + (len(d) - len(stripped))


def plain(n: int, unit: str) -> str:
    digits, exp = _digits_exp(n, unit)
    if digits == "0":
        return "0"
    if exp >= 0:
        return digits + "0" * exp
    k = -exp
    if len(digits) <= k:
        return "0." + "0" * (k - len(digits)) + digits
    return digits[:-k] + "." + digits[-k:]


def render(n: int, unit: str, style: str, variant: int = 0):
    """``n`` units of ``unit`` in ``style``; ``variant`` (0..) picks sub-spellings."""
    p = plain(n, unit)
    digits, exp = _digits_exp(n, unit)
    if style == "plain":
        return p
    if style == "padded":
        pad = "0" * (1 + variant % 7)
        return p + pad if "." in p else p + "." + pad
    if style == "lead0":
        return "0" * (1 + variant % 3) + p
    if style == "bare":
        if p.startswith("0."):
            return p[1:]  # .5
        if "." not in p:
            return p + "."  # 5.
        return p
    if style == "plus":
        return "+" + p
    if style in ("sci", "sci_upper"):
        e10 = exp + len(digits) - 1
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        if digits == "0":
            e10 = variant % 5
        if style == "sci":
            es = str(e10) if variant % 2 == 0 else (f"{e10:+d}" if e10 else "0" + str(e10))
            return f"{mant}e{es}"
        return f"{mant}E{e10:+d}"
    if style == "intexp":
        return f"{digits}e{exp}" if variant % 2 == 0 else f"{digits}E{exp:+d}"
    if style == "intexp_shift":
        k = 1 + variant % 4
        return f"{digits}{'0' * k}e{exp - k}"
    if style == "bytes":
        return p.encode()
    if style == "float":
        return float(p)
    if style == "int":
        if "." not in p:
            return int(p)
        return p
    raise ValueError(style)


def float_safe(n: int) -> bool:
    return abs(n) <= FLOAT_SAFE_UNITS
