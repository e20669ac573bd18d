"""The board, its moves and the breadth-first-search solver."""

from __future__ import annotations

from collections import Counter

import pytest

from pymetrics.games.tower.solver import (
    LayoutError,
    all_layouts,
    apply_move,
    distances_to,
    format_layout,
    legal_moves,
    min_moves,
    optimal_moves,
    parse_layout,
)


def _brute_force_distance(start: str, goal: str) -> int:
    """Fewest moves by trying every sequence of 0, 1, 2, ... moves (no BFS bookkeeping)."""
    target = parse_layout(goal)
    boards = {parse_layout(start)}
    for length in range(12):
        if target in boards:
            return length
        boards = {apply_move(board, move) for board in boards for move in legal_moves(board)}
    raise AssertionError("unreachable")


def test_the_board_has_36_layouts_each_written_and_read_back() -> None:
    layouts = all_layouts()

    assert len(layouts) == 36
    assert len(set(layouts)) == 36
    assert all(parse_layout(format_layout(layout)) == layout for layout in layouts)


@pytest.mark.parametrize(
    ("start", "goal", "fewest"),
    [
        pytest.param("GR|B|", "GR|B|", 0, id="same"),
        pytest.param("GR|B|", "GR||B", 1, id="one"),
        pytest.param("GR|B|", "G|R|B", 2, id="flat"),
        pytest.param("GR|B|", "GBR||", 3, id="tower-3"),
        pytest.param("GR|B|", "RGB||", 5, id="tower-5"),
        pytest.param("GR|B|", "B|GR|", 8, id="farthest"),
    ],
)
def test_min_moves_of_known_problems(start: str, goal: str, fewest: int) -> None:
    assert min_moves(parse_layout(start), parse_layout(goal)) == fewest
    assert _brute_force_distance(start, goal) == fewest


def test_bfs_agrees_with_brute_force_on_every_pair_from_the_start_position() -> None:
    start = "GR|B|"
    for goal in all_layouts():
        assert min_moves(parse_layout(start), goal) == _brute_force_distance(
            start, format_layout(goal)
        )


def test_distances_are_symmetric_and_span_0_to_8() -> None:
    layouts = all_layouts()
    counts = Counter(min_moves(a, b) for a in layouts for b in layouts)

    assert all(min_moves(a, b) == min_moves(b, a) for a in layouts for b in layouts)
    assert sorted(counts) == list(range(9))
    assert counts[0] == 36


def test_legal_moves_respect_capacities() -> None:
    # Peg 3 (one place) is full, peg 2 (two places) has room, peg 1 holds two.
    layout = parse_layout("GR|B|")

    assert list(legal_moves(layout)) == [(0, 1), (0, 2), (1, 0), (1, 2)]
    assert list(legal_moves(parse_layout("G|RB|"))) == [(0, 2), (1, 0), (1, 2)]
    assert apply_move(layout, (0, 2)) == parse_layout("G|B|R")
    with pytest.raises(ValueError, match="peg 2 is full"):
        apply_move(parse_layout("G|RB|"), (0, 1))
    with pytest.raises(ValueError, match="peg 3 is empty"):
        apply_move(layout, (2, 0))


def test_optimal_moves_lead_one_move_closer() -> None:
    start, goal = parse_layout("GR|B|"), parse_layout("RGB||")
    distance = distances_to(goal)

    moves = optimal_moves(start, goal)

    assert moves
    assert all(distance[apply_move(start, move)] == 4 for move in moves)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("GR|B", "3 pegs", id="two-pegs"),
        pytest.param("GR|B||", "3 pegs", id="four-pegs"),
        pytest.param("G|RB|", None, id="valid"),
        pytest.param("|GR|B", None, id="valid-empty-first"),
        pytest.param("|GRB|", "peg 2 holds at most 2", id="peg-2-overfull"),
        pytest.param("G||RB", "peg 3 holds at most 1", id="peg-3-overfull"),
        pytest.param("GG|B|", "once each", id="repeated-ball"),
        pytest.param("GY|B|", "once each", id="unknown-ball"),
        pytest.param("gr|b|", "once each", id="lower-case"),
        pytest.param("G|B|", "once each", id="missing-ball"),
    ],
)
def test_parse_layout(text: str, message: str | None) -> None:
    if message is None:
        assert format_layout(parse_layout(text)) == text
    else:
        with pytest.raises(LayoutError, match=message):
            parse_layout(text)


def test_parse_layout_refuses_non_text() -> None:
    with pytest.raises(LayoutError, match="must be a string"):
        parse_layout(["GR", "B", ""])  # type: ignore[arg-type]
