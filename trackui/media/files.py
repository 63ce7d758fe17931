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
    copied; a NumPy array (time, channels, height, width) is kept as ``.npy`` with its fps."""

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

        a = np.array(_numpy(data_or_path))
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        super().__init__(buf.getvalue(), "npy", caption, fps=fps, shape=list(a.shape))


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
