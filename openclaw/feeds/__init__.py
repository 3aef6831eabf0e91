"""Market-data feeds: venue depth protocols -> books in a BookSet. Feeds never place orders."""

from openclaw.feeds.state import BookState, FeedCounters
from openclaw.model.instrument import Instrument

__all__ = ["BookState", "FeedCounters", "Instrument"]
