"""Resolution of the data root, and integrity checks of dataset files.

The data root is resolved in this order:

1. an explicit ``data_dir`` argument (the CLI's ``--data-dir``);
2. the environment variable ``LAVA_BIOGRAD_DATA``;
3. a ``shared/data`` folder beside the checkout (``../shared/data`` from the repository
   root), when it exists;
4. the user cache folder ``$XDG_CACHE_HOME/lava_biograd/data`` (default
   ``~/.cache/lava_biograd/data``), which the optional downloaders fill.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ENV_VAR = "LAVA_BIOGRAD_DATA"
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def user_cache_dir() -> Path:
    """Return the per-user cache folder of the library (not created)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lava_biograd"


def shared_data_dir() -> Path:
    """Return the ``shared/data`` folder beside the checkout (it may not exist)."""
    return REPOSITORY_ROOT.parent / "shared" / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the data root following the order in the module docstring.

    An explicit ``data_dir`` or ``LAVA_BIOGRAD_DATA`` must name an existing folder;
    otherwise a ``FileNotFoundError`` names the setting and the folder it points to.
    """
    if data_dir is not None:
        path = Path(data_dir).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data directory {str(path)!r} (from --data-dir) does not exist or is not a folder")
        return path
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"data directory {str(path)!r} (from ${ENV_VAR}) does not exist or is not a folder; "
                f"fix or unset {ENV_VAR}"
            )
        return path
    shared = shared_data_dir()
    if shared.is_dir():
        return shared
    return user_cache_dir() / "data"


def sha256_of(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | os.PathLike, expected: str, fix: str) -> None:
    """Raise ``ValueError`` naming the file and ``fix`` when its sha256 differs from ``expected``."""
    actual = sha256_of(path)
    if actual != expected:
        raise ValueError(
            f"checksum mismatch for {str(path)!r}: sha256 {actual}, expected {expected}; "
            f"the file is truncated or corrupt. {fix}"
        )
