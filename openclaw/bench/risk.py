"""``openclaw-trading bench risk``: the pre-trade risk check against the plain-Python engine.

The cases, method and agreement checks are those of ``openclaw.bench.signal_risk`` (one order,
a 3-leg list; the Cython check vs ``openclaw.bench.risk_python.PyRiskEngine`` in the same run);
this module gives them their own command, a table and the common result shape
(``{"ok", "cases": [{"case", "impl", "median_ns", "ratio", ...}]}``).
"""

from __future__ import annotations

import platform
import sys
from typing import Any

import orjson

from openclaw.bench.signal_risk import RiskBenchError, run_risk_bench


def run_risk_cli(quick: bool = False, json_out: bool = False) -> dict[str, Any]:
    """Run both cases for both engines; print a table (or one JSON object); return the result."""
    try:
        rows = run_risk_bench(quick)
    except RiskBenchError as e:
        result: dict[str, Any] = {"bench": "risk", "ok": False, "error": str(e), "cases": []}
        print(f"risk bench check failed: {e}", file=sys.stderr)
    else:
        ours = {r["case"]: r["median_ns"] for r in rows if r["impl"] == "openclaw"}
        cases = [{**r, "ratio": round(r["median_ns"] / ours[r["case"]], 3)} for r in rows]
        result = {"bench": "risk", "python": platform.python_version(), "ok": True,
                  "cases": cases}
    if json_out:
        print(orjson.dumps(result).decode())
    elif result["ok"]:
        from rich.console import Console
        from rich.table import Table

        table = Table(title="openclaw-trading bench risk (median ns per order / per 3-leg list)")
        for col in ("case", "impl", "median ns", "ratio to openclaw", "note"):
            table.add_column(col)
        for c in result["cases"]:
            note = ""
            if c["impl"] == "openclaw":
                note = (f"cold caches {c['cold_median_ns']:,.0f}; one Python call per "
                        f"{c['per']} {c['pycall_median_ns']:,.0f}")
            table.add_row(c["case"], c["impl"], f"{c['median_ns']:,.1f}", f"{c['ratio']:.3g}x",
                          note)
        Console().print(table)
    return result
