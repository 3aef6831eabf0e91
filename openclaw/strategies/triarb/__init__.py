"""Triangular arbitrage across venues: ``Config`` (``[strategy.triarb]``) and the detector
``ArbPipeline`` (pipeline.py), which hands its order lists to the ``OrderManager``.

The detector (and the Cython it loads) is imported on first use, so that reading a config does
not load the hot path."""

from __future__ import annotations

from typing import Any

from openclaw.strategies.triarb.config import Config

__all__ = ["ACKED", "BOOK", "RECV", "RISK", "SEND", "SIGNAL", "STAGES", "SUBMIT", "ArbPipeline",
           "ArbStats", "Config"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from openclaw.strategies.triarb import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
