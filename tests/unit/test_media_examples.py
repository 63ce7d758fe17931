"""W&B's public examples that log images, figures and tables run unchanged on trackui,
and what they logged is on disk and decodable."""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from trackui.store import reader, rich

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "tests" / "wandb_examples"


def _run(script: Path, cwd: Path, *args: str) -> Path:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES / "shim"), str(REPO)]),
        "TRACKUI_DIR": str(cwd / "runs"),
        "TRACKUI_SILENT": "1",
        "MPLBACKEND": "Agg",
    }
    out = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    (run_dir,) = reader.list_run_dirs(cwd / "runs")
    info = reader.read_run(run_dir)
    assert info is not None and info.state == "finished"
    return run_dir


def _png(run_dir: Path, ref: dict) -> object:
    from PIL import Image

    path = rich.media_path(run_dir, ref)
    assert path is not None and path.suffix == ".png"
    img = Image.open(path)
    img.load()
    assert [img.height, img.width] == ref["shape"][:2]
    return img


def test_matplotlib_example_logs_the_figure_as_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    run_dir = _run(EXAMPLES / "mpl" / "mpl.py", tmp_path)
    ((step, ref),) = rich.rich_values(run_dir, "scatter-with-histos")
    assert step == 0 and ref["_type"] == "image"
    img = _png(run_dir, ref)
    assert (img.width, img.height) == (800, 800)  # figsize 8x8 at 100 dpi


def test_plotly_example_keeps_figures_as_json(tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    pytest.importorskip("matplotlib")
    import orjson

    run_dir = _run(EXAMPLES / "plotly" / "run.py", tmp_path)
    keys = {k.key: k.type for k in rich.rich_keys(run_dir)}
    assert keys == {"contour": "plotly", "scatter": "plotly", "mpl": "image"}
    ((_, ref),) = rich.rich_values(run_dir, "contour")
    fig = orjson.loads(rich.media_path(run_dir, ref).read_bytes())
    assert fig["data"][0]["type"] == "contour"
    assert fig["data"][0]["z"][0] == [10, 10.625, 12.5, 15.625, 20]
    _png(run_dir, rich.rich_values(run_dir, "mpl")[0][1])


def _idx_head(src: Path, dest: Path, n: int) -> None:
    """The first ``n`` items of a gzipped IDX file, uncompressed, in torchvision's raw layout."""
    data = gzip.decompress(src.read_bytes())
    ndim = data[3]
    dims = list(struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim]))
    item = 1
    for d in dims[1:]:
        item *= d
    head = data[:4] + struct.pack(f">{ndim}I", n, *dims[1:])
    dest.write_bytes(head + data[4 + 4 * ndim : 4 + 4 * ndim + n * item])


def test_pytorch_cnn_mnist_example_logs_its_test_digits(tmp_path: Path, mnist_dir: Path) -> None:
    pytest.importorskip("torchvision")
    import numpy as np
    import orjson

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, n in (("train", 256), ("t10k", 200)):
        for part in ("images-idx3", "labels-idx1"):
            src = mnist_dir / f"{name}-{part}-ubyte.gz"
            _idx_head(src, raw / src.name[:-3], n)
    work = tmp_path / "work"
    work.mkdir()
    script = EXAMPLES / "pytorch_cnn_mnist" / "main.py"
    run_dir = _run(script, work, "--epochs", "1", "--no-cuda", "--test-batch-size", "50")
    values = rich.rich_values(run_dir, "Examples")
    assert len(values) == 1
    step, ref = values[0]
    assert ref["_type"] == "images" and len(ref["items"]) == 4  # one digit per test batch
    assert all(i["caption"].startswith("Pred: ") for i in ref["items"])
    for item in ref["items"]:
        img = _png(run_dir, item)
        assert item["shape"] == [28, 28, 1] and img.mode == "L"
        assert np.asarray(img).max() == 255  # the normalised tensor, rescaled as wandb does
    rec = [orjson.loads(x) for x in (run_dir / "history.jsonl").read_bytes().splitlines()]
    last = [r for r in rec if "Test Accuracy" in r["m"]]
    assert last and last[0]["s"] == step
    hists = {k for r in rec for k in r.get("r", {}) if k.startswith("gradients/")}
    assert hists == set()  # log_freq 1000 forward passes: 4 training batches log none


def test_scikit_iris_example_logs_its_accuracies_and_its_pyplot_figure(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    run_dir = _run(EXAMPLES / "scikit_iris" / "train.py", tmp_path)
    info = reader.read_run(run_dir)
    assert info is not None and info.state == "finished"
    assert info.config == {"gamma": 0.1, "C": 1.0, "test_size": 0.3, "seed": 0}
    assert 0.9 < info.summary["Train Accuracy"] <= 1 and 0.9 < info.summary["Test Accuracy"] <= 1
    ((step, ref),) = rich.rich_values(run_dir, "Data")  # `wandb.log({"Data": plt})`
    assert step == 1 and ref["_type"] == "image"
    import numpy as np

    img = _png(run_dir, ref)
    pixels = np.asarray(img).reshape(-1, len(img.getbands()))
    assert img.size == (640, 480) and len(np.unique(pixels, axis=0)) > 3  # the scatter, drawn


def test_wandb_log_sqrt_example_converges(tmp_path: Path) -> None:
    run_dir = _run(EXAMPLES / "wandb_log" / "sqrt.py", tmp_path, "2")
    info = reader.read_run(run_dir)
    assert info is not None and info.meta["project"] == "sqrt2" and info.config["steps"] == 10
    records, _, warnings = reader.read_records(run_dir)
    assert warnings == [] and len(records) == 10
    assert abs(info.summary["Approx. Sqrt2"] - 2**0.5) < 1e-12
