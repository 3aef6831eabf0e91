"""FX scalping (EUR/USD, GBP/USD) in the London/New York overlap (scalper.py). ``Config`` is
``[fx]`` of an IBKR run file (also ``[strategy.fx]``)."""

from openclaw.strategies.fx.scalper import *  # noqa: F403
from openclaw.strategies.fx.scalper import FxScalperConfig as Config
from openclaw.strategies.fx.scalper import __all__ as _scalper_all

__all__ = [*_scalper_all, "Config"]
