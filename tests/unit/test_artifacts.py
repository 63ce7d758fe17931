"""Artifacts stored locally under the root, and what each run records about them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import trackui
from trackui.store import artifact_store as store


def _data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("alpha")
    (d / "sub" / "b.bin").write_bytes(b"\x00\x01" * 1000)
    return d


def _dataset(data: Path) -> trackui.Artifact:
    art = trackui.Artifact("mnist-data", type="dataset", description="d", metadata={"n": 2})
    art.add_dir(data)
    art.add_reference("s3://bucket/raw.csv")
    with art.new_file("notes.txt") as f:
        f.write("made in a test")
    return art


def test_log_stores_a_version_with_a_manifest_and_aliases(root: Path, tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = trackui.init(project="p", dir=root)
    got = run.log_artifact(_dataset(data), aliases=["best"])
    run.finish()

    assert got.version == "v0"
    assert sorted(got.aliases) == ["best", "latest"]
    vdir = root / "artifacts" / "mnist-data" / "v0"
    manifest = json.loads((vdir / "manifest.json").read_text())
    assert manifest["type"] == "dataset"
    assert manifest["metadata"] == {"n": 2}
    assert manifest["run_id"] == run.id
    assert set(manifest["entries"]) == {"a.txt", "sub/b.bin", "notes.txt", "raw.csv"}
    assert manifest["entries"]["raw.csv"]["ref"] == "s3://bucket/raw.csv"
    assert len(manifest["entries"]["a.txt"]["digest"]) == 64
    assert (vdir / "files" / "sub" / "b.bin").read_bytes() == b"\x00\x01" * 1000
    assert not (vdir / "files" / "raw.csv").exists()  # a reference is kept, never fetched
    assert store.read_aliases(root, "mnist-data") == {"best": 0, "latest": 0}
    assert Path(got.download()) == vdir / "files"
    assert Path(got.get_entry("a.txt").download()).read_text() == "alpha"
    assert [e.name for e in got.files()] == ["a.txt", "notes.txt", "raw.csv", "sub/b.bin"]
    assert set(got.manifest.entries) == {"a.txt", "sub/b.bin", "notes.txt", "raw.csv"}
    got.verify()


def test_unchanged_content_is_the_same_version_and_new_content_the_next(
    root: Path, tmp_path: Path
) -> None:
    data = _data(tmp_path)
    run = trackui.init(dir=root)
    first = run.log_artifact(_dataset(data))
    again = run.log_artifact(_dataset(data), aliases=["again"])
    assert again.version == first.version == "v0"
    assert store.list_versions(root, "mnist-data") == [0]
    (data / "a.txt").write_text("changed")
    second = run.log_artifact(_dataset(data))
    run.finish()
    assert second.version == "v1"
    assert store.read_aliases(root, "mnist-data") == {"again": 0, "latest": 1}
    # The unchanged file is not copied again: the new version links to the stored one.
    v0 = root / "artifacts" / "mnist-data" / "v0" / "files" / "sub" / "b.bin"
    v1 = root / "artifacts" / "mnist-data" / "v1" / "files" / "sub" / "b.bin"
    assert os.path.samefile(v0, v1)
    assert (root / "artifacts" / "mnist-data" / "v1" / "files" / "a.txt").read_text() == "changed"


def test_use_by_alias_and_by_object_is_recorded_in_the_run(root: Path, tmp_path: Path) -> None:
    data = _data(tmp_path)
    producer = trackui.init(dir=root)
    producer.log_artifact(_dataset(data), aliases=["best"])
    producer.finish()

    consumer = trackui.init(dir=root)
    used = consumer.use_artifact("mnist-data:best")
    assert used.version == "v0" and used.type == "dataset"
    assert consumer.use_artifact("entity/project/mnist-data:v0").version == "v0"
    local = trackui.Artifact("fresh", type="dataset")
    local.add_file(data / "a.txt")
    assert consumer.use_artifact(local).version == "v0"
    with pytest.raises(ValueError, match="not found"):
        consumer.use_artifact("mnist-data:nope")
    consumer.finish()

    logged = store.read_run_artifacts(producer.run_dir)
    assert [(u.op, u.name, u.version) for u in logged] == [("logged", "mnist-data", 0)]
    uses = store.read_run_artifacts(consumer.run_dir)
    assert [(u.op, u.name, u.version) for u in uses] == [
        ("used", "mnist-data", 0),
        ("used", "mnist-data", 0),
        ("used", "fresh", 0),
    ]


def test_models_are_logged_used_and_linked(root: Path, tmp_path: Path) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights")
    run = trackui.init(dir=root)
    model = run.log_model(weights, name="mlp", aliases=["prod"])
    assert model.type == "model"
    path = run.use_model("mlp:prod")
    assert (Path(path) / "model.pt").read_bytes() == b"weights"
    linked = run.link_model(weights, "registry/mlp-models")
    run.finish()
    assert linked.name == f"run-{run.id}-model.pt"
    ops = [(u.op, u.name, u.target) for u in store.read_run_artifacts(run.run_dir)]
    assert ("linked", linked.name, "registry/mlp-models") in ops
    assert ops[:2] == [("logged", "mlp", None), ("used", "mlp", None)]


def test_module_level_calls_and_bad_input(root: Path, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    trackui.init(dir=root)
    art = trackui.log_artifact(str(f), name="x", type="text")
    assert art.version == "v0"
    assert trackui.use_artifact("x:latest").get_entry("x.txt").size == 1
    with pytest.raises(ValueError):
        trackui.Artifact("../evil", type="x")
    bad = trackui.Artifact("ok", type="x")
    with pytest.raises(ValueError):
        bad.add_file(tmp_path / "missing.txt")
    with pytest.raises(ValueError):
        bad.add_file(f, name="../outside.txt")
    with pytest.raises(ValueError, match="cannot change"):
        art.add_file(f, name="more.txt")
    trackui.finish()


def test_a_half_written_version_is_skipped_and_not_reused(root: Path, tmp_path: Path) -> None:
    (root / "artifacts" / "x" / "v0").mkdir(parents=True)  # no manifest: abandoned
    f = tmp_path / "x.txt"
    f.write_text("x")
    run = trackui.init(dir=root)
    assert run.log_artifact(str(f), name="x").version == "v1"
    run.finish()
    assert store.list_versions(root, "x") == [1]
    assert store.list_artifacts(root) == ["x"]


def test_show_lists_logged_and_used_artifacts(root: Path, tmp_path: Path) -> None:
    data = _data(tmp_path)
    run = trackui.init(dir=root)
    run.log_artifact(_dataset(data), aliases=["best"])
    run.use_artifact("mnist-data:latest")
    run.finish()
    cmd = [sys.executable, "-m", "trackui", "show", run.id, "--dir", str(root)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "artifacts" in out
    assert "logged  mnist-data:v0 (best, latest)  [dataset]" in out
    assert "used    mnist-data:v0 (best, latest)  [dataset]" in out
    obj = json.loads(subprocess.run([*cmd, "--json"], capture_output=True, check=True).stdout)
    assert [a["op"] for a in obj["artifacts"]] == ["logged", "used"]


def test_save_logs_to_the_current_run_or_stores_without_one(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    run = trackui.init(dir=root)
    art = trackui.Artifact("saved", type="dataset")
    art.add_file(f)
    art.save()
    run.finish()
    assert art.version == "v0"
    assert [u.op for u in store.read_run_artifacts(run.run_dir)] == ["logged"]

    monkeypatch.setenv("TRACKUI_DIR", str(root))
    alone = trackui.Artifact("saved", type="dataset")
    alone.add_file(f, name="other.txt")
    alone.save()
    assert alone.version == "v1" and alone.source_run is None


def test_a_disabled_run_stores_and_records_nothing(root: Path, tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text("x")
    run = trackui.init(dir=root, mode="disabled")
    art = run.log_artifact(str(f), name="x")
    assert art.version is None
    run.alert("t", "x")
    run.finish()
    assert not (root / "artifacts").exists()
