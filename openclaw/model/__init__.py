"""The domain model: plain types many parts share, with no I/O.

``orders`` (orders, fills and their state machine), ``client_ids`` (the ids every venue
accepts), ``instrument`` (one venue market), ``bars`` (daily closes), ``errors`` (every typed
error). Everything above (feeds, execution, risk, journal, venues, strategies, app) may import
these; they import nothing of the project but ``openclaw._core.errors``.
"""
