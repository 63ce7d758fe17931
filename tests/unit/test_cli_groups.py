"""``trackui ls --group-by``: a row per group, text and JSON, on real runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import trackui
from trackui.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture
def seeds(root: Path) -> dict[str, list[str]]:
    """Two archs x two seeds, and one run of a third arch that fails."""
    ids: dict[str, list[str]] = {}
    for arch, seed, steps in [("cnn", 0, 4), ("cnn", 1, 6), ("mlp", 0, 2), ("mlp", 1, 2)]:
        run = trackui.init(project="p", dir=root, config={"model": {"arch": arch}, "seed": seed})
        for s in range(steps):
            run.log({"loss": 1.0 / (s + 1 + seed)})
        run.summary["acc"] = 0.5 + seed / 10
        run.finish()
        ids.setdefault(arch, []).append(run.id)
    run = trackui.init(project="p", dir=root, config={"model": {"arch": "rnn"}, "seed": 0})
    run.log({"loss": 3.0})
    run.finish(exit_code=1)
    ids["rnn"] = [run.id]
    return ids


def test_ls_group_by_json(capsys, root: Path, seeds) -> None:
    rc, out, err = run_cli(capsys, "ls", str(root), "--group-by", "model/arch", "--json")
    assert rc == 0, err
    groups = json.loads(out)
    assert [g["group"] for g in groups] == ["cnn", "mlp", "rnn"]
    cnn = groups[0]
    assert cnn["keys"] == {"model/arch": "cnn"}
    assert cnn["size"] == 2
    assert sorted(cnn["runs"]) == sorted(seeds["cnn"])
    assert cnn["states"] == {"finished": 2}
    assert cnn["steps"] == pytest.approx(5.0)
    assert cnn["summary"]["acc"] == pytest.approx(0.55)
    assert groups[2]["states"] == {"failed": 1}


def test_ls_group_by_several_keys_text(capsys, root: Path, seeds) -> None:
    rc, out, err = run_cli(capsys, "ls", str(root), "--group-by", "model.arch,seed")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["GROUP", "RUNS", "STATES", "MEAN", "RUNTIME", "MEAN", "STEPS"]
    assert len(lines) == 1 + 5
    assert lines[1].startswith("model.arch=cnn seed=0")
    # Repeated flags mean the same as a comma.
    rc2, out2, _ = run_cli(
        capsys, "ls", str(root), "--group-by", "model.arch", "--group-by", "seed"
    )
    assert (rc2, out2) == (rc, out)
    rc, out, _ = run_cli(capsys, "ls", str(root), "--group-by", "model/arch")
    row = next(line for line in out.splitlines() if line.startswith("cnn"))
    assert row.split()[1:4] == ["2", "2", "finished"]
    assert row.split()[-1] == "5.0"


def test_ls_group_by_missing_key_and_bad_key(capsys, root: Path, seeds) -> None:
    rc, out, _ = run_cli(capsys, "ls", str(root), "--group-by", "group", "--json")
    assert rc == 0
    (only,) = json.loads(out)
    assert only["group"] == "-" and only["size"] == 5 and only["keys"] == {"group": None}
    rc, out, err = run_cli(capsys, "ls", str(root), "--group-by", ",")
    assert rc == 2 and out == "" and err.startswith("trackui ls: group by:")
