"""MNIST files: parsing, .gz or not, torchvision's layout, download and its failures."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from trackui.trainer import data as md  # noqa: E402


@pytest.fixture(scope="module")
def arrays(mnist: Path) -> md.MNISTArrays:
    return mnist_load(mnist)


def mnist_load(path: Path) -> md.MNISTArrays:
    return md.load_arrays(path, download=False)


def test_reads_the_gz_files_with_the_published_content(arrays: md.MNISTArrays) -> None:
    assert arrays.train_images.shape == (60000, 28, 28)
    assert arrays.test_images.shape == (10000, 28, 28)
    assert arrays.train_labels.shape == (60000,)
    assert arrays.train_images.dtype == np.uint8
    assert sorted(np.unique(arrays.train_labels).tolist()) == list(range(10))
    # The first training label of MNIST is a 5, the first test label a 7.
    assert int(arrays.train_labels[0]) == 5
    assert int(arrays.test_labels[0]) == 7


def test_uncompressed_files_and_torchvision_layout_read_the_same(
    tmp_path: Path, mnist: Path, arrays: md.MNISTArrays
) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in md.FILES:
        src = md.find_file(mnist, stem)
        assert src is not None
        if src.name.endswith(".gz"):
            (raw / stem).write_bytes(gzip.decompress(src.read_bytes()))
        else:
            shutil.copy(src, raw / stem)
    again = md.load_arrays(tmp_path, download=False)
    assert np.array_equal(again.test_images, arrays.test_images)
    assert np.array_equal(again.train_labels, arrays.train_labels)


def test_to_device_normalises_like_totensor_then_normalize(arrays: md.MNISTArrays) -> None:
    data = md.to_device(arrays, torch.device("cpu"), train_limit=100, test_limit=10)
    assert data.x_train.shape == (100, 1, 28, 28)
    assert data.x_test.shape == (10, 1, 28, 28)
    assert data.y_train.dtype == torch.int64
    # What ToTensor() and Normalize((0.5,), (0.5,)) compute, step by step.
    img = torch.from_numpy(np.array(arrays.train_images[3])).unsqueeze(0)
    expected = img.float().div(255).sub_(torch.tensor([0.5]).view(-1, 1, 1))
    expected = expected.div_(torch.tensor([0.5]).view(-1, 1, 1))
    assert torch.equal(data.x_train[3], expected)
    assert float(data.x_train.min()) == -1.0
    assert float(data.x_train.max()) == 1.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not an IDX file"),
        (b"\x00\x00\x0d\x01" + (3).to_bytes(4, "big") + b"abc", "not an IDX file"),
        (b"\x00\x00\x08\x02\x00\x00", "incomplete header"),
        (b"\x00\x00\x08\x01" + (5).to_bytes(4, "big") + b"abc", "promises 5"),
    ],
)
def test_parse_idx_rejects_damaged_files(raw: bytes, message: str) -> None:
    with pytest.raises(md.DataError, match=message):
        md.parse_idx(raw, "x")


def test_parse_idx_reads_shape_and_bytes() -> None:
    raw = b"\x00\x00\x08\x02" + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6))
    assert md.parse_idx(raw, "x").tolist() == [[0, 1, 2], [3, 4, 5]]


def test_missing_files_without_download_say_how_to_use_data_dir(tmp_path: Path) -> None:
    with pytest.raises(md.DataError) as info:
        md.load_arrays(tmp_path, download=False)
    msg = str(info.value)
    assert "\n" not in msg
    assert "--data-dir" in msg
    assert str(tmp_path) in msg
    assert "train-images-idx3-ubyte" in msg


def test_download_env_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(md.NO_DOWNLOAD_ENV, "1")
    assert not md.downloads_allowed()
    monkeypatch.setenv(md.NO_DOWNLOAD_ENV, "0")
    assert md.downloads_allowed()


def test_download_tries_mirrors_in_order_and_checks_content(tmp_path: Path, mnist: Path) -> None:
    served = {}
    for stem in md.FILES:
        src = md.find_file(mnist, stem)
        assert src is not None
        blob = src.read_bytes()
        served[stem + ".gz"] = blob if src.name.endswith(".gz") else gzip.compress(blob)
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        if url.startswith("https://broken.example/"):
            raise OSError("connection refused")
        if url.startswith("https://corrupt.example/"):
            return gzip.compress(b"\x00\x00\x08\x01" + (1).to_bytes(4, "big") + b"\x07")
        return served[url.rsplit("/", 1)[1]]

    mirrors = ("https://broken.example/", "https://corrupt.example/", "https://good.example/")
    target = tmp_path / "cache"
    notes: list[str] = []
    got = md.load_arrays(target, download=True, fetch=fetch, mirrors=mirrors, note=notes.append)
    assert len(notes) == 4 and all(str(target) in n for n in notes)
    assert got.train_images.shape == (60000, 28, 28)
    assert sorted(p.name for p in target.iterdir()) == sorted(served)
    # Each file: the broken mirror, then the corrupt one (refused by checksum), then the good one.
    assert len(asked) == 3 * len(md.FILES)
    # Present now: no second download.
    md.load_arrays(target, download=True, fetch=fetch, mirrors=mirrors)
    assert len(asked) == 3 * len(md.FILES)


def test_failed_download_is_one_clear_line(tmp_path: Path) -> None:
    def fetch(url: str) -> bytes:
        raise OSError(f"no route to host for {url}")

    with pytest.raises(md.DataError) as info:
        md.load_arrays(tmp_path / "x", download=True, fetch=fetch)
    msg = str(info.value)
    assert "\n" not in msg
    assert "the download failed" in msg
    assert "--data-dir" in msg
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_default_data_dir_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(md.DATA_DIR_ENV, str(tmp_path))
    assert md.default_data_dir() == tmp_path
    monkeypatch.delenv(md.DATA_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert md.default_data_dir() == tmp_path / "c" / "trackui" / "mnist"
