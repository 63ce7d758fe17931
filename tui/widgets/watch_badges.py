"""The marks watches put on rows: which rules fire on a run, as a short text after its name.

``badge_text`` turns the rules firing on a run into its mark (``NaN``,
``stall``, ``crash``, ``fail``, ``!`` for a rule of the user's own, ``alert``);
``group_badge`` gives a group's row the marks of its members. The run table
appends the mark to the name cell (``with_badge``, ``badge_width``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.cells import cell_len
from rich.text import Text

from trackui.store.watches import BADGES, RULE_BADGE

ORDER = (BADGES["nan"], BADGES["stall"], BADGES["crashed"], BADGES["failed"], RULE_BADGE,
         BADGES["alert"])  # fmt: skip
"""Marks in the order they are shown (the most telling first)."""
STYLE = "bold red"
BADGE_COLUMN = "name"
"""The cell a mark follows."""


def badge_text(rules: Iterable[str]) -> str:
    """The mark of a run whose firing rules (``store.watches`` names, or a rule's text) are given."""
    marks = {BADGES.get(r, RULE_BADGE) for r in rules}
    return " ".join(m for m in ORDER if m in marks)


def group_badge(badges: Mapping[str, str], member_ids: Iterable[str]) -> str:
    """The mark of a group's row: every mark its members have (``badges``: run id -> mark)."""
    marks = set()
    for rid in member_ids:
        marks.update(badges.get(rid, "").split())
    return " ".join(m for m in ORDER if m in marks)


def badge_width(widths: tuple[int, ...], columns: Sequence[str], badge: str) -> tuple[int, ...]:
    """A row's cell widths with room for its mark after the name."""
    if not badge or BADGE_COLUMN not in columns:
        return widths
    i = columns.index(BADGE_COLUMN)
    return (*widths[:i], widths[i] + 1 + cell_len(badge), *widths[i + 1 :])


def with_badge(texts: list[Text], columns: Sequence[str], badge: str) -> list[Text]:
    """A row's cells with its mark after the name (the cells are changed in place)."""
    if badge and BADGE_COLUMN in columns:
        t = texts[columns.index(BADGE_COLUMN)]
        t.append(" ")  # (unstyled: SVG renderers drop a styled run's leading blank)
        t.append(badge, style=STYLE)
    return texts
