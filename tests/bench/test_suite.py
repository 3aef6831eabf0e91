"""``openclaw bench all|compare|pipeline|risk`` (quick settings; speed itself is not asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openclaw.bench.suite import SECTIONS, CompareError, compare, load_document, run_section


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openclaw.cli", "bench", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_bench_all_json_and_compare(tmp_path: Path) -> None:
    """Two quick runs of two sections: one JSON document each, compared case by case; a
    section whose module is missing is listed as not available, with the reason."""
    docs = []
    for k in range(2):
        p = _cli("all", "--quick", "--json", "--only", "risk,pipeline,ibkr")
        assert p.returncode == 0, p.stderr[-3000:]
        doc = json.loads(p.stdout)
        assert set(doc["sections"]) == {"risk", "pipeline", "ibkr"}
        for name in ("risk", "pipeline"):
            s = doc["sections"][name]
            assert s["available"] and s["ok"], s
            assert all(c["median_ns"] > 0 and c["key"] == f"{c['case']}/{c['impl']}"
                       for c in s["cases"])
        assert {c["impl"] for c in doc["sections"]["pipeline"]["cases"]} == {
            "recorder", "no_recorder", "orjson_loads"}
        ibkr = doc["sections"]["ibkr"]
        try:
            import openclaw.bench.ibkr  # noqa: F401
        except ImportError:
            assert ibkr["available"] is False and "openclaw.bench.ibkr" in ibkr["reason"]
        path = tmp_path / f"run{k}.json"
        path.write_text(p.stdout)
        docs.append(path)
    rows = compare(docs[0], docs[1])
    keys = {(r["section"], r["case"]) for r in rows}
    assert ("pipeline", "pipeline/recorder") in keys and ("risk", "risk_list3/openclaw") in keys
    assert all(r["ratio"] is not None and r["ratio"] > 0 for r in rows)
    p = _cli("compare", str(docs[0]), str(docs[1]), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert len(out["cases"]) == len(rows) and set(out["geomean"]) == {"risk", "pipeline"}


def test_compare_lists_cases_in_one_file_only(tmp_path: Path) -> None:
    a = {"bench": "x", "cases": [{"case": "c", "impl": "openclaw", "median_ns": 100.0},
                                 {"case": "d", "impl": "openclaw", "median_ns": 50.0}]}
    b = {"bench": "x", "cases": [{"case": "c", "impl": "openclaw", "median_ns": 150.0}]}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    rows = {r["case"]: r for r in compare(tmp_path / "a.json", tmp_path / "b.json")}
    assert rows["c/openclaw"]["ratio"] == 1.5
    assert rows["d/openclaw"]["ratio"] is None and rows["d/openclaw"]["only_in"] == "a"
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(CompareError):
        load_document(tmp_path / "bad.json")
    p = _cli("compare", str(tmp_path / "a.json"), str(tmp_path / "bad.json"))
    assert p.returncode == 2 and "bad.json" in p.stderr


def test_missing_entry_point_is_reported_not_skipped() -> None:
    from dataclasses import replace

    sec = replace(SECTIONS[0], name="x", function="no_such_function")
    out = run_section(sec)
    assert out["available"] is False and "no_such_function" in out["reason"]
    sec = replace(SECTIONS[0], name="y", module="openclaw.bench.no_such_module")
    out = run_section(sec)
    assert out["available"] is False and "no_such_module" in out["reason"]


def test_unknown_section_is_an_error() -> None:
    p = _cli("all", "--only", "book,nope")
    assert p.returncode == 2 and "nope" in p.stderr


def test_bench_pipeline_and_risk_commands() -> None:
    p = _cli("pipeline", "--quick", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    assert r["ok"] and r["order_lists_per_rep"] > 0 and r["tick_to_order_p50_us"] > 0
    assert r["recorder_cost_ns_per_frame"] > 0 and "recorder_overhead_pct" in r
    p = _cli("risk", "--quick", "--json")
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout)
    impls = {(c["case"], c["impl"]) for c in r["cases"]}
    assert impls == {("risk_order", "openclaw"), ("risk_order", "python"),
                     ("risk_list3", "openclaw"), ("risk_list3", "python")}
