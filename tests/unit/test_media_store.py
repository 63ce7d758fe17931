"""Rich values in the store: never metrics, their steps counted, listed by ``show``,
tables written by ``export``, and ``watch()`` histograms."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import trackui
from trackui.cli import main
from trackui.store import rich

pytest.importorskip("PIL")


def _mixed_run(root: Path) -> trackui.Run:
    run = trackui.init(dir=root, project="media")
    for i in range(40):  # enough records for the index's bulk path to sample the file
        trackui.log({"loss": 1.0 / (i + 1)})
    trackui.log({"digit": trackui.Image(np.zeros((4, 4), np.uint8), caption="zero")})
    t = trackui.Table(columns=["a", "b"], data=[[1, "x"], [2, None]])
    trackui.log({"preds": t, "h": trackui.Histogram([1, 2, 3])})
    trackui.log({"loss": 0.01, "digit": trackui.Image(np.ones((4, 4), np.uint8))})
    run.finish()
    return run


def test_rich_keys_and_values(root: Path) -> None:
    run = _mixed_run(root)
    keys = {k.key: (k.type, k.count, k.last_step) for k in rich.rich_keys(run.run_dir)}
    assert keys == {"digit": ("image", 2, 42), "preds": ("table", 1, 41), "h": ("histogram", 1, 41)}
    steps = [s for s, _ in rich.rich_values(run.run_dir, "digit")]
    assert steps == [40, 42]
    assert rich.rich_values(run.run_dir, "digit")[0][1]["caption"] == "zero"
    assert rich.media_path(run.run_dir, {"path": "../meta.json"}) is None


def test_rich_values_are_never_metrics_and_their_steps_count(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _mixed_run(root)
    assert main(["show", run.id, "--json", "--dir", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert set(shown["metrics"]) == {"loss"}
    assert shown["steps"] == 43  # the steps with only rich values included
    assert shown["rich"]["digit"].startswith("image, 2 logged")
    assert main(["show", run.id, "--dir", str(root)]) == 0
    text = capsys.readouterr().out
    section = text.split("rich values\n", 1)[1].splitlines()
    assert section[0].split() == ["digit", "image,", "2", "logged", "(last", "step", "42)"]
    assert section[1].split()[:2] == ["h", "histogram,"]


def test_export_writes_tables_as_csv_and_names_the_media_folder(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _mixed_run(root)
    out = tmp_path / "out" / "hist.csv"
    out.parent.mkdir()
    assert main(["export", run.id, "-o", str(out), "--dir", str(root)]) == 0
    err = capsys.readouterr().err
    table = out.parent / f"{run.id}-tables" / "preds.csv"
    assert table.read_text() == "a,b\n1,x\n2,\n"
    assert f"table preds (step 41) -> {table}" in err
    assert f"media files: {run.run_dir / 'media'}" in err
    assert "digit" not in out.read_text()  # the history export holds the metrics only


def test_watch_logs_histograms_of_gradients_and_parameters(root: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    run = trackui.init(dir=root)
    trackui.watch(model, log="all", log_freq=2)
    for _ in range(4):
        loss = model(torch.randn(8, 4)).pow(2).mean()
        loss.backward()
        trackui.log({"loss": loss})
    run.finish()
    keys = {k.key: (k.type, k.count) for k in rich.rich_keys(run.run_dir)}
    assert keys["gradients/0.weight"] == ("histogram", 2)
    assert keys["parameters/2.bias"] == ("histogram", 2)
    ((_, h), _) = rich.rich_values(run.run_dir, "parameters/0.weight")
    assert sum(h["values"]) == 12 and len(h["bins"]) == 65


def test_watch_gradients_by_default(root: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(2, 1)
    run = trackui.init(dir=root)
    trackui.watch(model, log_freq=1)
    model(torch.ones(1, 2)).sum().backward()
    trackui.log({"x": 1.0})
    run.finish()
    assert {k.key for k in rich.rich_keys(run.run_dir)} == {"gradients/weight", "gradients/bias"}


@pytest.mark.parametrize("where", [0, 3000])  # seen by the index's samples, or only by its check
def test_a_long_history_with_rich_values_counts_their_steps(
    root: Path, where: int, capsys: pytest.CaptureFixture[str]
) -> None:
    run = trackui.init(dir=root)
    for i in range(6000):
        if i == where:
            trackui.log({"h": trackui.Histogram([1.0, 2.0, 3.0], num_bins=2)})
        trackui.log({"loss": float(i), "acc": 0.5})
    run.finish()
    assert (run.run_dir / "history.jsonl").stat().st_size > 256 * 1024  # the bulk path's size
    assert main(["show", run.id, "--json", "--dir", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["steps"] == 6001 and set(shown["metrics"]) == {"loss", "acc"}
    assert shown["metrics"]["loss"] == 6000


def test_the_summary_keeps_the_last_rich_value_and_never_as_a_metric(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _mixed_run(root)
    stored = json.loads((run.run_dir / "summary.json").read_text())
    # As wandb's summary holds the last image's reference: the last one logged.
    last = rich.rich_values(run.run_dir, "digit")[-1][1]
    assert stored["digit"] == last and "caption" not in stored["digit"]
    assert stored["preds"]["_type"] == "table" and stored["h"]["_type"] == "histogram"
    assert stored["loss"] == 0.01
    assert rich.last_references(run.run_dir) == {
        "digit": last,
        "preds": stored["preds"],
        "h": stored["h"],
    }
    # Read back, the summary's metrics hold no reference (nothing to chart, sort or filter).
    assert main(["ls", "--json", "--dir", str(root)]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["summary"] == {"loss": 0.01}
    assert main(["ls", "--dir", str(root), "--filter", "digit>0"]) == 0
    assert run.id not in capsys.readouterr().out
    assert main(["show", run.id, "--json", "--dir", str(root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["summary"] == {"loss": 0.01}
    assert shown["rich_summary"]["digit"] == last
    # `show` says what each rich key's last value is: its type and file, not a number.
    assert main(["show", run.id, "--dir", str(root)]) == 0
    text = capsys.readouterr().out
    section = text.split("\nsummary\n", 1)[1].split("\n\n", 1)[0].splitlines()
    rows = {line.split()[0]: line.split(None, 1)[1] for line in section}
    assert rows["digit"] == f"<image 4x4 {last['path']}>"
    assert rows["h"].startswith("<histogram of ") and rows["preds"].startswith("<table 2 rows ")
    assert rows["loss"] == "0.01"


def test_a_resumed_run_keeps_the_last_rich_value_in_its_summary(root: Path) -> None:
    run = trackui.init(dir=root, id="resumed1")
    trackui.log({"digit": trackui.Image(np.zeros((4, 4), np.uint8))})
    run.finish()
    first = rich.last_references(run.run_dir)["digit"]
    run = trackui.init(dir=root, id="resumed1", resume="must")
    trackui.log({"loss": 1.0})
    run.finish()
    assert rich.last_references(run.run_dir) == {"digit": first}
