"""The two file utilities every package shares: atomic writes and the installed version.

Here, in ``simulation``, because the engine writes its own results with them and must not
import ``analysis``; ``analysis`` imports them from here (``scenarios`` needs neither).
"""

from __future__ import annotations

import os
import tempfile
from importlib import metadata
from pathlib import Path


def package_version() -> str:
    try:
        return metadata.version("campaign-lab")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def write_atomic(path: Path, write) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
