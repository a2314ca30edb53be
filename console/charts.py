"""Server-side SVG charts: the geometry of a small line or bar chart, computed here
and drawn by a template (console/templates/_charts.html). No script: the page's
policy forbids it, and a chart is an image with its numbers in a table beside it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28  # room for the axis labels


@dataclass(frozen=True, kw_only=True)
class Tick:
    label: str
    x: float
    y: float


@dataclass(frozen=True, kw_only=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, kw_only=True)
class Chart:
    """Everything a template needs to draw one chart (coordinates in the viewBox)."""

    width: int
    height: int
    line: str  # "x,y x,y …" of a polyline; "" for none
    bars: list[Bar]
    level: float | None  # y of a horizontal reference line (e.g. the forecast)
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline: float


def _scale(top: float) -> list[float]:
    """Round ticks from zero to at or above `top`: steps of 1, 2 or 5 times a power
    of ten, at most five of them."""
    if top <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(top / 5))
    step = next(m * magnitude for m in (1, 2, 5, 10) if top / (m * magnitude) <= 5)
    count = math.ceil(top / step - 1e-9)
    return [round(n * step, 6) for n in range(count + 1)]


def chart(
    labels: Sequence[str],
    *,
    line: Sequence[float] = (),
    bars: Sequence[float] = (),
    level: float | None = None,
) -> Chart:
    """One x position per label; a line through `line`, bars of `bars`, and a
    horizontal line at `level`, all on one y axis from zero."""
    count = max(len(labels), 1)
    y_values = _scale(max([*line, *bars, level or 0, 0]))
    top = y_values[-1]
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / count
    base = TOP + inner_h

    def x(i: int) -> float:
        return round(LEFT + slot * (i + 0.5), 1)

    def y(v: float) -> float:
        return round(base - inner_h * max(v, 0) / top, 1)

    every = max(1, count // 6)  # at most about seven dates under the axis
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        line=" ".join(f"{x(i)},{y(v)}" for i, v in enumerate(line)),
        bars=[
            Bar(
                x=round(x(i) - slot * 0.35, 1),
                y=y(v),
                width=round(slot * 0.7, 1),
                height=round(base - y(v), 1),
            )
            for i, v in enumerate(bars)
        ],
        level=None if level is None else y(level),
        y_ticks=[Tick(label=_number(v), x=LEFT, y=y(v)) for v in y_values],
        x_ticks=[Tick(label=labels[i], x=x(i), y=base) for i in range(0, len(labels), every)],
        baseline=base,
    )


def _number(value: float) -> str:
    return f"{Decimal(str(value)).normalize():f}"
