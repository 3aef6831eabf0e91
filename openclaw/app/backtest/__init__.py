"""``openclaw-trading backtest``: recorded frames through the live pipeline with a simulated
execution (docs/recording.md)."""

from openclaw.app.backtest.engine import SURVIVAL_MS, Settings, run_backtest
from openclaw.app.backtest.recording import Recording, RecordingError, load_recording
from openclaw.app.backtest.route import LatencyModel, SimRoute

__all__ = ["SURVIVAL_MS", "LatencyModel", "Recording", "RecordingError", "Settings", "SimRoute",
           "load_recording", "run_backtest", "settings_from"]


def settings_from(rec: Recording, seed: int = 7) -> Settings:
    """The settings a recording carries (``latency.json``: measured leg latencies, start
    balances, fees, start amounts, slippage)."""
    lat = rec.latency or {}
    run = lat.get("run") or {}
    max_start = {(v, a): float(x) for v, a, x in run.get("max_start", [])} or None
    fees = {v: float(b) for v, b in (run.get("fees_bps") or {}).items() if b is not None}
    return Settings(latency=LatencyModel.from_legs(lat.get("legs") or {}), seed=seed,
                    balances=run.get("balances") or {}, max_start=max_start,
                    fees_bps=fees or None, slippage_bps=run.get("slippage_bps"))
