"""Pre-trade risk: the Cython engine (``openclaw._core.risk``) and its pydantic config.

Contract: docs/risk-api.md.
"""

from openclaw._core.risk import (
    ACTIVE,
    BUY,
    CANCEL,
    HALT_REASON_NAMES,
    HALTED,
    LIMIT,
    MARKET,
    ORDER_DTYPE,
    REASON_NAMES,
    REASONS,
    REDUCING,
    SELL,
    TRADING_STATE_NAMES,
    RiskEngine,
    protective_price,
    reason_name,
)
from openclaw.risk.limits import (
    AssetConfig,
    InstrumentLimits,
    RiskIndex,
    RiskLimits,
    VenueLimits,
    build_engine,
    load_limits,
    make_index,
)

__all__ = [
    "ACTIVE",
    "BUY",
    "CANCEL",
    "HALTED",
    "HALT_REASON_NAMES",
    "LIMIT",
    "MARKET",
    "ORDER_DTYPE",
    "REASONS",
    "REASON_NAMES",
    "REDUCING",
    "SELL",
    "TRADING_STATE_NAMES",
    "AssetConfig",
    "InstrumentLimits",
    "RiskEngine",
    "RiskIndex",
    "RiskLimits",
    "VenueLimits",
    "build_engine",
    "load_limits",
    "make_index",
    "protective_price",
    "reason_name",
]
