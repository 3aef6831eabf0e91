"""Book states and per-feed counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

RESYNC_CAUSES = ("gap", "checksum", "crossed", "timeout", "parse", "reconnect", "stale_snapshot")


class BookState(IntEnum):
    """Lifecycle of a book; only LIVE books may feed signals (the values live in the BookSet)."""

    SYNCING = 0
    LIVE = 1
    STALE = 2
    RESYNCING = 3


@dataclass
class FeedCounters:
    """What a feed has seen; ``as_dict()`` is what the CLI and the logs print."""

    messages: int = 0
    bytes: int = 0
    depth_messages: int = 0
    parse_errors: int = 0
    unknown_symbol: int = 0
    duplicates: int = 0
    reconnects: int = 0
    checksum_ok: int = 0
    checksum_failed: int = 0
    snapshots_fetched: int = 0
    resyncs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RESYNC_CAUSES, 0))

    def resync(self, cause: str) -> None:
        self.resyncs[cause] = self.resyncs.get(cause, 0) + 1

    @property
    def total_resyncs(self) -> int:
        return sum(self.resyncs.values())

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {
            k: getattr(self, k)
            for k in (
                "messages", "bytes", "depth_messages", "parse_errors", "unknown_symbol",
                "duplicates", "reconnects", "checksum_ok", "checksum_failed",
                "snapshots_fetched",
            )
        }
        d["resyncs"] = dict(self.resyncs)
        return d
