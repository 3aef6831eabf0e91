"""Exact decimal strings -> int64 ticks/lots.

Venues send prices and sizes as decimal strings ("27123.45", "0.00012000", "1e-5"). They are
parsed here once, digit by digit, into an integer mantissa and a power of ten, then divided by the
instrument's tick or lot exactly; no float is ever involved, so "0.1" + "0.2" style errors cannot
creep into a book. Floats (from user code) are accepted when they sit on the grid to 1e-6 units.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE
from openclaw._core.typedefs cimport int64_t, uint64_t
from libc.math cimport isfinite, llround, fabs, signbit

from openclaw._core.errors import PriceParseError, LevelFormatError

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL

cdef extern from *:
    """
    #define OC_INT64_MAX 9223372036854775807LL
    #define OC_UNITS_MAX 4611686018427387903LL
    #define OC_F64_EXACT 9007199254740992LL
    """
    int64_t INT64_MAX "OC_INT64_MAX"
    # largest value a unit count may reach: leaves headroom for sums and products of levels
    int64_t UNITS_MAX "OC_UNITS_MAX"
    int64_t F64_EXACT "OC_F64_EXACT"     # 2**53: integers below it are exact doubles

cdef int MAX_EXP = 400

cdef int64_t POW10[19]
POW10[0] = 1
for _i in range(1, 19):
    POW10[_i] = POW10[_i - 1] * 10

# DIGIT_LIMIT[k]: largest d with d * 10**k + 9 <= INT64_MAX; UNITS_LIMIT[k]: d * 10**k <= UNITS_MAX
cdef int64_t DIGIT_LIMIT[19]
cdef int64_t UNITS_LIMIT[19]
for _i in range(19):
    DIGIT_LIMIT[_i] = (INT64_MAX - 9) // POW10[_i]
    UNITS_LIMIT[_i] = UNITS_MAX // POW10[_i]

cdef double POW10F[23]
POW10F[0] = 1.0
for _i in range(1, 23):
    POW10F[_i] = POW10F[_i - 1] * 10.0

_REASONS = {
    PE_EMPTY: "empty",
    PE_SYNTAX: "syntax",
    PE_NEGATIVE: "negative",
    PE_NONFINITE: "nonfinite",
    PE_OVERFLOW: "overflow",
    PE_NOT_MULTIPLE: "not_multiple",
}


cdef int parse_decimal(const char* s, Py_ssize_t n, int64_t* digits, int* exp10) noexcept nogil:
    """Parse ``[+]digits[.digits][(e|E)[+-]digits]`` into digits * 10**exp10 (digits >= 0).

    Zeros after the point are held back until a non-zero digit follows, so "0.50000000" gives
    digits=5, exp10=-1: the common venue strings then convert without any division.
    """
    cdef Py_ssize_t i = 0
    cdef int64_t d = 0
    cdef int x = 0
    cdef int nd = 0          # digits seen (mantissa)
    cdef int pend = 0        # fractional zeros not yet folded into d
    cdef int lost = 0        # a non-zero digit beyond 18 significant ones was dropped
    cdef int seen_point = 0
    cdef int ex = 0, ex_sign = 1, ex_digits = 0
    cdef char c
    if n == 0:
        return PE_EMPTY
    c = s[0]
    if c == c'-':
        return PE_NEGATIVE
    if c == c'+':
        i = 1
    if i < n and (s[i] == c'n' or s[i] == c'N' or s[i] == c'i' or s[i] == c'I'):
        return PE_NONFINITE
    while i < n:
        c = s[i]
        if c'0' <= c <= c'9':
            nd += 1
            if seen_point:
                if c == c'0':
                    pend += 1
                elif d == 0:           # leading zeros: only the exponent moves
                    d = c - c'0'
                    x -= pend + 1
                    pend = 0
                elif not lost:
                    if pend >= 18 or d > DIGIT_LIMIT[pend + 1]:
                        lost = 1           # more than 18 significant digits: keep magnitude
                    else:
                        d = d * POW10[pend + 1] + (c - c'0')
                        x -= pend + 1
                        pend = 0
            elif d <= DIGIT_LIMIT[1]:
                d = d * 10 + (c - c'0')
            else:
                x += 1       # an integer digit that does not fit: scale instead
                if c != c'0':
                    lost = 1
        elif c == c'.':
            if seen_point:
                return PE_SYNTAX
            seen_point = 1
        elif c == c'e' or c == c'E':
            break
        else:
            return PE_SYNTAX
        i += 1
    if nd == 0:
        return PE_SYNTAX
    if i < n:                       # exponent
        i += 1
        if i < n and (s[i] == c'+' or s[i] == c'-'):
            if s[i] == c'-':
                ex_sign = -1
            i += 1
        while i < n:
            c = s[i]
            if not (c'0' <= c <= c'9'):
                return PE_SYNTAX
            if ex < 100000:
                ex = ex * 10 + (c - c'0')
            ex_digits += 1
            i += 1
        if ex_digits == 0:
            return PE_SYNTAX
        if ex > MAX_EXP:
            if d == 0:
                ex = 0
            elif ex_sign > 0:
                return PE_OVERFLOW
            else:
                return PE_NOT_MULTIPLE
        x += ex_sign * ex
    digits[0] = d
    exp10[0] = x
    return PE_LOST if lost else PE_OK


cdef extern from *:
    """
    typedef unsigned __int128 oc_u128;
    """
    ctypedef unsigned long long oc_u128 "oc_u128"


cdef int wide_units(int64_t d, int k, const Scale* sc, int64_t* out) noexcept nogil:
    """d * 10**k / m when d * 10**k exceeds the unit cap but m may bring it back under."""
    cdef oc_u128 num
    if sc.m == 1:
        return PE_OVERFLOW
    num = <oc_u128>d * <oc_u128>POW10[k]
    if num % <oc_u128>sc.m != 0:
        return PE_NOT_MULTIPLE
    num = num // <oc_u128>sc.m
    if num > <oc_u128>UNITS_MAX:
        return PE_OVERFLOW
    out[0] = <int64_t>num
    return PE_OK


cdef inline int scale_digits(int64_t d, int k, const Scale* sc, int64_t* out) noexcept nogil:
    """out = d * 10**k / sc.m exactly, or an error code (no division in the common case)."""
    cdef int64_t num, div
    if d == 0:
        out[0] = 0
        return PE_OK
    if k >= 0:
        if k > 18:
            return PE_OVERFLOW
        if d > UNITS_LIMIT[k]:
            return wide_units(d, k, sc, out)
        num = d * POW10[k]
    else:
        # strip trailing zeros (values like "100e-2"), then the rest must divide exactly
        while k < 0 and d % 10 == 0:
            d //= 10
            k += 1
        if k < 0:
            return PE_NOT_MULTIPLE
        if k > 18 or d > UNITS_LIMIT[k]:
            return PE_OVERFLOW
        num = d * POW10[k]
    if sc.m != 1:
        if num % sc.m != 0:
            return PE_NOT_MULTIPLE
        num //= sc.m
    out[0] = num
    return PE_OK


cdef int parse_units(const char* s, Py_ssize_t n, const Scale* sc, int64_t* out) noexcept nogil:
    """Parse a decimal string into integer units of ``sc`` (ticks or lots), exactly."""
    cdef int64_t d
    cdef int x
    cdef int rc = parse_decimal(s, n, &d, &x)
    if rc == PE_LOST:
        # too many significant digits: too big for int64 units, or finer than the unit
        rc = scale_digits(d, x + sc.e, sc, out)
        return PE_OVERFLOW if rc == PE_OVERFLOW else PE_NOT_MULTIPLE
    if rc != PE_OK:
        return rc
    return scale_digits(d, x + sc.e, sc, out)


cdef int float_units(double v, const Scale* sc, int64_t* out) noexcept nogil:
    """A float on the unit grid (to 1e-6 units) -> integer units."""
    cdef double u, r
    cdef int64_t k
    if not isfinite(v):
        return PE_NONFINITE
    if signbit(v):
        return PE_NEGATIVE
    if sc.e <= 22:
        u = v * POW10F[sc.e]
        if sc.m != 1:
            u = u / <double>sc.m
    else:
        u = v / sc.value
    if u > <double>UNITS_MAX:
        return PE_OVERFLOW
    k = <int64_t>(u + 0.5)
    r = u - <double>k
    if r > 1e-6 + u * 1e-15 or r < -1e-6 - u * 1e-15:
        return PE_NOT_MULTIPLE
    out[0] = k
    return PE_OK


cdef void finish_scale(Scale* sc) noexcept nogil:
    """Fill the derived fields of a Scale whose m and e are set."""
    sc.div = POW10F[sc.e]
    sc.value = <double>sc.m / sc.div
    sc.exact_max = F64_EXACT // sc.m


cdef int object_units(object value, const Scale* sc, int64_t* out) except -1:
    """str / bytes / float / int -> units; returns a ParseError code, -1 on a type error."""
    cdef Py_ssize_t n
    cdef const char* s
    cdef type t = type(value)
    if t is str:
        s = PyUnicode_AsUTF8AndSize(value, &n)
        return parse_units(s, n, sc, out)
    if t is float:
        return float_units(PyFloat_AS_DOUBLE(value), sc, out)
    if t is bytes:
        return parse_units(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), sc, out)
    if t is int:
        if value < 0:
            return PE_NEGATIVE
        if value > UNITS_MAX:
            return PE_OVERFLOW
        return scale_digits(<int64_t>value, sc.e, sc, out)
    if t is bool:
        raise LevelFormatError("number", value, "expected str, bytes, float or int")
    if isinstance(value, float):
        return float_units(<double>value, sc, out)
    if isinstance(value, int):
        return object_units(int(value), sc, out)
    if isinstance(value, str):
        return object_units(str(value), sc, out)
    raise LevelFormatError("number", value, "expected str, bytes, float or int")


cdef raise_parse_error(int code, str field, object value):
    raise PriceParseError(field, value, _REASONS.get(code, "syntax"))


cdef int make_scale(object text, Scale* sc) except -1:
    """Parse a tick or lot size ("0.01", "1e-5", "5") into a Scale."""
    cdef int64_t d
    cdef int x
    cdef int rc
    cdef bytes b
    if isinstance(text, float):
        text = repr(text)
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if isinstance(text, str):
        b = (<str>text).encode("ascii", "replace")
    elif isinstance(text, bytes):
        b = text
    else:
        raise LevelFormatError("unit", text, "expected a decimal string")
    rc = parse_decimal(b, len(b), &d, &x)
    if rc == PE_LOST:
        raise PriceParseError("unit", text, "overflow", "more than 18 significant digits")
    if rc != PE_OK:
        raise PriceParseError("unit", text, _REASONS.get(rc, "syntax"))
    if d == 0:
        raise PriceParseError("unit", text, "zero")
    while d % 10 == 0:
        d //= 10
        x += 1
    if x >= 0:
        if x > 18 or d > UNITS_MAX // POW10[x]:
            raise PriceParseError("unit", text, "overflow")
        sc.m = d * POW10[x]
        sc.e = 0
    else:
        if -x > 18:
            raise PriceParseError("unit", text, "overflow", "more than 18 decimals")
        sc.m = d
        sc.e = -x
    finish_scale(sc)
    return 0


def to_units(value, unit="1"):
    """Exact conversion of ``value`` to integer multiples of ``unit`` (for tests and tools)."""
    cdef Scale sc
    cdef int64_t out = 0
    make_scale(unit, &sc)
    rc = object_units(value, &sc, &out)
    if rc != PE_OK:
        raise_parse_error(rc, "value", value)
    return out


cdef Py_ssize_t format_units(int64_t u, const Scale* sc, char* out) noexcept nogil:
    """Write u units as a minimal decimal ("30244", "0.08", "0.0000102"); returns the length.

    ``out`` needs room for 48 bytes. Used where a venue hashes its own minimal strings (a
    book checksum).
    """
    cdef char tmp[48]
    cdef Py_ssize_t nd = 0, i, j, z, k = 0, e = sc.e
    cdef uint64_t v = <uint64_t>u * <uint64_t>sc.m
    if v == 0:
        out[0] = c'0'
        return 1
    while v > 0:
        tmp[nd] = <char>(c'0' + v % 10)
        v //= 10
        nd += 1
    # tmp holds the digits in reverse; strip trailing (fractional) zeros
    i = 0
    while e > 0 and tmp[i] == c'0':
        i += 1
        e -= 1
    if nd - i <= e:           # 0.000ddd
        out[k] = c'0'
        out[k + 1] = c'.'
        k = 2
        for z in range(e - (nd - i)):
            out[k] = c'0'
            k += 1
        for j in range(nd - 1, i - 1, -1):
            out[k] = tmp[j]
            k += 1
        return k
    for j in range(nd - 1, i - 1, -1):
        out[k] = tmp[j]
        k += 1
        if j - i == e and e > 0:
            out[k] = c'.'
            k += 1
    return k


def format_decimal(u, unit="1") -> str:
    """Integer units -> the minimal decimal string (for tests and tools)."""
    cdef Scale sc
    cdef char buf[48]
    make_scale(unit, &sc)
    cdef Py_ssize_t n = format_units(u, &sc, buf)
    return buf[:n].decode("ascii")
