"""The common TensorBoard scalar event decoded for all records of a read at once, without protobuf.

``torch.utils.tensorboard``, tensorboardX, Keras and TF1 write a scalar as an
event of one exact shape (protobuf's wire format)::

    09 <wall time: 8 bytes>  10 <step: varint>  2A <n1>  0A <n2>  0A <tag length> <tag>  15 <value: 4 bytes>

:func:`decode` finds, with NumPy, the records of exactly that shape and
their wall times, steps, tags and values; the others (the file's first
event, hparams, TF2's tensors, images...) are left to the protobuf classes.
Both read the same bytes the same way: this only saves decoding each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_MAX_VARINT = 10


@dataclass
class Scalars:
    """Per record of a chunk: whether it is a plain scalar event, and its parts if so."""

    fast: list[bool]
    wall: list[float]
    step: list[int]
    value: list[float]
    tag_at: list[int]
    tag_len: list[int]


def decode(a: Any, at: Any, length: Any) -> Scalars:
    """Decode the plain scalar events among the records ``a[at[i]:at[i]+length[i]]``."""
    import numpy as np

    n = len(at)
    last = len(a) - 1

    def byte(pos: Any) -> Any:
        return a[np.minimum(pos, last)].astype(np.int64)

    ok = (length >= 22) & (byte(at) == 0x09) & (byte(at + 9) == 0x10)
    step = np.zeros(n, dtype=np.uint64)
    vlen = np.zeros(n, dtype=np.int64)
    going = ok.copy()
    for k in range(_MAX_VARINT):
        b = byte(at + 10 + k)
        step |= np.where(going, (b & 0x7F).astype(np.uint64) << np.uint64(7 * k), np.uint64(0))
        vlen = np.where(going, k + 1, vlen)
        going &= (b & 0x80) != 0
    ok &= ~going
    q = at + 10 + vlen
    n1, n2, tl = byte(q + 1), byte(q + 3), byte(q + 5)
    ok &= (byte(q) == 0x2A) & (byte(q + 2) == 0x0A) & (byte(q + 4) == 0x0A)
    ok &= (n1 < 128) & (n2 < 128) & (tl < 128) & (n2 == tl + 7) & (n1 == n2 + 2)
    ok &= q + 11 + tl == at + length
    ok &= byte(q + 6 + tl) == 0x15
    ok &= step < np.uint64(1 << 63)
    idx = np.flatnonzero(ok)
    wall = np.zeros(n, dtype=np.float64)
    val = np.zeros(n, dtype=np.float64)
    if len(idx):
        p = at[idx]
        wall[idx] = a[(p + 1)[:, None] + np.arange(8)].copy().view("<f8").ravel()
        v_at = (q + 7 + tl)[idx]
        val[idx] = a[v_at[:, None] + np.arange(4)].copy().view("<f4").ravel()
    return Scalars(
        ok.tolist(), wall.tolist(), step.astype(np.int64).tolist(), val.tolist(),
        (q + 6).tolist(), tl.tolist(),
    )  # fmt: skip
