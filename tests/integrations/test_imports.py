"""No weight for scripts that use no framework; one clear line when a framework is missing.

Each check runs in a fresh interpreter, so what the test process has already
imported cannot hide or fake anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FRAMEWORKS = (
    "torch",
    "transformers",
    "accelerate",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "keras",
    "tensorflow",
    "jax",
)


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "TRACKUI_SILENT": "1",
        "TRACKUI_CONSOLE": "off",
        "KERAS_BACKEND": "torch",
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_import_and_a_whole_run_load_no_framework(tmp_path: Path) -> None:
    code = f"""
import json, sys
import trackui
import trackui.integrations
trackui.login()
run = trackui.init(project="p", run_name="r", dir="runs", config={{"lr": 0.1}})
for i in range(3):
    trackui.log({{"loss": 1.0 / (i + 1), "nested": {{"acc": 0.5}}}})
run.summary["best"] = 1.0
run.define_metric("loss", summary="min")
trackui.finish()
print(json.dumps([m for m in {FRAMEWORKS!r} if m in sys.modules]))
"""
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
    assert list((tmp_path / "runs").glob("run-*-*/history.jsonl")), "the cycle really wrote a run"


@pytest.mark.parametrize(
    ("module", "hidden", "install"),
    [
        ("trackui.integrations.transformers", ["transformers"], "pip install transformers"),
        (
            "trackui.integrations.lightning",
            ["lightning", "lightning.pytorch", "pytorch_lightning"],
            "pip install pytorch-lightning",
        ),
        ("trackui.integrations.keras", ["keras"], "pip install keras"),
    ],
)
def test_missing_framework_is_one_line_saying_what_to_install(
    tmp_path: Path, module: str, hidden: list[str], install: str
) -> None:
    # sys.modules[name] = None is how Python itself spells "this module cannot
    # be imported": the same ImportError a missing package gives.
    code = f"""
import sys
for name in {hidden!r}:
    sys.modules[name] = None
try:
    import {module}
except ImportError as e:
    print("ImportError:", e)
else:
    print("imported")
"""
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("ImportError:"), out
    assert len(out.splitlines()) == 1
    assert install in out
    assert module in out
