"""Benchmarks of the openclaw hot path against Python-usable peers.

`stream` builds a deterministic BTC/USDT-shaped depth stream; `book` times order books on it.
"""
