"""Strategies: the shell around the hot path that turns signals into order lists."""
