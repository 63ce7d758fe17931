"""Rich values logged from a script: what lands in the run directory, and that it decodes."""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image as PILImage

import trackui
from trackui.store import rich

Image = pytest.importorskip("PIL.Image")


def _records(run_dir: Path) -> list[dict]:
    return [orjson.loads(x) for x in (run_dir / "history.jsonl").read_bytes().splitlines()]


def _pixels(run_dir: Path, ref: dict) -> np.ndarray:
    path = rich.media_path(run_dir, ref)
    assert path is not None
    return np.asarray(Image.open(path))


def test_images_from_arrays_tensors_pil_and_files(root: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    gray = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    unit = np.linspace(0, 1, 12).reshape(3, 4)
    Image.fromarray(rgb).save(tmp_path / "in.png")
    run = trackui.init(dir=root)
    buf = gray.copy()
    img = trackui.Image(buf, caption="digit")
    buf[:] = 0  # the image copied its pixels when made
    trackui.log(
        {
            "gray": img,
            "rgba": trackui.Image(np.dstack([rgb, np.full((5, 7), 9, np.uint8)])),
            "unit": trackui.Image(unit),
            "tensor": trackui.Image(torch.from_numpy(rgb).permute(2, 0, 1).contiguous()),
            "pil": trackui.Image(Image.fromarray(rgb)),
            "file": trackui.Image(str(tmp_path / "in.png")),
            "moded": trackui.Image(rgb, mode="L"),
            "boxed": trackui.Image(gray, boxes={"p": {"box_data": []}}, masks={"m": [[1]]}),
        }
    )
    run.finish()
    (rec,) = _records(run.run_dir)
    r = rec["r"]
    assert rec["m"] == {} and rec["s"] == 0
    assert r["gray"]["caption"] == "digit" and r["gray"]["shape"] == [28, 28, 1]
    assert (_pixels(run.run_dir, r["gray"]) == gray).all()
    assert _pixels(run.run_dir, r["rgba"]).shape == (5, 7, 4)
    assert (_pixels(run.run_dir, r["unit"]) == (unit * 255).round()).all()
    for k in ("tensor", "pil", "file"):
        assert (_pixels(run.run_dir, r[k]) == rgb).all(), k
    assert r["tensor"]["digest"] != r["gray"]["digest"]
    assert _pixels(run.run_dir, r["moded"]).shape == (5, 7)
    assert r["boxed"]["boxes"] == {"p": {"box_data": []}} and r["boxed"]["masks"] == {"m": [[1]]}
    media = list((run.run_dir / "media" / "image").iterdir())
    assert all(p.suffix == ".png" and not p.name.startswith(".") for p in media)


def test_a_list_of_images_is_one_value(root: Path) -> None:
    run = trackui.init(dir=root)
    digits = [np.full((28, 28), i * 15, np.uint8) for i in range(16)]
    trackui.log({"examples": [trackui.Image(d, caption=str(i)) for i, d in enumerate(digits)]})
    trackui.log({"loss": 0.5})
    run.finish()
    ((step, ref),) = rich.rich_values(run.run_dir, "examples")
    assert step == 0 and ref["_type"] == "images" and len(ref["items"]) == 16
    for d, item in zip(digits, ref["items"], strict=True):
        assert (_pixels(run.run_dir, item) == d).all()
    assert [(k.key, k.type, k.count) for k in rich.rich_keys(run.run_dir)] == [
        ("examples", "images", 1)
    ]


def test_histograms_and_arrays_logged_become_histograms(root: Path) -> None:
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(1).normal(size=1000)
    run = trackui.init(dir=root)
    trackui.log(
        {
            "h": trackui.Histogram(values, num_bins=10),
            "np_h": trackui.Histogram(np_histogram=np.histogram(values, bins=5)),
            "arr": values,
            "w": torch.ones(3, 4),
            "zero_d": torch.tensor(1.5),
        }
    )
    run.finish()
    (rec,) = _records(run.run_dir)
    assert rec["m"] == {"zero_d": 1.5}  # a 0-d tensor is still a number
    h = rec["r"]["h"]
    counts, edges = np.histogram(values, bins=10)
    assert h == {"_type": "histogram", "bins": edges.tolist(), "values": counts.tolist()}
    assert len(rec["r"]["np_h"]["values"]) == 5 and sum(rec["r"]["arr"]["values"]) == 1000
    assert sum(rec["r"]["w"]["values"]) == 12
    with pytest.raises(ValueError, match="np_histogram"):
        trackui.Histogram(np_histogram=([1, 2], [0, 1]))


def test_tables_with_numbers_text_none_and_images(root: Path) -> None:
    run = trackui.init(dir=root)
    t = trackui.Table(columns=["id", "pred", "ok", "score", "img"])
    digit = np.full((4, 4), 7, np.uint8)
    t.add_data(1, "cat", True, 0.5, trackui.Image(digit))
    t.add_data(2, None, False, float("nan"), None)
    t.add_column("extra", [10, 20])
    assert t.get_column("id") == [1, 2] and list(t.get_column("extra", "numpy")) == [10, 20]
    trackui.log({"preds": t})
    run.finish()
    ((_, ref),) = rich.rich_values(run.run_dir, "preds")
    assert ref["shape"] == [2, 6] and ref["columns"][-1] == "extra"
    cols, rows = rich.read_table(run.run_dir, ref)
    assert cols == ["id", "pred", "ok", "score", "img", "extra"]
    assert rows[1] == [2, None, False, "nan", None, 20]
    assert (_pixels(run.run_dir, rows[0][4]) == digit).all()
    csv_text = rich.table_csv(run.run_dir, ref)
    assert csv_text.splitlines()[0] == "id,pred,ok,score,img,extra"
    assert str(run.run_dir / rows[0][4]["path"]) in csv_text
    with pytest.raises(ValueError, match="cells"):
        t.add_data(1, 2)


def test_plots_are_a_table_and_a_chart_spec(root: Path) -> None:
    run = trackui.init(dir=root)
    t = trackui.Table(data=[[1, 2], [2, 4]], columns=["x", "y"])
    y_true = [0, 1, 1, 0]
    probas = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]]
    trackui.log(
        {
            "line": trackui.plot.line(t, "x", "y", title="T"),
            "scatter": trackui.plot.scatter(t, "x", "y"),
            "bar": trackui.plot.bar(t, "x", "y"),
            "hist": trackui.plot.histogram(t, "y"),
            "series": trackui.plot.line_series([0, 1], [[1, 2], [3, 4]], keys=["a", "b"]),
            "cm": trackui.plot.confusion_matrix(y_true=y_true, preds=[0, 1, 0, 0]),
            "pr": trackui.plot.pr_curve(y_true, probas),
            "roc": trackui.plot.roc_curve(y_true, probas, labels=["no", "yes"]),
        }
    )
    run.finish()
    (rec,) = _records(run.run_dir)
    r = rec["r"]
    assert r["line"]["chart"] == "line" and r["line"]["fields"] == {"x": "x", "y": "y"}
    assert r["line"]["title"] == "T" and r["line"]["_type"] == "plot"
    _, cm = rich.read_table(run.run_dir, r["cm"])
    assert ["Class_2", "Class_1", 1] in cm and ["Class_1", "Class_1", 2] in cm
    _, series = rich.read_table(run.run_dir, r["series"])
    assert series == [["a", 1, 0], ["a", 2, 1], ["b", 3, 0], ["b", 4, 1]]
    _, roc = rich.read_table(run.run_dir, r["roc"])
    yes = [row for row in roc if row[0] == "yes"]
    assert yes[0][1:] == [0.0, 0.0] and yes[-1][1:] == [1.0, 1.0]
    _, pr = rich.read_table(run.run_dir, r["pr"])
    assert [row for row in pr if row[0] == "1"][-1][1:] == [0.5, 1.0]


def test_file_values_keep_their_bytes_and_metadata(root: Path, tmp_path: Path) -> None:
    pdb = tmp_path / "m.pdb"
    pdb.write_text("ATOM\n")
    run = trackui.init(dir=root)
    trackui.log(
        {
            "audio": trackui.Audio(np.zeros(800), sample_rate=8000, caption="hush"),
            "html": trackui.Html("<b>hi</b>"),
            "cloud": trackui.Object3D(np.zeros((5, 3))),
            "mol": trackui.Molecule(str(pdb)),
            "video": trackui.Video(np.zeros((2, 3, 4, 4), np.uint8), fps=2),
        }
    )
    run.finish()
    (rec,) = _records(run.run_dir)
    r = rec["r"]
    with wave.open(str(rich.media_path(run.run_dir, r["audio"]))) as w:
        assert w.getframerate() == 8000 and w.getnframes() == 800
    assert r["audio"]["caption"] == "hush" and r["audio"]["duration"] == 0.1
    assert rich.media_path(run.run_dir, r["html"]).read_text() == "<b>hi</b>"
    assert orjson.loads(rich.media_path(run.run_dir, r["cloud"]).read_bytes()) == [[0.0] * 3] * 5
    assert rich.media_path(run.run_dir, r["mol"]).read_text() == "ATOM\n"
    # A video from an array is an animated GIF (wandb's default), its shape and fps kept.
    video = rich.media_path(run.run_dir, r["video"])
    assert video.suffix == ".gif" and PILImage.open(video).size == (4, 4)
    assert r["video"]["shape"] == [2, 3, 4, 4] and r["video"]["fps"] == 2
    assert r["video"]["frames"] == 2


def test_what_is_not_a_value_still_fails_and_writes_nothing(root: Path) -> None:
    run = trackui.init(dir=root)
    with pytest.raises(TypeError, match="'bad'"):
        trackui.log({"bad": object()})
    with pytest.raises(TypeError, match="'nums'"):
        trackui.log({"nums": [1, 2, 3]})
    run.finish()
    assert (run.run_dir / "history.jsonl").read_bytes() == b""


def test_import_trackui_loads_neither_numpy_nor_pillow() -> None:
    code = (
        "import sys, trackui; trackui.Image; trackui.plot.line; "
        "print(sorted(m for m in ('numpy', 'PIL') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_missing_pillow_is_one_clear_error(root: Path) -> None:
    code = (
        "import sys; sys.modules['PIL'] = None; import numpy as np, trackui; "
        f"trackui.init(dir={str(root)!r}); "
        "trackui.log({'i': trackui.Image(np.zeros((2, 2), np.uint8))}); "  # zlib alone
        "trackui.log({'i': trackui.Image(np.zeros((2, 2), np.uint8), mode='RGB')})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "ImportError: trackui: logging images needs Pillow: "
        "pip install 'trackui[media]' (or Pillow)"
    )


def test_a_media_file_that_cannot_be_written_is_said_and_log_goes_on(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = trackui.init(dir=root)
    (run.run_dir / "media").write_bytes(b"")  # a file where the folder should be
    trackui.log({"img": trackui.Image(np.zeros((2, 2), np.uint8)), "loss": 1.0})
    trackui.log({"loss": 0.5})
    run.finish()
    assert "trackui: a media file could not be written" in capsys.readouterr().err
    assert [r["m"]["loss"] for r in _records(run.run_dir)] == [1.0, 0.5]


@pytest.mark.parametrize("layout", ["TCHW", "THWC"])
def test_a_video_array_is_an_animated_gif_of_its_frames(root: Path, layout: str) -> None:
    t, h, w = 3, 6, 8
    frames = np.zeros((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i, ..., i] = 200  # red, then green, then blue
    data = frames.transpose(0, 3, 1, 2) if layout == "TCHW" else frames
    run = trackui.init(dir=root)
    trackui.log({"clip": trackui.Video(data, fps=5, caption="rgb")})
    run.finish()
    (rec,) = _records(run.run_dir)
    ref = rec["r"]["clip"]
    assert ref["frames"] == 3 and ref["fps"] == 5 and ref["caption"] == "rgb"
    gif = PILImage.open(rich.media_path(run.run_dir, ref))
    assert gif.format == "GIF" and gif.n_frames == 3 and gif.size == (w, h)
    assert gif.info["duration"] == 200
    for i in range(3):
        gif.seek(i)
        pixel = gif.convert("RGB").getpixel((0, 0))
        assert max(range(3), key=lambda c: pixel[c]) == i


def test_a_video_of_floats_reads_them_as_zero_to_one() -> None:
    from trackui.media.files import video_frames

    out = video_frames(np.full((2, 1, 2, 2), 0.5))
    assert out.shape == (2, 2, 2, 1) and out.dtype == np.uint8 and int(out.max()) == 127
    with pytest.raises(ValueError, match="shape"):
        video_frames(np.zeros((2, 2)))
