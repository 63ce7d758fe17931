"""Images in the Media tab: one image drawn (Kitty/Sixel where the terminal has them,
half blocks elsewhere), a row of them wrapped into a grid that fits the width, and an
image of a table's cell opened over the tab."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from trackui.tui.fmt import literal

IMAGE_RENDERER_ENV = "TRACKUI_IMAGES"
"""Set to ``halfcell`` to draw images with half blocks whatever the terminal supports
(tests, screenshots and ``trackui serve``, where the output must be the same everywhere)."""
GRID_IMAGE_WIDTH = 16
"""Cells of one image in a grid (and 8 lines): the smallest that reads as a picture."""
GRID_GUTTER = 1


def image_widget(image: Any, classes: str) -> Widget:
    """An image widget: Kitty/Sixel where the terminal has them, half blocks elsewhere."""
    from textual_image import widget as ti

    cls = ti.HalfcellImage if os.environ.get(IMAGE_RENDERER_ENV) == "halfcell" else ti.Image
    return cls(image, classes=classes)


def open_image(path: Path | None) -> Any:
    """The picture of a file inside the run's ``media/`` (None: missing or unreadable)."""
    if path is None:
        return None
    from PIL import Image as PILImage

    try:
        img = PILImage.open(path)
        img.load()
    except (OSError, ValueError):
        return None
    return img


def grid_columns(width: int) -> int:
    """How many grid images fit side by side in ``width`` cells (at least one)."""
    return max(1, (width + GRID_GUTTER) // (GRID_IMAGE_WIDTH + GRID_GUTTER))


class ImageModal(ModalScreen[None]):
    """An image of a table's cell, large, with its caption; Escape goes back to the table."""

    BINDINGS = [Binding("escape,q,enter", "dismiss", "Back", show=False)]

    DEFAULT_CSS = """
    ImageModal {
        align: center middle;
    }
    ImageModal > Vertical {
        width: auto;
        height: auto;
        max-width: 90%;
        max-height: 90%;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    ImageModal #media-open-caption {
        height: auto;
    }
    """
    MAX_SIZE = (48, 24)
    """The image's cells at most (it is made smaller to fit the screen)."""

    def __init__(self, image: Any, title: str, caption: str | None) -> None:
        super().__init__()
        self.image = image
        self.title_text = title
        self.caption = caption

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = literal(self.title_text)
            box.border_subtitle = "Esc back"
            # Two cells across per line down keep a square picture square.
            height = max(4, min(self.MAX_SIZE[1], self.app.size.height - 8))
            width = min(self.MAX_SIZE[0], height * 2, max(8, self.app.size.width - 8))
            if self.image is None:
                yield Static(Text("(image file missing)", style="dim"), id="media-open-caption")
            else:
                picture = image_widget(self.image, "media-open-image")
                picture.styles.width, picture.styles.height = width, width // 2
                yield picture
            if self.caption:
                caption = Static(literal(self.caption, style="italic"), id="media-open-caption")
                caption.styles.width = width
                yield caption
