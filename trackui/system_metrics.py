"""System metrics for every run: a sampler thread that logs ``system/*`` on its own records.

``trackui.init()`` starts a :class:`Sampler` for each run (off with
``TRACKUI_STATS=0`` or a ``settings`` object whose ``x_disable_stats`` or
``disable_stats`` is true). Every ``interval_s`` seconds (default
``DEFAULT_INTERVAL_S``, or ``$TRACKUI_STATS_INTERVAL``) it reads:

* ``system/proc/cpu_percent``, ``system/proc/rss_mb``: this process (psutil),
* ``system/cpu_percent``, ``system/mem_percent``, ``system/mem_used_mb``: the machine,
* ``system/disk/read_mb_s``, ``system/disk/write_mb_s``, ``system/net/recv_mb_s``,
  ``system/net/sent_mb_s``: I/O rates since the previous sample,
* ``system/gpu/...`` (one GPU) or ``system/gpu.<i>/...`` (several): utilisation,
  memory, temperature and power from NVML, where ``pynvml`` (the ``nvidia-ml-py``
  package) imports and finds a device.

Each sample is one history record of its own (``Run._log_system``), at the
step the script is at and with the time it was taken: it never advances the
script's step. psutil and NVML are imported in the sampler thread, never at
``import trackui``. Any error in the sampler stops the sampler, never the script.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_INTERVAL_S = 10.0
"""Seconds between two samples (wandb samples every 15 s; 10 s gives a chart sooner)."""

_MB = 1024.0 * 1024.0


def stats_enabled(settings: Any = None) -> bool:
    """Whether a new run gets a sampler: not with ``TRACKUI_STATS=0`` or a disabling setting."""
    if os.environ.get("TRACKUI_STATS", "1").strip().lower() in ("0", "false", "off", "no"):
        return False
    for attr in ("x_disable_stats", "disable_stats"):
        value = settings.get(attr) if isinstance(settings, dict) else getattr(settings, attr, None)
        if value:
            return False
    return True


def interval_from_env() -> float:
    try:
        return max(0.05, float(os.environ.get("TRACKUI_STATS_INTERVAL", DEFAULT_INTERVAL_S)))
    except ValueError:
        return DEFAULT_INTERVAL_S


class Probe:
    """Reads the metrics; each source that is missing or fails is dropped, never raised.

    Args:
        gpus: read NVML devices (the trainer passes its own choice).
    """

    def __init__(self, gpus: bool = True) -> None:
        self._psutil: Any = None
        self._proc: Any = None
        self._io: dict[str, tuple[float, float, float]] = {}
        """``name -> (time, bytes a, bytes b)`` of the previous I/O reading."""
        try:
            import psutil

            self._psutil = psutil
            self._proc = psutil.Process()
            self._proc.cpu_percent(None)  # the first call only starts the measurement
            psutil.cpu_percent(None)
        except Exception:
            self._proc = None
        self._nvml: Any = None
        self._handles: list[Any] = []
        if gpus:
            self._open_nvml()

    def _open_nvml(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handles = [
                pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())
            ]
            self._nvml = pynvml
        except Exception:
            self._nvml, self._handles = None, []

    def open_gpu(self, handle: Any, nvml: Any) -> None:
        """Read only this NVML device (the trainer's), named ``system/gpu/...``."""
        self._nvml, self._handles = nvml, [handle]

    @property
    def has_nvml(self) -> bool:
        return bool(self._handles)

    def process(self) -> dict[str, float]:
        """This process's RSS and CPU use."""
        out: dict[str, float] = {}
        if self._proc is not None:
            try:
                out["system/proc/rss_mb"] = self._proc.memory_info().rss / _MB
                out["system/proc/cpu_percent"] = float(self._proc.cpu_percent(None))
            except Exception:
                self._proc = None
        return out

    def machine(self) -> dict[str, float]:
        """System CPU and memory, disk and network I/O rates."""
        ps = self._psutil
        out: dict[str, float] = {}
        if ps is None:
            return out
        try:
            out["system/cpu_percent"] = float(ps.cpu_percent(None))
            vm = ps.virtual_memory()
            out["system/mem_percent"] = float(vm.percent)
            out["system/mem_used_mb"] = (vm.total - vm.available) / _MB
        except Exception:
            pass
        for name, read, a, b in (
            ("disk", ps.disk_io_counters, "read_bytes", "write_bytes"),
            ("net", ps.net_io_counters, "bytes_recv", "bytes_sent"),
        ):
            try:
                c = read()
                self._rate(out, name, float(getattr(c, a)), float(getattr(c, b)))
            except Exception:
                pass
        return out

    def _rate(self, out: dict[str, float], name: str, a: float, b: float) -> None:
        now = time.monotonic()
        prev = self._io.get(name)
        self._io[name] = (now, a, b)
        if prev is None or now <= prev[0]:
            return
        dt = now - prev[0]
        la, lb = ("read", "write") if name == "disk" else ("recv", "sent")
        out[f"system/{name}/{la}_mb_s"] = max(0.0, a - prev[1]) / _MB / dt
        out[f"system/{name}/{lb}_mb_s"] = max(0.0, b - prev[2]) / _MB / dt

    def gpus(self) -> dict[str, float]:
        """Utilisation, memory, temperature and power of each NVML device."""
        out: dict[str, float] = {}
        nv = self._nvml
        for i, h in enumerate(list(self._handles)):
            p = "system/gpu/" if len(self._handles) == 1 else f"system/gpu.{i}/"
            try:
                util = nv.nvmlDeviceGetUtilizationRates(h)
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                out[p + "util_percent"] = float(util.gpu)
                out[p + "mem_util_percent"] = float(util.memory)
                out[p + "mem_used_mb"] = mem.used / _MB
                out[p + "mem_total_mb"] = mem.total / _MB
            except Exception:
                self._handles = [x for x in self._handles if x is not h]
                continue
            try:
                out[p + "temp_c"] = float(nv.nvmlDeviceGetTemperature(h, 0))
                out[p + "power_w"] = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
            except Exception:
                pass  # not every board reports these
        return out

    def sample(self) -> dict[str, float]:
        """Everything available, keyed ``system/...``."""
        return {**self.process(), **self.machine(), **self.gpus()}


class Sampler:
    """A daemon thread that hands a sample to ``sink`` every ``interval_s`` seconds.

    ``stop()`` ends it (``Run.finish`` calls it) and waits for it. An
    exception anywhere in the thread, in a reading or in ``sink``, ends the
    thread quietly; the script never sees it.
    """

    def __init__(
        self,
        sink: Callable[[dict[str, float]], Any],
        interval_s: float | None = None,
        probe: Callable[[], Probe] = Probe,
    ) -> None:
        self.interval_s = interval_from_env() if interval_s is None else interval_s
        self.samples = 0
        self.error: BaseException | None = None
        self._sink = sink
        self._make_probe = probe
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="trackui-stats", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            # Readings start after a short wait: a script done by then never imports psutil.
            if self._stop.wait(min(1.0, self.interval_s / 2)):
                return
            probe = self._make_probe()
            while not self._stop.wait(self.interval_s):
                values = probe.sample()
                if values and not self._stop.is_set():
                    self._sink(values)
                    self.samples += 1
        except BaseException as e:  # never reaches the script
            self.error = e

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def start_for(run: Any, settings: Any = None) -> Sampler | None:
    """The sampler of a new run, started; None when stats are off."""
    if not stats_enabled(settings):
        return None
    return Sampler(run._log_system).start()
