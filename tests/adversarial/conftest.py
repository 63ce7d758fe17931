"""Fixtures of the adversarial tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

import pytest


@pytest.fixture
def in_private_mounts() -> Callable[[str, dict[str, str]], subprocess.CompletedProcess[str]]:
    """A function that runs a bash script as root of a private mount namespace.

    ``run(script, env)`` runs it under ``unshare -r -m`` (so that it may mount
    a small tmpfs) and returns the finished process. The test is skipped, with
    the reason, where the machine refuses a namespace or the mount.
    """
    if shutil.which("unshare") is None or shutil.which("df") is None:
        pytest.skip("unshare (util-linux) is not installed")
    refused = subprocess.run(
        ["unshare", "-r", "-m", "true"], capture_output=True, text=True, check=False
    )
    if refused.returncode != 0:
        pytest.skip(f"no private mount namespace here: {refused.stderr.strip()[-200:]}")

    def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        p = subprocess.run(
            ["unshare", "-r", "-m", "bash", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        if p.returncode != 0 and "mount:" in p.stderr:
            pytest.skip(f"tmpfs cannot be mounted here: {p.stderr.strip()[-200:]}")
        return p

    return run
