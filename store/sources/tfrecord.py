"""TFRecord framing, as TensorBoard's event files use it, read from a byte offset with its CRCs checked.

A record is: its length (8 bytes, little-endian), the masked CRC32C of those
8 bytes (4 bytes), the data, and the masked CRC32C of the data (4 bytes).
:func:`read_records` reads every complete record after an offset: a record
whose data fails its CRC is skipped with a warning; a length that fails its
CRC loses the framing, so the bytes are searched for the next valid header
(skipped with a warning); an incomplete record at the end (being written) is
left for the next read.

CRC32C comes from an installed C implementation (``google-crc32c`` or
``crc32c``) when there is one; else from a table, applied with NumPy to all
the records of a read at once (one array step per byte position), so the
check stays a small part of the read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

HEADER = 12
FOOTER = 4
MAX_RECORD = 32 << 20
"""A length above this is taken for damage (TensorBoard's own records are far smaller)."""
READ_CHUNK = 64 << 20
"""Bytes read from a file at a time."""
RESYNC_SPAN = 1 << 20
"""How far past damaged framing the next valid header is looked for."""
_MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78


def _table() -> list[int]:
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        out.append(c)
    return out


TABLE = _table()


def _py_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    t = TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast() -> Callable[[bytes], int] | None:
    try:
        import google_crc32c

        if google_crc32c.implementation == "c":
            return lambda b: int(google_crc32c.value(b))
    except (ImportError, AttributeError):
        pass
    try:
        import crc32c

        return lambda b: int(crc32c.crc32c(b))
    except (ImportError, AttributeError):
        return None


_FAST = _fast()
crc32c: Callable[[bytes], int] = _FAST or _py_crc32c
"""CRC32C of some bytes (the fastest implementation found)."""


def masked(crc: int) -> int:
    """TFRecord's masked form of a CRC32C."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def _np_crcs(buf: bytes, starts: list[int], lengths: list[int]) -> list[int]:
    """CRC32C of ``buf[s:s+n]`` for each record, computed for all records at once."""
    import numpy as np

    if not starts:
        return []
    a = np.frombuffer(buf, dtype=np.uint8)
    st = np.asarray(starts, dtype=np.int64)
    ln = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-ln, kind="stable")
    st, ln_sorted = st[order], ln[order]
    table = np.asarray(TABLE, dtype=np.uint32)
    crc = np.full(len(st), 0xFFFFFFFF, dtype=np.uint32)
    # Records active at byte j are a prefix (sorted by length, longest first).
    neg = -ln_sorted
    for j in range(int(ln_sorted[0])):
        k = int(np.searchsorted(neg, -(j + 1), side="right"))
        if k == 0:
            break
        c = crc[:k]
        crc[:k] = table[(c ^ a[st[:k] + j]) & 0xFF] ^ (c >> 8)
    crc ^= np.uint32(0xFFFFFFFF)
    out = np.empty(len(st), dtype=np.uint32)
    out[order] = crc
    return out.tolist()


BIG = 4096
"""Records longer than this are checked one by one (the array method costs a step per byte)."""


def crcs(buf: bytes, starts: list[int], lengths: list[int]) -> list[int]:
    """CRC32C of each ``buf[start:start+length]``."""
    if _FAST is not None:
        mv = memoryview(buf)
        return [_FAST(mv[s : s + n]) for s, n in zip(starts, lengths, strict=True)]
    small = [i for i, n in enumerate(lengths) if n <= BIG]
    out = [0] * len(starts)
    got = _np_crcs(buf, [starts[i] for i in small], [lengths[i] for i in small])
    for i, c in zip(small, got, strict=True):
        out[i] = c
    for i, n in enumerate(lengths):
        if n > BIG:
            out[i] = _py_crc32c(buf[starts[i] : starts[i] + n])
    return out


_HEAD = struct.Struct("<QI")
_U32 = struct.Struct("<I")


def _frames(buf: bytes) -> tuple[list[tuple[int, int, int, int]], int, int | None]:
    """Records framed in ``buf``: ``([(start, length, head crc, data crc)], end, damaged at)``.

    ``end``: where the complete records end; ``damaged at``: the offset in
    ``buf`` of a header whose length is implausible (the caller checks CRCs).
    """
    out = []
    pos = 0
    n = len(buf)
    unpack = _HEAD.unpack_from
    u32 = _U32.unpack_from
    while pos + HEADER <= n:
        length, hcrc = unpack(buf, pos)
        if length > MAX_RECORD:
            return out, pos, pos
        end = pos + HEADER + length + FOOTER
        if end > n:
            break
        out.append((pos, length, hcrc, u32(buf, end - FOOTER)[0]))
        pos = end
    return out, pos, None


def _resync(buf: bytes, start: int) -> int | None:
    """The next offset after ``start`` that holds a header with a valid length CRC."""
    stop = min(len(buf) - HEADER, start + RESYNC_SPAN)
    for p in range(start + 1, stop + 1):
        length, hcrc = _HEAD.unpack_from(buf, p)
        if length <= MAX_RECORD and masked(crc32c(buf[p : p + 8])) == hcrc:
            return p
    return None


def read_records(path: str, offset: int) -> tuple[list[bytes], int, list[str]]:
    """The complete records of ``path`` after ``offset``: ``(data, next offset, warnings)``."""
    warns: list[str] = []
    out: list[bytes] = []
    try:
        f = open(path, "rb")  # noqa: SIM115
    except OSError as e:
        return [], offset, [f"{path}: cannot be read ({e.strerror or e})"]
    with f:
        while True:
            f.seek(offset)
            buf = f.read(READ_CHUNK)
            if len(buf) < HEADER:
                break
            frames, end, bad_at = _frames(buf)
            head_crcs = crcs(buf, [s for s, *_ in frames], [8] * len(frames))
            data_crcs = crcs(buf, [s + HEADER for s, *_ in frames], [n for _s, n, _h, _d in frames])
            cut = None
            for (s, n, h, d), hc, dc in zip(frames, head_crcs, data_crcs, strict=True):
                if masked(hc) != h:
                    cut = s  # the framing is lost from here
                    break
                if masked(dc) != d:
                    warns.append(f"{path}: record at byte {offset + s} fails its CRC; skipped")
                    continue
                out.append(buf[s + HEADER : s + HEADER + n])
            if (
                cut is None
                and bad_at is None
                and len(buf) - end >= HEADER
                and masked(crc32c(buf[end : end + 8])) != _HEAD.unpack_from(buf, end)[1]
            ):
                cut = end  # a damaged length pointing past the end: not a record being written
            if cut is None and bad_at is not None:
                if masked(crc32c(buf[bad_at : bad_at + 8])) == _HEAD.unpack_from(buf, bad_at)[1]:
                    warns.append(f"{path}: record at byte {offset + bad_at} too large; not read")
                    return out, offset + bad_at, warns
                cut = bad_at
            if cut is not None:
                nxt = _resync(buf, cut)
                if nxt is None:
                    if len(buf) - cut > RESYNC_SPAN:
                        warns.append(f"{path}: damaged from byte {offset + cut}; the rest skipped")
                        return out, offset + len(buf), warns
                    # (a header torn at the end: it waits for the rest)
                    return out, offset + cut, warns
                warns.append(
                    f"{path}: damaged bytes {offset + cut}-{offset + nxt} skipped (no valid record)"
                )
                offset += nxt
                continue
            offset += end
            if len(buf) < READ_CHUNK or end == 0:
                break
    return out, offset, warns
