"""The runs screen's groups: choosing the grouping, the band, expanding a group.

A mixin of ``RunsScreen`` (before ``RunsActions``): the grouping and the band
are kept with the root's preferences; which groups are expanded lasts the
session. See docs/groups.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.binding import Binding, BindingType

from trackui.store.groups import BAND_MINMAX, BAND_STD, BY_GROUP, BY_JOB_TYPE, BY_SWEEP, is_group_id
from trackui.tui.chart_settings import SettingsChanged
from trackui.tui.screens.pickers import ChooseManyScreen
from trackui.tui.widgets.group_rows import grouped_rows, members_of
from trackui.tui.widgets.run_table import RunTable

if TYPE_CHECKING:
    from textual.screen import Screen

    from trackui.store.models import RunRow
    from trackui.tui.chart_settings import ChartSettings
    from trackui.tui.messages import RunsView
    from trackui.tui.refresher import StoreRefresher

    _Screen = Screen[None]
else:
    _Screen = object

GROUP_BINDINGS: list[BindingType] = [
    Binding("G", "group_by", "Group by", show=False),
    Binding("g", "expand", "Expand group", show=False),
    Binding("B", "band", "Band min-max/std", show=False),
]
"""The runs screen's group keys (Enter on a group row expands it too)."""

BAND_NOTES = {BAND_MINMAX: "Band: min to max", BAND_STD: "Band: ±1 standard deviation"}


class RunsGroups(_Screen):
    """The group actions and palette commands of the runs screen."""

    settings: ChartSettings
    store: StoreRefresher
    view: RunsView | None

    if TYPE_CHECKING:  # (the runs screen's own)

        def _table_columns(self) -> list[str]: ...
        def _chart_runs(self) -> None: ...
        def action_open(self) -> None: ...
        def system_commands(self) -> Iterable[SystemCommand]: ...

    @property
    def expanded(self) -> set[str]:
        """Ids of the groups shown with their members (this session only)."""
        got: set[str] | None = self.__dict__.get("_expanded")
        if got is None:
            got = self.__dict__["_expanded"] = set()
        return got

    def grouped(self, rows: Sequence[RunRow]) -> list[RunRow]:
        """The table's rows for ``rows``: as they are, or a row per group when grouped."""
        return grouped_rows(rows, self.settings.prefs.group_by, self.expanded)

    def regroup(self) -> None:
        """Show the table again with the grouping now in force, and chart what it highlights."""
        view = self.view
        if view is None:
            return
        table = self.query_one(RunTable)
        table.show(self.grouped(view.rows), self._table_columns(), self.store.now())
        ids = {r.id for r in table.rows_shown}
        stale = {i for i in table.selected if is_group_id(i) and i not in ids}
        if stale:
            table.set_selected(table.selected - stale)
        # After the messages already queued (a selection made with the
        # grouping): the charts then ask the store once for both.
        self.call_after_refresh(self._chart_runs)

    def group_choices(self) -> list[tuple[str, str]]:
        """What runs can be grouped by: their group, job type, sweep, then config keys."""
        items = [
            (BY_GROUP, "group"),
            (BY_JOB_TYPE, "job type"),
            (BY_SWEEP, "sweep"),
        ]
        keys: Sequence[str] = self.view.config_keys if self.view is not None else ()
        if self.store.scanned:
            keys = self.store.index.keys()[0]
        for k in keys:
            name = f"config:{k}" if k in (BY_GROUP, BY_JOB_TYPE, BY_SWEEP) else k
            items.append((name, f"config   {k}"))
        return items

    def action_group_by(self) -> None:
        """Group the runs by keys (none ticked: no groups)."""
        items = self.group_choices()

        def done(chosen: list[str] | None) -> None:
            if chosen is None:
                return
            order = {v: i for i, (v, _) in enumerate(items)}
            self.set_group_by(sorted(chosen, key=lambda c: order.get(c, 0)))

        self.app.push_screen(
            ChooseManyScreen(
                "Group runs by (runs equal on every key ticked; none: no groups)",
                items,
                self.settings.prefs.group_by,
            ),
            done,
        )

    def set_group_by(self, keys: Sequence[str]) -> None:
        """Group by ``keys`` (empty: no groups), remembered for the root."""
        self.settings.prefs.group_by = list(keys)
        self.settings.save()
        self.expanded.clear()
        self.regroup()
        self.notify(f"Grouped by {', '.join(keys)}" if keys else "Groups off", timeout=2)

    def action_expand(self) -> None:
        """Show or hide the highlighted group's runs (on a member: fold its group)."""
        table = self.query_one(RunTable)
        r = table.highlighted
        if r is None:
            return
        gid = r.id if is_group_id(r.id) else self._group_of(table, r.id)
        if gid is None:
            return
        if gid in self.expanded:
            self.expanded.discard(gid)
        else:
            self.expanded.add(gid)
        self.regroup()
        table.cursor_to(gid)

    def _group_of(self, table: RunTable, run_id: str) -> str | None:
        for row in table.rows_shown:
            if run_id in members_of(row) and row.id in self.expanded:
                return row.id
        return None

    def action_band(self) -> None:
        """Draw groups' bands as min to max, or as ±1 standard deviation."""
        p = self.settings.prefs
        p.band = BAND_STD if p.band == BAND_MINMAX else BAND_MINMAX
        self.settings.save()
        self.settings.changed.publish(SettingsChanged(BAND_NOTES[p.band]))

    def action_open(self) -> None:
        """Open the highlighted run (on a group: expand or fold it)."""
        r = self.query_one(RunTable).highlighted
        if r is not None and is_group_id(r.id):
            self.action_expand()
            return
        super().action_open()  # type: ignore[misc]

    def system_commands(self) -> Iterable[SystemCommand]:
        yield from super().system_commands()  # type: ignore[misc]
        yield SystemCommand("Group runs by…", "Group, job type, sweep or config keys",
                            self.action_group_by)  # fmt: skip
        for key, label in self.group_choices()[:3]:
            yield SystemCommand(
                f"Group runs by {label}", "A row per group", lambda k=key: self.set_group_by([k])
            )
        yield SystemCommand("Ungroup runs", "A row per run again", lambda: self.set_group_by([]))
        yield SystemCommand(
            "Toggle group band", "Min to max, or ±1 standard deviation", self.action_band
        )
        yield SystemCommand("Expand or fold group", "Show a group's runs", self.action_expand)
