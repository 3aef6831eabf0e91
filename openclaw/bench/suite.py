"""``openclaw-trading bench all`` and ``openclaw-trading bench compare``: every benchmark section
in one run, one JSON document, and the ratios between two such documents.

Sections: book, feed, signal, risk, pipeline (always here), orders and ibkr (imported lazily:
when a section's module or entry point is missing it is reported ``available: false`` with the
reason, never skipped silently, and the run is not ok: ``bench all`` exits 1 naming it; leave
a section out with ``--only``). A section's harness must report ``"ok"``: a result without it
is a failure, not a pass. Each section runs its own harness (named baselines in the same
process, results checked before figures) with its default settings (``quick``: its quick
ones); the section's console output is captured (shown afterwards in human mode, dropped with
``--json``) and a progress bar runs on stderr.

Document (``bench all --json``)::

    {"suite": 1, "python": ..., "machine": ..., "started": ISO, "seconds": s, "quick": bool,
     "ok": bool, "problems": [str], "sections": {NAME: {"available", "ok", "seconds", "cases": [
         {"key": "case/impl", "case", "impl", "median_ns", ...}], "result": {...}}}}

``compare A B`` matches cases by section and ``case/impl`` key and prints B/A per case (> 1:
B is slower); cases present in one document only are listed as such.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

SUITE_VERSION = 1


@dataclass(frozen=True)
class Section:
    """A benchmark section: where its harness is and how to call it."""

    name: str
    module: str
    function: str
    quick: dict[str, Any]
    full: dict[str, Any]
    describe: str


SECTIONS: tuple[Section, ...] = (
    Section("book", "openclaw.bench.book", "run_book_bench", {"quick": True}, {},
            "order book vs order-book (C) and sortedcontainers"),
    Section("feed", "openclaw.bench.feed", "run_feed_bench", {"quick": True}, {},
            "raw frame -> book (BookSync.on_frame) vs orjson.loads and plain Python"),
    Section("signal", "openclaw.bench.signal", "run_signal_bench", {"quick": True}, {},
            "arbitrage detection vs plain Python"),
    Section("risk", "openclaw.bench.risk", "run_risk_cli", {"quick": True}, {},
            "pre-trade risk check vs plain Python"),
    Section("pipeline", "openclaw.bench.pipeline", "run_pipeline_bench", {"quick": True}, {},
            "frame -> order list, with and without the stage recorder"),
    Section("orders", "openclaw.bench.orders", "run_orders_bench", {"lists": 60, "warmup": 10},
            {}, "order lists on the simulators: ccxt route vs fast WebSocket route"),
    Section("ibkr", "openclaw.bench.ibkr", "run_ibkr_bench", {"quick": True}, {},
            "IBKR paths against the TWS simulator"),
)
SECTION_NAMES = tuple(s.name for s in SECTIONS)


def _cases(name: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """A section's result as comparable cases (``key`` = ``case/impl``)."""
    rows = result.get("cases")
    if isinstance(rows, list):
        out = []
        for r in rows:
            if isinstance(r, dict) and "case" in r and "impl" in r and "median_ns" in r:
                out.append({"key": f"{r['case']}/{r['impl']}", **r})
        return out
    if name == "orders":          # per-route latency percentiles of a 3-leg list
        out = []
        for route in ("ccxt", "fast"):
            s = result.get(route)
            if isinstance(s, dict) and "p50_us" in s:
                out.append({"key": f"order_list/{route}", "case": "order_list", "impl": route,
                            "median_ns": s["p50_us"] * 1e3, "p99_ns": s.get("p99_us", 0) * 1e3})
        return out
    return []


def run_section(section: Section, quick: bool = False) -> dict[str, Any]:
    """Import and run one section, its console output captured; never raises."""
    t0 = time.monotonic()
    try:
        mod = importlib.import_module(section.module)
    except ImportError as e:
        return {"available": False, "ok": None,
                "reason": f"module {section.module} cannot be imported: {e}", "cases": []}
    fn: Callable[..., Any] | None = getattr(mod, section.function, None)
    if not callable(fn):
        return {"available": False, "ok": None,
                "reason": f"{section.module} has no {section.function}()", "cases": []}
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = fn(**(section.quick if quick else section.full), json_out=False)
    except Exception as e:  # noqa: BLE001 - one broken section must not hide the others
        return {"available": True, "ok": False, "seconds": round(time.monotonic() - t0, 2),
                "error": f"{type(e).__name__}: {e}", "cases": [],
                "output": out.getvalue()[-4000:] + err.getvalue()[-4000:]}
    if not isinstance(result, dict):
        result = {"ok": False, "error": f"{section.module}.{section.function}() returned a "
                                        f"{type(result).__name__}, not a result dict"}
    elif "ok" not in result:            # a harness that does not say it passed did not pass
        result = {**result, "ok": False,
                  "error": f"{section.module}.{section.function}() reported no 'ok'"}
    row = {"available": True, "ok": result["ok"] is True,
           "seconds": round(time.monotonic() - t0, 2), "cases": _cases(section.name, result),
           "result": result, "output": out.getvalue(), "log": err.getvalue()[-4000:]}
    if not row["ok"]:
        row["error"] = str(result.get("error") or "the section's checks failed (ok: false)")
    return row


def problems(doc: dict[str, Any]) -> list[str]:
    """Why a ``run_all`` document is not ok: one line per unavailable or failed section."""
    out = []
    for name, s in doc["sections"].items():
        if not s["available"]:
            out.append(f"{name}: not available: {s['reason']}")
        elif not s["ok"]:
            out.append(f"{name}: FAILED: {s.get('error', '')}")
    return out


def run_all(names: tuple[str, ...] = SECTION_NAMES, quick: bool = False,
            json_out: bool = False, progress: bool = True) -> dict[str, Any]:
    """Run the named sections in order with a progress bar on stderr; returns the document."""
    unknown = [n for n in names if n not in SECTION_NAMES]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; expected some of {SECTION_NAMES}")
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    doc: dict[str, Any] = {
        "suite": SUITE_VERSION, "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "started": datetime.now(UTC).isoformat(timespec="seconds"), "quick": quick,
        "sections": {},
    }
    t0 = time.monotonic()
    console = Console(file=sys.stderr)
    with Progress(TextColumn("bench {task.description:<9}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True, disable=not progress) as bar:
        task = bar.add_task("", total=len(names))
        for section in SECTIONS:
            if section.name not in names:
                continue
            bar.update(task, description=section.name)
            doc["sections"][section.name] = run_section(section, quick)
            bar.advance(task)
    doc["seconds"] = round(time.monotonic() - t0, 1)
    # a section that could not run is no pass: the run is ok only when every one ran and passed
    doc["problems"] = problems(doc)
    doc["ok"] = not doc["problems"]
    if json_out:
        slim = {**doc, "sections": {k: {kk: vv for kk, vv in v.items()
                                        if kk not in ("output", "log")}
                                    for k, v in doc["sections"].items()}}
        print(orjson.dumps(slim, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode())
    else:
        _print_all(doc)
    for line in doc["problems"]:
        print(f"bench all: {line}", file=sys.stderr)
    return doc


def _print_all(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for s in doc["sections"].values():
        if s.get("output"):
            console.print(s["output"].rstrip(), markup=False, highlight=False)
    table = Table(title=f"openclaw-trading bench all ({doc['seconds']:g} s)")
    for col in ("section", "status", "seconds", "cases"):
        table.add_column(col)
    for name, s in doc["sections"].items():
        if not s["available"]:
            status = f"not available: {s['reason']}"
        else:
            status = "ok" if s["ok"] else f"FAILED {s.get('error', '')}"
        table.add_row(name, status, str(s.get("seconds", "-")), str(len(s["cases"])))
    console.print(table)


# -- compare -----------------------------------------------------------------------------------

class CompareError(ValueError):
    """A file that is not a ``bench all --json`` document (or a single bench's JSON)."""


def load_document(path: str | Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{section: {case/impl: case}} from a ``bench all --json`` file or a single bench's JSON."""
    p = Path(path)
    try:
        data = orjson.loads(p.read_bytes())
    except (OSError, orjson.JSONDecodeError) as e:
        raise CompareError(f"{p}: {e}") from None
    if not isinstance(data, dict):
        raise CompareError(f"{p}: not a JSON object")
    if "sections" in data and isinstance(data["sections"], dict):
        return {name: {c["key"]: c for c in s.get("cases", [])}
                for name, s in data["sections"].items()}
    if isinstance(data.get("cases"), list):
        name = str(data.get("bench", p.stem))
        return {name: {c["key"]: c for c in _cases(name, data)}}
    raise CompareError(f"{p}: neither a 'bench all --json' document nor a bench result "
                       "with 'cases'")


def compare(a: str | Path, b: str | Path) -> list[dict[str, Any]]:
    """Per case in both documents: A's and B's median ns and B/A."""
    da, db = load_document(a), load_document(b)
    rows = []
    for section in sorted(set(da) | set(db)):
        ca, cb = da.get(section, {}), db.get(section, {})
        for key in sorted(set(ca) | set(cb)):
            x, y = ca.get(key), cb.get(key)
            row: dict[str, Any] = {"section": section, "case": key,
                                   "a_ns": x["median_ns"] if x else None,
                                   "b_ns": y["median_ns"] if y else None}
            if x and y and x["median_ns"]:
                row["ratio"] = round(y["median_ns"] / x["median_ns"], 4)
            else:
                row["ratio"] = None
                row["only_in"] = "a" if x else "b"
            rows.append(row)
    return rows


def geomean_by_section(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Geometric mean of B/A over each section's cases present in both documents."""
    import math

    logs: dict[str, list[float]] = {}
    for r in rows:
        if r["ratio"]:
            logs.setdefault(r["section"], []).append(math.log(r["ratio"]))
    return {k: round(math.exp(sum(v) / len(v)), 4) for k, v in logs.items()}


def print_compare(rows: list[dict[str, Any]], a: str, b: str, json_out: bool = False) -> None:
    """The B/A table (or one JSON object) and the geometric mean per section."""
    gm = geomean_by_section(rows)
    if json_out:
        print(orjson.dumps({"a": a, "b": b, "cases": rows, "geomean": gm}).decode())
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"B/A median ns (B = {b}, A = {a}; > 1 means B is slower)")
    for col in ("section", "case/impl", "A ns", "B ns", "B/A"):
        table.add_column(col, justify="left" if col in ("section", "case/impl") else "right")
    for r in rows:
        fmt = (lambda v: "-" if v is None else f"{v:,.1f}")  # noqa: E731
        ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else f"only in {r['only_in']}"
        table.add_row(r["section"], r["case"], fmt(r["a_ns"]), fmt(r["b_ns"]), ratio)
    console = Console()
    console.print(table)
    console.print("geometric mean B/A per section: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in gm.items()))
