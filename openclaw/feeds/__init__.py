"""Market-data feeds: venue depth protocols -> books in a BookSet. Feeds never place orders."""

from openclaw.feeds.instrument import Instrument
from openclaw.feeds.state import BookState, FeedCounters

__all__ = ["BookState", "FeedCounters", "Instrument"]
