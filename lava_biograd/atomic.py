"""Atomic file output: a file appears complete under its name or not at all."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, create_folder: bool = False):
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block succeeds.

    The temporary file lies in the target folder, so :func:`os.replace` is an atomic
    rename on POSIX, and its contents are flushed to disk before the rename. If the block
    raises (``KeyboardInterrupt`` included), the temporary file is removed and ``path`` is
    left as it was.

    Parameters
    ----------
    path : path-like
        Final file name.
    create_folder : bool
        Create the target folder if it is missing; otherwise a missing folder raises
        ``FileNotFoundError``.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"output {str(path)!r} is a folder; give a file name")
    folder = path.parent
    if create_folder:
        folder.mkdir(parents=True, exist_ok=True)
    elif not folder.is_dir():
        raise FileNotFoundError(f"output folder {str(folder)!r} does not exist; create it first")
    # Created with mode 0o666 minus the umask, as open() would create the final file
    # (tempfile.mkstemp would give 0o600).
    tmp_name = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    os.close(os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield Path(tmp_name)
        with open(tmp_name, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
