"""Squarified treemap layout (Bruls, Huizing and van Wijk, 2000): areas proportional to
weights, tiles as close to square as the weights allow, so small ones stay readable."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF


def _worst(row: Sequence[float], side: float) -> float:
    """The worst aspect ratio of ``row`` laid along a side of length ``side``."""
    total = sum(row)
    if total <= 0 or side <= 0:
        return float("inf")
    return max(
        max(side * side * w / (total * total), total * total / (side * side * w)) for w in row
    )


def squarify(weights: Sequence[float], rect: QRectF) -> list[QRectF]:
    """Tiles for ``weights`` (in the same order) filling ``rect``; zero weights get empty tiles.

    Larger weights first lay out best; callers sort descending."""
    result = [QRectF() for _ in weights]
    items = [(i, float(w)) for i, w in enumerate(weights) if w > 0]
    total = sum(w for _, w in items)
    if not items or rect.width() <= 0 or rect.height() <= 0:
        return result
    scale = rect.width() * rect.height() / total
    areas = [(i, w * scale) for i, w in items]
    x, y, width, height = rect.x(), rect.y(), rect.width(), rect.height()
    row: list[tuple[int, float]] = []
    position = 0
    while position < len(areas):
        side = min(width, height)
        candidate = [*row, areas[position]]
        if not row or _worst([a for _, a in candidate], side) <= _worst([a for _, a in row], side):
            row = candidate
            position += 1
            continue
        x, y, width, height = _place(row, x, y, width, height, result)
        row = []
    if row:
        _place(row, x, y, width, height, result)
    return result


def _place(
    row: list[tuple[int, float]],
    x: float,
    y: float,
    width: float,
    height: float,
    result: list[QRectF],
) -> tuple[float, float, float, float]:
    """Lay ``row`` along the shorter side; return the rectangle left over."""
    area = sum(a for _, a in row)
    if width >= height:  # a column on the left
        column = area / height if height else 0.0
        offset = y
        for index, a in row:
            tall = a / column if column else 0.0
            result[index] = QRectF(x, offset, column, tall)
            offset += tall
        return x + column, y, width - column, height
    band = area / width if width else 0.0  # a row along the top
    offset = x
    for index, a in row:
        wide = a / band if band else 0.0
        result[index] = QRectF(offset, y, wide, band)
        offset += wide
    return x, y + band, width, height - band
