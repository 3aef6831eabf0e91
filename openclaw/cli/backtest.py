"""``openclaw-trading backtest`` and ``openclaw-trading record``: a recording through the live
pipeline with a simulated execution; a run file's feeds recorded (docs/recording.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from openclaw.cli.render import echo_json, print_backtest
from openclaw.cli.root import app


@app.command("backtest")
def backtest_cmd(
    recordings: list[Path] = typer.Argument(  # noqa: B008
        ..., help="recording directories or parts (*.jsonl.gz)"),
    config: Path = typer.Option(  # noqa: B008
        None, "--config", help="run file (default: the recording's meta.json)"),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    seed: int = typer.Option(7, "--seed", help="Seed of the latency draws."),
    latency_us: float = typer.Option(
        0.0, "--latency-us", help="Every leg reaches its venue after this (µs), answered after "
        "twice that; 0: the recording's measured latencies (or 2 ms)."),
) -> None:
    """Backtest recorded frames: decoders, books, detector, risk, simulated fills and unwinds."""
    import asyncio

    from openclaw.app.backtest import (
        LatencyModel,
        RecordingError,
        load_recording,
        run_backtest,
        settings_from,
    )
    from openclaw.app.config import Config, ConfigError, load_config

    try:
        rec = load_recording(recordings)
        if config is not None:
            cfg = load_config(str(config))
        elif rec.meta.get("config"):
            cfg = Config.model_validate(rec.meta["config"])
        else:
            typer.echo("error: no --config and no meta.json in the recording", err=True)
            raise typer.Exit(code=2)
    except (RecordingError, ConfigError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    settings = settings_from(rec, seed)
    if latency_us > 0:
        settings.latency = LatencyModel(default=(latency_us, 2 * latency_us))
    out = asyncio.run(run_backtest(rec, cfg, settings))
    if json_out:
        echo_json(out)
    else:
        print_backtest(out)


@app.command("record")
def record_cmd(
    file: Path = typer.Argument(..., help="run file (its venues and instruments)"),  # noqa: B008
    out_dir: Path = typer.Option(..., "--dir", help="recording directory"),  # noqa: B008
    seconds: float = typer.Option(60.0, "--seconds", help="How long to record."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulators (sim venues)."),
) -> None:
    """Record every depth frame of a run file's instruments (no strategy, no order)."""
    import asyncio

    from openclaw.app.recording import record_feeds

    out = asyncio.run(record_feeds(str(file), str(out_dir), seconds, seed))
    echo_json(out)
