"""Everything that is one venue's. ``registry`` is the one list of venues every part reads."""
