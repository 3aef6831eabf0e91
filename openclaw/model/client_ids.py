"""Client order ids that every venue accepts, unique across restarts, parseable back.

One id must fit Binance ``newClientOrderId`` (36 chars of ``.A-Za-z0-9:/_-``), OKX ``clOrdId``
(1-32 alphanumerics, case-sensitive) and Bybit ``orderLinkId`` (36 chars of ``A-Za-z0-9_-``), so
ids are ``[A-Za-z0-9]{1,32}``. Layout (base62, digits < upper < lower, so fixed-width fields sort
like the numbers they hold)::

    C  SSSSSSSSSS  L  A  OOO...
    |  |           |  |  +-- opportunity id, base62, 1..19 chars, no leading zero
    |  |           |  +----- attempt (0..61): a re-send of the same leg needs a fresh id
    |  |           +-------- leg index (0..61)
    |  +-------------------- session: 7 chars of wall-clock ms + 3 random chars
    +----------------------- format tag (an id without it is not ours)

The session prefix makes a restart never reuse an id: a new process starts at a later
millisecond, and the random part separates two processes started in the same millisecond. The
journal's primary key on the client id is the durable backstop (``DuplicateClientIdError``
before the order is sent).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass

from openclaw.model.errors import ClientIdError

__all__ = [
    "ALPHABET",
    "CLIENT_ID_RE",
    "MAX_ATTEMPT",
    "MAX_LEG",
    "MAX_OPPORTUNITY",
    "ClientIdFactory",
    "ClientIdParts",
    "fits_all_venues",
    "new_session",
    "parse_client_id",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
#: What every supported venue accepts.
CLIENT_ID_RE = re.compile(r"[A-Za-z0-9]{1,32}")
_TAG = "C"
_TIME_LEN = 7  # 62**7 ms ~ 111 years after the epoch
_RAND_LEN = 3
SESSION_LEN = _TIME_LEN + _RAND_LEN
_OPP_LEN = 32 - len(_TAG) - SESSION_LEN - 2
MAX_LEG = len(ALPHABET) - 1
MAX_ATTEMPT = len(ALPHABET) - 1
MAX_OPPORTUNITY = 62**_OPP_LEN - 1
_SESSION_RE = re.compile(rf"[A-Za-z0-9]{{{SESSION_LEN}}}")


def _b62(n: int, width: int = 0) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(ALPHABET[r])
    s = "".join(reversed(out)) or "0"
    return s.rjust(width, "0")


def _from_b62(s: str) -> int:
    n = 0
    for c in s:
        n = n * 62 + _INDEX[c]
    return n


def fits_all_venues(client_id: str) -> bool:
    """True if Binance, OKX and Bybit all accept ``client_id`` as a client order id."""
    return isinstance(client_id, str) and CLIENT_ID_RE.fullmatch(client_id) is not None


def new_session(now_ns: int | None = None) -> str:
    """A fresh session prefix: wall-clock milliseconds (7 base62 chars) + 3 random chars."""
    ms = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
    if not 0 <= ms <= 62**_TIME_LEN - 1:
        raise ClientIdError("session time", ms, "outside the 7-char base62 millisecond range")
    rand = "".join(secrets.choice(ALPHABET) for _ in range(_RAND_LEN))
    return _b62(ms, _TIME_LEN) + rand


@dataclass(frozen=True, slots=True)
class ClientIdParts:
    """What a client order id encodes."""

    session: str
    opportunity_id: int
    leg: int
    attempt: int


def _check_int(field: str, value: object, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise ClientIdError(field, value, f"must be an int in [0, {hi}]")
    return value


class ClientIdFactory:
    """Makes the client order ids of one process (one session prefix).

    ``next_opportunity()`` hands out opportunity ids in increasing order, so two opportunities of
    one session never share ids; ``make(opp, leg, attempt)`` is a pure function of its inputs and
    the session.
    """

    __slots__ = ("_next_opp", "_session")

    def __init__(self, session: str | None = None, first_opportunity: int = 0) -> None:
        session = new_session() if session is None else session
        if not isinstance(session, str) or not _SESSION_RE.fullmatch(session):
            raise ClientIdError("session", session, f"must be {SESSION_LEN} base62 chars")
        self._session = session
        self._next_opp = _check_int("first_opportunity", first_opportunity, MAX_OPPORTUNITY)

    @property
    def session(self) -> str:
        """The session prefix every id of this factory carries."""
        return self._session

    def next_opportunity(self) -> int:
        """A new opportunity id, never returned before by this factory."""
        opp = self._next_opp
        if opp > MAX_OPPORTUNITY:
            raise ClientIdError("opportunity_id", opp, "session exhausted")
        self._next_opp = opp + 1
        return opp

    def make(self, opportunity_id: int, leg: int, attempt: int = 0) -> str:
        """The client order id of one leg (and attempt) of one opportunity."""
        opp = _check_int("opportunity_id", opportunity_id, MAX_OPPORTUNITY)
        leg = _check_int("leg", leg, MAX_LEG)
        attempt = _check_int("attempt", attempt, MAX_ATTEMPT)
        return f"{_TAG}{self._session}{ALPHABET[leg]}{ALPHABET[attempt]}{_b62(opp)}"

    @property
    def prefix(self) -> str:
        """What every id this factory makes starts with (tag + session)."""
        return f"{_TAG}{self._session}"

    def owns(self, client_id: str) -> bool:
        """True if ``client_id`` was made by a factory with this session."""
        try:
            return parse_client_id(client_id).session == self._session
        except ClientIdError:
            return False

    def __repr__(self) -> str:
        return f"ClientIdFactory(session={self._session!r}, next_opportunity={self._next_opp})"


def parse_client_id(client_id: str) -> ClientIdParts:
    """(session, opportunity id, leg, attempt) of an id ``ClientIdFactory.make`` produced.

    Raises ``ClientIdError`` for anything else (a foreign or hand-made id), including
    non-canonical forms (a leading zero in the opportunity id), so the mapping is one-to-one.
    """
    if not fits_all_venues(client_id):
        raise ClientIdError("client_id", client_id, "must match [A-Za-z0-9]{1,32}")
    head = len(_TAG) + SESSION_LEN
    if not client_id.startswith(_TAG) or len(client_id) < head + 3:
        raise ClientIdError("client_id", client_id, "not an openclaw client id")
    opp_text = client_id[head + 2 :]
    if len(opp_text) > 1 and opp_text[0] == "0":
        raise ClientIdError("client_id", client_id, "opportunity id has a leading zero")
    return ClientIdParts(
        session=client_id[len(_TAG) : head],
        opportunity_id=_from_b62(opp_text),
        leg=_INDEX[client_id[head]],
        attempt=_INDEX[client_id[head + 1]],
    )
