"""Tests of the MNIST loader on the real files, on damaged copies and with a local mirror."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from lava_biograd.data.mnist import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    MNIST_FILES,
    candidate_paths,
    download_mnist,
    load_mnist,
    locate_mnist,
    read_idx_images,
    read_idx_labels,
    train_validation_split,
)
from lava_biograd.data.paths import ENV_VAR, sha256_of

# Samples per digit 0-9 in the canonical files.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# Mean and standard deviation of the training pixels scaled by 1/255, to 6 decimals.
TRAIN_PIXEL_MEAN = 0.130660
TRAIN_PIXEL_STD = 0.308108


@pytest.fixture(scope="module")
def train_set(mnist_root):
    images, labels = load_mnist("train", mnist_root)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@pytest.fixture(scope="module")
def test_set(mnist_root):
    images, labels = load_mnist("test", mnist_root)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def copy_split(source_root: Path, folder: Path, split: str, compressed: bool) -> dict[str, Path]:
    """Copy the gz files of ``split`` into ``folder``, decompressed unless ``compressed``."""
    folder.mkdir(parents=True, exist_ok=True)
    copies = {}
    for kind, spec in MNIST_FILES[split].items():
        source = source_root / "mnist" / f"{spec.name}.gz"
        if compressed:
            target = folder / f"{spec.name}.gz"
            shutil.copyfile(source, target)
        else:
            target = folder / spec.name
            with gzip.open(source, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        copies[kind] = target
    return copies


def write_idx(path: Path, magic: int, dims: tuple, payload: bytes) -> Path:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    path.write_bytes(header + payload)
    return path


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# --------------------------------------------------------------------------- real data


def test_train_shapes_and_dtypes(train_set):
    images, labels = train_set
    assert images.shape == (60_000, 784)
    assert images.dtype == np.uint8
    assert labels.shape == (60_000,)
    assert labels.dtype == np.int64


def test_train_class_counts(train_set):
    assert np.bincount(train_set[1], minlength=10).tolist() == TRAIN_COUNTS


def test_test_shapes_and_class_counts(test_set):
    images, labels = test_set
    assert images.shape == (10_000, 784)
    assert images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == TEST_COUNTS


def test_train_pixel_statistics(train_set):
    # Exact integer sums over chunks keep the temporaries small.
    total = 0
    total_squares = 0
    for chunk in np.array_split(train_set[0], 12):
        values = chunk.astype(np.int64)
        total += int(values.sum())
        total_squares += int((values * values).sum())
    n_pixels = train_set[0].size
    mean = total / n_pixels / 255
    std = np.sqrt(total_squares / n_pixels / 255**2 - mean**2)
    assert abs(mean - TRAIN_PIXEL_MEAN) < 1e-6
    assert abs(std - TRAIN_PIXEL_STD) < 1e-6


def test_pixels_span_full_range(test_set):
    images = test_set[0]
    assert images.min() == 0
    assert images.max() == 255


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize("split", ["train", "test"])
def test_raw_layout_matches_gz(mnist_root, tmp_path, split):
    copy_split(mnist_root, tmp_path / "mnist", split, compressed=False)
    raw_images, raw_labels = load_mnist(split, tmp_path)  # verified against the raw md5s
    gz_images, gz_labels = load_mnist(split, mnist_root)
    np.testing.assert_array_equal(raw_images, gz_images)
    np.testing.assert_array_equal(raw_labels, gz_labels)


def test_torchvision_raw_layout(mnist_root, tmp_path, test_set):
    copies = copy_split(mnist_root, tmp_path / "MNIST" / "raw", "test", compressed=False)
    assert locate_mnist("test", tmp_path) == (copies["images"], copies["labels"])
    images, labels = load_mnist("test", tmp_path)
    np.testing.assert_array_equal(images, test_set[0])
    np.testing.assert_array_equal(labels, test_set[1])


def test_torchvision_gz_layout(mnist_root, tmp_path, test_set):
    copies = copy_split(mnist_root, tmp_path / "MNIST" / "raw", "test", compressed=True)
    assert locate_mnist("test", tmp_path) == (copies["images"], copies["labels"])
    np.testing.assert_array_equal(load_mnist("test", tmp_path)[1], test_set[1])


def test_search_prefers_shared_layout(mnist_root, tmp_path):
    gz = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)
    copy_split(mnist_root, tmp_path / "MNIST" / "raw", "test", compressed=False)
    assert locate_mnist("test", tmp_path) == (gz["images"], gz["labels"])


def test_candidate_paths_order(tmp_path):
    assert candidate_paths(tmp_path, "x") == [
        tmp_path / "mnist" / "x.gz",
        tmp_path / "mnist" / "x",
        tmp_path / "MNIST" / "raw" / "x",
        tmp_path / "MNIST" / "raw" / "x.gz",
    ]


def test_missing_files_list_searched_paths(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        load_mnist("train", tmp_path)
    message = str(error.value)
    for path in candidate_paths(tmp_path, "train-images-idx3-ubyte"):
        assert str(path) in message
    assert "--data-dir" in message
    assert ENV_VAR in message
    assert "lava-biograd download mnist" in message


def test_missing_labels_named(mnist_root, tmp_path):
    copies = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)
    copies["labels"].unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        load_mnist("test", tmp_path)


# --------------------------------------------------------------------------- damaged files


def test_truncated_gz_rejected(mnist_root, tmp_path):
    path = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)["images"]
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(ValueError, match="checksum mismatch") as error:
        load_mnist("test", tmp_path)
    assert str(path) in str(error.value)
    assert "lava-biograd download mnist" in str(error.value)


def test_truncated_gz_unverified_rejected(mnist_root, tmp_path):
    path = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)["images"]
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(ValueError, match="gzip stream is truncated or corrupt") as error:
        load_mnist("test", tmp_path, verify=False)
    assert str(path) in str(error.value)


def test_truncated_raw_rejected(mnist_root, tmp_path):
    path = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=False)["images"]
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="md5") as error:
        load_mnist("test", tmp_path)
    assert str(path) in str(error.value)
    with pytest.raises(ValueError, match="ends early") as error:
        load_mnist("test", tmp_path, verify=False)
    assert str(path) in str(error.value)


def test_header_only_file_rejected(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(IMAGE_MAGIC.to_bytes(4, "big"))
    with pytest.raises(ValueError, match="16-byte header"):
        read_idx_images(path)


def test_empty_file_rejected(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="contains 0 bytes, fewer than the 4-byte magic number"):
        read_idx_labels(path)


def test_trailing_bytes_rejected(tmp_path):
    path = write_idx(tmp_path / "labels", LABEL_MAGIC, (3,), bytes([1, 2, 3, 4]))
    with pytest.raises(ValueError, match="extra bytes") as error:
        read_idx_labels(path)
    assert str(path) in str(error.value)


def test_flipped_gz_byte_rejected(mnist_root, tmp_path):
    path = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)["images"]
    flip_byte(path, 100_000)
    with pytest.raises(ValueError, match="sha256") as error:
        load_mnist("test", tmp_path)
    assert str(path) in str(error.value)


def test_flipped_raw_byte_unverified_loads(mnist_root, tmp_path, test_set):
    path = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=False)["images"]
    flip_byte(path, 16 + 5 * 784 + 400)  # pixel 400 of image 5
    with pytest.raises(ValueError, match="md5") as error:
        load_mnist("test", tmp_path)
    assert str(path) in str(error.value)

    images, _ = load_mnist("test", tmp_path, verify=False)
    changed = np.argwhere(images != test_set[0])
    assert changed.tolist() == [[5, 400]]
    assert images[5, 400] == test_set[0][5, 400] ^ 0xFF


def test_wrong_magic_rejected(mnist_root, tmp_path):
    copies = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=False)
    shutil.copyfile(copies["images"], copies["labels"])
    with pytest.raises(ValueError, match="magic number 2051, expected 2049") as error:
        load_mnist("test", tmp_path, verify=False)
    assert str(copies["labels"]) in str(error.value)


def test_read_labels_as_images_rejected(tmp_path):
    path = write_idx(tmp_path / "labels", LABEL_MAGIC, (2,), bytes([0, 1]))
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        read_idx_images(path)


def test_reader_returns_dimensions(tmp_path):
    pixels = bytes(range(12))
    path = write_idx(tmp_path / "images", IMAGE_MAGIC, (2, 3, 2), pixels)
    images = read_idx_images(path)
    assert images.shape == (2, 3, 2)
    assert images.dtype == np.uint8
    assert images.flags.writeable
    np.testing.assert_array_equal(images.ravel(), np.arange(12))


def test_unverified_wrong_image_size_rejected(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", IMAGE_MAGIC, (2, 27, 27), bytes(2 * 27 * 27))
    write_idx(folder / "t10k-labels-idx1-ubyte", LABEL_MAGIC, (2,), bytes([0, 1]))
    with pytest.raises(ValueError, match="27x27, expected 28x28"):
        load_mnist("test", tmp_path, verify=False)


def test_unverified_count_mismatch_rejected(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", IMAGE_MAGIC, (2, 28, 28), bytes(2 * 784))
    write_idx(folder / "t10k-labels-idx1-ubyte", LABEL_MAGIC, (3,), bytes([0, 1, 2]))
    with pytest.raises(ValueError, match="2 images but .* 3 labels"):
        load_mnist("test", tmp_path, verify=False)


def test_unverified_label_range_rejected(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_idx(folder / "t10k-images-idx3-ubyte", IMAGE_MAGIC, (2, 28, 28), bytes(2 * 784))
    write_idx(folder / "t10k-labels-idx1-ubyte", LABEL_MAGIC, (2,), bytes([3, 12]))
    with pytest.raises(ValueError, match="label 12, expected 0-9"):
        load_mnist("test", tmp_path, verify=False)


def test_unverified_small_set_loads(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    pixels = np.arange(2 * 784, dtype=np.uint64) % 256
    write_idx(folder / "t10k-images-idx3-ubyte", IMAGE_MAGIC, (2, 28, 28), pixels.astype(np.uint8).tobytes())
    write_idx(folder / "t10k-labels-idx1-ubyte", LABEL_MAGIC, (2,), bytes([7, 2]))
    images, labels = load_mnist("test", tmp_path, verify=False)
    np.testing.assert_array_equal(images.ravel(), pixels)
    assert labels.tolist() == [7, 2]


# --------------------------------------------------------------------------- data root


def test_env_var_used(mnist_root, tmp_path, monkeypatch):
    copies = copy_split(mnist_root, tmp_path / "mnist", "test", compressed=True)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert locate_mnist("test") == (copies["images"], copies["labels"])


def test_data_dir_overrides_env(mnist_root, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv(ENV_VAR, str(empty))
    with pytest.raises(FileNotFoundError, match="empty"):
        locate_mnist("test")
    images_path, _ = locate_mnist("test", mnist_root)
    assert mnist_root in images_path.parents

    monkeypatch.setenv(ENV_VAR, str(mnist_root))
    with pytest.raises(FileNotFoundError):
        locate_mnist("test", empty)


def test_env_var_missing_folder_named(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=ENV_VAR):
        load_mnist("test")


def test_invalid_arguments_rejected(tmp_path):
    with pytest.raises(ValueError, match="split must be one of"):
        load_mnist("validation", tmp_path)
    with pytest.raises(TypeError, match="verify must be True or False"):
        load_mnist("test", tmp_path, verify="yes")


# --------------------------------------------------------------------------- split


def test_split_last_10000_validation(train_set):
    images, labels = train_set
    (train_images, train_labels), (val_images, val_labels) = train_validation_split(images, labels)
    assert train_images.shape == (50_000, 784)
    assert val_images.shape == (10_000, 784)
    np.testing.assert_array_equal(train_images, images[:50_000])
    np.testing.assert_array_equal(val_images, images[50_000:])
    np.testing.assert_array_equal(train_labels, labels[:50_000])
    np.testing.assert_array_equal(val_labels, labels[50_000:])


def test_split_sizes_and_views():
    images = np.arange(20).reshape(10, 2)
    labels = np.arange(10)
    (train_images, train_labels), (val_images, val_labels) = train_validation_split(images, labels, 3)
    assert train_labels.tolist() == list(range(7))
    assert val_labels.tolist() == [7, 8, 9]
    assert np.shares_memory(val_images, images)
    (_, train_labels), (_, val_labels) = train_validation_split(images, labels, 0)
    assert len(train_labels) == 10
    assert len(val_labels) == 0


def test_split_invalid_arguments():
    images = np.zeros((10, 2))
    labels = np.zeros(10, dtype=np.int64)
    with pytest.raises(ValueError, match="n_validation must be <= 9"):
        train_validation_split(images, labels, 10)
    with pytest.raises(ValueError, match="n_validation must be >= 0"):
        train_validation_split(images, labels, -1)
    with pytest.raises(TypeError, match="n_validation must be an integer"):
        train_validation_split(images, labels, 2.5)
    with pytest.raises(ValueError, match="same number of samples"):
        train_validation_split(images, labels[:9], 2)
    with pytest.raises(ValueError, match="empty training set"):
        train_validation_split(images[:0], labels[:0], 0)


# --------------------------------------------------------------------------- download (local files only)


@pytest.fixture
def local_mirror(mnist_root, tmp_path) -> Path:
    mirror = tmp_path / "mirror"
    copy_split(mnist_root, mirror, "train", compressed=True)
    copy_split(mnist_root, mirror, "test", compressed=True)
    return mirror


def all_gz_names():
    return [f"{spec.name}.gz" for files in MNIST_FILES.values() for spec in files.values()]


def test_download_from_local_mirror(local_mirror, tmp_path, test_set):
    dest = download_mnist(tmp_path / "root" / "mnist", mirrors=[local_mirror.as_uri() + "/"])
    assert sorted(p.name for p in dest.iterdir()) == sorted(all_gz_names())
    for files in MNIST_FILES.values():
        for spec in files.values():
            assert sha256_of(dest / f"{spec.name}.gz") == spec.gz_sha256
    np.testing.assert_array_equal(load_mnist("test", tmp_path / "root")[0], test_set[0])


def test_download_skips_verified_files(local_mirror, tmp_path):
    dest = download_mnist(tmp_path / "dest", mirrors=[local_mirror.as_uri()])
    absent = (tmp_path / "absent").as_uri()
    assert download_mnist(dest, mirrors=[absent]) == dest


def test_download_replaces_corrupt_file(local_mirror, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    stale = dest / "t10k-labels-idx1-ubyte.gz"
    stale.write_bytes(b"not the labels")
    download_mnist(dest, mirrors=[local_mirror.as_uri()])
    assert sha256_of(stale) == MNIST_FILES["test"]["labels"].gz_sha256


def test_download_rejects_bad_checksum(local_mirror, tmp_path):
    flip_byte(local_mirror / "train-labels-idx1-ubyte.gz", 500)
    dest = tmp_path / "dest"
    with pytest.raises(RuntimeError, match="checksum mismatch") as error:
        download_mnist(dest, mirrors=[local_mirror.as_uri()])
    assert "train-labels-idx1-ubyte.gz" in str(error.value)
    # The file before it was accepted. The rejected one left neither a file nor a temporary file.
    assert sorted(p.name for p in dest.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_download_rejects_oversized_file(local_mirror, tmp_path):
    path = local_mirror / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes() + b"\0")
    dest = tmp_path / "dest"
    with pytest.raises(RuntimeError, match="larger than the canonical 9912422 bytes"):
        download_mnist(dest, mirrors=[local_mirror.as_uri()])
    assert list(dest.iterdir()) == []


def test_download_falls_back_to_next_mirror(local_mirror, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(local_mirror, bad)
    for name in all_gz_names():
        flip_byte(bad / name, 50)
    dest = download_mnist(tmp_path / "dest", mirrors=[bad.as_uri(), local_mirror.as_uri()])
    assert sha256_of(dest / "t10k-images-idx3-ubyte.gz") == MNIST_FILES["test"]["images"].gz_sha256


def test_download_invalid_mirrors(tmp_path):
    with pytest.raises(ValueError, match="http, https or file URL"):
        download_mnist(tmp_path, mirrors=[tmp_path.as_uri().replace("file:", "ftp:", 1)])
    with pytest.raises(ValueError, match="at least one base URL"):
        download_mnist(tmp_path, mirrors=[])
    with pytest.raises(ValueError, match="timeout must be > 0"):
        download_mnist(tmp_path, mirrors=[tmp_path.as_uri()], timeout=0)
