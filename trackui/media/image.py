"""``wandb.Image``: arrays, tensors, PIL images, matplotlib figures and files as PNG.

The pixels are copied when the ``Image`` is made (so the caller may reuse its
buffer at once) and PNG-encoded the first time the image is logged, inline
(arrays with zlib: a 28x28 image costs tens of µs). Pillow is imported only
for PIL images, files, figures and ``mode=`` conversions.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from typing import Any

from trackui.media.files import _numpy
from trackui.values import jsonable

_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def pil() -> Any:
    """The ``PIL.Image`` module, or an ImportError naming the package to install."""
    try:
        from PIL import Image as PILImage
    except ImportError:
        raise ImportError(
            "trackui: logging images needs Pillow: pip install 'trackui[media]' (or Pillow)"
        ) from None
    return PILImage


def to_uint8(a: Any) -> Any:
    """Pixels as uint8, the way wandb reads them: floats are shifted to start at 0
    when negative and scaled by 255 when at most 1; then clipped to [0, 255]."""
    import numpy as np

    if a.dtype == np.uint8:
        return a
    a = a.astype(np.float64)
    if a.size and np.isfinite(a).all():
        lo = a.min()
        if lo < 0:
            span = np.ptp(a)
            a = (a - lo) / (span if span else 1.0)
        if a.max() <= 1.0:
            a = a * 255
    return np.nan_to_num(a).round().clip(0, 255).astype(np.uint8)


def _hwc(a: Any) -> Any:
    """An array as HxW or HxWxC (C in 1, 3, 4): a CxHxW array (a tensor's layout) is moved."""
    if a.ndim == 3 and a.shape[0] in (1, 3, 4) and a.shape[-1] not in (1, 3, 4):
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (3, 4)):
        raise ValueError(f"trackui.Image: cannot read an array of shape {tuple(a.shape)} as pixels")
    return a


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(a: Any) -> bytes:
    """A uint8 HxW, HxWx3 or HxWx4 array as PNG (8-bit grey, RGB or RGBA; no filter).

    zlib alone: for the small images training scripts log, Pillow's own
    encoder costs several times more in Python around the same zlib call.
    """
    import numpy as np

    h, w = int(a.shape[0]), int(a.shape[1])
    c = 1 if a.ndim == 2 else int(a.shape[2])
    raw = np.zeros((h, 1 + w * c), np.uint8)  # each row: filter type 0, then its bytes
    raw[:, 1:] = a.reshape(h, w * c)
    head = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", head)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 1))
        + _chunk(b"IEND", b"")
    )


def _figure_png(fig: Any) -> bytes:
    """A matplotlib figure (or the ``pyplot`` module: its current figure) as PNG."""
    if getattr(fig, "__name__", "") == "matplotlib.pyplot":
        fig = fig.gcf()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def is_figure(v: Any) -> bool:
    """Whether ``v`` is a matplotlib figure or the ``pyplot`` module."""
    if getattr(v, "__name__", None) == "matplotlib.pyplot":
        return True
    return type(v).__module__.startswith("matplotlib.") and hasattr(v, "savefig")


class Image:
    """An image logged under a key (``wandb.Image``).

    Args:
        data_or_path: a NumPy array (HxW, HxWx1/3/4; uint8, or floats in [0, 1]),
            a torch tensor (CxHxW), a PIL image, a matplotlib figure, or a file path.
        mode: a PIL mode to convert to (``"L"``, ``"RGB"``...).
        caption: shown under the image.
        masks, boxes, classes: kept as metadata with the image.
    """

    kind = "image"

    def __init__(
        self,
        data_or_path: Any,
        mode: str | None = None,
        caption: str | None = None,
        grouping: int | None = None,
        classes: Any = None,
        boxes: Any = None,
        masks: Any = None,
        file_type: str | None = None,
        normalize: bool = True,
    ) -> None:
        self.caption = None if caption is None else str(caption)
        self.mode = mode
        self.meta: dict[str, Any] = {}
        for name, v in (("boxes", boxes), ("masks", masks), ("classes", classes)):
            if v is not None:
                self.meta[name] = _meta(v)
        self._png: bytes | None = None
        self._file: tuple[bytes, str] | None = None
        self._pixels: Any = None
        self._pil: Any = None
        v = data_or_path
        if isinstance(v, Image):
            self._png, self._file, self._pixels, self._pil = v._png, v._file, v._pixels, v._pil
            self.caption = self.caption if caption is not None else v.caption
        elif isinstance(v, (str, os.PathLike)):
            with open(v, "rb") as f:
                data = f.read()
            ext = os.path.splitext(os.fspath(v))[1].lstrip(".").lower() or "png"
            if ext == "png" and mode is None:
                self._png = data
            else:
                self._pil = pil().open(io.BytesIO(data))
                self._pil.load()
        elif is_figure(v):
            self._png = _figure_png(v)
        elif type(v).__module__.startswith("PIL.") and hasattr(v, "save"):
            self._pil = v.copy()
        else:
            import numpy as np

            a = np.array(_numpy(v))  # a copy: the caller may reuse its buffer
            if normalize:
                a = to_uint8(a)
            self._pixels = _hwc(a)

    @property
    def image(self) -> Any:
        """The pixels as a PIL image (wandb's ``Image.image``)."""
        return pil().open(io.BytesIO(self.png()))

    def png(self) -> bytes:
        """The image as PNG bytes (encoded once: arrays with zlib, others with Pillow)."""
        if self._png is None and self._pixels is not None and not self.mode:
            self._png = encode_png(self._pixels)
        if self._png is None:
            PILImage = pil()
            img = self._pil
            if img is None:
                a = self._pixels
                img = PILImage.fromarray(a, _PIL_MODES[1 if a.ndim == 2 else a.shape[-1]])
            if self.mode and img.mode != self.mode:
                img = img.convert(self.mode)
            buf = io.BytesIO()
            img.save(buf, format="PNG", compress_level=1)
            self._png = buf.getvalue()
        return self._png

    def shape(self) -> list[int]:
        """[height, width, channels] of the image."""
        if self._pixels is not None and not self.mode:
            a = self._pixels
            return [int(a.shape[0]), int(a.shape[1]), 1 if a.ndim == 2 else int(a.shape[2])]
        png = self.png()
        # The IHDR chunk: width and height at bytes 16-24, colour type at 25.
        w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        channels = {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(png[25], 3)
        return [h, w, channels]

    def __repr__(self) -> str:
        return f"<trackui.Image caption={self.caption!r}>"


def _meta(v: Any) -> Any:
    """Masks and boxes as JSON: arrays in them as nested lists."""
    if isinstance(v, dict):
        return {str(k): _meta(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_meta(x) for x in v]
    if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0:
        return _numpy(v).tolist()
    return jsonable(v)
