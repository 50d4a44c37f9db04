"""Atomic output: complete files or none, with the permissions of a normal file."""

import os

import pytest

from lava_biograd.atomic import atomic_output


def test_atomic_output_writes_and_uses_umask(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path
        tmp.write_bytes(b"data")
        assert not target.exists()
    assert target.read_bytes() == b"data"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_output_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"partial")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_atomic_output_rejects_bad_targets(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        with atomic_output(tmp_path / "missing" / "out.bin"):
            pass
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        with atomic_output(tmp_path):
            pass
    with atomic_output(tmp_path / "new" / "out.bin", create_folder=True) as tmp:
        tmp.write_bytes(b"x")
    assert (tmp_path / "new" / "out.bin").read_bytes() == b"x"
