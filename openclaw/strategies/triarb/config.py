"""``[strategy.triarb]``: the triangular-arbitrage strategy's settings (its package owns them)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Config(BaseModel):
    """Detection thresholds, the order policy and the hot path's warm-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_profit_bps: float = Field(5.0, ge=0, allow_inf_nan=False)
    cooldown_ms: int = Field(500, ge=0)
    max_book_age_ms: int = Field(1000, ge=1)
    leg_timeout_ms: int = Field(3000, ge=1)
    partial_policy: Literal["unwind", "hold"] = "unwind"
    # the IOC limit's allowance past the detected price (buys up, sells down), in bps; unset:
    # 15 when orders go to the simulators (their books move between detection and fill), 0 live
    slippage_bps: float | None = Field(None, ge=0, lt=1000, allow_inf_nan=False)
    # rehearse the order path (pick, dry-run risk check, Order construction; nothing committed,
    # journaled or sent) this often so that a rare opportunity meets warm CPU caches; 0: never
    warm_interval_ms: float = Field(2.0, ge=0, le=60_000, allow_inf_nan=False)
