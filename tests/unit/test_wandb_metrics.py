"""define_metric as wandb has it: every summary, goals, globs, step metrics, read back from disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trackui
from trackui.store import layout


def _logged(root: Path, declare, values=(0.5, 0.2, 0.9)) -> tuple[dict, dict]:
    run = trackui.init(dir=root)
    declare(run)
    for i, v in enumerate(values):
        run.log({"epoch": i, "loss": v, "val/acc": v, "val/loss": v, "other": v})
    run.finish()
    summary = json.loads((run.run_dir / layout.SUMMARY).read_text())
    meta = json.loads((run.run_dir / layout.META).read_text())
    return summary, meta


@pytest.mark.parametrize(
    ("summary", "goal", "expected"),
    [
        ("min", None, 0.2),
        ("max", None, 0.9),
        ("mean", None, pytest.approx(1.6 / 3)),
        ("first", None, 0.5),
        ("last", None, 0.9),
        ("best", "minimize", 0.2),
        ("best", "maximize", 0.9),
    ],
)
def test_each_summary_alone_keeps_the_name(
    root: Path, summary: str, goal: str | None, expected: object
) -> None:
    got, _ = _logged(root, lambda r: r.define_metric("loss", summary=summary, goal=goal))
    assert got["loss"] == expected and got["other"] == 0.9


def test_none_leaves_the_metric_out(root: Path) -> None:
    got, _ = _logged(root, lambda r: r.define_metric("loss", summary="none"))
    assert "loss" not in got and got["other"] == 0.9


def test_combinations_sit_side_by_side(root: Path) -> None:
    got, meta = _logged(root, lambda r: r.define_metric("loss", summary="min,max,first"))
    assert (got["loss.min"], got["loss.max"], got["loss.first"], got["loss"]) == (
        0.2,
        0.9,
        0.5,
        0.9,
    )
    assert meta["metrics"]["loss"] == {"summary": "min,max,first"}


def test_declarations_add_up_as_in_wandb(root: Path) -> None:
    def declare(run: trackui.Run) -> None:
        run.define_metric("loss", summary="min")
        run.define_metric("loss", summary="max")

    got, meta = _logged(root, declare)
    assert got["loss.min"] == 0.2 and got["loss.max"] == 0.9
    assert meta["metrics"]["loss"]["summary"] == "min,max"


def test_globs_step_metric_goal_and_hidden_are_stored(root: Path) -> None:
    def declare(run: trackui.Run) -> None:
        run.define_metric("epoch", hidden=True)
        run.define_metric("val/*", step_metric="epoch", summary="max", goal="maximize")

    got, meta = _logged(root, declare)
    assert got["val/acc"] == 0.9 and got["val/loss"] == 0.9 and got["loss"] == 0.9
    assert meta["metrics"] == {
        "epoch": {"hidden": True},
        "val/*": {"summary": "max", "step_metric": "epoch", "goal": "maximize"},
    }


def test_a_glob_declared_late_reaches_names_seen_before(root: Path) -> None:
    run = trackui.init(dir=root)
    run.define_metric("val/*", summary="min")
    run.log({"val/acc": 0.5})
    run.define_metric("val/*", summary="max")
    run.log({"val/acc": 0.7})
    assert run.summary["val/acc.min"] == 0.5 and run.summary["val/acc.max"] == 0.7
    run.finish()


def test_bad_declarations_are_refused(root: Path) -> None:
    run = trackui.init(dir=root)
    with pytest.raises(ValueError, match="needs goal"):
        run.define_metric("loss", summary="best")
    with pytest.raises(ValueError, match="goal must be minimize or maximize"):
        run.define_metric("loss", goal="up")
    with pytest.raises(ValueError, match="summary must be one of"):
        run.define_metric("loss", summary="min,median")
    run.finish()


def test_module_level_define_metric(root: Path) -> None:
    run = trackui.init(dir=root)
    trackui.define_metric("val/*", step_metric="epoch")
    run.finish()
    meta = json.loads((run.run_dir / layout.META).read_text())
    assert meta["metrics"]["val/*"] == {"step_metric": "epoch"}
