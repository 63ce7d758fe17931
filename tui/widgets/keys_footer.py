"""The footer of key bindings: whole hints that fit the width, rebuilt only when they change."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.cells import cell_len
from textual import events
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def shown_keys(screen: Screen) -> tuple[object, ...]:
    """What a footer on ``screen`` is built from: each binding, enabled or not, and its tooltip."""
    return tuple(
        (b.key, b.key_display, b.action, b.description, b.show, id(b.group), enabled, tooltip)
        for _, b, enabled, tooltip in screen.active_bindings.values()
    )


def hint_width(key: FooterKey) -> int:
    """The cells a hint takes in the footer: `` key description `` (the key padded)."""
    if not key.description:
        return cell_len(key.key_display)
    return cell_len(key.key_display) + 3 + cell_len(key.description)


def fitting(widgets: Iterable[Widget], width: int) -> Iterator[Widget]:
    """The footer's hints that fit ``width`` whole, in their order (the nearest keys first).

    The command palette's key, docked right, always stays (every key is
    there); the others follow while they fit, and the first that does not
    ends the line: a hint is shown whole or not at all.
    """
    items = list(widgets)
    palette = [w for w in items if w.has_class("-command-palette")]
    room = width - sum(hint_width(w) + 2 for w in palette if isinstance(w, FooterKey))
    for w in items:
        if w in palette:
            continue
        need = hint_width(w) if isinstance(w, FooterKey) else 0
        if need > room:
            break
        room -= need
        yield w
    yield from palette


class KeysFooter(Footer):
    """Textual's footer, with whole hints only, and without rebuilds that would change nothing.

    The footer rebuilds its keys (a widget each) whenever the screen says its
    bindings may have changed: on every change of focus, and several times
    while a screen starts. Most of those leave the same keys on show, and the
    rebuild and the layout that follows cost more than the rest of a frame.
    Where the hints are wider than the terminal, the last ones are left out
    rather than cut mid-word.
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: tuple[object, ...] | None = None
        """The keys built, or being built (a rebuild waits for the next refresh)."""
        self._width = 0
        """The width the hints were chosen for."""

    def _room(self) -> int:
        return self.size.width or self.screen.size.width or self.app.size.width

    def compose(self):  # type: ignore[no-untyped-def]
        self._keys = shown_keys(self.screen) if self._bindings_ready else None
        self._width = self._room()
        yield from fitting(super().compose(), self._width)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width and self._bindings_ready:
            self._keys = None
            self.call_later(self.recompose)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self.app.app_focus:
            keys = shown_keys(screen)
            if keys == self._keys:
                return
            self._keys = keys
        super().bindings_changed(screen)
