# Exact decimal-string -> integer units (ticks or lots), without a float round trip.
from openclaw._core.typedefs cimport int64_t

cdef struct Scale:
    int64_t m        # the unit is m * 10**-e, m > 0, e <= 18
    int e
    double value     # the unit as the nearest double (m / 10**e)
    double div       # 10**e as a double (exact)
    int64_t exact_max  # below this many units, u * m is an exact double (2**53 / m)

# Error codes of the parsers (0 = ok)
cdef enum ParseError:
    PE_OK = 0
    PE_EMPTY = 1
    PE_SYNTAX = 2
    PE_NEGATIVE = 3
    PE_NONFINITE = 4
    PE_OVERFLOW = 5
    PE_NOT_MULTIPLE = 6
    PE_LOST = 7          # internal: more than 18 significant digits (parse_decimal only)

cdef int parse_decimal(const char* s, Py_ssize_t n, int64_t* digits, int* exp10) noexcept nogil
cdef int parse_units(const char* s, Py_ssize_t n, const Scale* sc, int64_t* out) noexcept nogil
cdef int float_units(double x, const Scale* sc, int64_t* out) noexcept nogil
cdef void finish_scale(Scale* sc) noexcept nogil


cdef inline double units_to_float(int64_t u, const Scale* sc) noexcept nogil:
    """Units -> the double nearest to the exact decimal value (exactly so below exact_max:
    an exact integer divided by an exact power of ten is correctly rounded)."""
    if u < sc.exact_max:
        return <double>(u * sc.m) / sc.div
    return <double>u * sc.value
cdef int object_units(object value, const Scale* sc, int64_t* out) except -1
cdef int make_scale(object text, Scale* sc) except -1
cdef raise_parse_error(int code, str field, object value)
cdef Py_ssize_t format_units(int64_t u, const Scale* sc, char* out) noexcept nogil
