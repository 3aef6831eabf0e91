"""``openclaw-trading ctl ...``: ask or steer a running engine through its control API, and
``openclaw-trading alerts drain``: new alerts as chat text for an OpenClaw automation.

The engine is found through its state file (``--state``, ``OPENCLAW_TRADING_STATE``, else
``./openclaw-control.json``); the token comes from the 0600 file the state names. ``--json``
prints the API's answer as it is (stable keys: ``ok``, ``error``, ``message``, and each
operation's own). Exit 0 on success, 1 when the engine refused (the answer says why), 3 when
approval is needed (a code was sent to the operator out of band), 2 when no engine is found.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import typer

from openclaw.cli.root import app

ctl_app = typer.Typer(no_args_is_help=True,
                      help="Ask or steer a running engine (its local control API).")
alerts_app = typer.Typer(no_args_is_help=True, help="Alerts of a running engine.")

STATE_OPT = typer.Option(None, "--state", help="The engine's state file "
                         "(default $OPENCLAW_TRADING_STATE or ./openclaw-control.json).")
JSON_OPT = typer.Option(False, "--json", help="Print the API's JSON answer.")
CURSOR_OPT = typer.Option(0, "--cursor", min=0, help="Only rows after this cursor.")
LIMIT_OPT = typer.Option(100, "--limit", min=1, max=1000, help="At most this many rows.")
CODE_OPT = typer.Option(None, "--code", help="The one-time approval code the operator received "
                        "out of band (typed by the human; never relayed by an agent).")

EXIT_REFUSED = 1
EXIT_NO_ENGINE = 2
EXIT_APPROVAL = 3


def _call(state: Path | None, op: str, **args: Any) -> dict[str, Any]:
    from openclaw.control.client import ControlClient
    from openclaw.control.errors import ControlError

    try:
        return asyncio.run(ControlClient(state, actor="cli").call(op, **args))
    except ControlError as e:
        return {**e.to_json(), "http_status": 0}


def _finish(answer: dict[str, Any], as_json: bool, render: Any) -> None:
    """Print ``answer`` (JSON, or ``render`` for a success / the message for an error) and
    exit with the code the answer means."""
    status = answer.pop("http_status", 0)
    if as_json:
        typer.echo(json.dumps(answer, indent=2, sort_keys=True, default=str))
    elif answer.get("ok"):
        render(answer)
    else:
        typer.echo(f"error ({answer.get('error')}): {answer.get('message')}", err=True)
    if answer.get("ok"):
        return
    if answer.get("error") == "approval_required":
        raise typer.Exit(EXIT_APPROVAL)
    raise typer.Exit(EXIT_NO_ENGINE if status == 0 else EXIT_REFUSED)


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 200, soft_wrap=not sys.stdout.isatty())


def _table(title: str, cols: list[str], rows: list[list[Any]]) -> Any:
    from rich.table import Table

    t = Table(title=title)
    for c in cols:
        t.add_column(c, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t


def _ts(ns: int | None) -> str:
    if not ns:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ns / 1e9))


def _render_status(a: dict[str, Any]) -> None:
    con = _console()
    state = f"HALTED: {a['halt_reason']}" if a["halted"] else "trading"
    con.print(f"engine pid {a['pid']} up {a['uptime_s']:.0f}s, config {a['config']}, "
              f"{state}, ready={a['ready']}", markup=False, highlight=False)
    con.print(_table("strategies", ["name", "state", "halt reason", "stats"],
                     [[s["name"], s["state"], s["halt_reason"],
                       ", ".join(f"{k}={v}" for k, v in s["stats"].items())]
                      for s in a["strategies"]]))
    con.print(_table("books", ["venue", "symbol", "state"],
                     [[b["venue"], b["symbol"], b["state"]] for b in a["books"]]))
    con.print(_table("balances", ["venue", "asset", "total", "reserved"],
                     [[v, asset, x["total"], x["reserved"]] for v, per in a["balances"].items()
                      for asset, x in per.items()]))
    if a["positions"]:
        con.print(_table("positions", ["venue", "symbol", "qty"],
                         [[p["venue"], p["symbol"], p["qty"]] for p in a["positions"]]))
    if a["pnl"] is not None:
        con.print(_table("P&L", ["daily", "gross exposure"],
                         [[f"{a['pnl']['daily']:.2f}", f"{a['pnl']['gross_exposure']:.2f}"]]))
    con.print(_table("open orders", ["client id", "venue", "symbol", "side", "qty", "price",
                                     "filled", "status"],
                     [[o["client_id"], o["venue"], o["symbol"], o["side"], o["qty"], o["price"],
                       o["filled_qty"], o["status"]] for o in a["open_orders"]]))
    lat = a.get("latency_us")
    if lat and lat.get("events"):
        from openclaw.latency import report_table

        con.print(report_table(lat, title="latency (us)"))


def _render_rows(kind: str, cols: list[str]) -> Any:
    def render(a: dict[str, Any]) -> None:
        con = _console()
        con.print(_table(f"{kind} (next cursor {a['cursor']})", ["cursor", *cols],
                         [[r["cursor"], *(_ts(r[c]) if c.endswith("_ns") else r[c]
                                          for c in cols)] for r in a[kind]]))
    return render


def _render_action(a: dict[str, Any]) -> None:
    typer.echo(", ".join(f"{k}={v}" for k, v in a.items() if k != "ok"))


@ctl_app.command("status")
def status_cmd(state: Path | None = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """Strategies, books, balances, positions, P&L, open orders, halted and why, latency."""
    _finish(_call(state, "status"), as_json, _render_status)


@ctl_app.command("orders")
def orders_cmd(state: Path | None = STATE_OPT, cursor: int = CURSOR_OPT,
               limit: int = LIMIT_OPT, as_json: bool = JSON_OPT) -> None:
    """Orders that changed after --cursor (a journal cursor), with the next cursor."""
    _finish(_call(state, "orders", cursor=cursor, limit=limit), as_json,
            _render_rows("orders", ["client_id", "venue", "symbol", "side", "qty", "price",
                                    "filled_qty", "status", "updated_ns"]))


@ctl_app.command("fills")
def fills_cmd(state: Path | None = STATE_OPT, cursor: int = CURSOR_OPT,
              limit: int = LIMIT_OPT, as_json: bool = JSON_OPT) -> None:
    """Fills journaled after --cursor, with the next cursor."""
    _finish(_call(state, "fills", cursor=cursor, limit=limit), as_json,
            _render_rows("fills", ["client_id", "venue", "symbol", "side", "qty", "price",
                                   "fee", "fee_asset", "ts_ns"]))


@ctl_app.command("alerts")
def alerts_cmd(state: Path | None = STATE_OPT, cursor: int = CURSOR_OPT,
               limit: int = LIMIT_OPT, as_json: bool = JSON_OPT) -> None:
    """Alerts after --cursor, with the next cursor."""
    _finish(_call(state, "alerts", cursor=cursor, limit=limit), as_json,
            _render_rows("alerts", ["ts_ns", "kind", "priority", "text"]))


@ctl_app.command("halt")
def halt_cmd(reason: str = typer.Option(..., "--reason", help="Why (journaled, alerted)."),
             state: Path | None = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """Halt trading now (always allowed): no new order passes the risk gate."""
    _finish(_call(state, "halt", reason=reason), as_json, _render_action)


@ctl_app.command("resume")
def resume_cmd(code: str | None = CODE_OPT, state: Path | None = STATE_OPT,
               as_json: bool = JSON_OPT) -> None:
    """Resume after a halt. Without --code: the engine sends the operator a one-time code."""
    _finish(_call(state, "resume", code=code), as_json, _render_action)


@ctl_app.command("flatten")
def flatten_cmd(code: str | None = CODE_OPT, state: Path | None = STATE_OPT,
                as_json: bool = JSON_OPT) -> None:
    """Halt, settle open orders and report what is left (needs a one-time code)."""
    _finish(_call(state, "flatten", code=code), as_json, _render_action)


@ctl_app.command("reload-risk")
def reload_risk_cmd(code: str | None = CODE_OPT, state: Path | None = STATE_OPT,
                    as_json: bool = JSON_OPT) -> None:
    """Load the run file's risk limits again (validated, atomic; needs a one-time code)."""
    _finish(_call(state, "reload-risk", code=code), as_json, _render_action)


NO_REPLY = "NO_REPLY"


def _cursor_file(state: Path | None) -> Path:
    from openclaw.control.state import state_path

    s = state_path(state)
    return s.with_name(s.name + ".drained")


@alerts_app.command("drain")
def drain_cmd(state: Path | None = STATE_OPT, as_json: bool = JSON_OPT) -> None:
    """New alerts since the last drain, one line each (for a chat); NO_REPLY when there is
    none (OpenClaw then says nothing). Non-zero exit when the engine does not answer."""
    cfile = _cursor_file(state)
    try:
        seen = json.loads(cfile.read_text())
    except (OSError, ValueError):
        seen = {}
    answer = _call(state, "status")
    if not answer.get("ok"):
        _finish(answer, as_json, _render_action)
    pid = answer["pid"]
    cursor = int(seen.get("cursor", 0)) if seen.get("pid") == pid else 0
    got = _call(state, "alerts", cursor=cursor, limit=1000)
    if not got.get("ok"):
        _finish(got, as_json, _render_action)
    tmp = cfile.with_name(cfile.name + f".{os.getpid()}")
    tmp.write_text(json.dumps({"pid": pid, "cursor": got["cursor"]}))
    tmp.replace(cfile)
    if as_json:
        got.pop("http_status", None)
        typer.echo(json.dumps(got, indent=2, sort_keys=True))
        return
    if not got["alerts"]:
        typer.echo(NO_REPLY)
        return
    for a in got["alerts"]:
        typer.echo(f"{_ts(a['ts_ns'])} {a['kind'].upper()}: {a['text']}")


app.add_typer(ctl_app, name="ctl")
app.add_typer(alerts_app, name="alerts")
