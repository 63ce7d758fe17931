"""The wheel holds the ``trackui`` package only, and ``import trackui`` stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "textual",
    "duckdb",
    "torch",
    "torchvision",
    "plotext",
    "transformers",
    "lightning",
    "pytorch_lightning",
    "keras",
    "pyarrow",
    "watchdog",
    "numpy",
    "tensorboard",
    "tensorboardX",
    "wandb",
    "mlflow",
    "trackio",
)


def test_wheel_holds_only_the_trackui_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("trackui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"trackui", next(t for t in tops if t.endswith(".dist-info"))}
    for module in (
        "trackui/__init__.py",
        "trackui/cli.py",
        "trackui/store/writer.py",
        "trackui/store/reader.py",
        "trackui/tui/app.py",
        "trackui/trainer/train.py",
    ):
        assert module in names, module
    assert any(n.startswith("trackui/tui/") and n.endswith(".tcss") for n in names)
    # Every module of every package folder, wherever package-dir maps it from.
    homes = {"trackui": "trackui", "store": "trackui/store", "tui": "trackui/tui"}
    homes["trainer"] = "trackui/trainer"
    for top, installed in homes.items():
        for py in (REPO / top).rglob("*.py"):
            rel = py.relative_to(REPO / top).as_posix()
            assert f"{installed}/{rel}" in names, f"{top}/{rel} is not in the wheel"
    assert not any("/tests/" in n or n.startswith("tests/") for n in names)


def test_import_and_a_whole_run_stay_light(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys
        import trackui
        run = trackui.init(dir={str(tmp_path)!r}, config={{"lr": 0.1}})
        for i in range(10):
            trackui.log({{"loss": 1 / (i + 1)}})
        run.summary["best"] = 1
        trackui.finish()
        heavy = {HEAVY!r}
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"TRACKUI_SILENT": "1", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trackui", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "trackui" in out.stdout


def test_store_never_imports_textual() -> None:
    script = (
        "import sys, pkgutil, importlib, trackui.store as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('trackui.store.' + m.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext', 'plotext', 'torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_other_trackers_packages_are_imported_only_to_read_their_files(tmp_path: Path) -> None:
    # Every source module, and a root found to hold none of their runs: no
    # tracker's package (nor protobuf) is imported until one of its files is read.
    script = (
        "import sys, pkgutil, importlib, trackui.store.sources as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('trackui.store.sources.' + m.name)\n"
        "from pathlib import Path\n"
        "from trackui.store.index import Index\n"
        f"ix = Index(Path({str(tmp_path)!r}), cache=False)\n"
        "ix.refresh()\n"
        "ix.close()\n"
        "heavy = {'tensorboard', 'tensorboardX', 'wandb', 'mlflow', 'trackio', 'google', 'torch'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_first_screen_loads_without_the_data_stack() -> None:
    # The run table must paint within a second: the modules it needs leave
    # NumPy, DuckDB and Arrow to the store worker that opens the index, and
    # plotext to the first curves.
    script = (
        "import sys\n"
        "from trackui.tui.app import make_app\n"
        "import trackui.tui.screens.runs\n"
        "heavy = {'numpy', 'duckdb', 'pyarrow', 'plotext', 'textual_plotext'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="BLAS starts no workers on one core")
def test_the_viewer_starts_no_blas_workers() -> None:
    # Each worker spins after a dot product, taking a core from the viewer.
    # A training script importing trackui keeps NumPy's default.
    count = "import os, numpy; print(len(os.listdir('/proc/self/task')))"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}

    def threads(prelude: str) -> int:
        out = subprocess.run(
            [sys.executable, "-c", prelude + count], capture_output=True, text=True, env=env
        )
        return int(out.stdout)

    plain = threads("import trackui; ")
    assert threads("import trackui.tui; ") < plain
    cli = "from trackui.cli import main; main(['ls', '/nonexistent-root']); "
    assert threads(cli) < plain


def test_the_run_list_from_a_cached_index_needs_no_numpy(tmp_path: Path) -> None:
    # What the first paint waits for: open the cache, rescan, list the runs.
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from trackui.store.index import Index
        ix = Index(Path({str(tmp_path)!r}))
        ix.scan()
        rows = ix.runs()
        ix.keys()
        assert len(rows) == 2, rows
        print(sorted({{m.split(".")[0] for m in sys.modules}} & {{"numpy", "pyarrow"}}))
        ix.close()
        """
    )
    import trackui

    for name in ("a", "b"):
        run = trackui.init(dir=tmp_path, name=name, reinit=True)
        for i in range(300):
            run.log({"loss": 1.0 / (i + 1)})
        run.finish()
    from trackui.store.index import Index

    with Index(tmp_path) as ix:  # leaves the cache
        ix.refresh()
    env = {"TRACKUI_SILENT": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "[]"


def test_trainer_logs_only_through_the_public_api() -> None:
    for path in (REPO / "trainer").glob("*.py"):
        text = path.read_text()
        for banned in ("trackui.store", "trackui.tui", "trackui.api", "from trackui.run"):
            assert banned not in text, f"{path.name} reaches past the public API ({banned})"


def test_the_cli_imports_the_ui_and_the_trainer_only_when_run() -> None:
    # import-linter sees the CLI's function-level imports of the UI and the
    # trainer like any other (they are allowed edges there): that they stay
    # inside the functions is checked here, at run time.
    script = (
        "import sys, trackui.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith(('trackui.tui', 'trackui.trainer'))"
        " or m.split('.')[0] in ('textual', 'rich', 'duckdb', 'torch')))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_contracts_hold(tmp_path: Path) -> None:
    """``lint-imports`` as .ci/run runs it: in a tree shaped like the installed package."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    pkg = tmp_path / "trackui"
    pkg.mkdir()
    for p in (REPO / "trackui").iterdir():
        (pkg / p.name).symlink_to(p)
    for sub in ("store", "tui", "trainer"):
        (pkg / sub).symlink_to(REPO / sub)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run(
        [str(exe), "--no-cache", str(REPO / "pyproject.toml")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_api_module_is_under_the_api_contract() -> None:
    """A new module of the logging API is bound by the contract that keeps the UI out of it."""
    import tomllib

    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in conf["contracts"] if "API" in c["name"])
    listed = set(contract["source_modules"])
    modules = {
        f"trackui.{p.stem}"
        for p in (REPO / "trackui").glob("*.py")
        if p.stem not in ("__init__", "__main__")
    }
    modules |= {
        f"trackui.{p.name}" for p in (REPO / "trackui").iterdir() if (p / "__init__.py").exists()
    }
    assert modules - listed == set(), "add these to the API contract in pyproject.toml"
