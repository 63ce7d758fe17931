"""Reading what ``define_metric`` declared, as viewers do."""

from __future__ import annotations

import pytest

from trackui.store.metric_decl import (
    declaration,
    goal_among,
    goal_of,
    metric_goal,
    name_goal,
    step_metric,
)

META = {
    "metrics": {
        "val/*": {"step_metric": "epoch", "goal": "maximize"},
        "val/loss": {"goal": "minimize"},
        "loss": {"summary": "min"},
        "acc": {"summary": "max"},
        "both": {"summary": "min,max"},
        "epoch": {"hidden": True},
    }
}


def test_exact_entry_over_glob_and_step_metric() -> None:
    assert metric_goal(META, "val/loss") == "minimize"
    assert metric_goal(META, "val/acc") == "maximize"
    assert step_metric(META, "val/loss") == "epoch"
    assert declaration(META, "val/loss") == {"step_metric": "epoch", "goal": "minimize"}
    assert step_metric(META, "loss") is None and step_metric(META, "epoch") is None


def test_summary_implies_goal_and_unknown_is_none() -> None:
    assert metric_goal(META, "loss") == "minimize"
    assert metric_goal(META, "acc") == "maximize"
    assert metric_goal(META, "loss.min") == "minimize"
    assert metric_goal(META, "both") is None
    assert metric_goal(META, "other") is None
    assert metric_goal({}, "loss") is None and metric_goal({"metrics": "x"}, "loss") is None


def test_goal_among_runs() -> None:
    assert goal_among([{}, META], "acc") == "maximize"
    assert goal_among([{}, {}], "acc") is None


NAME_GOALS = [
    ("loss", "minimize"),
    ("val/loss", "minimize"),
    ("train_loss", "minimize"),
    ("val_accuracy", "maximize"),
    ("best_val_accuracy", "maximize"),
    ("val/acc", "maximize"),
    ("top1_acc", "maximize"),
    ("valAccuracy", "maximize"),
    ("eval/f1", "maximize"),
    ("rouge1", "maximize"),
    ("rougeL", "maximize"),
    ("mAP", "maximize"),
    ("map@50", "maximize"),
    ("test/r2", "maximize"),
    ("episode_reward", "maximize"),
    ("auc", "maximize"),
    ("iou", "maximize"),
    ("dice", "maximize"),
    ("precision", "maximize"),
    ("recall", "maximize"),
    ("bleu", "maximize"),
    ("error_rate", "minimize"),
    ("val_err", "minimize"),
    ("perplexity", "minimize"),
    ("mse", "minimize"),
    ("mae", "minimize"),
    ("rmse", "minimize"),
    ("wer", "minimize"),
    ("cer", "minimize"),
    ("nll", "minimize"),
    ("epoch_time_s", "minimize"),
    ("data_time_s", "minimize"),
    ("latency_ms", "minimize"),
    ("loss.min", "minimize"),
    ("val_accuracy.max", "maximize"),
    # Whole words only, and only the last path part: no goal.
    ("lossy_ratio", None),
    ("accumulate", None),
    ("stderr_lines", None),
    ("mapper", None),
    ("lr", None),
    ("epoch", None),
    ("samples_per_s", None),
    ("loss/scale", None),
    ("", None),
]


@pytest.mark.parametrize(("name", "goal"), NAME_GOALS)
def test_goal_from_the_name(name: str, goal: str | None) -> None:
    assert name_goal(name) == goal
    assert goal_of([{}], name) == goal


def test_declared_goal_over_the_name() -> None:
    meta = {"metrics": {"loss": {"goal": "maximize"}, "score": {"summary": "min"}}}
    assert goal_of([meta], "loss") == "maximize"
    assert goal_of([{}, meta], "score") == "minimize"
    assert goal_of([meta], "val_loss") == "minimize"  # (the name, nothing declared)
    assert goal_of([], "whatever") is None
