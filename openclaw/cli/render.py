"""How the command line shows things: one JSON encoder for every ``--json`` output (numpy
numbers as numbers, anything else that is not JSON as its ``str``), in one place."""

from __future__ import annotations

from typing import Any

import orjson
import typer


def json_text(obj: Any) -> str:
    """``obj`` as one line of JSON (``--json`` outputs are a public contract: stable keys)."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def echo_json(obj: Any) -> None:
    """Print ``obj`` as one line of JSON on stdout."""
    typer.echo(json_text(obj))
