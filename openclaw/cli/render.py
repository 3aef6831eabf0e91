"""How the command line shows things, in one place: the JSON of every ``--json`` output, the
live views and the summaries of ``run``, ``demo``, ``replay`` and the IBKR commands.

In a terminal, rich tables fit its width; anywhere else (a log file, a pipe, the agent's exec)
they are as wide as their content, so nothing is cut to "oppo…".
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import orjson
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from openclaw.latency import report_table

_WIDE = 240          # columns of a console that is not a terminal (nothing truncated)


def json_text(obj: Any) -> str:
    """``obj`` as one line of JSON (``--json`` outputs are a public contract: stable keys)."""
    return orjson.dumps(obj, default=str, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def echo_json(obj: Any) -> None:
    """Print ``obj`` as one line of JSON on stdout."""
    typer.echo(json_text(obj))


def console(stderr: bool = False) -> Console:
    """A console for stdout (or stderr): the terminal's width, or wide when not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=_WIDE, soft_wrap=True)


def kv_table(title: str, rows: Mapping[str, Any], key: str = "", value: str = "") -> Table:
    """A two-column table of ``rows`` (P&L per asset, counters)."""
    t = Table(title=title)
    t.add_column(key or "name")
    t.add_column(value or "value", justify="right")
    for k, v in rows.items():
        t.add_row(str(k), f"{v:,.8g}" if isinstance(v, float) else str(v))
    return t


class ConsoleStream:
    """A text stream that prints whole lines through a rich Console (above a Live display)."""

    def __init__(self, out: Console) -> None:
        self.console = out

    def write(self, text: str) -> int:
        if text.strip():
            self.console.print(text.rstrip("\n"), markup=False, highlight=False)
        return len(text)

    def flush(self) -> None:
        return None


# -- doctor and config check ----------------------------------------------------------------------

def _ms(d: Any) -> str:
    if not isinstance(d, Mapping) or d.get("p50") is None:
        return "-"
    return f"{d['p50']:.1f} / {d['p99']:.1f}"


def print_doctor(path: str, report: Mapping[str, Any]) -> None:
    """``openclaw-trading doctor``'s report: one row per venue, then every problem."""
    out = console()
    t = Table(title=f"doctor {path}")
    for col in ("venue", "mode", "reachable", "clock offset ms", "REST rtt p50/p99 ms",
                "WS rtt p50/p99 ms", "trade", "withdraw", "instruments", "ok"):
        t.add_column(col)
    for name, v in report["venues"].items():
        perms = v.get("permissions") or {}
        off = v.get("clock_offset_ms")
        t.add_row(name, str(v.get("mode", "")), "yes" if v.get("reachable") else "NO",
                  "-" if off is None else f"{off:+.1f}", _ms(v.get("rtt_ms")),
                  _ms(v.get("ws_rtt_ms")), str(perms.get("trade")), str(perms.get("withdraw")),
                  "ok" if v.get("instruments_ok") else "PROBLEM",
                  "[green]ok[/green]" if not v.get("problems") else "[red]NO[/red]")
    out.print(t)
    for name, v in report["venues"].items():
        for p in v.get("problems", []):
            out.print(f"[red]{name}[/red]: {p}", highlight=False)
    out.print("[green]ok: ready to trade[/green]" if report["ok"]
              else "[red]not ready: fix the problems above[/red]")


def print_metadata(metadata: Mapping[str, Any]) -> None:
    """The instrument metadata ``config check`` says the run will use, one row per market."""
    out = console()
    t = Table(title="instrument metadata")
    for col in ("venue", "symbol", "id", "tick", "lot", "min qty", "max qty", "min notional",
                "status", "taker fee", "from"):
        t.add_column(col)
    for venue, v in metadata.items():
        for m in v.get("instruments", []):
            fee = m.get("taker_fee")
            t.add_row(venue, str(m["unified"]), str(m["symbol"]), str(m["tick_size"]),
                      str(m["lot_size"]), str(m.get("min_qty") or "-"),
                      str(m.get("max_qty") or "-"), str(m.get("min_notional") or "-"),
                      str(m.get("status") or "-"), "-" if fee is None else str(fee),
                      str(v.get("source", "")))
        for p in v.get("problems", []):
            t.add_row(venue, "", "", "", "", "", "", "", f"[red]{p}[/red]", "", "")
    out.print(t)


# -- run -----------------------------------------------------------------------------------------

def print_run_summary(summary: dict[str, Any]) -> None:
    """``openclaw-trading run``'s summary without ``--log-format json``."""
    out = console()
    keys = ("seconds", "opportunities", "arbitrages", "orders", "filled_legs", "incomplete",
            "unwinds", "refused_by_risk", "legs_refused_locally", "journal_consistent",
            "lost_orders", "duplicate_orders", "reconciliations", "risk_refreshes", "halted",
            "alerts_delivered")
    out.print(kv_table("run", {k: summary[k] for k in keys if k in summary}))
    if summary.get("halted"):
        out.print(f"[red]halted: {summary.get('halt_reason')}[/red]")
    if summary.get("refusals_by_reason"):
        out.print(kv_table("risk refusals", summary["refusals_by_reason"], "reason", "lists"))
    if "book_states" in summary:
        out.print("books at the end: " + ", ".join(
            f"{k}={v}" for k, v in sorted(summary["book_states"].items())))
    if "resyncs" in summary:
        out.print("resyncs: " + ", ".join(
            f"{feed} {sum(c.values())}" + (" (" + ", ".join(f"{k} {n}" for k, n in c.items()
                                                         if n) + ")" if any(c.values()) else "")
            for feed, c in summary["resyncs"].items()))
    if summary.get("lost_orders") or summary.get("duplicate_orders"):
        out.print(f"[red]lost: {summary.get('lost_by_venue')}, duplicates: "
                  f"{summary.get('duplicates_by_venue')}[/red]")
    if summary.get("venue_record_errors"):
        out.print(f"[yellow]venue order history not read: "
                  f"{summary['venue_record_errors']}[/yellow]")
    if summary.get("open_orders"):
        out.print(f"[red]orders not final: {summary['open_orders']}[/red]")
    if "latency" in summary:
        out.print(report_table(summary["latency"], title="latency this run (us)"))


# -- demo ----------------------------------------------------------------------------------------

class DemoLive:
    """The demo's live tables (books, pipeline counters, latency), refreshed by ``update``."""

    def __init__(self) -> None:
        self._live: Live | None = None
        self._agg: Any = None
        self._pipeline: Any = None

    def start(self, aggregator: Any, pipeline: Any) -> None:
        self._agg, self._pipeline = aggregator, pipeline
        self._live = Live(self._render(), refresh_per_second=4, transient=False,
                          console=console())
        self._live.start()

    def update(self) -> None:
        if self._live is not None:
            self._live.update(self._render())

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _render(self) -> Group:
        from openclaw.app.demo import stage_latency

        agg, pipeline = self._agg, self._pipeline
        books = Table(title="books (best bid / best ask)")
        for col in ("instrument", "state", "bid", "ask"):
            books.add_column(col)
        for book_id, inst in agg.instrument_of.items():
            b = agg.bookset.book(book_id)
            bb, ba = b.best_bid(), b.best_ask()
            books.add_row(f"{inst.venue}:{inst.symbol}", agg.state(book_id).name,
                          f"{bb[0]:.6g}" if bb else "-", f"{ba[0]:.6g}" if ba else "-")
        s, ms = pipeline.stats, pipeline.manager.stats
        stats = Table(title="pipeline")
        for col in ("opportunities", "arbitrages", "orders", "filled legs", "incomplete",
                    "busy skips"):
            stats.add_column(col)
        stats.add_row(str(s.opportunities), str(s.arbitrages), str(ms.orders),
                      str(ms.filled_legs), str(ms.incomplete), str(s.skipped_busy))
        return Group(books, stats, _stage_table(stage_latency(pipeline.clock.snapshot()),
                                                "latency (us) this run"))


def _stage_table(stages: Mapping[str, Mapping[str, float]], title: str) -> Table:
    lat = Table(title=title)
    for col in ("stage", "p50", "p99", "max", "count"):
        lat.add_column(col, justify="left" if col == "stage" else "right")
    for stage, v in stages.items():
        lat.add_row(stage, *(f"{v[k]:,.1f}" for k in ("p50", "p99", "max")),
                    str(int(v["count"])))
    return lat


def print_demo_summary(summary: dict[str, Any], route: str) -> None:
    """``openclaw-trading demo``'s summary without ``--json``."""
    counts = Table(title=f"demo: {summary['seconds']:g} s on the local simulators, "
                         f"orders via {route}, journal {summary.get('journal_synchronous')}")
    keys = ("opportunities", "arbitrages", "orders", "fills", "incomplete", "unwinds",
            "lost_orders", "duplicate_orders", "journal_consistent", "alerts_delivered")
    for k in keys:
        counts.add_column(k.replace("_", " "))
    counts.add_row(*(str(summary.get(k)) for k in keys))
    out = console()
    out.print(counts)
    out.print(_stage_table(summary["latency_us"], "latency this run (us)"))
    pnl = dict(summary["pnl"])
    if summary.get("pnl_usdt_marked") is not None:
        pnl["all, in USDT at the last mid"] = summary["pnl_usdt_marked"]
    out.print(kv_table("P&L (venues' balances, end - start)", pnl, "asset", "change"))


# -- replay --------------------------------------------------------------------------------------

def print_replay(venue: str, result: dict[str, Any]) -> None:
    """``openclaw-trading replay``'s books and counters without ``--json``."""
    table = Table(title=f"replay {venue}: {result['messages']} messages")
    for col in ("instrument", "best bid", "best ask", "levels", "state"):
        table.add_column(col)
    for key, book in result["books"].items():
        table.add_row(key, str(book["best_bid"]), str(book["best_ask"]),
                      f"{book['levels'][0]}/{book['levels'][1]}", book["state"])
    out = console()
    out.print(table)
    out.print(kv_table("counters", {k: v for k, v in result.items()
                                    if k not in ("books", "venue")}))


# -- IBKR ----------------------------------------------------------------------------------------

def print_momentum(summary: dict[str, Any]) -> None:
    """A momentum run's head and orders (``openclaw-trading ibkr momentum`` without --json)."""
    out = console()
    head = Table(title=f"momentum {summary['run_id']} ({summary.get('gateway', '?')}, "
                 f"{'dry run' if summary['dry_run'] else 'executed'})")
    keys = ("universe", "top", "scan_ms", "orders", "sent", "filled", "rebalance_ms",
            "positions_match_target")
    for k in keys:
        head.add_column(k.replace("_", " "), justify="right")
    head.add_row(*(f"{summary.get(k):.1f}" if isinstance(summary.get(k), float)
                   else str(summary.get(k)) for k in keys))
    out.print(head)
    orders = Table(title=f"orders (as of {summary.get('asof')})")
    for col in ("side", "symbol", "qty", "limit", "target"):
        orders.add_column(col, justify="left" if col in ("side", "symbol") else "right")
    for o in summary.get("planned", []):
        orders.add_row(o["side"], o["symbol"], str(o["qty"]), o["limit_price"],
                       str(summary["targets"].get(o["symbol"], 0)))
    out.print(orders)
    if summary.get("mismatches"):
        out.print(kv_table("positions differing from the targets",
                           {k: f"{v[0]} (target {v[1]})" for k, v in
                            summary["mismatches"].items()}, "symbol", "position"))
    if summary.get("denied"):
        out.print(kv_table("denied by risk", dict(summary["denied"]), "order", "reason"))


def print_fx(summary: dict[str, Any]) -> None:
    """The FX run's counters and its latency table (``openclaw-trading ibkr fx``)."""
    out = console()
    if not summary.get("traded"):
        out.print(f"not trading: {summary.get('reason')}")
        return
    out.print(kv_table("fx", {k: summary[k] for k in ("gateway", "quotes", "intents", "orders",
                                                       "filled", "by_status", "denied",
                                                       "position", "errors")
                              if k in summary}))
    out.print(report_table(summary["latency"],
                           "FX stages (us): quote -> signal -> risk -> sent -> ack -> fill"))


# -- chaos ---------------------------------------------------------------------------------------

_CHAOS_COLUMNS = ("fault", "layer", "venue", "orders", "fills", "lost", "dup", "books",
                  "recovery ms", "alerts", "verdict")


def _chaos_cells(row: Any) -> list[str]:
    rec = "-" if row.recovery_ms is None else f"{row.recovery_ms:,.1f}"
    return [row.name, row.layer, row.venue, str(row.orders), str(row.fills), str(row.lost),
            str(row.duplicates),
            "-" if row.books_ok is None else "equal" if row.books_ok else "DIFFER", rec,
            str(row.alerts), "pass" if row.ok else "FAIL"]


def print_chaos_progress(row: Any) -> None:
    """One line on stderr as each fault finishes (the run takes a while): the row, and why a
    failing row failed."""
    cells = _chaos_cells(row)
    line = (f"{cells[-1]:4}  {row.name:28} {row.layer:11} {row.venue:8} orders {row.orders} "
            f"fills {row.fills} lost {row.lost} dup {row.duplicates} books {cells[7]} "
            f"recovery {cells[8]} ms alerts {row.alerts}  ({row.seconds:.1f}s)")
    typer.echo(line, err=True)
    for why in row.why:
        typer.echo(f"      {why}", err=True)


def print_chaos_table(result: Mapping[str, Any]) -> None:
    """The catalogue's table: one row per fault, then why each failing row failed."""
    t = Table(title="chaos: faults against the simulators")
    for c in _CHAOS_COLUMNS:
        t.add_column(c, justify="right" if c in ("orders", "fills", "lost", "dup",
                                                  "recovery ms", "alerts") else "left")
    rows = result["faults"]
    for row in rows:
        t.add_row(*_chaos_cells(row), style=None if row.ok else "red")
    out = console()
    out.print(t)
    for row in rows:
        for why in row.why:
            out.print(f"{row.name}: {why}", markup=False, highlight=False)
    failed = sum(not r.ok for r in rows)
    out.print(f"{len(rows) - failed}/{len(rows)} faults passed" + ("" if not failed else
                                                                    f", {failed} FAILED"))


# -- report --------------------------------------------------------------------------------------

def print_report(report: dict[str, Any]) -> None:
    """``openclaw-trading report`` without ``--json``: one row per arbitrage, then the totals."""
    out = console()
    arbs = Table(title=f"arbitrages in {report['journal']} (detected edge: "
                       f"{'recorded' if report['edge_recorded'] else 'not recorded'})")
    for col in ("id", "outcome", "legs", "fill ratio", "P&L", "unwind cost"):
        arbs.add_column(col, justify="right" if col in ("id", "fill ratio") else "left")
    for a in report["arbitrages"]:
        legs = ", ".join(f"{g['venue']} {g['symbol']} {g['side']} {g['filled_qty']}/{g['qty']}"
                         for g in a["legs"])
        cost = a["unwind"]["cost"] if a["unwind"] else {}
        arbs.add_row(str(a["id"]), a["outcome"], legs, f"{a['fill_ratio']:.2f}",
                     _assets(a["pnl"]), _assets(cost) or "-")
    out.print(arbs)
    t = report["totals"]
    counts = {k: t[k] for k in ("arbitrages", "filled", "incomplete", "not_filled", "open",
                                "unwinds", "orders", "fills", "legs", "legs_filled")}
    for k in ("fill_rate", "leg_fill_rate"):
        counts[k] = "-" if t[k] is None else f"{t[k]:.1%}"
    out.print(kv_table("totals", counts))
    table = Table(title="per asset (fills and fees)")
    for col in ("asset", "P&L", "fees", "unwind cost"):
        table.add_column(col, justify="left" if col == "asset" else "right")
    for asset in sorted(set(t["pnl"]) | set(t["fees"]) | set(t["unwind_cost"])):
        table.add_row(asset, t["pnl"].get(asset, "0"), t["fees"].get(asset, "0"),
                      t["unwind_cost"].get(asset, "0"))
    out.print(table)
    if not report["edge_recorded"]:
        out.print(f"detected edge: {report['edge_note']}")


def _assets(amounts: Mapping[str, str]) -> str:
    return " ".join(f"{v} {k}" for k, v in amounts.items())


def print_backtest(out: dict[str, Any]) -> None:
    """The backtest's summary: counts, P&L, fill and ghost rates, the survival curve."""
    c = console()
    t = Table(title=f"backtest: {out['frames']} frames, {out['recorded_seconds']} s recorded, "
                    f"{out['wall_s']} s wall ({out['frames_per_s']} frames/s)")
    t.add_column("")
    t.add_column("", justify="right")
    for k in ("opportunities", "arbitrages", "orders", "fills", "incomplete", "unwinds",
              "refused_by_risk", "fill_rate", "ghost_rate"):
        t.add_row(k, str(out.get(k)))
    for asset, x in sorted(out.get("pnl", {}).items()):
        t.add_row(f"pnl {asset}", f"{x:.8g}")
    t.add_row("pnl USDT (marked)", f"{out.get('pnl_usdt_marked', 0.0):.4f}")
    c.print(t)
    surv = out.get("survival") or {}
    if any(v is not None for v in surv.values()):
        c.print("survival (all legs still fillable after ms): "
                + ", ".join(f"{k}: {v}" for k, v in surv.items()))
