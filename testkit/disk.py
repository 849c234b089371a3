"""A real full disk for tests: a small tmpfs mounted on a directory, and a filler file.

Mounting needs root (or CAP_SYS_ADMIN); CI runs as root. `mount` failing raises
`DiskUnavailable`, which tests turn into a skip locally and a failure in CI. chmod cannot
stand in (root ignores permissions), nor can a loop device be counted on in containers.
"""

from __future__ import annotations

import errno
import subprocess  # nosec B404 - runs mount/umount with fixed arguments
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class DiskUnavailable(RuntimeError):
    """This machine does not let us mount a tmpfs."""


@contextmanager
def small_disk(path: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of `size_kib` KiB mounted on `path` for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs",  # nosec
                           str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DiskUnavailable(f"cannot mount a tmpfs on {path}: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)  # nosec B603 B607


def fill(path: Path) -> Path:
    """Write zeros into `path` until the disk is full; return the filler file."""
    filler = path / "filler"
    chunk = b"\0" * 4096
    with filler.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    # Top up the last partial page so not even a few bytes are left.
    with filler.open("ab", buffering=0) as f:
        try:
            while True:
                f.write(b"\0")
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler
