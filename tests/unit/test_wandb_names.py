"""Every public name of wandb and of ``wandb.Run`` exists in trackui: none ends in AttributeError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trackui
from trackui import wandb_names

NAMES = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "wandb_public_names.json").read_text()
)


def test_the_list_came_from_wandb() -> None:
    assert NAMES["wandb_version"] and "init" in NAMES["module"] and "log" in NAMES["run"]


@pytest.mark.parametrize("name", NAMES["module"])
def test_module_name(name: str) -> None:
    getattr(trackui, name)  # never AttributeError


@pytest.mark.parametrize("name", NAMES["run"])
def test_run_member(name: str, root: Path) -> None:
    run = trackui.init(dir=root)
    try:
        getattr(run, name)  # never AttributeError
    finally:
        run.finish()


@pytest.mark.parametrize("name", sorted(wandb_names.MODULE))
def test_refused_names_say_why_in_one_line(name: str) -> None:
    target = getattr(trackui, name)
    if not isinstance(target, type) or not target.__module__.endswith("wandb_names"):
        pytest.skip(f"{name} is implemented")
    with pytest.raises(trackui.Unsupported) as e:
        target("x")
    assert "\n" not in str(e.value) and name in str(e.value)
    assert not isinstance(object(), target)  # isinstance checks keep working


@pytest.mark.parametrize("name", sorted(wandb_names.RUN))
def test_refused_run_members_say_why(name: str, root: Path) -> None:
    run = trackui.init(dir=root)
    member = getattr(run, name)
    if getattr(member, "__module__", "") != "trackui.wandb_names":
        run.finish()
        pytest.skip(f"Run.{name} is implemented")
    with pytest.raises(trackui.Unsupported, match=f"Run.{name} is not supported by trackui"):
        member("x")
    run.finish()


def test_accepted_and_ignored_members(root: Path) -> None:
    run = trackui.init(dir=root, config={"lr": 0.1})
    assert run.config_static.lr == 0.1 and run.display() is False and run.to_html() == ""
    run.pin_config_keys(["lr"])
    run.unwatch()
    trackui.unwatch()
    run.log({"x": 1})
    trackui.join()
    assert run.finished
