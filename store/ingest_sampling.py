"""The bulk path's look at a whole file before loading it: its metric names, and its ``:`` and ``"`` counts.

The names (sampled from the head, the tail and slices between) make the
STRUCT that ``read_json`` parses ``m`` into; the counts of ``:`` and ``"`` bytes are
what the parsed rows must account for (see ``store.ingest_bulk``).
"""

from __future__ import annotations

import itertools
import mmap
import os
from pathlib import Path

import orjson

SAMPLE_BYTES = 32 * 1024
"""Bytes of a file read to guess its metric names: half at the ends, half in slices."""
SAMPLE_SLICES = 16

_GLOB_CHARS = set("*?[]{}")


def bulk_sample(path: Path, size: int) -> tuple[tuple[str, ...], bool] | None:
    """The metric names a whole file seems to use and whether it has text or rich values.

    Reads its head, its tail and a few slices in between (metrics logged now
    and then, such as validation ones, show up in some). A name the samples
    miss is caught by the check after loading, which sends the file the
    exact way; so is an ``x`` (text values) or ``r`` (rich values) that no
    sample showed, since the bulk query then reads neither. None when the file does not
    end with a newline (a record is being written or was torn), when its path
    would be read as a glob pattern, or when the samples do not parse.
    """
    s = str(path)
    if _GLOB_CHARS & set(s) or size < 2:
        return None
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return None
    chunks: list[bytes] = []
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        # pread: a few small reads at offsets, without a buffered file's
        # read-ahead of each.
        if size <= 2 * SAMPLE_BYTES:
            whole = os.pread(fd, size, 0)
            if not whole.endswith(b"\n"):
                return None
            chunks.append(whole)
        else:
            half, part = SAMPLE_BYTES // 2, SAMPLE_BYTES // (2 * SAMPLE_SLICES)
            chunks.append(os.pread(fd, half, 0).rsplit(b"\n", 1)[0])
            for k in range(1, SAMPLE_SLICES + 1):
                got = os.pread(fd, part, size * k // (SAMPLE_SLICES + 1))
                chunks.append(got.split(b"\n", 1)[-1].rsplit(b"\n", 1)[0])
            tail = os.pread(fd, half, size - half)
            if not tail.endswith(b"\n"):
                return None
            chunks.append(tail.split(b"\n", 1)[-1])
    except OSError:
        return None
    finally:
        os.close(fd)
    keys: dict[str, None] = {}
    ok = 0
    has_x = False
    for chunk in chunks:
        try:
            # The chunk's lines as one JSON array: one call instead of one per line.
            objs = orjson.loads(b"[" + chunk.strip().replace(b"\n", b",") + b"]")
        except orjson.JSONDecodeError:  # (a damaged or blank line: each on its own)
            objs = []
            for line in chunk.split(b"\n"):
                try:
                    objs.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    continue
        dicts = [o for o in objs if type(o) is dict]
        ms = [m for o in dicts if type(m := o.get("m")) is dict]
        ok += len(ms)
        keys.update(dict.fromkeys(itertools.chain.from_iterable(ms)))
        # Text values (``x``) or rich values' references (``r``, store.rich).
        has_x = has_x or any("x" in o or "r" in o for o in dicts)
    if ok == 0:
        return None
    return tuple(keys), has_x


def count_marks(path: Path, size: int) -> tuple[int, int] | None:
    """Numbers of ``:`` and ``"`` bytes in the first ``size`` bytes of a file (None if unreadable)."""
    import numpy as np  # here: opening a cached index needs none of it

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as mm:
            a = np.frombuffer(mm, dtype=np.uint8)
            colons = quotes = 0
            # In slices that stay in the CPU cache.
            for i in range(0, size, 1 << 18):
                part = a[i : i + (1 << 18)]
                colons += int(np.count_nonzero(part == 58))
                quotes += int(np.count_nonzero(part == 34))
            del a, part
            return colons, quotes
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)


NONFINITE_SPELLINGS = (b'"nan"', b'"inf"', b'"-inf"')
"""The non-finite values as ``m`` spells them (docs/format.md), quotes included."""


def count_spellings(path: Path, size: int) -> int | None:
    """Occurrences of :data:`NONFINITE_SPELLINGS` in the first ``size`` bytes (None if unreadable).

    DuckDB casts any string it reads as a number (``"NaN"``, ``"Infinity"``,
    ``"5"``) to a DOUBLE; the bulk path keeps a file whose non-finite values
    are all spelled as the format spells them (the others are damaged records).
    """
    try:
        with open(path, "rb") as f:
            n = 0
            prev = b""
            done = 0
            while done < size:
                chunk = f.read(min(1 << 22, size - done))
                if not chunk:
                    break
                done += len(chunk)
                for w in NONFINITE_SPELLINGS:
                    # With the previous chunk's last len(w) - 1 bytes: the
                    # occurrences that span the two, none counted twice.
                    n += (prev[len(prev) - len(w) + 1 :] + chunk).count(w)
                prev = chunk
            return n
    except OSError:
        return None
