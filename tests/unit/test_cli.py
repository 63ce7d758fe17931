"""The scripting CLI contract (DESIGN section 5), field by field, on real runs."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

import trackui
from trackui.cli import clean, main

HOSTILE = ["[/]", "[bold]x[/bold]", "[@click=app.quit]", "esc\x1b[31mred\x1b[0m", "bell\x07\x9b2J"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def logged(root: Path, name: str, config: dict, values: list[float]) -> str:
    run = trackui.init(project="proj", group="g1", name=name, dir=root, config=config, tags=["t1"])
    for v in values:
        run.log({"loss": v, "acc": 1 - v})
    run.finish()
    return run.id


@pytest.fixture
def two(root: Path) -> tuple[str, str]:
    a = logged(root, "alpha", {"lr": 0.1, "opt": {"name": "adam"}}, [0.5, 0.25, float("nan")])
    b = logged(root, "beta", {"lr": 0.2, "opt": {"name": "adam"}}, [0.4, float("inf")])
    return a, b


def test_ls_json_fields(capsys, root: Path, two: tuple[str, str]) -> None:
    rc, out, err = run_cli(capsys, "ls", str(root), "--json")
    assert rc == 0 and err == ""
    rows = json.loads(out)
    assert [r["name"] for r in rows] == ["alpha", "beta"]
    a = rows[0]
    for key in ("id", "name", "project", "group", "tags", "state", "created", "runtime_s",
                "last_step", "steps", "config", "summary", "warnings"):  # fmt: skip
        assert key in a
    assert a["id"] == two[0]
    assert (a["project"], a["group"], a["tags"], a["state"]) == ("proj", "g1", ["t1"], "finished")
    assert datetime.fromisoformat(a["created"]).tzinfo is not None
    assert isinstance(a["runtime_s"], float) and a["runtime_s"] >= 0
    assert (a["last_step"], a["steps"]) == (2, 3)
    assert a["config"] == {"lr": 0.1, "opt": {"name": "adam"}}
    assert a["summary"]["loss"] == "nan" and a["summary"]["acc"] == "nan"
    assert rows[1]["summary"]["loss"] == "inf" and rows[1]["summary"]["acc"] == "-inf"
    assert a["warnings"] == []


def test_ls_json_empty_run_and_warnings(capsys, root: Path, write_run) -> None:
    write_run(root, "empty", records=[])
    write_run(root, "dmg", stamp="20231114_221321", history=b'{"s":0,"t":1,"m":{"a":1}}\n{"s":1,\n')
    rows = {r["id"]: r for r in json.loads(run_cli(capsys, "ls", "--dir", str(root), "--json")[1])}
    assert (rows["empty"]["last_step"], rows["empty"]["steps"]) == (None, 0)
    assert rows["dmg"]["steps"] == 1
    assert rows["dmg"]["warnings"] and "damaged record" in rows["dmg"]["warnings"][0]


def test_ls_human_and_env_root(capsys, root: Path, two, monkeypatch) -> None:
    monkeypatch.setenv("TRACKUI_DIR", str(root))
    rc, out, _ = run_cli(capsys, "ls")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATE", "NAME"]
    assert "alpha" in lines[1] and "finished" in lines[1] and "proj/g1" in lines[1]


def test_show_json_and_human(capsys, root: Path, two) -> None:
    rc, out, _ = run_cli(capsys, "show", "alpha", "--dir", str(root), "--json")
    assert rc == 0
    obj = json.loads(out)
    assert obj["id"] == two[0] and obj["meta"]["name"] == "alpha"
    assert obj["metrics"] == {"acc": 3, "loss": 3}
    assert obj["config"]["opt"]["name"] == "adam"
    rc, out, _ = run_cli(capsys, "show", two[0][:6], "--dir", str(root))
    assert rc == 0
    assert "opt/name" in out and "adam" in out and "loss" in out


def test_show_by_run_directory_without_dir(capsys, root: Path, two, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    run_dir = next(root.glob(f"run-*-{two[1]}"))
    rc, out, _ = run_cli(capsys, "show", str(run_dir), "--json")
    assert rc == 0 and json.loads(out)["name"] == "beta"


def test_diff_exit_codes_and_json(capsys, root: Path, two, write_run) -> None:
    rc, out, _ = run_cli(capsys, "diff", "alpha", "beta", "--dir", str(root), "--json")
    assert rc == 1
    obj = json.loads(out)
    keys = {(r["section"], r["key"]) for r in obj["rows"]}
    assert ("config", "lr") in keys and ("config", "opt/name") not in keys
    lr = next(r for r in obj["rows"] if r["key"] == "lr")
    assert lr["values"] == [0.1, 0.2] and lr["deltas"][1] == pytest.approx(0.1)
    rc, out, _ = run_cli(capsys, "diff", "alpha", "beta", "--dir", str(root), "--all", "--json")
    assert rc == 1 and ("config", "opt/name") in {
        (r["section"], r["key"]) for r in json.loads(out)["rows"]
    }
    rc, out, _ = run_cli(capsys, "diff", "alpha", "beta", "--dir", str(root))
    assert rc == 1 and "lr" in out and "(+0.1)" in out
    same = root.parent / "same"
    write_run(same, "s1", config={"lr": 1}, summary={"x": 2})
    write_run(same, "s2", config={"lr": 1}, summary={"x": 2}, stamp="20231114_221321")
    rc, out, _ = run_cli(capsys, "diff", "s1", "s2", "--dir", str(same))
    assert rc == 0 and "no differences" in out


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_full_resolution(capsys, root: Path, fmt: str, tmp_path: Path) -> None:
    run = trackui.init(project="p", name="big", dir=root)
    for s in range(1500):
        run.log({"loss": s / 7, "odd": float("nan") if s == 3 else s})
    run.finish()
    out_file = tmp_path / f"out.{fmt}"
    rc, _, err = run_cli(
        capsys, "export", "big", "--dir", str(root), "--format", fmt, "-o", str(out_file)
    )
    assert rc == 0, err
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
        loss = [float(r["value"]) for r in rows if r["metric"] == "loss"]
        odd = [r["value"] for r in rows if r["metric"] == "odd"]
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in out_file.read_text().splitlines()]
        loss = [r["value"] for r in rows if r["metric"] == "loss"]
        odd = [r["value"] for r in rows if r["metric"] == "odd"]
    else:
        import pyarrow.parquet as pq

        t = pq.read_table(out_file).to_pylist()
        rows = t
        loss = [r["value"] for r in t if r["metric"] == "loss"]
        odd = ["nan" if math.isnan(r["value"]) else r["value"] for r in t if r["metric"] == "odd"]
    assert len(rows) == 3000
    assert loss == [s / 7 for s in range(1500)]
    assert str(odd[3]) == "nan"
    assert {r["run_name"] for r in rows} == {"big"}


def test_export_to_stdout(capsys, root: Path, two) -> None:
    rc, out, _ = run_cli(capsys, "export", "alpha", "beta", "--dir", str(root))
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10 and rows[0].keys() >= {
        "run_id",
        "run_name",
        "step",
        "time",
        "metric",
        "value",
    }


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["show", "nope"], "no run matches 'nope'"),
        (["diff", "alpha"], "needs at least two runs"),
        (["ls", "--bogus"], "unrecognized arguments"),
        (["export", "alpha", "--format", "xml"], "invalid choice"),
        (["show", "a\x1b[2J"], "no run matches 'a\\x1b[2J'"),
    ],
)
def test_usage_and_lookup_errors_exit_2_with_one_line(
    capsys, root: Path, two, argv, needle
) -> None:
    rc, out, err = run_cli(capsys, *argv, "--dir", str(root))
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and needle in err and "\x1b" not in err


def test_missing_root_and_unwritable_output(capsys, root: Path, two, tmp_path: Path) -> None:
    rc, _, err = run_cli(capsys, "ls", str(tmp_path / "nowhere"))
    assert rc == 2 and "no such directory" in err and err.count("\n") == 1
    rc, _, err = run_cli(
        capsys, "export", "alpha", "--dir", str(root), "-o", str(tmp_path / "no" / "x.csv")
    )
    assert rc == 2 and err.startswith("trackui: error:") and err.count("\n") == 1


def test_no_traceback_from_the_real_command(root: Path, two) -> None:
    env = {**os.environ, "TRACKUI_SILENT": "1"}
    for argv in (["show", "zzz"], ["ls", str(root / "missing")], ["diff", "alpha", "nope"]):
        p = subprocess.run(
            [sys.executable, "-m", "trackui", *argv, "--dir", str(root)] if argv[0] != "ls"
            else [sys.executable, "-m", "trackui", *argv],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert p.returncode == 2, p.stderr
        assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1


def test_hostile_names_are_printed_literally_and_safely(capsys, root: Path, write_run) -> None:
    for i, name in enumerate([*HOSTILE, "n" * 10_000]):
        write_run(root, f"h{i}", name=name, stamp=f"20231114_22132{i}", config={name[:50]: name},
                  tags=[name[:20]], summary={"m": 1})  # fmt: skip
    rc, out, _ = run_cli(capsys, "ls", str(root))
    assert rc == 0
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "[/]" in out and "[bold]x[/bold]" in out and "[@click=app.quit]" in out
    assert "esc\\x1b[31mred\\x1b[0m" in out
    assert max(len(line) for line in out.splitlines()) < 300  # the 10,000-char name is cut
    for i in range(len(HOSTILE) + 1):
        rc, out, _ = run_cli(capsys, "show", f"h{i}", "--dir", str(root))
        assert rc == 0 and "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    rc, out, _ = run_cli(capsys, "diff", "h0", "h3", "--dir", str(root), "--all")
    assert rc == 1 and "\x1b" not in out and "[/]" in out
    rc, out, _ = run_cli(capsys, "ls", str(root), "--json")
    names = [r["name"] for r in json.loads(out)]
    assert names[: len(HOSTILE)] == HOSTILE and names[-1] == "n" * 10_000  # JSON keeps them whole
    assert "\x1b" not in out and "\x9b" not in out  # escaped inside the JSON strings


def test_clean_escapes_controls() -> None:
    assert clean("a\x1b[1mb\tc\n") == "a\\x1b[1mb c\\x0a"
    assert clean("\u202eevil") == "\\u202eevil"
    assert clean("x" * 50, 10) == "x" * 9 + "…"
    assert clean(float("nan")) == "nan"
