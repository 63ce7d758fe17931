"""Reading what ``define_metric`` declared, as viewers do."""

from __future__ import annotations

from trackui.store.metric_decl import declaration, goal_among, metric_goal, step_metric

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
