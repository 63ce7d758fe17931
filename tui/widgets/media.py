"""The run detail's Media tab: the run's rich keys, and the selected key's value at a step
(images drawn, histograms as a heatmap over steps and bars, tables as a table, other
kinds as their metadata and file). Files are read on a worker thread, never the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from trackui.store.rich import RichKey, media_path, read_table, rich_keys, rich_values
from trackui.store.text import fmt_value
from trackui.tui.fmt import literal
from trackui.tui.widgets.media_charts import Chart, NotDrawn, plot_chart, plotly_chart
from trackui.tui.widgets.media_image import (
    IMAGE_RENDERER_ENV,
    ImageModal,
    grid_columns,
    image_widget,
    open_image,
)
from trackui.tui.widgets.media_plots import chart_widgets
from trackui.tui.widgets.media_views import heatmap_text, histogram_bars, meta_text

MAX_GRID_IMAGES = 16

__all__ = ["IMAGE_RENDERER_ENV", "MediaPanel"]


class MediaKeysLoaded(Message):
    def __init__(self, keys: list[RichKey]) -> None:
        super().__init__()
        self.keys = keys


class MediaStepLoaded(Message):
    """The values of a key, and what the one at ``index`` needs to be shown."""

    def __init__(
        self, key: str, values: list[tuple[int, dict[str, Any]]], index: int, payload: Any
    ) -> None:
        super().__init__()
        self.key = key
        self.values = values
        self.index = index
        self.payload = payload


class MediaPanel(Widget):
    """Rich keys on the left; the selected one's value at a step on the right."""

    BINDINGS = [
        Binding("left,left_square_bracket", "step(-1)", "Prev step", show=False),
        Binding("right,right_square_bracket", "step(1)", "Next step", show=False),
        Binding("o", "sort", "Sort table", show=False),
    ]

    def __init__(self, run_dir: Path, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.run_dir = run_dir
        self.keys: list[RichKey] = []
        self._listed: list[str] | None = None
        """The key names listed (None before the first read)."""
        self.key: str | None = None
        self.values: list[tuple[int, dict[str, Any]]] = []
        self.index = 0
        self._sort_col = -1
        self._table_rows: list[list[Any]] = []
        """The rows of the table shown (image cells as references), by row key."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield OptionList(id="media-keys")
            with Vertical(id="media-view"):
                yield Static("", id="media-head")
                yield VerticalScroll(id="media-body")

    def on_mount(self) -> None:
        self.reload()

    def focus_keys(self) -> None:
        """Focus the key list (so the step keys reach this panel)."""
        self.query_one("#media-keys", OptionList).focus()

    def reload(self) -> None:
        """Read the keys again (the run may have logged more)."""
        self._load_keys()

    @work(thread=True, exclusive=True, group="media-keys", exit_on_error=False)
    def _load_keys(self) -> None:
        self.post_message(MediaKeysLoaded(rich_keys(self.run_dir)))

    @on(MediaKeysLoaded)
    def _on_keys(self, event: MediaKeysLoaded) -> None:
        event.stop()
        counts = [k.count for k in self.keys]
        self.keys = event.keys
        opts = self.query_one("#media-keys", OptionList)
        names = [k.key for k in event.keys]
        if names != self._listed:
            self._listed = names
            opts.clear_options()
            for k in event.keys:
                label = literal(k.key, style="bold")
                label.append(f"  {k.type} ×{k.count}", style="dim")
                opts.add_option(Option(label))
            if not event.keys:
                opts.add_option(Option(Text("(no media logged)", style="dim"), disabled=True))
                self._head(Text("This run logged no images, histograms or tables.", style="dim"))
            else:
                opts.highlighted = 0
        elif [k.count for k in event.keys] != counts and self.key is not None:
            self._load(self.key, None)

    @on(OptionList.OptionHighlighted, "#media-keys")
    def _on_pick(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.keys):
            self._sort_col = -1
            self._load(self.keys[event.option_index].key, None)

    def action_step(self, delta: int) -> None:
        if self.key is None or not self.values:
            return
        index = max(0, min(len(self.values) - 1, self.index + delta))
        if index != self.index:
            self._load(self.key, index)

    def action_sort(self) -> None:
        tables = self.query("#media-table").results(DataTable)
        for table in tables:
            cols = list(table.columns)
            if cols:
                self._sort_col = (self._sort_col + 1) % len(cols)
                table.sort(cols[self._sort_col], key=_sort_key)

    @work(thread=True, exclusive=True, group="media-step", exit_on_error=False)
    def _load(self, key: str, index: int | None) -> None:
        values = rich_values(self.run_dir, key)
        if not values:
            return
        i = len(values) - 1 if index is None else min(index, len(values) - 1)
        ref = values[i][1]
        kind = ref.get("_type")
        payload: Any = None
        if kind == "image":
            payload = [(ref, open_image(media_path(self.run_dir, ref)))]
        elif kind == "images":
            items = [r for r in ref.get("items") or [] if isinstance(r, dict)]
            payload = [(r, open_image(media_path(self.run_dir, r))) for r in items]
        elif kind in ("table", "plot"):
            try:
                columns, rows = read_table(self.run_dir, ref)
            except (OSError, ValueError, KeyError, TypeError):
                payload = None
            else:
                chart = plot_chart(ref, columns, rows) if kind == "plot" else None
                payload = (columns, rows, chart)
        elif kind == "video":
            path = media_path(self.run_dir, ref)
            first = open_image(path) if path is not None and path.suffix == ".gif" else None
            payload = (path, first)
        elif kind == "plotly":
            path = media_path(self.run_dir, ref)
            try:
                chart = plotly_chart(orjson.loads(path.read_bytes())) if path else None
            except (OSError, ValueError):
                chart = NotDrawn("the figure's file cannot be read")
            payload = (path, chart)
        else:
            payload = media_path(self.run_dir, ref)
        self.post_message(MediaStepLoaded(key, values, i, payload))

    def _head(self, text: Text) -> None:
        self.query_one("#media-head", Static).update(text)

    @on(MediaStepLoaded)
    async def _on_step(self, event: MediaStepLoaded) -> None:
        event.stop()
        self.key, self.values, self.index = event.key, event.values, event.index
        step, ref = event.values[event.index]
        kind = str(ref.get("_type"))
        head = literal(event.key, style="bold")
        head.append(f"  {kind}  step {step}  ({event.index + 1}/{len(event.values)})")
        head.append("  ←/→ or [/] step", style="dim")
        caption = ref.get("caption")
        if caption:
            head.append("\n")
            head.append_text(literal(caption, style="italic"))
        self._head(head)
        body = self.query_one("#media-body", VerticalScroll)
        await body.remove_children()
        width = self._body_width()
        if kind in ("image", "images"):
            await self._show_images(body, event.payload)
        elif kind == "histogram":
            await body.mount(
                Static(heatmap_text(event.values, event.index, width), id="media-heatmap"),
                Static(histogram_bars(ref, width), id="media-bars"),
            )
        elif kind in ("table", "plot") and event.payload is not None:
            columns, rows, chart = event.payload
            if chart is not None:
                await body.mount_all(self._chart(chart, event.key, width))
            await self._show_table(body, columns, rows)
        elif kind == "video" and event.payload is not None:
            path, first = event.payload
            await body.mount(Static(meta_text(ref, path), id="media-meta"))
            if first is not None:
                frames = ref.get("frames") or getattr(first, "n_frames", 1)
                note = Text(f"first frame of {frames} (at {ref.get('fps', '?')} fps)", style="dim")
                await body.mount(Static(note, id="media-frames"))
                await self._show_images(body, [({}, first)])
        elif kind == "plotly" and event.payload is not None:
            path, chart = event.payload
            if chart is not None and not isinstance(chart, NotDrawn):
                await body.mount_all(self._chart(chart, event.key, width))
            else:
                await body.mount(Static(meta_text(ref, path), id="media-meta"))
                if chart is not None:
                    await body.mount_all(self._chart(chart, event.key, width))
        else:
            await body.mount(Static(meta_text(ref, event.payload), id="media-meta"))

    async def _show_images(self, body: VerticalScroll, items: list[tuple[dict, Any]]) -> None:
        """One image large; several in a grid of as many columns as fit the width."""
        one = len(items) == 1
        grid = Container(id="media-grid", classes="single" if one else "")
        if not one:
            grid.styles.grid_size_columns = grid_columns(self._body_width())
        await body.mount(grid)
        for ref, img in items[:MAX_GRID_IMAGES]:
            if img is None:
                await grid.mount(Static(Text("(image file missing)", style="dim")))
                continue
            cell = Vertical(classes="media-cell")
            await grid.mount(cell)
            await cell.mount(image_widget(img, "media-image"))
            if not one and ref.get("caption"):
                await cell.mount(Static(literal(ref["caption"], style="italic"), shrink=True))
        if len(items) > MAX_GRID_IMAGES:
            more = f"… {len(items) - MAX_GRID_IMAGES} more images at this step"
            await body.mount(Static(Text(more, style="dim")))

    def _body_width(self) -> int:
        body = self.query_one("#media-body", VerticalScroll)
        # The tab may not have been laid out yet (its key read while hidden).
        return max(20, (body.size.width or self.app.size.width - 36) - 2)

    def on_resize(self) -> None:
        for grid in self.query("#media-grid").results(Container):
            if not grid.has_class("single"):
                grid.styles.grid_size_columns = grid_columns(self._body_width())

    def _chart(self, chart: Chart, key: str, width: int) -> list[Widget]:
        from trackui.tui.widgets.curves import plot_background

        return chart_widgets(
            chart, key, width, no_color=self.app.no_color, background=plot_background(self.app)
        )

    async def _show_table(self, body: VerticalScroll, columns: list[str], rows: list) -> None:
        table = MediaTable(id="media-table", zebra_stripes=True)
        self._table_rows = rows
        await body.mount(table)
        for c in columns:
            table.add_column(literal(c, style="bold"))
        for i, row in enumerate(rows):
            table.add_row(*(_cell(v) for v in row), key=str(i))

    @on(DataTable.CellSelected, "#media-table")
    def _on_cell(self, event: DataTable.CellSelected) -> None:
        """Enter (or a click) on an image cell opens the image over the tab."""
        event.stop()
        try:
            row = self._table_rows[int(str(event.cell_key.row_key.value))]
            value = row[event.coordinate.column]
        except (ValueError, IndexError, TypeError):
            return
        if isinstance(value, dict) and value.get("_type") == "image":
            self._open_cell(value)

    @work(thread=True, exclusive=True, group="media-open", exit_on_error=False)
    def _open_cell(self, ref: dict[str, Any]) -> None:
        img = open_image(media_path(self.run_dir, ref))
        self.app.call_from_thread(self._show_cell, ref, img)

    def _show_cell(self, ref: dict[str, Any], img: Any) -> None:
        caption = ref.get("caption")
        self.app.push_screen(
            ImageModal(img, f"{self.key or ''} image", caption if caption else None)
        )


class MediaTable(DataTable[Any]):
    """A logged table: a click on a cell selects it at once (as Enter does), so that one
    click opens an image cell; a DataTable selects only a cell already highlighted."""

    async def _on_click(self, event: events.Click) -> None:
        before = self.cursor_coordinate
        await super()._on_click(event)
        meta = event.style.meta
        coord = self.cursor_coordinate
        if coord != before and meta.get("row", -1) >= 0 and meta.get("column", -1) >= 0:
            self.post_message(
                DataTable.CellSelected(
                    self, self.get_cell_at(coord), coord, self.coordinate_to_cell_key(coord)
                )
            )


def _cell(value: Any) -> Text:
    if isinstance(value, dict) and value.get("_type") == "image":
        # A marker that opens the image (Enter or a click), with its caption.
        out = Text("▣ ", style="magenta")
        caption = value.get("caption")
        out.append_text(literal(caption) if caption else Text("image", style="magenta"))
        return out
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Text(fmt_value(value), justify="right")
    return literal(value)


def _sort_key(cell: Any) -> tuple[int, Any]:
    s = cell.plain if isinstance(cell, Text) else str(cell)
    try:
        return (0, float(s))
    except ValueError:
        return (1, s)
