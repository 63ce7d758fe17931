"""System metrics for the trainer's run, logged under ``system/`` in its own records.

The readings are ``trackui.system_metrics.Probe``'s, the sampler every run
has; the trainer turns that run's sampler thread off and samples here instead,
between steps, so that each sample lands beside the loss of its step. It
adds the memory PyTorch's allocator holds (``torch.cuda``) and reads only the
NVML device the trainer runs on. Each source that is missing is skipped;
nothing here raises during training.
"""

from __future__ import annotations

import time
from typing import Any

from trackui.system_metrics import Probe

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
        self._probe = Probe(gpus=False)
        if getattr(device, "type", None) == "cuda":
            self._open_nvml(device)

    def _open_nvml(self, device: Any) -> None:
        try:
            import pynvml
            import torch

            pynvml.nvmlInit()
            index = device.index if device.index is not None else torch.cuda.current_device()
            # Match by UUID: CUDA_VISIBLE_DEVICES renumbers devices for CUDA, not for NVML.
            uuid = str(torch.cuda.get_device_properties(index).uuid)
            handle = None
            for i in range(pynvml.nvmlDeviceGetCount()):
                h = pynvml.nvmlDeviceGetHandleByIndex(i)
                nv_uuid = pynvml.nvmlDeviceGetUUID(h)
                nv_uuid = nv_uuid.decode() if isinstance(nv_uuid, bytes) else str(nv_uuid)
                if nv_uuid.removeprefix("GPU-") == uuid.removeprefix("GPU-"):
                    handle = h
                    break
            if handle is None:
                handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            self._probe.open_gpu(handle, pynvml)
        except Exception:
            pass

    @property
    def has_nvml(self) -> bool:
        """Whether GPU utilisation is available from NVML."""
        return self._probe.has_nvml

    def due(self) -> bool:
        """Whether ``interval_s`` has passed since the last sample."""
        return bool(self._clock() - self._last >= self.interval_s)

    def sample(self) -> dict[str, float]:
        """One sample of every available metric, keyed ``system/...``."""
        self._last = self._clock()
        out = self._probe.process()
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
        out.update(self._probe.gpus())
        out.update(self._probe.machine())
        return out

    def maybe_sample(self) -> dict[str, float]:
        """A sample if one is due, else an empty dict."""
        return self.sample() if self.due() else {}
