"""``wandb.Histogram``: bin edges and counts, stored in the history record itself."""

from __future__ import annotations

from typing import Any

from trackui.media.files import _numpy

MAX_BINS = 512
"""The most bins a histogram may have (wandb's limit)."""


def uniform_histogram(a: Any, bins: int) -> tuple[Any, Any]:
    """``numpy.histogram(a, bins)`` for finite float64 ``a``, the same counts and edges
    (its uniform-bins path: a bin index per value, corrected against the edges),
    without its checks and dispatch, which cost more than the counting here."""
    import numpy as np

    if a.size == 0:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    # numpy.linspace's arithmetic, without its checks: the same edges to the bit.
    edges = np.arange(bins + 1, dtype=np.float64)
    edges *= (hi - lo) / bins
    edges += lo
    edges[-1] = hi
    idx = ((a - lo) * (bins / (hi - lo))).astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)
    idx[a < edges[idx]] -= 1
    idx[(a >= edges[idx + 1]) & (idx != bins - 1)] += 1
    return np.bincount(idx, minlength=bins), edges


class Histogram:
    """A histogram of values (``wandb.Histogram``).

    ``Histogram(sequence, num_bins=64)`` bins the finite values of a sequence,
    array or tensor; ``Histogram(np_histogram=(counts, edges))`` keeps the
    result of ``numpy.histogram`` as it is.
    """

    kind = "histogram"

    def __init__(
        self,
        sequence: Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = 64,
    ) -> None:
        if np_histogram is not None:
            counts, edges = np_histogram
            self.histogram = [float(c) for c in _numpy(counts)]
            self.bins = [float(e) for e in _numpy(edges)]
            if len(self.bins) != len(self.histogram) + 1:
                raise ValueError(
                    "trackui.Histogram: np_histogram needs len(edges) == len(counts)+1"
                )
        elif sequence is None:
            raise ValueError("trackui.Histogram: give a sequence or np_histogram")
        else:
            import numpy as np

            a = np.asarray(_numpy(sequence), dtype=np.float64).ravel()
            if not np.isfinite(a).all():
                a = a[np.isfinite(a)]
            counts, edges = uniform_histogram(a, int(num_bins))
            self.histogram = counts.tolist()
            self.bins = edges.tolist()
        if len(self.histogram) > MAX_BINS:
            raise ValueError(f"trackui.Histogram: at most {MAX_BINS} bins")

    def __repr__(self) -> str:
        return f"<trackui.Histogram {len(self.histogram)} bins>"
