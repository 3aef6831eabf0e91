"""The state file: how ``openclaw-trading ctl`` and ``mcp`` find a running engine.

JSON ``{"url", "pid", "token_file", "config", "started_ns"}``, written atomically (a temporary
file renamed over it) when the control API starts and removed when it stops. It holds no
secret: the token stays in its own 0600 file. Where: ``[control] state_file`` (default beside
the journal); clients take ``--state`` or ``OPENCLAW_TRADING_STATE``, else
``./openclaw-control.json``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import orjson

from openclaw.control.errors import StateFileError

STATE_ENV = "OPENCLAW_TRADING_STATE"
DEFAULT_STATE = "openclaw-control.json"
KEYS = ("url", "pid", "token_file")


def write_state(path: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (blocking)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_bytes(orjson.dumps(state, option=orjson.OPT_INDENT_2))
    os.replace(tmp, p)


def remove_state(path: str | Path, pid: int) -> None:
    """Remove ``path`` if it still names process ``pid`` (another engine may have replaced it)."""
    p = Path(path)
    with contextlib.suppress(OSError, ValueError, StateFileError):
        if read_state(p).get("pid") == pid:
            p.unlink()


def state_path(given: str | Path | None = None) -> Path:
    """The state file a client uses: ``given``, else ``$OPENCLAW_TRADING_STATE``, else
    ``./openclaw-control.json``."""
    return Path(given or os.environ.get(STATE_ENV) or DEFAULT_STATE).expanduser()


def read_state(path: str | Path) -> dict[str, Any]:
    """The state a running engine wrote; StateFileError names the file and the problem."""
    p = Path(path)
    try:
        data = orjson.loads(p.read_bytes())
    except FileNotFoundError:
        raise StateFileError(str(p), "does not exist: no engine with a control API is running "
                             f"there (set --state or {STATE_ENV})") from None
    except OSError as e:
        raise StateFileError(str(p), f"cannot be read: {e.strerror}") from None
    except orjson.JSONDecodeError:
        raise StateFileError(str(p), "is not JSON") from None
    if not isinstance(data, dict) or any(k not in data for k in KEYS):
        raise StateFileError(str(p), f"lacks one of {', '.join(KEYS)}")
    url = str(data["url"])
    if not (url.startswith("http://127.0.0.1:") or url.startswith("http://[::1]:")
            or url.startswith("http://localhost:")):
        raise StateFileError(str(p), f"url {url!r} is not a loopback address")
    return data
