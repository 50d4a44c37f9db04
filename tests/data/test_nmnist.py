"""Tests of the N-MNIST loader on the real 1,100-recording subset (train 1-1000, test 1-100)."""

import csv
import hashlib
import io
import logging
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tonic.io
from tonic.datasets import NMNIST as TonicNMNIST

from lava_biograd.data.binning import BinnedEvents, unpack_spikes
from lava_biograd.data.dataset import SpikeDataset
from lava_biograd.data.nmnist import (
    find_nmnist_source,
    list_recordings,
    load_nmnist,
    nmnist_splits,
    read_events,
    read_manifest,
)
from lava_biograd.data.paths import resolve_data_dir

LOGGER = "lava_biograd.data.nmnist"
TARBALLS = {"train": "nmnist-Train-subset1000.tar.gz", "test": "nmnist-Test-subset100.tar.gz"}
SIZES = {"train": 1000, "test": 100}


@pytest.fixture(scope="session")
def shared_nmnist():
    folder = resolve_data_dir() / "nmnist"
    needed = [folder / name for name in (*TARBALLS.values(), "MANIFEST.csv")]
    if not all(path.is_file() for path in needed):
        pytest.skip(f"the N-MNIST subset is not under {folder}; set LAVA_BIOGRAD_DATA to the data root")
    return folder


@pytest.fixture(scope="session")
def manifest_rows(shared_nmnist):
    with open(shared_nmnist / "MANIFEST.csv", newline="") as handle:
        return {row["path"]: row for row in csv.DictReader(handle)}


def extract(tarball, destination):
    with tarfile.open(tarball) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(destination, filter="data")
        else:
            archive.extractall(destination)


@pytest.fixture(scope="session")
def extracted_root(shared_nmnist, tmp_path_factory):
    """Data root with both tarballs extracted into NMNIST/ beside a copy of the manifest."""
    root = tmp_path_factory.mktemp("extracted")
    for name in TARBALLS.values():
        extract(shared_nmnist / name, root / "NMNIST")
    shutil.copy(shared_nmnist / "MANIFEST.csv", root / "NMNIST")
    return root


@pytest.fixture(scope="session")
def tar_arrays(shared_nmnist, tmp_path_factory):
    """Both splits loaded from the shared tarballs with manifest verification."""
    cache_dir = tmp_path_factory.mktemp("tar-cache")
    return {split: load_nmnist(split, shared_nmnist.parent, cache_dir=cache_dir) for split in TARBALLS}


@pytest.fixture
def copied_test_split(extracted_root, tmp_path):
    """Data root with a copy of the extracted test split and no manifest."""
    shutil.copytree(extracted_root / "NMNIST" / "Test", tmp_path / "root" / "NMNIST" / "Test")
    return tmp_path / "root"


def sample_files(root, split, count=50):
    """Return a fixed sample of recordings of the extracted split, spread over the file order."""
    files = sorted((root / "NMNIST" / split.capitalize()).glob("*/*.bin"))
    return files[:: max(1, len(files) // count)][:count]


def log_messages(caplog):
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


# --------------------------------------------------------------------------- decoding


def test_decode_all_against_manifest(shared_nmnist, manifest_rows):
    seen = 0
    for name in TARBALLS.values():
        with tarfile.open(shared_nmnist / name) as archive:
            for info in archive:
                if not info.isfile():
                    continue
                data = archive.extractfile(info).read()
                row = manifest_rows[info.name]
                events = read_events(data, name=info.name)
                assert hashlib.sha256(data).hexdigest() == row["sha256"], info.name
                assert len(events) == int(row["n_events"]), info.name
                seen += 1
    assert seen == 1100


def test_decode_equals_tonic(extracted_root):
    for path in sample_files(extracted_root, "train") + sample_files(extracted_root, "test", 10):
        expected = tonic.io.read_mnist_file(str(path), dtype=TonicNMNIST.dtype)
        events = read_events(path)
        assert events.dtype == expected.dtype
        np.testing.assert_array_equal(events, expected)


def test_decode_bit_layout(extracted_root):
    # Decode by hand: x, y, then polarity in bit 7 of byte 2 and a 23-bit big-endian time.
    path = sample_files(extracted_root, "train")[7]
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 5).astype(np.int64)
    events = read_events(path)
    np.testing.assert_array_equal(events["x"], raw[:, 0])
    np.testing.assert_array_equal(events["y"], raw[:, 1])
    np.testing.assert_array_equal(events["p"], raw[:, 2] >> 7)
    np.testing.assert_array_equal(events["t"], (raw[:, 2] & 0x7F) * 65536 + raw[:, 3] * 256 + raw[:, 4])
    assert set(np.unique(events["p"])) == {0, 1}


def test_read_events_inputs(extracted_root):
    path = sample_files(extracted_root, "test", 1)[0]
    expected = read_events(path)
    np.testing.assert_array_equal(read_events(str(path)), expected)
    np.testing.assert_array_equal(read_events(path.read_bytes()), expected)
    np.testing.assert_array_equal(read_events(bytearray(path.read_bytes())), expected)
    with open(path, "rb") as handle:
        np.testing.assert_array_equal(read_events(handle), expected)
    with pytest.raises(TypeError, match="path, bytes or a binary file object"):
        read_events(12)
    with open(path, encoding="latin-1") as handle, pytest.raises(TypeError, match="binary mode"):
        read_events(handle)
    with pytest.raises(FileNotFoundError):
        read_events(path.with_name("missing.bin"))


@pytest.fixture
def recording_copy(extracted_root, tmp_path):
    source = sample_files(extracted_root, "train", 1)[0]
    target = tmp_path / "copy.bin"
    shutil.copy(source, target)
    return target


def test_truncated_recording(recording_copy):
    data = recording_copy.read_bytes()
    recording_copy.write_bytes(data[:-2])
    with pytest.raises(ValueError, match="truncated") as error:
        read_events(recording_copy)
    assert str(recording_copy) in str(error.value)
    assert f"{len(data) - 2} bytes" in str(error.value)


@pytest.mark.parametrize("byte, value, field", [(0, 34, "x=34"), (1, 34, "y=34"), (1, 240, "y=240")])
def test_corrupt_address(recording_copy, byte, value, field):
    data = bytearray(recording_copy.read_bytes())
    data[10 * 5 + byte] = value
    recording_copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"event 10 has {field}") as error:
        read_events(recording_copy)
    assert str(recording_copy) in str(error.value)


def test_decreasing_timestamp(recording_copy):
    data = bytearray(recording_copy.read_bytes())
    events = read_events(recording_copy)
    later = int(np.flatnonzero(events["t"] > events["t"][0])[0])
    # Swap event 0 with the first event that is later, so the timestamps decrease there.
    data[0:5], data[later * 5:later * 5 + 5] = data[later * 5:later * 5 + 5], data[0:5]
    recording_copy.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="timestamp of event") as error:
        read_events(recording_copy)
    assert str(recording_copy) in str(error.value)


def test_corrupt_member_named(shared_nmnist, tmp_path):
    # A tarball with one truncated member: the error names the member and the archive.
    with tarfile.open(shared_nmnist / TARBALLS["test"]) as archive:
        members = [(info, archive.extractfile(info).read()) for info in archive if info.isfile()]
    tarball = tmp_path / "nmnist" / TARBALLS["test"]
    tarball.parent.mkdir()
    with tarfile.open(tarball, "w:gz") as archive:
        for index, (info, data) in enumerate(members):
            if index == 3:
                data = data[:-1]
                info.size = len(data)
                bad_member = info.name
            archive.addfile(info, io.BytesIO(data))
    with pytest.raises(ValueError, match="truncated") as error:
        load_nmnist("test", tmp_path, cache=False)
    assert repr(bad_member) in str(error.value)
    assert str(tarball) in str(error.value)


# --------------------------------------------------------------------------- manifest


def test_manifest_modified_recording(copied_test_split, shared_nmnist):
    shutil.copy(shared_nmnist / "MANIFEST.csv", copied_test_split / "NMNIST")
    path = copied_test_split / "NMNIST" / "Test" / "7" / "00001.bin"
    data = bytearray(path.read_bytes())
    data[0] = (data[0] + 1) % 34  # still a valid recording, but another one
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256") as error:
        load_nmnist("test", copied_test_split, cache=False)
    assert str(path) in str(error.value)
    assert load_nmnist("test", copied_test_split, cache=False, verify=False).labels.shape == (100,)


def test_manifest_wrong_label(copied_test_split, shared_nmnist):
    shutil.copy(shared_nmnist / "MANIFEST.csv", copied_test_split / "NMNIST")
    split_dir = copied_test_split / "NMNIST" / "Test"
    manifest = (copied_test_split / "NMNIST" / "MANIFEST.csv").read_text()
    # Move a recording to another digit folder and list it there, keeping the sha256.
    (split_dir / "1" / "00001.bin").write_bytes((split_dir / "7" / "00001.bin").read_bytes())
    (split_dir / "7" / "00001.bin").unlink()
    manifest = manifest.replace("Test/7/00001.bin,7", "Test/1/00001.bin,7")
    (copied_test_split / "NMNIST" / "MANIFEST.csv").write_text(manifest)
    with pytest.raises(ValueError, match="label is 1, expected 7"):
        load_nmnist("test", copied_test_split, cache=False)


def test_manifest_missing_recording(copied_test_split, shared_nmnist):
    shutil.copy(shared_nmnist / "MANIFEST.csv", copied_test_split / "NMNIST")
    (copied_test_split / "NMNIST" / "Test" / "7" / "00001.bin").unlink()
    with pytest.raises(ValueError, match=r"1 listed recordings are missing \(first: \['Test/7/00001.bin'\]\)"):
        load_nmnist("test", copied_test_split, cache=False)


def test_manifest_invalid_header(copied_test_split):
    (copied_test_split / "NMNIST" / "MANIFEST.csv").write_text("split,path,label\ntest,Test/7/00001.bin,7\n")
    with pytest.raises(ValueError, match="lacks the columns"):
        load_nmnist("test", copied_test_split, cache=False)


def test_manifest_reader(shared_nmnist, manifest_rows):
    entries = read_manifest(shared_nmnist / "MANIFEST.csv", "test")
    assert len(entries) == 100
    row = manifest_rows["Test/7/00001.bin"]
    entry = entries["Test/7/00001.bin"]
    assert entry.label == 7
    assert entry.n_events == int(row["n_events"])
    assert entry.sha256 == row["sha256"]


# --------------------------------------------------------------------------- loading and binning


def reference_binning(events):
    """Bin as the BioGrad authors' loader: np.round to ms, a 2x34x34x300 array, max over 5 ms."""
    t_ms = np.round(events["t"] / 1000).astype(np.int64)
    dense = np.zeros((2, 34, 34, 300), dtype=np.uint8)
    keep = (t_ms >= 0) & (t_ms < 300)
    dense[events["p"][keep], events["y"][keep], events["x"][keep], t_ms[keep]] = 1
    binned = dense.reshape(2, 34, 34, 60, 5).max(axis=4)
    return binned.transpose(3, 0, 1, 2).reshape(60, 2312)


def test_binning_matches_reference(tar_arrays, extracted_root):
    arrays = tar_arrays["train"]
    positions = {name: i for i, name in enumerate(arrays.files)}
    dropped_late = 0
    for path in sample_files(extracted_root, "train"):
        events = read_events(path)
        member = "/".join(path.parts[-3:])
        spikes = unpack_spikes(arrays.spikes[positions[member]], 2312)
        np.testing.assert_array_equal(spikes, reference_binning(events), err_msg=member)
        dropped_late += int((events["t"] >= 299_500).sum() > 0)
    assert dropped_late > 0  # the sample includes recordings longer than 300 ms


def test_load_order_and_labels(tar_arrays, manifest_rows):
    for split, arrays in tar_arrays.items():
        assert arrays.spikes.shape == (SIZES[split], 60, 289)
        assert arrays.spikes.dtype == np.uint8
        assert arrays.labels.dtype == np.int64
        names = [Path(f).name for f in arrays.files]
        assert names == sorted(names)
        indices = [int(manifest_rows[f]["mnist_index"]) for f in arrays.files]
        assert indices == list(range(SIZES[split]))
        expected = [int(manifest_rows[f]["label"]) for f in arrays.files]
        assert arrays.labels.tolist() == expected
    assert tar_arrays["train"].files[:2] == ["Train/5/00001.bin", "Train/0/00002.bin"]
    assert np.bincount(tar_arrays["test"].labels).tolist() == [8, 14, 8, 11, 14, 7, 10, 15, 2, 11]


def test_archive_equals_folder(tar_arrays, extracted_root, tmp_path):
    for split, expected in tar_arrays.items():
        arrays = load_nmnist(split, extracted_root, cache_dir=tmp_path)
        assert find_nmnist_source(split, extracted_root).kind == "folder"
        np.testing.assert_array_equal(arrays.spikes, expected.spikes)
        np.testing.assert_array_equal(arrays.labels, expected.labels)
        assert arrays.files == expected.files


def test_zip_equals_tar(tar_arrays, extracted_root, tmp_path):
    split_dir = extracted_root / "NMNIST" / "Test"
    (tmp_path / "NMNIST").mkdir()
    with zipfile.ZipFile(tmp_path / "NMNIST" / "Test.zip", "w") as archive:
        for path in sorted(split_dir.glob("*/*.bin"), reverse=True):
            archive.write(path, "/".join(path.parts[-3:]))
    source = find_nmnist_source("test", tmp_path)
    assert source.kind == "zip"
    assert source.manifest is None
    arrays = load_nmnist("test", tmp_path, cache=False)
    np.testing.assert_array_equal(arrays.spikes, tar_arrays["test"].spikes)
    assert arrays.files == tar_arrays["test"].files


def test_unpacked_output(tar_arrays, shared_nmnist, tmp_path):
    arrays = load_nmnist("test", shared_nmnist.parent, cache_dir=tmp_path, packed=False)
    assert arrays.spikes.shape == (100, 60, 2312)
    np.testing.assert_array_equal(arrays.spikes, unpack_spikes(tar_arrays["test"].spikes, 2312))


def test_source_search_order(extracted_root, shared_nmnist, tmp_path):
    shutil.copy(shared_nmnist / TARBALLS["test"], tmp_path / TARBALLS["test"])
    assert find_nmnist_source("test", tmp_path).kind == "tar"
    shutil.copytree(extracted_root / "NMNIST" / "Test", tmp_path / "nmnist" / "Test")
    source = find_nmnist_source("test", tmp_path)
    assert (source.kind, source.path) == ("folder", tmp_path / "nmnist" / "Test")
    assert len(list_recordings(source)) == 100
    with pytest.raises(FileNotFoundError, match="N-MNIST train recordings not found"):
        find_nmnist_source("train", tmp_path)


def test_load_validation(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        load_nmnist("validation", tmp_path)
    with pytest.raises(ValueError, match="multiple of bin_ms"):
        load_nmnist("test", tmp_path, duration_ms=301)
    with pytest.raises(TypeError, match="verify must be True or False"):
        load_nmnist("test", tmp_path, verify="yes")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_nmnist("test", tmp_path / "missing")


# --------------------------------------------------------------------------- cache


def test_cache_hit(copied_test_split, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    first = load_nmnist("test", copied_test_split, cache_dir=tmp_path / "cache")
    assert any(m.startswith("binned 100") for m in log_messages(caplog))
    caplog.clear()
    second = load_nmnist("test", copied_test_split, cache_dir=tmp_path / "cache")
    messages = log_messages(caplog)
    assert any(m.startswith("loaded 100") for m in messages)
    assert not any(m.startswith("binned") for m in messages)
    np.testing.assert_array_equal(second.spikes, first.spikes)
    assert second.files == first.files
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".npz"]


def test_cache_rebuild_on_bin_ms(copied_test_split, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    five = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    caplog.clear()
    ten = load_nmnist("test", copied_test_split, cache_dir=tmp_path, bin_ms=10)
    assert any(m.startswith("binned 100") for m in log_messages(caplog))
    assert ten.spikes.shape == (100, 30, 289)
    # A 10 ms step is the maximum over two 5 ms steps.
    pairs = unpack_spikes(five.spikes, 2312).reshape(100, 30, 2, 2312).max(axis=2)
    np.testing.assert_array_equal(unpack_spikes(ten.spikes, 2312), pairs)


def test_cache_rebuild_on_touch(copied_test_split, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    path = copied_test_split / "NMNIST" / "Test" / "0" / "00004.bin"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    caplog.clear()
    load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    messages = log_messages(caplog)
    assert any("out of date (fingerprint changed)" in m for m in messages)
    assert any(m.startswith("binned 100") for m in messages)


def test_cache_rebuild_on_edit(copied_test_split, tmp_path):
    before = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    position = before.files.index("Test/0/00004.bin")
    path = copied_test_split / "NMNIST" / "Test" / "0" / "00004.bin"
    path.write_bytes(path.read_bytes()[: 5 * 10])  # keep the first 10 events
    after = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    expected = unpack_spikes(before.spikes[position], 2312)
    assert unpack_spikes(after.spikes[position], 2312).sum() <= 10 < expected.sum()
    np.testing.assert_array_equal(np.delete(after.spikes, position, 0), np.delete(before.spikes, position, 0))


def test_cache_rebuild_on_new_file(copied_test_split, tmp_path):
    load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    split_dir = copied_test_split / "NMNIST" / "Test"
    shutil.copy(split_dir / "0" / "00004.bin", split_dir / "0" / "99999.bin")
    arrays = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    assert len(arrays.files) == 101
    assert arrays.files[-1] == "Test/0/99999.bin"


def test_cache_rebuild_on_move(copied_test_split, tmp_path):
    before = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    split_dir = copied_test_split / "NMNIST" / "Test"
    os.rename(split_dir / "7" / "00001.bin", split_dir / "1" / "00001.bin")  # keeps size and time
    after = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    assert before.files[0] == "Test/7/00001.bin"
    assert after.files[0] == "Test/1/00001.bin"
    assert after.labels[0] == 1
    np.testing.assert_array_equal(after.spikes, before.spikes)


def test_cache_corrupt_file(copied_test_split, tmp_path, caplog):
    first = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("*.npz")
    data = bytearray(cache_file.read_bytes())
    cache_file.write_bytes(bytes(data[: len(data) // 2]))
    caplog.set_level(logging.INFO, logger=LOGGER)
    second = load_nmnist("test", copied_test_split, cache_dir=tmp_path)
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreadable" in warnings[0].getMessage()
    np.testing.assert_array_equal(second.spikes, first.spikes)
    assert cache_file.stat().st_size == len(data)


def test_cache_unverified_rebuilt(copied_test_split, tmp_path, caplog, shared_nmnist):
    shutil.copy(shared_nmnist / "MANIFEST.csv", copied_test_split / "NMNIST")
    load_nmnist("test", copied_test_split, cache_dir=tmp_path, verify=False)
    caplog.set_level(logging.INFO, logger=LOGGER)
    load_nmnist("test", copied_test_split, cache_dir=tmp_path, verify=True)
    assert any("built without manifest verification" in m for m in log_messages(caplog))
    caplog.clear()
    load_nmnist("test", copied_test_split, cache_dir=tmp_path, verify=False)
    assert any(m.startswith("loaded 100") for m in log_messages(caplog))


def test_cache_disabled(copied_test_split, tmp_path):
    load_nmnist("test", copied_test_split, cache_dir=tmp_path / "cache", cache=False)
    assert not (tmp_path / "cache").exists()


# --------------------------------------------------------------------------- datasets


def test_binned_events_batch(tar_arrays):
    arrays = tar_arrays["test"]
    dataset = BinnedEvents(arrays.spikes, arrays.labels, n_inputs=2312, packed=True, files=arrays.files)
    assert isinstance(dataset, SpikeDataset)
    assert (len(dataset), dataset.n_steps, dataset.n_inputs) == (100, 60, 2312)
    indices = np.array([5, 0, 99, 5])
    batch = dataset.batch(indices, np.random.default_rng(0))
    assert batch.shape == (60, 4, 2312)
    assert batch.dtype == np.float32
    expected = unpack_spikes(arrays.spikes[indices], 2312).transpose(1, 0, 2)
    np.testing.assert_array_equal(batch, expected)
    again = dataset.batch(indices, np.random.default_rng(1), dtype=np.float64)
    assert again.dtype == np.float64
    np.testing.assert_array_equal(again, batch)


def test_binned_events_subset(tar_arrays):
    arrays = tar_arrays["test"]
    dense = unpack_spikes(arrays.spikes, 2312)
    dataset = BinnedEvents(dense, arrays.labels, files=arrays.files, name="nmnist-test")
    np.testing.assert_array_equal(dataset.packed_spikes, arrays.spikes)
    part = dataset.subset(np.array([10, 3]))
    assert part.name == "nmnist-test"
    assert part.files == [arrays.files[10], arrays.files[3]]
    assert part.labels.tolist() == [arrays.labels[10], arrays.labels[3]]
    np.testing.assert_array_equal(part.batch(np.array([1]), None)[:, 0], dense[3])


def test_binned_events_validation(tar_arrays):
    arrays = tar_arrays["test"]
    dataset = BinnedEvents(arrays.spikes, arrays.labels, n_inputs=2312, packed=True)
    with pytest.raises(IndexError, match=r"\[0, 99\]"):
        dataset.batch(np.array([100]), None)
    with pytest.raises(ValueError, match="float32"):
        dataset.batch(np.array([0]), None, dtype=np.int32)
    with pytest.raises(ValueError, match="n_inputs is required"):
        BinnedEvents(arrays.spikes, arrays.labels, packed=True)
    with pytest.raises(ValueError, match="300 bytes on the last axis for n_inputs=2400"):
        BinnedEvents(arrays.spikes, arrays.labels, n_inputs=2400, packed=True)
    with pytest.raises(ValueError, match="same number of samples"):
        BinnedEvents(arrays.spikes, arrays.labels[:5], n_inputs=2312, packed=True)
    with pytest.raises(TypeError, match="uint8"):
        BinnedEvents(arrays.spikes.astype(np.int16), arrays.labels, n_inputs=2312, packed=True)
    with pytest.raises(ValueError, match="files must name"):
        BinnedEvents(arrays.spikes, arrays.labels, n_inputs=2312, packed=True, files=["a"])


def test_splits_subset(shared_nmnist, tar_arrays, tmp_path):
    splits = nmnist_splits(shared_nmnist.parent, cache_dir=tmp_path)
    assert splits["validation"] is None
    assert len(splits["train"]) == 1000
    assert len(splits["test"]) == 100
    assert "subset" in splits["description"]
    assert "no validation" in splits["description"]
    np.testing.assert_array_equal(splits["test"].packed_spikes, tar_arrays["test"].spikes)


def test_splits_small_validation(shared_nmnist, tar_arrays, tmp_path):
    splits = nmnist_splits(shared_nmnist.parent, n_validation=200, cache_dir=tmp_path)
    train, validation = splits["train"], splits["validation"]
    assert (len(train), len(validation)) == (800, 200)
    assert validation.name == "nmnist-validation"
    assert train.name == "nmnist-train"
    assert train.files == tar_arrays["train"].files[:800]
    assert validation.files == tar_arrays["train"].files[800:]
    assert validation.files[-1] == "Train/6/01000.bin"
    np.testing.assert_array_equal(validation.packed_spikes, tar_arrays["train"].spikes[800:])
    assert "validation = last 200" in splits["description"]
    with pytest.raises(ValueError, match="n_validation must be >= 0"):
        nmnist_splits(shared_nmnist.parent, n_validation=-1, cache_dir=tmp_path)


def test_truncated_archive(shared_nmnist, tmp_path):
    data = (shared_nmnist / TARBALLS["test"]).read_bytes()
    tarball = tmp_path / "nmnist" / TARBALLS["test"]
    tarball.parent.mkdir()
    tarball.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read N-MNIST archive") as error:
        load_nmnist("test", tmp_path, cache=False)
    assert str(tarball) in str(error.value)
