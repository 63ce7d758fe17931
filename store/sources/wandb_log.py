"""The framing of wandb's ``run-*.wandb`` files: a LevelDB log of records.

The file starts with a 7-byte header (``:W&B``, the magic ``0xBEE1`` as a
little-endian uint16, version ``0``) and is cut into 32 KiB blocks counted
from the start of the file. A block holds chunks, each with a 7-byte header
(CRC-32 of the type byte then the data, little-endian uint32; data length,
uint16; type: FULL 1, FIRST 2, MIDDLE 3, LAST 4) and its data; a record too
big for what is left of a block is split into FIRST, MIDDLE... LAST chunks,
and a block's last 1 to 6 bytes, too few for a header, are zero padding.
The CRC is zlib's (IEEE), seeded with the CRC of the type byte, unmasked: what
wandb's writers use, unlike LevelDB's masked CRC-32C.

:func:`scan` reads what is complete in a buffer: a record whose last chunk is
not written yet is left for the next scan; a damaged chunk (bad CRC, a length
past its block, an unknown type) is skipped with the rest of its block, and
the scan resyncs at the next block.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

HEADER = struct.pack("<4sHB", b":W&B", 0xBEE1, 0)
HEADER_LEN = 7
BLOCK = 32768
CHUNK_HEADER = struct.Struct("<IHB")
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4
_SEED = {t: zlib.crc32(bytes([t])) for t in (FULL, FIRST, MIDDLE, LAST)}


class NotAWandbLog(ValueError):
    """The file does not start with wandb's log header."""


def check_header(head: bytes) -> None:
    """Raise :class:`NotAWandbLog` unless ``head`` starts with the header (a short file waits)."""
    if len(head) >= HEADER_LEN and head[:HEADER_LEN] != HEADER:
        raise NotAWandbLog("not a wandb log (bad header)")


@dataclass
class Scan:
    """What one :func:`scan` found."""

    records: list[tuple[int, bytes]] = field(default_factory=list)
    """``(file offset where the record starts, its bytes)`` in file order."""
    next_offset: int = 0
    """Where the next scan starts: a record boundary after everything read or skipped."""
    damaged: list[tuple[int, str]] = field(default_factory=list)
    """``(file offset, what was wrong)`` for each block skipped as damaged."""


def scan(buf: bytes | memoryview, base: int, start: int) -> Scan:
    """The complete records in ``buf`` (the file's bytes from offset ``base``) from ``start``.

    ``start`` is a record boundary at or after ``base`` and after the file
    header. The scan stops at the end of ``buf`` or at the first record not
    complete in it; ``next_offset`` is then where that record starts.
    """
    out = Scan(next_offset=start)
    end = base + len(buf)
    pos = start
    pending: list[bytes] = []
    pending_at = -1
    unpack = CHUNK_HEADER.unpack_from
    crc32 = zlib.crc32
    while True:
        left = BLOCK - pos % BLOCK
        if left < HEADER_LEN:  # the block's padding
            if pos + left > end:
                break
            pos += left
            if not pending:
                out.next_offset = pos
            continue
        if pos + HEADER_LEN > end:
            break
        i = pos - base
        crc, length, kind = unpack(buf, i)
        if kind == 0 and length == 0 and crc == 0:
            # Zeros where a chunk would start: the rest of the block is unused.
            pos += left
            pending, pending_at = [], -1
            out.next_offset = pos
            continue
        problem = ""
        if kind not in _SEED:
            problem = f"unknown chunk type {kind}"
        elif HEADER_LEN + length > left:
            problem = f"chunk length {length} past its block"
        elif pos + HEADER_LEN + length > end:
            break  # not all written yet
        else:
            data = buf[i + HEADER_LEN : i + HEADER_LEN + length]
            if crc32(data, _SEED[kind]) != crc:
                problem = "bad CRC"
        if problem:
            out.damaged.append((pos, problem))
            pos += left
            pending, pending_at = [], -1
            out.next_offset = pos
            continue
        chunk_at = pos
        pos += HEADER_LEN + length
        if kind == FULL:
            pending, pending_at = [], -1
            out.records.append((chunk_at, bytes(data)))
            out.next_offset = pos
        elif kind == FIRST:
            pending, pending_at = [bytes(data)], chunk_at
        elif not pending:
            # A MIDDLE or LAST whose FIRST was in a skipped block: part of that damage.
            out.next_offset = pos
        else:
            pending.append(bytes(data))
            if kind == LAST:
                out.records.append((pending_at, b"".join(pending)))
                pending, pending_at = [], -1
                out.next_offset = pos
    return out
