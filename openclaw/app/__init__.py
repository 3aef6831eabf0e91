"""The one place that wires a running system from a configuration.

``config`` (the run file: TOML + pydantic), ``runner`` (``openclaw-trading run``: simulators
when needed, journal, alerts, routes, risk, reconciler, feeds, strategies; ``start_system``,
``shutdown_system``, ``close_system`` are what ``openclaw.Session`` uses too), ``demo``
(``openclaw-trading demo`` on the simulators), ``ibkr`` (the IBKR runs: momentum, FX, the
gateway session they share).
"""
