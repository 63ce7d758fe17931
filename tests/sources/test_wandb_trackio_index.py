"""wandb's and trackio's runs, written by those libraries, read through the index and the CLI
beside trackui's own runs (the registry's sources, the mirror, the ``source:`` filter)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest_wandb import run_writer

from trackui.cli import main
from trackui.store.index import Index

pytest.importorskip("wandb")
pytest.importorskip("trackio")

LOSSES = [2.0, float("nan"), 1.0, float("inf"), 0.5]


def _write_both(root: Path) -> None:
    root.mkdir(exist_ok=True)
    run_writer(
        root,
        f"""
        import wandb
        run = wandb.init(project="p", name="wb-run", config={{"lr": 0.01, "arch": "cnn"}},
                         settings=wandb.Settings(x_disable_stats=True))
        for s, v in enumerate({LOSSES!r}):
            run.log({{"loss": v, "val": {{"acc": s / 10}}}}, step=s)
        run.finish()
        """.replace("nan", "float('nan')").replace("inf,", "float('inf'),"),
    )
    (root / "trackio").mkdir(exist_ok=True)
    run_writer(
        root,
        """
        import trackio
        trackio.init(project="tp", name="tk-run", config={"lr": 0.1})
        for s in range(4):
            trackio.log({"loss": 1.0 / (s + 1)}, step=s)
        trackio.finish()
        """,
    )


def _values(ix: Index, run_id: str, metric: str) -> dict[int, float]:
    step, _t, v = ix.points(run_id, metric)
    return dict(zip(step.tolist(), v.tolist(), strict=True))


def test_wandb_and_trackio_runs_are_runs_of_the_index(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _write_both(root)
    with Index(root) as ix:
        ix.refresh()
        (wb,) = ix.runs("source:wandb")
        (tk,) = ix.runs("source:trackio")
        assert wb.name == "wb-run" and wb.state == "finished"
        assert wb.config["lr"] == 0.01 and wb.config["arch"] == "cnn"
        got = _values(ix, wb.id, "loss")
        assert sorted(got) == [0, 1, 2, 3, 4]
        for s, v in enumerate(LOSSES):
            assert (math.isnan(got[s]) and math.isnan(v)) or got[s] == v
        assert _values(ix, wb.id, "val/acc") == {s: s / 10 for s in range(5)}
        assert tk.name == "tk-run" and tk.config["lr"] == 0.1
        assert _values(ix, tk.id, "loss") == {s: 1.0 / (s + 1) for s in range(4)}
        assert {r.id for r in ix.runs("source:trackio or source:wandb")} == {wb.id, tk.id}


def test_diff_a_wandb_run_against_a_trackio_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    _write_both(root)
    assert main(["ls", str(root), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["wb-run"]["source"] == "wandb" and rows["tk-run"]["source"] == "trackio"
    assert main(["diff", "--dir", str(root), rows["wb-run"]["id"], rows["tk-run"]["id"]]) == 1
    out = capsys.readouterr().out
    assert "lr" in out and "0.01" in out and "0.1" in out
