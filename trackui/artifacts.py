"""``trackui.Artifact``: a named, typed, versioned set of files, kept locally.

An artifact is built in memory (``add_file``, ``add_dir``, ``add_reference``,
``new_file``) and stored by ``run.log_artifact`` (``trackui.artifact_log``)
under ``<root>/artifacts/<name>/v<N>/`` (see ``docs/format.md``). A stored
version read back (``run.use_artifact``, ``Api().artifact``) is the same
class, its entries pointing at the stored files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from trackui.store import artifact_store as store

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, in hex, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class ArtifactManifestEntry:
    """One path of an artifact: a local file (with its digest and size) or a reference."""

    def __init__(
        self,
        path: str,
        digest: str,
        size: int | None = None,
        *,
        local_path: Path | None = None,
        ref: str | None = None,
    ) -> None:
        self.path = path
        self.digest = digest
        self.size = size
        self.local_path = str(local_path) if local_path is not None else None
        self.ref = ref

    @property
    def name(self) -> str:
        return self.path

    def download(self, root: str | os.PathLike[str] | None = None) -> str:
        """The entry's file: its stored path, or a copy under ``root``. References are
        not fetched: their URI is returned."""
        if self.local_path is None:
            return str(self.ref)
        if root is None:
            return self.local_path
        dest = Path(root) / self.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.local_path, dest)
        return str(dest)

    def ref_url(self) -> str | None:
        return self.ref

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"digest": self.digest}
        if self.ref is not None:
            out["ref"] = self.ref
        if self.size is not None:
            out["size"] = self.size
        return out

    def __repr__(self) -> str:
        return f"<ArtifactManifestEntry {self.path!r} {self.digest[:12]}>"


class ArtifactManifest:
    """The entries of an artifact, by path (``.entries``)."""

    def __init__(self, entries: dict[str, ArtifactManifestEntry]) -> None:
        self.entries = entries

    def get_entry_by_path(self, path: str) -> ArtifactManifestEntry | None:
        return self.entries.get(path)

    def digest(self) -> str:
        """One digest of every path and what it holds (the version's identity)."""
        h = hashlib.sha256()
        for path in sorted(self.entries):
            e = self.entries[path]
            h.update(f"{path}\0{e.digest}\0{e.ref or ''}\n".encode("utf-8", "replace"))
        return h.hexdigest()


class Artifact:
    """A named, typed set of files (wandb's ``Artifact``), versioned when logged.

    Args:
        name: letters, digits, ``_``, ``-`` and ``.`` (it names a directory).
        type: ``dataset``, ``model``... (free text).
        description, metadata: kept in the manifest.
    """

    def __init__(
        self,
        name: str,
        type: str = "unspecified",
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        **_ignored: Any,
    ) -> None:
        if not store.valid_name(name):
            raise ValueError(
                f"Artifact name {name!r}: use letters, digits, '_', '-' and '.' (1-128 characters)"
            )
        self.name = name
        self.type = type
        self.description = description
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.aliases: list[str] = []
        self.tags: list[str] = []
        self.ttl = None
        self.version: str | None = None
        """``v<N>`` once logged (or read back), else None."""
        self.created_at: str | None = None
        self.source_run: str | None = None
        """The id of the run that logged this version."""
        self._entries: dict[str, ArtifactManifestEntry] = {}
        self._root: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- building ------------------------------------------------------------

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        is_tmp: bool | None = False,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        overwrite: bool = False,
    ) -> ArtifactManifestEntry:
        """Add one file, as ``name`` (default: its file name). Its digest is taken now."""
        self._check_open()
        src = Path(local_path)
        if not src.is_file():
            raise ValueError(f"Artifact.add_file: path is not a file: {str(src)!r}")
        path = _entry_path(name if name is not None else src.name)
        if path in self._entries and not overwrite:
            old = self._entries[path]
            if old.local_path != str(src):
                raise ValueError(f"Artifact.add_file: {path!r} is already in the artifact")
        entry = ArtifactManifestEntry(
            path, file_digest(src), src.stat().st_size, local_path=src.absolute()
        )
        self._entries[path] = entry
        return entry

    def add_dir(
        self,
        local_path: str | os.PathLike[str],
        name: str | None = None,
        skip_cache: bool | None = False,
        policy: str | None = "mutable",
        merge: bool = False,
    ) -> None:
        """Add every file under a directory, keeping their paths (under ``name`` if given)."""
        self._check_open()
        base = Path(local_path)
        if not base.is_dir():
            raise ValueError(f"Artifact.add_dir: path is not a directory: {str(base)!r}")
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for f in sorted(filenames):
                p = Path(dirpath) / f
                rel = p.relative_to(base).as_posix()
                self.add_file(p, name=f"{name}/{rel}" if name else rel, overwrite=True)

    def add_reference(
        self,
        uri: str | os.PathLike[str],
        name: str | None = None,
        checksum: bool = True,
        max_objects: int | None = None,
    ) -> list[ArtifactManifestEntry]:
        """Record a URI (``s3://``, ``https://``, ``file://``...) as an entry, never fetched."""
        self._check_open()
        ref = os.fspath(uri)
        path = _entry_path(name or ref.rstrip("/").rsplit("/", 1)[-1] or "reference")
        digest = hashlib.sha256(ref.encode("utf-8", "replace")).hexdigest()
        entry = ArtifactManifestEntry(path, digest, None, ref=ref)
        self._entries[path] = entry
        return [entry]

    @contextlib.contextmanager
    def new_file(
        self, name: str, mode: str = "x", encoding: str | None = None
    ) -> Iterator[IO[Any]]:
        """Open a new file to write into the artifact (added when the block ends)."""
        self._check_open()
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="trackui-artifact-")
        path = Path(self._tmp.name) / _entry_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if "b" not in mode and encoding is None:
            encoding = "utf-8"
        with open(path, mode, encoding=encoding) as f:
            yield f
        self.add_file(path, name=name, overwrite=True)

    def remove(self, item: str) -> None:
        self._check_open()
        self._entries.pop(item, None)

    def _check_open(self) -> None:
        if self.version is not None:
            raise ValueError(f"Artifact {self.name}:{self.version} is logged and cannot change")

    # -- reading -------------------------------------------------------------

    @property
    def manifest(self) -> ArtifactManifest:
        return ArtifactManifest(dict(self._entries))

    def files(self, names: list[str] | None = None, per_page: int = 50) -> list[Any]:
        """The entries (``.name``, ``.size``, ``.digest``, ``.download()``), in path order."""
        return [self._entries[p] for p in sorted(self._entries) if not names or p in names]

    def get_entry(self, name: str) -> ArtifactManifestEntry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"Artifact {self.name}: no entry {name!r}") from None

    def get_path(self, name: str) -> ArtifactManifestEntry:
        return self.get_entry(name)

    @property
    def digest(self) -> str:
        return self.manifest.digest()

    @property
    def size(self) -> int:
        return sum(e.size or 0 for e in self._entries.values())

    @property
    def qualified_name(self) -> str:
        return f"{self.name}:{self.version or 'latest'}"

    @property
    def source_name(self) -> str:
        return self.qualified_name

    @property
    def state(self) -> str:
        return "COMMITTED" if self.version is not None else "PENDING"

    def download(
        self, root: str | os.PathLike[str] | None = None, allow_missing_references: bool = False
    ) -> str:
        """The directory holding the files: the stored one, or a copy under ``root``.

        References are not fetched (their entries stay URIs).
        """
        if root is None and self._root is not None and self.version is not None:
            return str(store.version_dir(self._root, self.name, self._number) / store.VERSION_FILES)
        dest = Path(root) if root is not None else Path("artifacts") / f"{self.name}-{self.version}"
        dest.mkdir(parents=True, exist_ok=True)
        for e in self._entries.values():
            if e.local_path is not None:
                e.download(dest)
        return str(dest)

    def checkout(self, root: str | None = None) -> str:
        return self.download(root)

    def verify(self, root: str | None = None) -> None:
        """Raise ValueError when a stored file's digest no longer matches the manifest."""
        for e in self._entries.values():
            if e.local_path is not None and file_digest(Path(e.local_path)) != e.digest:
                raise ValueError(f"Artifact {self.qualified_name}: {e.path!r} was changed")

    @property
    def _number(self) -> int:
        return int(str(self.version).lstrip("v"))

    # -- accepted for compatibility -----------------------------------------

    def save(self, project: str | None = None, settings: Any = None) -> None:
        """Log the artifact to the current run (or, without one, store it under the root)."""
        if self.version is not None:
            return
        from trackui import artifact_log
        from trackui.session import current

        run = current()
        if run is not None:
            artifact_log.log_artifact(run, self)
        else:
            artifact_log.log_without_run(self)

    def wait(self, timeout: int | None = None) -> Artifact:
        return self

    def __repr__(self) -> str:
        return f"<trackui.Artifact {self.name}:{self.version or '(not logged)'} type={self.type}>"


def _entry_path(name: str) -> str:
    """An entry's path, relative and inside the artifact (no ``..``, no leading ``/``)."""
    parts = [p for p in Path(str(name).replace("\\", "/")).parts if p not in ("", ".", "/")]
    if not parts or ".." in parts:
        raise ValueError(f"Artifact: bad entry name {name!r}")
    return "/".join(parts)


def from_manifest(root: Path, manifest: dict[str, Any]) -> Artifact:
    """A stored version as an ``Artifact`` whose entries point at the stored files."""
    art = Artifact(
        str(manifest["name"]),
        str(manifest.get("type", "unspecified")),
        description=manifest.get("description"),
        metadata=manifest.get("metadata") or {},
    )
    number = int(manifest["version"])
    files = store.version_dir(root, art.name, number) / store.VERSION_FILES
    entries = manifest.get("entries") or {}
    for path, e in sorted(entries.items()):
        ref = e.get("ref")
        art._entries[path] = ArtifactManifestEntry(
            path,
            str(e.get("digest", "")),
            e.get("size"),
            local_path=None if ref else files / path,
            ref=ref,
        )
    art.version = f"v{number}"
    art.created_at = manifest.get("created_at")
    art.source_run = manifest.get("run_id")
    art.aliases = sorted(a for a, v in store.read_aliases(root, art.name).items() if v == number)
    art._root = Path(root)
    return art
