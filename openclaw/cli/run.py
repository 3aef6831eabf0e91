"""``openclaw-trading run FILE``: a configured system until stopped."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.root import app


@app.command("run")
def run_cmd(
    path: Path = typer.Argument(..., help="a TOML configuration file"),  # noqa: B008
    paper: bool = typer.Option(
        False, "--paper", help="Orders to the local simulators; feeds as configured."
    ),
    log_format: str = typer.Option("human", "--log-format", help="json or human (stderr)."),
    seconds: float | None = typer.Option(None, "--seconds", help="Stop after S seconds."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated market (sim venues)."),
    drain: float = typer.Option(
        10.0, "--drain", help="Seconds in-flight order lists get at shutdown."
    ),
) -> None:
    """Start what the config names (feeds, strategies, execution, alerts) until SIGINT/SIGTERM."""
    if log_format not in ("json", "human"):
        typer.echo(f"error: --log-format must be json or human, not {log_format!r}", err=True)
        raise typer.Exit(code=2)
    from openclaw.app.runner import main as run_main

    code = run_main(str(path), paper=paper, log_format=log_format, seconds=seconds, seed=seed,
                    drain_timeout=drain)
    if code:
        raise typer.Exit(code=code)
