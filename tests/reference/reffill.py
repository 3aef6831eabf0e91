"""Plain reference of an IOC fill: expand the book into single lots, take them in order."""

from __future__ import annotations


def ref_fill(levels: list[tuple[int, int]], buy: bool, qty: int,
             limit: int | None) -> list[tuple[int, int]]:
    """(price, lots) per level touched, by walking one lot at a time."""
    lots = [px for px, size in levels for _ in range(size)]
    taken: dict[int, int] = {}
    for px in lots[:max(qty, 0)]:
        if limit is not None and ((buy and px > limit) or (not buy and px < limit)):
            break
        taken[px] = taken.get(px, 0) + 1
    return list(taken.items())
