"""A table of config and summary keys across runs, with deltas against a baseline."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from trackui.store.metric_decl import MAXIMIZE, MINIMIZE, goal_of
from trackui.store.models import Diff, RunRow, flatten
from trackui.store.text import delta_text, fit_value, shorten_middle
from trackui.tui.fmt import clean, shorten
from trackui.tui.widgets.run_cells import marked_name

CELL_WIDTH = 22


def delta_style(delta: str, goal: str | None) -> str:
    """Green for a better value, red for a worse one, dim when ``goal`` is unknown (never by sign)."""
    if goal not in (MINIMIZE, MAXIMIZE):
        return "dim"
    up = delta.startswith("+")
    return "green" if up == (goal == MAXIMIZE) else "red"


def diff_cell(
    value: object,
    delta: float | None,
    *,
    baseline: bool,
    differs: bool,
    base_value: object = None,
    present: bool = False,
    goal: str | None = None,
) -> Text:
    """One run's value of one key, with its delta from the baseline (``base_value``) when numeric.

    A run without the key shows ``—``; one whose key holds None (``present``) shows ``None``.
    The delta is green when better and red when worse by the metric's ``goal``
    (``minimize``/``maximize``: ``metric_decl.goal_of``), dim when no goal is known
    (config keys, metrics neither declared nor named for one).
    """
    if value is None and not present:
        return Text("—", style="dim")
    t = Text(fit_value(value, CELL_WIDTH), no_wrap=True)
    if baseline:
        t.stylize("bold")
    elif differs:
        t.stylize("bold yellow")
    d = delta_text(value, base_value, delta)
    if d and not baseline:
        t.append(f" ({d})", style=delta_style(d, goal))
    return t


class ConfigDiff(DataTable[Text]):
    """Keys down, runs across (the baseline marked), differing values highlighted, numeric deltas beside them."""

    def __init__(
        self,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
            cursor_type="row",
            zebra_stripes=True,
        )
        self.diff: Diff | None = None
        """The diff shown."""

    def show(
        self,
        diff: Diff,
        runs: Sequence[RunRow],
        colours: dict[str, tuple[int, int, int]],
        *,
        all_keys: bool,
    ) -> int:
        """Show ``diff`` for ``runs`` (in the diff's run order); returns the number of rows shown."""
        self.diff = diff
        names = {r.id: marked_name(r) for r in runs}
        # Which keys each run has (a value of None is not a missing key).
        keys = {
            r.id: {"config": flatten(r.config).keys(), "summary": r.summary.keys()} for r in runs
        }
        by_id = {r.id: r for r in runs}
        metas = [by_id[r].meta for r in (diff.baseline, *diff.run_ids) if r in by_id]
        goals = {row.key: goal_of(metas, row.key) for row in diff.rows if row.section == "summary"}
        cursor = self.cursor_row
        self.clear(columns=True)
        self.add_column(Text(""), key="section")
        self.add_column(Text("key"), key="key")
        for rid in diff.run_ids:
            rgb = colours.get(rid, (200, 200, 200))
            head = Text("━ ", style=f"rgb({rgb[0]},{rgb[1]},{rgb[2]}) bold")
            head.append(shorten_middle(clean(names.get(rid, rid)), CELL_WIDTH))
            if rid == diff.baseline:
                head.append(" (base)", style="dim")
            self.add_column(head, key=f"run:{rid}")
        shown = 0
        for row in diff.rows:
            if not all_keys and not row.differs:
                continue
            shown += 1
            cells = [
                Text(row.section, style="dim"),
                Text(shorten(clean(row.key), 40), style="bold" if row.differs else ""),
            ]
            base = dict(zip(diff.run_ids, row.values, strict=False)).get(diff.baseline)
            for rid, v, d in zip(diff.run_ids, row.values, row.deltas, strict=False):
                cells.append(
                    diff_cell(
                        v,
                        d,
                        baseline=rid == diff.baseline,
                        differs=row.differs,
                        base_value=base,
                        present=v is None and row.key in keys.get(rid, {}).get(row.section, ()),
                        goal=goals.get(row.key) if row.section == "summary" else None,
                    )
                )
            self.add_row(*cells)
        if shown == 0:
            self.add_row(
                Text(""),
                Text(
                    "no differences" if not all_keys else "no keys",
                    style="italic dim",
                ),
                *(Text("") for _ in diff.run_ids),
            )
        if 0 <= cursor < self.row_count:
            self.move_cursor(row=cursor, animate=False)
        return shown
