"""``openclaw-trading chaos``: the fault catalogue run against the simulators, one fresh system
per fault, each row's verdict from the venues' records, the journal and the books
(docs/chaos.md)."""

from openclaw.app.chaos.catalogue import CATALOGUE, by_name, quick
from openclaw.app.chaos.runner import ROW_KEYS, Fault, FaultRow, Trial, run_catalogue, run_fault

__all__ = ["CATALOGUE", "ROW_KEYS", "Fault", "FaultRow", "Trial", "by_name", "quick",
           "run_catalogue", "run_fault"]
