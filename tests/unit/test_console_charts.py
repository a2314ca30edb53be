"""The console's chart geometry: round ticks from zero, points inside the frame, the
highest value at the top tick, bars standing on the baseline."""

from __future__ import annotations

from console.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, chart


def test_the_y_axis_runs_from_zero_to_a_round_value_at_or_above_the_highest() -> None:
    drawn = chart(["a", "b", "c"], line=[0, 7, 12])
    assert [t.label for t in drawn.y_ticks] == ["0", "5", "10", "15"]
    drawn = chart(["a"], line=[2.5])
    assert [t.label for t in drawn.y_ticks] == ["0", "0.5", "1", "1.5", "2", "2.5"]


def test_nothing_to_draw_still_has_an_axis() -> None:
    drawn = chart(["a", "b"], line=[0, 0])
    assert [t.label for t in drawn.y_ticks] == ["0", "1"]
    half_slot = (WIDTH - LEFT - RIGHT) / 4  # two slots, each point in the middle of one
    base = float(HEIGHT - BOTTOM)
    assert drawn.line == f"{LEFT + half_slot},{base} {LEFT + 3 * half_slot},{base}"


def test_points_bars_and_the_level_stay_inside_the_frame() -> None:
    drawn = chart(
        [str(n) for n in range(30)],
        line=[n % 7 for n in range(30)],
        bars=[n % 4 for n in range(30)],
        level=2.5,
    )
    points = [tuple(map(float, p.split(","))) for p in drawn.line.split()]
    assert len(points) == 30 and len(drawn.bars) == 30
    assert all(LEFT <= x <= WIDTH and TOP <= y <= HEIGHT - BOTTOM for x, y in points)
    assert [t.label for t in drawn.y_ticks] == ["0", "2", "4", "6"]
    assert min(y for _, y in points) == drawn.y_ticks[-1].y  # the 6s touch the top tick
    assert all(b.y + b.height == drawn.baseline for b in drawn.bars)
    assert drawn.level is not None and TOP < drawn.level < drawn.baseline
    assert 5 <= len(drawn.x_ticks) <= 7  # a few dates, not thirty
