"""The footer of key bindings: whole hints that fit, rebuilt only when its keys change."""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def hint_width(key: FooterKey) -> int:
    """The cells a key's hint takes in a footer of the normal (not compact) style."""
    width = cell_len(key.key_display) + 2  # (the key's padding: 0 1)
    if key.description:
        width += cell_len(key.description) + 1  # (the description's: 0 1 0 0)
    if key.has_class("-command-palette"):
        width += 2  # (its border on the left and padding on the right)
    return width


def fitting(items: list[Widget], room: int) -> list[Widget]:
    """The hints that fit whole in ``room`` cells, in order; the command palette's key always.

    Hints are shown in their bindings' order (the focused widget's first):
    where they do not all fit, the last ones are left out, never cut.
    """
    palette = [w for w in items if isinstance(w, FooterKey) and w.has_class("-command-palette")]
    room -= sum(hint_width(w) for w in palette)  # type: ignore[arg-type]
    out: list[Widget] = []
    for w in items:
        if w in palette:
            continue
        width = hint_width(w) if isinstance(w, FooterKey) else 0
        if width > room:
            break
        room -= width
        out.append(w)
    return out + palette


def shown_keys(screen: Screen) -> tuple[object, ...]:
    """What a footer on ``screen`` is built from: each binding, enabled or not, and its tooltip."""
    return tuple(
        (b.key, b.key_display, b.action, b.description, b.show, id(b.group), enabled, tooltip)
        for _, b, enabled, tooltip in screen.active_bindings.values()
    )


class KeysFooter(Footer):
    """Textual's footer, with whole hints only, and without the rebuilds that would change nothing.

    Where the hints do not all fit, the last ones are left out whole (never a
    word cut in two), and the command palette's key stays.

    The footer rebuilds its keys (a widget each) whenever the screen says its
    bindings may have changed: on every change of focus, and several times
    while a screen starts. Most of those leave the same keys on show, and the
    rebuild and the layout that follows cost more than the rest of a frame.
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: tuple[object, ...] | None = None
        """The keys built, or being built (a rebuild waits for the next refresh)."""
        self._width = 0
        """The width the keys were chosen for."""

    def compose(self):  # type: ignore[no-untyped-def]
        self._keys = shown_keys(self.screen) if self._bindings_ready else None
        self._width = self.size.width or self.app.size.width
        items = list(super().compose())
        if self.compact or not all(isinstance(w, FooterKey) for w in items):
            yield from items  # (groups of keys: Textual lays them out itself)
            return
        yield from fitting(items, self._width)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width and self._bindings_ready:
            self.refresh(recompose=True)

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self.app.app_focus:
            keys = shown_keys(screen)
            if keys == self._keys:
                return
            self._keys = keys
        super().bindings_changed(screen)
