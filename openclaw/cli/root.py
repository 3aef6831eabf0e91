"""The one Typer app every command module registers on (``openclaw.cli``)."""

import typer

app = typer.Typer(
    add_completion=False, no_args_is_help=True,
    help="openclaw-trading: the low-latency trading engine (simulators, runs, benchmarks, IBKR)",
)
