"""``openclaw-trading ibkr ...`` and ``openclaw-trading schedule status``: the IBKR strategies."""

from __future__ import annotations

import typer

from openclaw.cli.render import echo_json, print_fx, print_momentum
from openclaw.cli.root import app

ibkr_app = typer.Typer(
    no_args_is_help=True,
    help="Interactive Brokers: without --port the built-in TWS simulator runs in-process.",
)
schedule_app = typer.Typer(no_args_is_help=True, help="Scheduled runs (weekly momentum).")


def tws_sim_starter():  # noqa: ANN202
    """The in-process TWS simulator for ``openclaw-trading ibkr`` runs without --port."""

    async def start(seed: int, universe_size: int, fx_rate: float):  # noqa: ANN202
        from openclaw.sim.tws.server import start_tws

        return await start_tws(seed=seed, port=0, universe_size=universe_size, fx_rate=fx_rate,
                               hist_pacing_limit=100_000, msg_rate_limit=50)  # IB: ~50 msgs/s

    return start


def ibkr_fail(e: Exception) -> None:
    typer.echo(f"error: {e}", err=True)
    raise typer.Exit(code=2) from None


@ibkr_app.command("momentum")
def ibkr_momentum(
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and print; send nothing."),
    execute: bool = typer.Option(False, "--execute", help="Send the orders and track them."),
    top: int | None = typer.Option(None, "--top", help="Hold the top N (default 30 / config)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    host: str | None = typer.Option(None, "--host", help="TWS / IB Gateway host."),
    port: int | None = typer.Option(None, "--port", help="TWS / IB Gateway port (none: sim)."),
    client_id: int | None = typer.Option(None, "--client-id", help="API client id."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (TOML)."),
    journal: str = typer.Option("", "--journal", help="Journal file (sim: a temp file)."),
    run_id: str | None = typer.Option(None, "--run-id", help="Run id (a rerun resumes it)."),
    seed: int = typer.Option(1, "--seed", help="Simulator seed."),
    universe: int = typer.Option(500, "--universe", help="Simulator universe size."),
) -> None:
    """Momentum rebalance: scan, plan (top N, sells first), risk, send, verify positions."""
    import asyncio

    from openclaw.app.ibkr import cli_momentum
    from openclaw.model.errors import OpenclawError

    if dry_run == execute:
        typer.echo("error: give exactly one of --dry-run and --execute", err=True)
        raise typer.Exit(code=2)
    progress_cb, progress_ctx = None, None
    if not json_out:
        from rich.progress import Progress

        progress_ctx = Progress(transient=True)
        task = progress_ctx.add_task("closes", total=None)

        def progress_cb(done: int, total: int, sym: str) -> None:
            progress_ctx.update(task, completed=done, total=total,
                                description=f"closes {sym}")
        progress_ctx.start()
    try:
        summary = asyncio.run(cli_momentum(
            config_path=config, execute=execute, top=top, host=host, port=port,
            client_id=client_id, journal_path=journal, run_id=run_id, seed=seed,
            universe=universe, start_sim=None if port is not None else tws_sim_starter(),
            progress=progress_cb))
    except (OpenclawError, OSError, TimeoutError) as e:
        ibkr_fail(e)
    finally:
        if progress_ctx is not None:
            progress_ctx.stop()
    if json_out:
        echo_json(summary)
    else:
        print_momentum(summary)
    if execute and not (summary.get("positions_match_target") and summary.get("filled")
                        == summary.get("orders")):
        raise typer.Exit(code=1)


@ibkr_app.command("fx")
def ibkr_fx(
    seconds: float = typer.Option(30.0, "--seconds", help="How long the scalper runs."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    ignore_window: bool = typer.Option(
        False, "--ignore-window", help="Trade outside the London/NY overlap (simulator)."),
    host: str | None = typer.Option(None, "--host", help="TWS / IB Gateway host."),
    port: int | None = typer.Option(None, "--port", help="TWS / IB Gateway port (none: sim)."),
    client_id: int | None = typer.Option(None, "--client-id", help="API client id."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (TOML)."),
    journal: str = typer.Option("", "--journal", help="Journal file (sim: a temp file)."),
    seed: int = typer.Option(1, "--seed", help="Simulator seed."),
) -> None:
    """FX mean-reversion scalper on EUR.USD/GBP.USD with a stage latency report."""
    import asyncio

    from openclaw.app.ibkr import cli_fx
    from openclaw.model.errors import OpenclawError

    try:
        summary = asyncio.run(cli_fx(
            config_path=config, seconds=seconds, ignore_window=ignore_window, host=host,
            port=port, client_id=client_id, journal_path=journal, seed=seed,
            start_sim=None if port is not None else tws_sim_starter()))
    except (OpenclawError, OSError, TimeoutError) as e:
        ibkr_fail(e)
    if json_out:
        echo_json(summary)
    else:
        print_fx(summary)


@ibkr_app.command("bench")
def ibkr_bench(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    quick: bool = typer.Option(False, "--quick", help="Fewer repetitions, shorter FX runs."),
) -> None:
    """30-stock rebalance and FX quote -> socket medians against the simulator (subprocess)."""
    from openclaw.bench.ibkr import run_ibkr_bench

    if not run_ibkr_bench(quick=quick, json_out=json_out)["ok"]:
        raise typer.Exit(code=1)


@schedule_app.command("status")
def schedule_status(
    journal: str = typer.Option("", "--journal", help="Journal file (default: config's)."),
    config: str | None = typer.Option(None, "--config", help="IBKR run file (\\[schedule])."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """The last and the next scheduled momentum runs."""
    import asyncio

    from openclaw.app.ibkr import cli_schedule_status
    from openclaw.model.errors import OpenclawError

    try:
        out = asyncio.run(cli_schedule_status(config, journal))
    except (OpenclawError, OSError) as e:
        ibkr_fail(e)
    if json_out:
        echo_json(out)
        return
    from rich.console import Console

    Console().print(out)


app.add_typer(ibkr_app, name="ibkr")
app.add_typer(schedule_app, name="schedule")
