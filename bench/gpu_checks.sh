#!/usr/bin/env bash
# The trainer's checks that need a CUDA GPU, in one go, each step bounded in time:
#   1. the CUDA tests (graph replay equals the eager step, readback, a short run);
#   2. bench/trainer_bench.py: the default 5-epoch run against the DataLoader
#      reference and against the floor, plus --arch cnn;
#   3. the whole trainer test suite, which runs on the GPU where there is one;
#   4. --arch cnn over three seeds; full runs with --amp and with --compile.
# Every step runs even if one before it failed; logs and the figures' JSON go to OUTDIR.
#
#   bash bench/gpu_checks.sh MNIST_DIR OUTDIR [REPEAT]
set -u
data=${1:?MNIST folder}
out=${2:?output folder}
repeat=${3:-2}
mkdir -p "$out"
export TRACKUI_DATA_DIR=$data PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
status=0

step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2
  shift 2
  echo "== $name"
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 25 "$out/$name.log"
  echo "== $name: exit $rc"
  [ "$rc" -eq 0 ] || status=1
}

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())'
step cuda-tests 90 "$py" -m pytest -q -p no:cacheprovider tests/trainer/test_cuda.py
step trainer-bench 300 "$py" bench/trainer_bench.py --data-dir "$data" --repeat "$repeat" \
  --json "$out/trainer_bench.json"
step trainer-tests 120 "$py" -m pytest -q -p no:cacheprovider tests/trainer

# --arch cnn over three seeds, with its default learning-rate decay and without.
step cnn-seeds 120 "$py" -m trackui.trainer.train --data-dir "$data" --dir "$out/cnn-seeds" \
  --arch cnn --sweep seed=1,2,3 lr_decay=1,0.7 --name cnn
"$py" - "$out/cnn-seeds" <<'PY'
import sys
from pathlib import Path
from trackui.store import reader

for run_dir in reader.list_run_dirs(Path(sys.argv[1])):
    info = reader.read_run(run_dir)
    records, _, _ = reader.read_records(run_dir)
    val = [r.metrics["val_accuracy"] for r in records if "val_accuracy" in r.metrics]
    print(f"{info.meta.get('name')}: val_accuracy by epoch {' '.join(f'{v:.4f}' for v in val)}")
PY

# The optional speed-ups, full default runs: bf16 autocast, then torch.compile.
step amp 60 "$py" -m trackui.trainer.train --data-dir "$data" --dir "$out/extra" --amp --name amp
step compile 90 "$py" -m trackui.trainer.train --data-dir "$data" --dir "$out/extra" --compile \
  --name compile
exit $status
