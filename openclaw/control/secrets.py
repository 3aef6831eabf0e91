"""The control API's secrets: the bearer token file and one-time approval codes.

Token: 32 random bytes (URL-safe text) in a file created with mode 0600 (``O_EXCL``: never
through a file someone else made); an existing file is used only if it is a regular file of
this user with no group/other permission bits. The token is compared in constant time and
never logged, returned or put in an exception.

Approval codes: ``resume``, ``flatten`` and ``reload-risk`` need one. The engine makes a code
(8 digits), sends it out of band (the operator's Telegram chat, a file the operator reads, or
the engine's own stderr) and keeps only its SHA-256, bound to the operation and its subject
(e.g. the digest of the risk limits to load). A code is single-use, expires after ``ttl_s``,
and a wrong code burns the pending one (no guessing by retries).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from openclaw.control.errors import ApprovalRefused, TokenFileError

TOKEN_BYTES = 32
CODE_DIGITS = 8


def ensure_token_file(path: str | Path) -> str:
    """The token in ``path``, created (mode 0600) when the file does not exist; raises
    TokenFileError when the file is not a regular file of this user or has group/other bits.
    Blocking (call at start-up, or in a thread)."""
    p = Path(path)
    if p.exists() or p.is_symlink():
        return read_token_file(p)
    # written whole to a private temporary file, then linked into place (atomic; fails if
    # another process got there first): a reader never sees a half-written token
    tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as e:
        raise TokenFileError(str(p), f"cannot create: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(TOKEN_BYTES) + "\n")
        try:
            os.link(tmp, p)
        except FileExistsError:
            pass                                # another engine made it: use theirs
        except OSError as e:
            raise TokenFileError(str(p), f"cannot create: {e.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return read_token_file(p)


def read_token_file(path: str | Path) -> str:
    """The token in an existing ``path`` (checked as ``ensure_token_file`` checks it)."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise TokenFileError(str(p), "does not exist (is the engine running?)") from None
    except OSError as e:
        raise TokenFileError(str(p), f"cannot open: {e.strerror}") from None
    with os.fdopen(fd) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise TokenFileError(str(p), "is not a regular file")
        if st.st_uid != os.getuid():
            raise TokenFileError(str(p), "belongs to another user")
        if st.st_mode & 0o077:
            raise TokenFileError(str(p), f"mode {stat.S_IMODE(st.st_mode):04o} gives group/other "
                                 "access; it must be 0600 (chmod 600)")
        token = f.read().strip()
    if len(token) < 32:
        raise TokenFileError(str(p), "holds no token (too short)")
    return token


def token_matches(expected: str, header: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <expected>`` (constant time)."""
    if not header or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), expected.encode())


def _digest(code: str) -> bytes:
    return hashlib.sha256(code.encode()).digest()


@dataclass
class _Pending:
    subject: str
    digest: bytes
    expires: float


class Approvals:
    """Pending one-time codes, one per action (a new request replaces the old code)."""

    def __init__(self, ttl_s: float = 300.0, resend_after_s: float = 30.0) -> None:
        """``resend_after_s``: a request while a code of the same action is pending and younger
        than this sends no new one (no flooding the operator's chat)."""
        self.ttl_s = ttl_s
        self.resend_after_s = resend_after_s
        self._pending: dict[str, _Pending] = {}
        self.issued = 0
        self.accepted = 0
        self.refused = 0

    def recently_sent(self, action: str, subject: str = "") -> bool:
        """Whether a code for ``action`` on ``subject`` went out less than ``resend_after_s``
        ago and is still pending."""
        p = self._pending.get(action)
        return (p is not None and p.subject == subject
                and time.monotonic() - (p.expires - self.ttl_s) < self.resend_after_s)

    def issue(self, action: str, subject: str = "") -> str:
        """A new code for ``action`` on ``subject``; only its hash is kept. The caller sends it
        out of band and forgets it."""
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        self._pending[action] = _Pending(subject, _digest(code), time.monotonic() + self.ttl_s)
        self.issued += 1
        return code

    def consume(self, action: str, code: str, subject: str = "") -> None:
        """Accept ``code`` for ``action`` on ``subject`` once; raises ApprovalRefused (and drops
        the pending code) when it is wrong, expired, used or for another subject."""
        pending = self._pending.pop(action, None)
        ok = (pending is not None and time.monotonic() <= pending.expires
              and hmac.compare_digest(pending.digest, _digest(str(code).strip()))
              and hmac.compare_digest(pending.subject.encode(), subject.encode()))
        if not ok:
            self.refused += 1
            raise ApprovalRefused(action)
        self.accepted += 1

    def revoke(self, action: str) -> None:
        """Drop the pending code of ``action`` (e.g. it could not be delivered)."""
        self._pending.pop(action, None)
