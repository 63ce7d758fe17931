"""MNIST as the four standard IDX files: find, download, parse, put on a device.

The trainer reads the files itself (no torchvision dataset, no DataLoader):
each file is parsed once into a NumPy array, and the whole set goes to the
device in one copy, where batches are cut by index.

Where the files are missing they are downloaded from the mirrors torchvision
uses, and checked against the published checksums of their content. Where
that cannot happen, :class:`DataError` says how to point ``--data-dir`` at a
copy. ``TRACKUI_NO_DOWNLOAD=1`` turns downloading off (tests and CI).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

DATA_DIR_ENV = "TRACKUI_DATA_DIR"
"""Environment variable naming the MNIST folder when ``--data-dir`` is not given."""
NO_DOWNLOAD_ENV = "TRACKUI_NO_DOWNLOAD"
"""Set to ``1`` to never download (the error then says how to use ``--data-dir``)."""

MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Where torchvision downloads MNIST from, in its order."""

FILES: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
"""The four IDX files (names without ``.gz``) and the MD5 of their uncompressed bytes.

The checksum is of the content, not of the ``.gz`` file, so that a copy
recompressed with another gzip is accepted as long as its images are the same.
"""

_SHAPES: dict[str, tuple[int, ...]] = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}

MEAN = 0.5
STD = 0.5
"""Normalisation, as ``transforms.Normalize((0.5,), (0.5,))`` after ``ToTensor()``."""

Fetch = Callable[[str], bytes]
"""Downloads one URL and returns its bytes; raises ``OSError`` on failure."""


class DataError(Exception):
    """MNIST could not be found, downloaded or read; the message is one line for the user."""


def default_data_dir() -> Path:
    """``$TRACKUI_DATA_DIR`` if set, else a per-user cache folder for MNIST.

    The cache folder follows each platform's habit: ``$XDG_CACHE_HOME`` (or
    ``~/.cache``) on Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
    on Windows.
    """
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "trackui" / "mnist"


def downloads_allowed() -> bool:
    """False when ``TRACKUI_NO_DOWNLOAD`` is set to a true value."""
    return os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def find_file(data_dir: Path, stem: str) -> Path | None:
    """The file for ``stem`` in ``data_dir``, plain or ``.gz``; None if absent.

    Also looks in ``MNIST/raw/`` below it, where torchvision keeps its copy, so
    that a torchvision data root works as ``--data-dir`` too.
    """
    for folder in (data_dir, data_dir / "MNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            path = folder / name
            if path.is_file():
                return path
    return None


def parse_idx(raw: bytes, what: str) -> np.ndarray:
    """An IDX file's bytes (uncompressed) as an unsigned-byte array of its shape.

    Args:
        raw: the file's content.
        what: the file's name, for error messages.

    Raises:
        DataError: the bytes are not an IDX file of unsigned bytes, or are cut short.
    """
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{what} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{what} is cut short (incomplete header)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape)) if shape else 0
    if len(raw) != header + count:
        raise DataError(
            f"{what} has {len(raw) - header} data bytes where its header promises {count}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if path.name.endswith(".gz") else data
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        raise DataError(f"cannot read {path}: {e}") from e


def _urllib_fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 (fixed https/http mirrors)
        data: bytes = resp.read()
        return data


def download_file(
    data_dir: Path,
    stem: str,
    *,
    fetch: Fetch | None = None,
    mirrors: Sequence[str] = MIRRORS,
) -> Path:
    """Download ``stem.gz`` into ``data_dir`` from the first mirror that serves a good copy.

    A copy counts as good when its uncompressed content has the published MD5.
    The file is written beside its final name and renamed into place, so an
    interrupted download never leaves a partial file that looks complete.

    Args:
        data_dir: folder to write into (created if needed).
        stem: one of the names in :data:`FILES`.
        fetch: how to get a URL's bytes (default: ``urllib`` with a 30 s timeout).
        mirrors: base URLs to try, in order.

    Returns:
        The path of the written ``.gz`` file.

    Raises:
        DataError: no mirror gave a good copy, or the file cannot be written.
    """
    fetch = fetch or _urllib_fetch
    errors: list[str] = []
    for base in mirrors:
        url = f"{base}{stem}.gz"
        try:
            blob = fetch(url)
            content = gzip.decompress(blob)
        except (OSError, EOFError, ValueError) as e:
            errors.append(f"{url}: {e}")
            continue
        if hashlib.md5(content).hexdigest() != FILES[stem]:
            errors.append(f"{url}: checksum mismatch")
            continue
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", dir=data_dir)
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            dest = data_dir / f"{stem}.gz"
            os.replace(tmp, dest)
        except OSError as e:
            raise DataError(f"cannot write MNIST into {data_dir}: {e.strerror or e}") from e
        return dest
    raise DataError("; ".join(errors) or "no mirror to download from")


@dataclass(frozen=True)
class MNISTArrays:
    """MNIST in host memory, as the IDX files hold it."""

    train_images: np.ndarray
    """uint8, shape (60000, 28, 28)."""
    train_labels: np.ndarray
    """uint8, shape (60000,)."""
    test_images: np.ndarray
    """uint8, shape (10000, 28, 28)."""
    test_labels: np.ndarray
    """uint8, shape (10000,)."""


def _missing_message(data_dir: Path, missing: list[str], reason: str) -> str:
    """One short line: where, the fix (``--data-dir``), then why (missing files, the reason)."""
    names = ", ".join(missing)
    if len(reason) > 80:
        reason = reason[:79] + "…"
    return (
        f"MNIST not found in {data_dir}: pass --data-dir DIR with the four IDX files "
        f"(or set {DATA_DIR_ENV}=DIR); missing {names}; {reason}"
    )


def missing_files(data_dir: Path) -> list[str]:
    """The IDX files (by stem) that are not in ``data_dir``."""
    return [stem for stem in FILES if find_file(data_dir, stem) is None]


def check_available(data_dir: Path, *, download: bool | None = None) -> None:
    """Raise ``DataError`` at once when files are missing and may not be downloaded.

    A quick check before a run starts: nothing is read or downloaded.
    """
    if download is None:
        download = downloads_allowed()
    missing = missing_files(data_dir)
    if missing and not download:
        raise DataError(
            _missing_message(data_dir, missing, f"downloading is off ({NO_DOWNLOAD_ENV})")
        )


def load_arrays(
    data_dir: Path,
    *,
    download: bool | None = None,
    fetch: Fetch | None = None,
    mirrors: Sequence[str] = MIRRORS,
    note: Callable[[str], None] | None = None,
) -> MNISTArrays:
    """Read the four IDX files from ``data_dir``, downloading missing ones.

    Args:
        data_dir: folder holding the files (plain or ``.gz``, or torchvision's
            ``MNIST/raw/`` below it).
        download: whether missing files may be downloaded; None means yes
            unless ``TRACKUI_NO_DOWNLOAD`` is set.
        fetch: how to get a URL's bytes, for :func:`download_file`.
        mirrors: base URLs to download from.
        note: called with a line to show the user before each download.

    Raises:
        DataError: with one line that says what is wrong and how to use ``--data-dir``.
    """
    if download is None:
        download = downloads_allowed()
    paths: dict[str, Path] = {}
    missing = []
    for stem in FILES:
        found = find_file(data_dir, stem)
        if found is None:
            missing.append(stem)
        else:
            paths[stem] = found
    if missing:
        if not download:
            raise DataError(
                _missing_message(data_dir, missing, f"downloading is off ({NO_DOWNLOAD_ENV})")
            )
        for stem in missing:
            if note is not None:
                note(f"downloading {stem}.gz into {data_dir}")
            try:
                paths[stem] = download_file(data_dir, stem, fetch=fetch, mirrors=mirrors)
            except DataError as e:
                raise DataError(
                    _missing_message(data_dir, missing, f"the download failed: {e}")
                ) from e
    arrays = {}
    for stem, path in paths.items():
        arr = parse_idx(_read_bytes(path), path.name)
        if arr.shape != _SHAPES[stem]:
            raise DataError(f"{path} has shape {arr.shape}, expected {_SHAPES[stem]}")
        arrays[stem] = arr
    if int(arrays["train-labels-idx1-ubyte"].max()) > 9:
        raise DataError(f"{paths['train-labels-idx1-ubyte']} holds labels above 9")
    return MNISTArrays(
        train_images=arrays["train-images-idx3-ubyte"],
        train_labels=arrays["train-labels-idx1-ubyte"],
        test_images=arrays["t10k-images-idx3-ubyte"],
        test_labels=arrays["t10k-labels-idx1-ubyte"],
    )


@dataclass(frozen=True)
class DeviceData:
    """MNIST on one device, normalised, ready to be indexed into batches."""

    x_train: torch.Tensor
    """float32, shape (N, 1, 28, 28), normalised."""
    y_train: torch.Tensor
    """int64, shape (N,)."""
    x_test: torch.Tensor
    """float32, shape (10000, 1, 28, 28), normalised."""
    y_test: torch.Tensor
    """int64, shape (10000,)."""

    @property
    def n_train(self) -> int:
        """Number of training images."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test images."""
        return int(self.x_test.shape[0])


def to_device(
    arrays: MNISTArrays,
    device: torch.device,
    *,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> DeviceData:
    """Copy MNIST to ``device`` once and normalise it there.

    The arithmetic is that of ``ToTensor()`` then ``Normalize((0.5,), (0.5,))``
    (divide by 255, subtract the mean, divide by the std, in float32), so each
    image is bit-for-bit the tensor the torchvision pipeline would produce.

    Args:
        arrays: the data in host memory.
        device: where the tensors go.
        train_limit: keep only the first N training images.
        test_limit: keep only the first N test images.
    """
    import torch

    def images(a: np.ndarray, limit: int | None) -> torch.Tensor:
        a = a[:limit] if limit else a
        # One host-to-device copy of the uint8 bytes, then the float work on the device.
        # (np.array copies: the parsed arrays are read-only views of the file's bytes.)
        t = torch.from_numpy(np.array(a)).to(device)
        return t.unsqueeze(1).float().div_(255).sub_(MEAN).div_(STD)

    def labels(a: np.ndarray, limit: int | None) -> torch.Tensor:
        a = a[:limit] if limit else a
        return torch.from_numpy(np.array(a)).to(device).long()

    return DeviceData(
        x_train=images(arrays.train_images, train_limit),
        y_train=labels(arrays.train_labels, train_limit),
        x_test=images(arrays.test_images, test_limit),
        y_test=labels(arrays.test_labels, test_limit),
    )
