#!/usr/bin/env bash
# Time what installing the framework extra adds to a fresh environment.
#
# Builds a throwaway venv (no system site-packages), installs torch as CI
# does anyway, then times installing the frameworks on top of it. Prints one
# line per step. Pass --no-cache to time a cold pip cache.
#
#   bash tests/integrations/install_time.sh [--no-cache]
set -euo pipefail
PY=${PYTHON:-python3.11}
CACHE=()
if [[ "${1:-}" == "--no-cache" ]]; then CACHE=(--no-cache-dir); fi
TMP=$(mktemp -d /tmp/trackui-install-XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# t CMD...: run CMD quietly; print its wall-clock and CPU (user+system) seconds.
# CPU time is the steadier figure on a shared machine: wall time grows with load.
t() {
  /usr/bin/time -f "%e %U %S" -o "$TMP/time" "$@" >"$TMP/log" 2>&1 || { tail -20 "$TMP/log" >&2; exit 1; }
  awk '{printf "%7.1f s wall, %6.1f s cpu", $1, $2 + $3}' "$TMP/time"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "venv:        $(t "$PY" -m venv "$TMP/venv")"
PIP=("$TMP/venv/bin/pip" install -q "${CACHE[@]}")
echo "torch:       $(t "${PIP[@]}" 'torch==2.14.1')  (CI pays this without the frameworks too)"
echo "frameworks:  $(t "${PIP[@]}" 'transformers>=4.41' 'accelerate>=0.30' 'pytorch-lightning>=2.2' 'keras>=3.3')  (added by the frameworks extra)"
KERAS_BACKEND=torch "$TMP/venv/bin/python" -c "import transformers, accelerate, pytorch_lightning, keras, torch; print('installed:', 'transformers', transformers.__version__, 'accelerate', accelerate.__version__, 'pytorch-lightning', pytorch_lightning.__version__, 'keras', keras.__version__, 'torch', torch.__version__)"
du -sh "$TMP/venv" | awk '{print "venv size:   " $1}'
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
