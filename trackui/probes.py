"""What a run records about where it ran: host, user, command, working directory, git.

Each probe is best effort: a value that cannot be found is None, never an
exception. Text that is not valid Unicode (``os.fsdecode`` of non-UTF-8 bytes
in ``sys.argv`` or a path) is stored with each lone surrogate replaced by
U+FFFD (see ``trackui.values.clean_text``).
"""

from __future__ import annotations

import getpass
import os
import platform
import secrets
import string
import subprocess
import sys
from typing import Any

from trackui.values import clean_text

_ID_ALPHABET = string.digits + string.ascii_lowercase


def new_id() -> str:
    """A fresh run id: eight random lowercase letters and digits."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def git_info(cwd: str) -> dict[str, Any] | None:
    """Commit, dirty flag and branch of the git work tree at ``cwd``, if any."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args],
                cwd=cwd,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=3,
                check=False,
            )
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if not commit:
        return None
    status = git("status", "--porcelain", "--untracked-files=no")
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    return {
        "commit": commit,
        "dirty": bool(status),
        "branch": branch if branch and branch != "HEAD" else None,
    }


def user() -> str | None:
    try:
        return clean_text(getpass.getuser())
    except (OSError, KeyError):
        return None


def cwd() -> str | None:
    """The working directory as text, or None if it was removed."""
    try:
        return os.getcwd()
    except OSError:
        return None


def command() -> list[str]:
    """The command line that started this process."""
    return [clean_text(a) for a in (sys.executable, *sys.argv)]


def process() -> dict[str, Any]:
    """The meta fields that describe this process (where, who, what)."""
    return {
        "host": clean_text(platform.node()),
        "pid": os.getpid(),
        "command": command(),
    }


def origin() -> dict[str, Any]:
    """The meta fields a new run records once: the above, and user, cwd, Python and git."""
    where = cwd()
    return {
        **process(),
        "user": user(),
        "cwd": clean_text(where) if where is not None else None,
        "python": platform.python_version(),
        "git": git_info(where) if where is not None else None,
    }
