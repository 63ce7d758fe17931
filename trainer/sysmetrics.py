"""System metrics for the trainer's run, logged under ``system/``.

GPU utilisation, memory, temperature and power come from NVML (the
``nvidia-ml-py`` package, imported as ``pynvml``) where it is installed and
finds the device; the memory PyTorch's allocator holds comes from
``torch.cuda``; process RSS and CPU use come from psutil. Each source that is
missing is skipped; nothing here raises during training.
"""

from __future__ import annotations

import time
from typing import Any

_MB = 1024.0 * 1024.0


class SystemMetrics:
    """Samples system metrics at most once per ``interval_s`` seconds.

    Args:
        device: the torch device the trainer runs on.
        interval_s: the shortest time between two samples.
        clock: monotonic clock, replaceable in tests.
    """

    def __init__(self, device: Any, interval_s: float = 2.0, clock: Any = time.monotonic) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last = -float("inf")
        self._device = device
        self._proc: Any = None
        self._nvml: Any = None
        self._nvml_handle: Any = None
        try:
            import psutil

            self._proc = psutil.Process()
            self._proc.cpu_percent(None)  # the first call only starts the measurement
        except Exception:
            self._proc = None
        if getattr(device, "type", None) == "cuda":
            self._nvml_handle = self._open_nvml(device)

    def _open_nvml(self, device: Any) -> Any:
        try:
            import pynvml
            import torch

            pynvml.nvmlInit()
            index = device.index if device.index is not None else torch.cuda.current_device()
            # Match by UUID: CUDA_VISIBLE_DEVICES renumbers devices for CUDA, not for NVML.
            uuid = str(torch.cuda.get_device_properties(index).uuid)
            for i in range(pynvml.nvmlDeviceGetCount()):
                handle = pynvml.nvmlDeviceGetHandleByIndex(i)
                nv_uuid = pynvml.nvmlDeviceGetUUID(handle)
                nv_uuid = nv_uuid.decode() if isinstance(nv_uuid, bytes) else str(nv_uuid)
                if nv_uuid.removeprefix("GPU-") == uuid.removeprefix("GPU-"):
                    self._nvml = pynvml
                    return handle
            self._nvml = pynvml
            return pynvml.nvmlDeviceGetHandleByIndex(index)
        except Exception:
            self._nvml = None
            return None

    @property
    def has_nvml(self) -> bool:
        """Whether GPU utilisation is available from NVML."""
        return self._nvml_handle is not None

    def due(self) -> bool:
        """Whether ``interval_s`` has passed since the last sample."""
        return bool(self._clock() - self._last >= self.interval_s)

    def sample(self) -> dict[str, float]:
        """One sample of every available metric, keyed ``system/...``."""
        self._last = self._clock()
        out: dict[str, float] = {}
        if self._proc is not None:
            try:
                out["system/proc/rss_mb"] = self._proc.memory_info().rss / _MB
                out["system/proc/cpu_percent"] = float(self._proc.cpu_percent(None))
            except Exception:
                self._proc = None
        if getattr(self._device, "type", None) == "cuda":
            try:
                import torch

                out["system/gpu/torch_allocated_mb"] = (
                    torch.cuda.memory_allocated(self._device) / _MB
                )
                out["system/gpu/torch_reserved_mb"] = torch.cuda.memory_reserved(self._device) / _MB
                out["system/gpu/torch_max_allocated_mb"] = (
                    torch.cuda.max_memory_allocated(self._device) / _MB
                )
            except Exception:
                pass
        if self._nvml_handle is not None:
            nv, h = self._nvml, self._nvml_handle
            try:
                util = nv.nvmlDeviceGetUtilizationRates(h)
                mem = nv.nvmlDeviceGetMemoryInfo(h)
                out["system/gpu/util_percent"] = float(util.gpu)
                out["system/gpu/mem_util_percent"] = float(util.memory)
                out["system/gpu/mem_used_mb"] = mem.used / _MB
                out["system/gpu/mem_total_mb"] = mem.total / _MB
            except Exception:
                self._nvml_handle = None
            try:
                out["system/gpu/temp_c"] = float(nv.nvmlDeviceGetTemperature(h, 0))
                out["system/gpu/power_w"] = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
            except Exception:
                pass  # not every board reports these
        return out

    def maybe_sample(self) -> dict[str, float]:
        """A sample if one is due, else an empty dict."""
        return self.sample() if self.due() else {}
