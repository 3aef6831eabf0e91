"""Type stubs of ``openclaw._core.triarb`` (Cython): triangular-arbitrage detection."""

from collections.abc import Mapping, Sequence
from typing import Self

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

from openclaw._core.book import OrderBook
from openclaw._core.errors import CapacityError as CapacityError
from openclaw._core.risk import RiskEngine
from openclaw._core.stageclock import StageClock

DEFAULT_PRIORITY: tuple[str, ...]

class OpportunityLeg:
    """One leg: ``side`` of ``base`` on ``venue``, at most ``qty`` at ``price_limit``."""

    venue: str
    base: str
    quote: str
    side: str
    price_limit: float
    qty: float
    def __init__(self, venue: str, base: str, quote: str, side: str, price_limit: float,
                 qty: float) -> None: ...

class Opportunity:
    """A profitable cycle: ``assets`` in trading order, closing on ``assets[0]``."""

    assets: tuple[str, ...]
    legs: list[OpportunityLeg]
    profit_bps: float
    start_amount: float
    expected_profit: float
    cycle: int
    def __init__(self, assets: tuple[str, ...], legs: list[OpportunityLeg], profit_bps: float,
                 start_amount: float, expected_profit: float, cycle: int) -> None: ...

# (venue, base, quote, book, taker fee bps)
_MarketRow = tuple[str, str, str, OrderBook, float]

@disjoint_base
class TriArb:
    """Live detector over a fixed set of markets (see ``openclaw/_core/triarb.pyx``)."""

    @property
    def n_markets(self) -> int: ...
    @property
    def n_cycles(self) -> int: ...
    @property
    def n_assets(self) -> int: ...
    @property
    def n_venues(self) -> int: ...
    @property
    def n_found(self) -> int: ...
    @property
    def event(self) -> int: ...
    min_profit_bps: float
    max_age_ns: int
    cooldown_ns: int
    require_live: bool
    def __new__(cls, markets: Sequence[_MarketRow], min_profit_bps: float = 0.0,
                asset_priority: Sequence[str] = ..., max_age_ns: int = 0,
                cooldown_ns: int = 0, require_live: bool = True) -> Self: ...
    def set_balance(self, venue: str, asset: str, amount: float) -> None: ...
    def market_index(self, venue: str, base: str, quote: str) -> int: ...
    def cycles_of(self, market: int) -> list[int]: ...
    def set_recorder(self, clock: StageClock | None, book_stage: int = 1,
                     signal_stage: int = 2, risk_stage: int = -1,
                     submit_stage: int = -1) -> None: ...
    def on_update(self, market: int, now: int = 0, fire: bool = True,
                  recv_ts: int = 0) -> int: ...
    def pick(self) -> int: ...
    def handed_over(self, i: int) -> None: ...
    def bind_risk(self, engine: RiskEngine | None, inst_of_market: npt.NDArray[np.int32],
                  slip_num: int = 0, slip_den: int = 1) -> None: ...
    def check_risk(self, i: int, first_client_id: int) -> tuple[int, ...] | None: ...
    def rehearse_risk(self) -> int: ...
    def legs(self, i: int, slip_num: int = 0, slip_den: int = 1) -> tuple[int, ...]: ...
    def write_orders(self, i: int, out: npt.NDArray[np.void],
                     inst_of_market: npt.NDArray[np.int32], slip_num: int, slip_den: int,
                     first_client_id: int) -> tuple[int, ...]: ...
    def evaluate_all(self, now: int = 0, fire: bool = False) -> int: ...
    def bench_updates(self, market_ids: npt.NDArray[np.intc], now: int = 1) -> int: ...
    def opportunity(self, i: int) -> Opportunity: ...
    def opportunities(self) -> list[Opportunity]: ...

def find_arbitrage(books: Mapping[tuple[str, str, str], OrderBook],
                   fees_bps: Mapping[str, float], min_profit_bps: float = 0.0,
                   balances: Mapping[tuple[str, str], float] | None = None
                   ) -> list[Opportunity]: ...
