"""The footer of key bindings, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


def shown_keys(screen: Screen) -> tuple[object, ...]:
    """What a footer on ``screen`` is built from: each binding, enabled or not, and its tooltip."""
    return tuple(
        (b.key, b.key_display, b.action, b.description, b.show, id(b.group), enabled, tooltip)
        for _, b, enabled, tooltip in screen.active_bindings.values()
    )


class KeysFooter(Footer):
    """Textual's footer, without the rebuilds that would change nothing.

    The footer rebuilds its keys (a widget each) whenever the screen says its
    bindings may have changed: on every change of focus, and several times
    while a screen starts. Most of those leave the same keys on show, and the
    rebuild and the layout that follows cost more than the rest of a frame.
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys: tuple[object, ...] | None = None
        """The keys built, or being built (a rebuild waits for the next refresh)."""

    def compose(self):  # type: ignore[no-untyped-def]
        self._keys = shown_keys(self.screen) if self._bindings_ready else None
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if screen is self.screen and self.app.app_focus:
            keys = shown_keys(screen)
            if keys == self._keys:
                return
            self._keys = keys
        super().bindings_changed(screen)
