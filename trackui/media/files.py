"""Rich values kept as files: ``Audio``, ``Video``, ``Html``, ``Object3D``, ``Molecule``
and plotly figures (as their JSON).

Each holds its bytes from the moment it is made (a path is read then, an array
copied), so the value is safe to change or delete after ``log()`` returns.
"""

from __future__ import annotations

import io
import os
from typing import Any

from trackui.values import jsonable


def _read(path: str | os.PathLike[str]) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _ext(path: str | os.PathLike[str], default: str) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    return ext or default


class FileValue:
    """A rich value stored as one file under the run's ``media/<kind>/``."""

    kind = "file"

    def __init__(self, data: bytes, ext: str, caption: str | None = None, **meta: Any) -> None:
        self._bytes = data
        self._ext = ext
        self.caption = caption
        self.meta = {k: jsonable(v) for k, v in meta.items() if v is not None}

    def encode(self) -> tuple[bytes, str, dict[str, Any]]:
        """The file's bytes, its extension and the metadata its reference carries."""
        return self._bytes, self._ext, dict(self.meta)


class Audio(FileValue):
    """``wandb.Audio(data_or_path, sample_rate=None, caption=None)``: a file path, or a
    NumPy array of samples (mono, or samples x channels, floats in [-1, 1]) written as WAV."""

    kind = "audio"

    def __init__(
        self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None
    ) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            super().__init__(_read(data_or_path), _ext(data_or_path, "wav"), caption)
            return
        if sample_rate is None:
            raise ValueError("trackui.Audio: sample_rate is required for array data")
        import wave

        import numpy as np

        a = np.asarray(data_or_path, dtype=np.float64)
        channels = 1 if a.ndim == 1 else a.shape[1]
        pcm = (np.clip(a, -1.0, 1.0) * 32767).astype("<i2")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(int(sample_rate))
            w.writeframes(pcm.tobytes())
        super().__init__(
            buf.getvalue(),
            "wav",
            caption,
            sample_rate=int(sample_rate),
            duration=len(a) / float(sample_rate),
        )


class Video(FileValue):
    """``wandb.Video(data_or_path, caption=None, fps=4, format=None)``: a file path is
    copied; a NumPy array or tensor of frames is encoded as an animated GIF (wandb's
    default for arrays) with Pillow. Frames are time x channels x height x width (wandb's
    order) or time x height x width x channels, 1, 3 or 4 channels; a leading batch axis
    is laid side by side. Floats up to 1 are read as [0, 1], others as 0 to 255."""

    kind = "video"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: int = 4,
        format: str | None = None,
    ) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            super().__init__(_read(data_or_path), _ext(data_or_path, format or "mp4"), caption)
            return
        import numpy as np

        a = np.asarray(_numpy(data_or_path))
        frames = video_frames(a)
        super().__init__(
            gif_bytes(frames, fps),
            "gif",
            caption,
            fps=fps,
            shape=list(a.shape),
            frames=int(frames.shape[0]),
        )


def video_frames(a: Any) -> Any:
    """Frames as uint8, time x height x width x channels (see :class:`Video`)."""
    import numpy as np

    if a.ndim == 5:  # batch x time x ...: the batch side by side
        a = np.concatenate(list(a), axis=-1 if a.shape[2] in (1, 3, 4) else -2)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(
            f"trackui.Video: frames must be time x channels x height x width, got shape {a.shape}"
        )
    if a.shape[1] in (1, 3, 4) and (a.shape[-1] not in (1, 3, 4) or a.shape[1] < a.shape[-1]):
        a = a.transpose(0, 2, 3, 1)
    elif a.shape[-1] not in (1, 3, 4):
        raise ValueError(f"trackui.Video: frames need 1, 3 or 4 channels, got shape {a.shape}")
    if a.dtype != np.uint8:
        f = np.nan_to_num(a.astype(np.float64))
        if a.dtype.kind == "f" and f.size and f.max() <= 1.0:
            f = f * 255.0
        a = np.clip(f, 0, 255).astype(np.uint8)
    return a


def gif_bytes(frames: Any, fps: int) -> bytes:
    """An animated GIF of uint8 frames (time x height x width x channels), looping."""
    from trackui.media.image import pil

    pil_image = pil()
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[frames.shape[-1]]
    images = [
        pil_image.fromarray(f[..., 0] if mode == "L" else f, mode=mode).convert("RGB")
        for f in frames
    ]
    buf = io.BytesIO()
    images[0].save(
        buf,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(1, round(1000 / max(fps, 1))),
        loop=0,
    )
    return buf.getvalue()


class Html(FileValue):
    """``wandb.Html(data, inject=True)``: an HTML string, a file path or an open file."""

    kind = "html"

    def __init__(self, data: Any, inject: bool = True) -> None:
        if hasattr(data, "read"):
            data = data.read()
        elif isinstance(data, os.PathLike) or (
            isinstance(data, str) and data.endswith((".html", ".htm")) and os.path.isfile(data)
        ):
            data = _read(data)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        super().__init__(raw, "html")


class Object3D(FileValue):
    """``wandb.Object3D(data_or_path)``: a file (.obj, .gltf, .glb, .pts.json...) or a
    NumPy point cloud (N x 3, 4 or 6), kept as JSON."""

    kind = "object3d"

    def __init__(self, data_or_path: Any, caption: str | None = None, **kw: Any) -> None:
        if isinstance(data_or_path, (str, os.PathLike)):
            super().__init__(_read(data_or_path), _ext(data_or_path, "obj"), caption)
            return
        if isinstance(data_or_path, dict):
            import orjson

            super().__init__(orjson.dumps(jsonable(data_or_path)), "json", caption)
            return
        import numpy as np
        import orjson

        a = np.asarray(_numpy(data_or_path), dtype=np.float64)
        super().__init__(
            orjson.dumps(jsonable(a.tolist())), "pts.json", caption, shape=list(a.shape)
        )


class Molecule(FileValue):
    """``wandb.Molecule(data_or_path)``: a molecule file (.pdb, .sdf, .mol...) copied as is."""

    kind = "molecule"

    def __init__(self, data_or_path: Any, caption: str | None = None, **kw: Any) -> None:
        if hasattr(data_or_path, "read"):
            data = data_or_path.read()
            raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
            super().__init__(raw, kw.get("file_type") or "pdb", caption)
            return
        super().__init__(_read(data_or_path), _ext(data_or_path, "pdb"), caption)


class Plotly(FileValue):
    """A plotly figure, kept as its JSON (``fig.to_json()``)."""

    kind = "plotly"

    def __init__(self, fig: Any) -> None:
        data = fig.to_json() if hasattr(fig, "to_json") else fig
        if not isinstance(data, (str, bytes)):
            import orjson

            data = orjson.dumps(jsonable(data))
        super().__init__(data.encode("utf-8") if isinstance(data, str) else data, "json")


def _numpy(v: Any) -> Any:
    """A NumPy array of an array, a torch tensor (read without importing torch) or a list."""
    if hasattr(v, "detach") and hasattr(v, "cpu"):
        return v.detach().cpu().numpy()
    return v
