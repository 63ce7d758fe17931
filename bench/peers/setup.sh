#!/usr/bin/env bash
# Create the peer benchmark venv: wandb, tensorboardX, tensorboard, MLflow and
# trackio, kept apart from trackui's own environment.
#
#   bench/peers/setup.sh [VENV_DIR]      (default: /work/bench-venv)
#
# PYTHON picks the interpreter (default: python3; 3.10 or newer).
set -euo pipefail

venv="${1:-/work/bench-venv}"
python="${PYTHON:-python3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "error: $python is missing or older than 3.10; set PYTHON" >&2
    exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"

# Fail here, not in the middle of a benchmark, if a peer does not import.
"$venv/bin/python" - <<'PY'
import importlib.metadata as md

import mlflow  # noqa: F401
import orjson  # noqa: F401
import tensorboard.summary  # noqa: F401
import tensorboardX  # noqa: F401
import trackio  # noqa: F401
import wandb  # noqa: F401
from tensorboard.backend.event_processing import event_accumulator  # noqa: F401

for name in ("wandb", "tensorboardX", "tensorboard", "mlflow", "trackio", "orjson", "numpy"):
    print(f"{name}=={md.version(name)}")
PY
echo "peer venv ready: $venv/bin/python"
