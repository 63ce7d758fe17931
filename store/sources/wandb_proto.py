"""wandb's ``Record`` message, built from the definitions the wandb package ships, without importing wandb.

``import wandb.proto.wandb_internal_pb2`` runs the whole ``wandb`` package's
``__init__`` first (over a second: its settings, artifacts, pydantic models),
which a viewer that only reads ``.wandb`` logs pays before its first chart.
The generated ``*_pb2.py`` files each hold their serialized file descriptor
(the ``AddSerializedFile(b"...")`` argument); this module reads those bytes
from the installed package's files (for the installed protobuf's major
version, as wandb's own ``wandb_internal_pb2`` chooses), adds them to a
private descriptor pool with the well-known types they import, and asks
protobuf for the message class. The definitions are wandb's, byte for byte;
where the files are not of that shape, :func:`record_class` imports wandb's
module as before.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

_FILES = ("wandb_base_pb2.py", "wandb_telemetry_pb2.py", "wandb_internal_pb2.py")
"""The wandb proto files ``Record`` needs, each after those it imports."""


def serialized_descriptor(path: Path) -> bytes:
    """The serialized ``FileDescriptorProto`` a generated ``*_pb2.py`` file registers.

    Raises:
        ValueError: the file holds no ``AddSerializedFile(b"...")`` call.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    raise ValueError(f"{path}: no serialized descriptor")


def proto_dir() -> Path | None:
    """The installed wandb's generated files for this protobuf (None: wandb is not installed)."""
    import google.protobuf

    try:
        spec = importlib.util.find_spec("wandb")  # (finds the package without running it)
    except (ImportError, ValueError):  # (a module set to None: imports of it fail)
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    major = google.protobuf.__version__.split(".")[0]
    return Path(list(spec.submodule_search_locations)[0]) / "proto" / f"v{major}"


def record_class_from_files(folder: Path) -> Any:
    """``wandb_internal.Record`` built from the descriptors in ``folder``'s generated files."""
    from google.protobuf import (
        descriptor_pool,
        empty_pb2,
        message_factory,
        struct_pb2,
        timestamp_pb2,
    )

    pool = descriptor_pool.DescriptorPool()
    for known in (empty_pb2, struct_pb2, timestamp_pb2):
        pool.AddSerializedFile(known.DESCRIPTOR.serialized_pb)
    for name in _FILES:
        pool.AddSerializedFile(serialized_descriptor(folder / name))
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("wandb_internal.Record"))


def record_class() -> Any:
    """wandb's ``Record`` class: from its files where they are as expected, else by import.

    Raises:
        ImportError: wandb is not installed.
    """
    folder = proto_dir()
    if folder is None:
        raise ImportError("No module named 'wandb'")
    try:
        return record_class_from_files(folder)
    except (OSError, ValueError, SyntaxError, TypeError, KeyError):
        from wandb.proto.wandb_internal_pb2 import Record

        return Record
