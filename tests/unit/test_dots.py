"""The dot grid: lines light the dots Bresenham's algorithm lights, cells show the right glyphs."""

from __future__ import annotations

import numpy as np

from trackui.tui.widgets.dots import ASCII, BRAILLE, QUADRANT, DotGrid, line_dots, to_dots


def dots(xs, ys) -> list[tuple[int, int]]:
    lx, ly = line_dots(np.array(xs), np.array(ys))
    return list(zip(lx.tolist(), ly.tolist(), strict=True))


def test_a_shallow_line_lights_one_dot_per_column() -> None:
    assert dots([0, 6], [0, 2]) == [(0, 0), (1, 0), (2, 1), (3, 1), (4, 1), (5, 2), (6, 2)]


def test_a_steep_line_lights_one_dot_per_row() -> None:
    assert dots([0, 2], [0, 5]) == [(0, 0), (0, 1), (1, 2), (1, 3), (2, 4), (2, 5)]


def test_points_are_joined_without_repeating_the_shared_point() -> None:
    assert dots([0, 2, 2, 0], [0, 0, 2, 2]) == [
        (0, 0),
        (1, 0),
        (2, 0),
        (2, 1),
        (2, 2),
        (1, 2),
        (0, 2),
    ]
    assert dots([3], [4]) == [(3, 4)]
    assert dots([5, 5], [1, 1]) == [(5, 1)]


def test_a_falling_line_mirrors_a_rising_one() -> None:
    up = dots([0, 4], [0, 3])
    down = dots([0, 4], [0, -3])
    assert down == [(x, -y) for x, y in up]


def test_braille_cells_hold_two_by_four_dots() -> None:
    g = DotGrid(2, 1, BRAILLE)
    g.line(np.array([0, 3]), np.array([0, 3]))  # the diagonal across both cells
    (row,) = g.text_rows()
    assert [ch for ch, _ in row] == ["⡠", "⠊"]
    g = DotGrid(1, 1, BRAILLE)
    g.dots(np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 1, 2, 3, 0, 1, 2, 3]))
    assert g.text_rows()[0][0][0] == "⣿"


def test_quadrant_and_ascii_cells() -> None:
    g = DotGrid(1, 1, QUADRANT)
    g.dots(np.array([0, 1]), np.array([1, 0]))  # top left, bottom right
    assert g.text_rows()[0][0][0] == "▚"
    g = DotGrid(3, 1, ASCII)
    g.dots(np.array([0, 1, 2, 2]), np.array([1, 0, 0, 1]))
    assert "".join(ch for ch, _ in g.text_rows()[0]) == "'.:"


def test_a_later_layer_owns_the_cells_it_draws() -> None:
    g = DotGrid(4, 1, BRAILLE)
    band = g.spans(np.array([0, 1, 2, 3]), np.array([0, 0, 0, 0]), np.array([3, 3, 3, 3]))
    line = g.line(np.array([2, 7]), np.array([1, 1]))
    row = g.text_rows()[0]
    assert [owner for _, owner in row] == [band, line, line, line]
    assert row[0][0] == "⣿" and row[1][0] == "⠤"


def test_marker_layers_show_their_character_and_off_grid_dots_are_dropped() -> None:
    g = DotGrid(3, 2, BRAILLE)
    g.line(np.array([-4, 5]), np.array([0, 0]), "+")
    g.dots(np.array([100]), np.array([100]))
    assert ["".join(ch for ch, _ in r) for r in g.text_rows()] == ["   ", "+++"]


def test_values_map_to_dots_at_both_ends() -> None:
    assert to_dots([0.0, 0.5, 1.0], 0.0, 1.0, 9).tolist() == [0, 4, 8]
    assert to_dots([2.0], 2.0, 2.0, 9).tolist() == [4]
