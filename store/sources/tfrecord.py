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
from dataclasses import dataclass
from typing import Any

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


def _np_crcs(a: Any, st: Any, ln: Any) -> Any:
    """CRC32C of ``a[s:s+n]`` for each record (arrays), all records at once."""
    import numpy as np

    crc = np.full(len(st), 0xFFFFFFFF, dtype=np.uint32)
    if not len(st):
        return crc
    order = np.argsort(-ln, kind="stable")
    st_o, neg = st[order], -ln[order]
    table = np.asarray(TABLE, dtype=np.uint32)
    c = crc.copy()
    # Records still going at byte j are a prefix (longest first).
    for j in range(int(-neg[0])):
        k = int(np.searchsorted(neg, -(j + 1), side="right"))
        if k == 0:
            break
        cj = c[:k]
        c[:k] = table[(cj ^ a[st_o[:k] + j]) & 0xFF] ^ (cj >> 8)
    crc[order] = c ^ np.uint32(0xFFFFFFFF)
    return crc


BIG = 4096
"""Records longer than this are checked one by one (the array method costs a step per byte)."""


def crc_array(a: Any, st: Any, ln: Any) -> Any:
    """CRC32C of each ``a[start:start+length]`` (NumPy arrays in, a ``uint32`` array out)."""
    import numpy as np

    if _FAST is not None:
        mv = memoryview(a)
        return np.fromiter(
            (_FAST(mv[s : s + n]) for s, n in zip(st.tolist(), ln.tolist(), strict=True)),
            dtype=np.uint32,
            count=len(st),
        )
    small = ln <= BIG
    if small.all():
        return _np_crcs(a, st, ln)
    out = np.zeros(len(st), dtype=np.uint32)
    out[small] = _np_crcs(a, st[small], ln[small])
    for i in np.flatnonzero(~small).tolist():
        out[i] = _py_crc32c(a[st[i] : st[i] + ln[i]].tobytes())
    return out


def crcs(buf: bytes, starts: list[int], lengths: list[int]) -> list[int]:
    """CRC32C of each ``buf[start:start+length]``."""
    import numpy as np

    a = np.frombuffer(buf, dtype=np.uint8)
    st = np.asarray(starts, dtype=np.int64)
    return crc_array(a, st, np.asarray(lengths, dtype=np.int64)).tolist()


def masked_array(crc: Any) -> Any:
    """:func:`masked` of each CRC of a ``uint32`` array."""
    import numpy as np

    c = crc.astype(np.uint64)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + _MASK_DELTA & 0xFFFFFFFF).astype(np.uint32)


def u32_at(a: Any, at: Any) -> Any:
    """The little-endian 32-bit values at each offset of ``at``."""
    import numpy as np

    return a[at[:, None] + np.arange(4)].copy().view("<u4").ravel()


_HEAD = struct.Struct("<QI")
_LEN = struct.Struct("<Q")


def _frames(buf: bytes) -> tuple[list[int], list[int], int, int | None]:
    """Records framed in ``buf``: ``(starts, lengths, end, damaged at)``.

    ``end``: where the complete records end; ``damaged at``: the offset in
    ``buf`` of a header whose length is implausible (the caller checks CRCs).
    """
    starts: list[int] = []
    lengths: list[int] = []
    pos = 0
    limit = len(buf) - HEADER
    unpack = _LEN.unpack_from
    add_s, add_n = starts.append, lengths.append
    while pos <= limit:
        (length,) = unpack(buf, pos)
        if length > MAX_RECORD:
            return starts, lengths, pos, pos
        end = pos + HEADER + length + FOOTER
        if end > limit + HEADER:
            break
        add_s(pos)
        add_n(length)
        pos = end
    return starts, lengths, pos, None


def _resync(buf: bytes, start: int) -> int | None:
    """The next offset after ``start`` that holds a header with a valid length CRC."""
    stop = min(len(buf) - HEADER, start + RESYNC_SPAN)
    for p in range(start + 1, stop + 1):
        length, hcrc = _HEAD.unpack_from(buf, p)
        if length <= MAX_RECORD and masked(crc32c(buf[p : p + 8])) == hcrc:
            return p
    return None


@dataclass
class Chunk:
    """Records read from one stretch of a file: their data is ``buf[at[i]:at[i]+length[i]]``."""

    buf: bytes
    at: Any
    """Offsets of the records' data in ``buf`` (an int64 array)."""
    length: Any


def read_chunks(path: str, offset: int) -> tuple[list[Chunk], int, list[str]]:
    """The complete, CRC-checked records of ``path`` after ``offset``: ``(chunks, next offset, warnings)``."""
    import numpy as np

    warns: list[str] = []
    out: list[Chunk] = []
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
            starts, lengths, end, bad_at = _frames(buf)
            a = np.frombuffer(buf, dtype=np.uint8)
            st = np.asarray(starts, dtype=np.int64)
            ln = np.asarray(lengths, dtype=np.int64)
            bad_head = np.flatnonzero(
                masked_array(crc_array(a, st, np.full(len(st), 8, np.int64))) != u32_at(a, st + 8)
            )
            cut = None
            if len(bad_head):
                k = int(bad_head[0])
                cut = starts[k]  # the framing is lost from here
                st, ln = st[:k], ln[:k]
            at = st + HEADER
            good = masked_array(crc_array(a, at, ln)) == u32_at(a, at + ln)
            if not good.all():
                for i in np.flatnonzero(~good).tolist():
                    warns.append(
                        f"{path}: record at byte {offset + int(st[i])} fails its CRC; skipped"
                    )
                at, ln = at[good], ln[good]
            out.append(Chunk(buf, at, ln))
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
                    # A header that fails its CRC near the end: looked at again
                    # when the file grows (a record after it resynchronises).
                    warns.append(
                        f"{path}: record at byte {offset + cut} is damaged; the bytes after it "
                        "are read when the file grows past it"
                    )
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


def read_records(path: str, offset: int) -> tuple[list[bytes], int, list[str]]:
    """:func:`read_chunks` as a list of each record's bytes."""
    chunks, offset, warns = read_chunks(path, offset)
    out = [
        c.buf[d : d + n]
        for c in chunks
        for d, n in zip(c.at.tolist(), c.length.tolist(), strict=True)
    ]
    return out, offset, warns
