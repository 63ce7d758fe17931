"""Small modal dialogs: pick several items, pick one, or type a value.

Every label comes from run data (metric names, config keys), so each is
passed as a ``Text``, never as markup.

A key a dialog acts on ends in the dialog: Textual offers a key to the
bindings of the focused widget and the screen only after the key has been
through the widgets' handlers, and by then a dialog that accepted in a
handler has been dismissed, so the key would be matched against the screen
below (Enter opening the highlighted run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from trackui.tui.fmt import clean

ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    """A modal dialog whose keys never reach the screen below it."""

    async def handle_key(self, event: events.Key) -> bool:
        handled = await super().handle_key(event)
        if handled:
            # A key the dialog's own handlers took (one that may have
            # dismissed it) goes no further: bindings are looked up when the
            # key comes back up to the app, against whatever screen is on
            # top by then.
            event.stop()
            event.prevent_default()
        return handled


class ChooseManyScreen(DialogScreen[list[str] | None]):
    """Tick any number of items; Enter or ``ctrl+s`` accepts, Escape cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "accept", "Accept"),
        # Before the list's own Enter (which would tick): space ticks.
        Binding("enter", "accept", "Accept", show=False, priority=True),
    ]

    def __init__(self, title: str, items: Sequence[tuple[str, str]], chosen: Sequence[str]) -> None:
        """Args:
        title: The dialog's title (plain text).
        items: ``(value, label)`` pairs.
        chosen: Values ticked at the start.
        """
        super().__init__()
        self._title = title
        self._items = list(items)
        self._chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="dialog--title")
            yield SelectionList[str](
                *(
                    Selection(Text(clean(label)), value, value in self._chosen)
                    for value, label in self._items
                ),
                id="choices",
            )
            yield Label(
                Text("space: tick   enter/ctrl+s: accept   escape: cancel", style="dim"),
                classes="dialog--hint",
            )
            with Horizontal(classes="dialog--buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_accept(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.action_accept()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class ChooseOneScreen(DialogScreen[str | None]):
    """Pick one item from a list."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, title: str, items: Sequence[tuple[str, str]], current: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._items = list(items)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self._title), classes="dialog--title")
            yield OptionList(
                *(Option(Text(clean(label)), id=value) for value, label in self._items),
                id="options",
            )

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        for i, (value, _) in enumerate(self._items):
            if value == self._current:
                ol.highlighted = i
                break

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(DialogScreen[str | None]):
    """Type one value; ``validate`` returns an error line or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder
        self._validate = validate

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -prompt"):
            yield Label(Text(self._title), classes="dialog--title")
            yield Input(value=self._value, placeholder=self._placeholder, id="prompt")
            yield Label("", id="prompt-error", classes="error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        err = self._validate(event.value) if self._validate else None
        if err:
            self.query_one("#prompt-error", Label).update(Text(err))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
