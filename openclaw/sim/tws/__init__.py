"""The TWS / IB Gateway simulator: server (the socket API), wire (messages by server version),
account (orders, fills, positions), universe (instruments, bars, quotes)."""

from openclaw.sim.tws.server import *  # noqa: F403 - the simulator's public names
from openclaw.sim.tws.server import __all__ as __all__  # noqa: PLE0605
