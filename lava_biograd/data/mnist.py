"""MNIST in the IDX format: find, verify, read, split and download the four files.

The files are searched under the data root (see :mod:`lava_biograd.data.paths`) in this
order, for each file name ``<name>`` such as ``train-images-idx3-ubyte``:

1. ``<root>/mnist/<name>.gz`` (the layout that :func:`download_mnist` writes);
2. ``<root>/mnist/<name>`` (uncompressed);
3. ``<root>/MNIST/raw/<name>`` (where torchvision reads the uncompressed files);
4. ``<root>/MNIST/raw/<name>.gz`` (torchvision's download before extraction).

Each file is found on its own, so images and labels may come from different locations.

**Verification.** A gzip file must match the sha256 of the canonical distribution. An
uncompressed file must match the md5 of its canonical content, because md5 is the only
digest published for the uncompressed files. md5 is used here to detect damaged files, not
as a defence against deliberate tampering. Hashing the largest file takes an estimated
0.1 s or less on one CPU core, so it runs on every load and nothing is cached.

**Format.** IDX is big-endian. An image file starts with the magic number 2051 (``0x00000803``:
unsigned bytes, 3 dimensions), then ``N``, the row count and the column count as 32-bit
integers, then ``N * rows * cols`` pixels in row-major order. A label file starts with the magic
number 2049 (``0x00000801``), then ``N``, then ``N`` labels. The reader checks the magic
number, the dimensions and the exact length, with or without checksum verification.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges and is distributed under
CC BY-SA 3.0.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import os
import tempfile
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lava_biograd.data.paths import ENV_VAR, resolve_data_dir, sha256_of, user_cache_dir, verify_sha256
from lava_biograd.validation import check_array, check_choice, check_float, check_int

logger = logging.getLogger(__name__)

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
IMAGE_SHAPE = (28, 28)
N_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
N_CLASSES = 10
SPLITS = ("train", "test")
N_VALIDATION = 10_000

# Base URLs that serve the four canonical gzip files, tried in order. They are used only
# by download_mnist, and nothing else in the library opens a network connection.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK_SIZE = 1 << 22
_FIX_CORRUPT = (
    "Delete it and download the files again with `lava-biograd download mnist`, or point "
    f"--data-dir (or {ENV_VAR}) at a folder with intact copies."
)


@dataclass(frozen=True)
class MnistFile:
    """Name and checksums of one canonical MNIST file.

    Attributes
    ----------
    name : str
        File name without the ``.gz`` suffix, for example ``"train-images-idx3-ubyte"``.
    n_items : int
        Number of images or labels in the file.
    gz_sha256 : str
        sha256 of the canonical gzip file.
    gz_bytes : int
        Size of the canonical gzip file in bytes.
    raw_md5 : str
        md5 of the uncompressed content.
    """

    name: str
    n_items: int
    gz_sha256: str
    gz_bytes: int
    raw_md5: str


MNIST_FILES = {
    "train": {
        "images": MnistFile(
            "train-images-idx3-ubyte",
            60_000,
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            9_912_422,
            "6bbc9ace898e44ae57da46a324031adb",
        ),
        "labels": MnistFile(
            "train-labels-idx1-ubyte",
            60_000,
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            28_881,
            "a25bea736e30d166cdddb491f175f624",
        ),
    },
    "test": {
        "images": MnistFile(
            "t10k-images-idx3-ubyte",
            10_000,
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            1_648_877,
            "2646ac647ad5339dbf082846283269ea",
        ),
        "labels": MnistFile(
            "t10k-labels-idx1-ubyte",
            10_000,
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            4_542,
            "27ae3e4e09519cfbb04c329615203637",
        ),
    },
}


# --------------------------------------------------------------------------- locating


def candidate_paths(root: str | os.PathLike, name: str) -> list[Path]:
    """Return the paths searched for the MNIST file ``name`` under ``root``, in order."""
    root = Path(root)
    return [
        root / "mnist" / f"{name}.gz",
        root / "mnist" / name,
        root / "MNIST" / "raw" / name,
        root / "MNIST" / "raw" / f"{name}.gz",
    ]


def _find_file(root: Path, name: str) -> Path:
    candidates = candidate_paths(root, name)
    for path in candidates:
        if path.is_file():
            return path
    searched = ", ".join(str(path) for path in candidates)
    raise FileNotFoundError(
        f"MNIST file {name!r} not found under the data root {str(root)!r}. Searched: {searched}. "
        f"Pass --data-dir (data_dir=...) with the folder that contains mnist/{name}.gz, "
        f"set {ENV_VAR} to it, or download the files with `lava-biograd download mnist` "
        f"(default destination {user_cache_dir() / 'data' / 'mnist'})."
    )


def locate_mnist(split: str, data_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """Find the image and label files of ``split``.

    Parameters
    ----------
    split : {"train", "test"}
    data_dir : path-like, optional
        Data root. ``None`` resolves it with :func:`lava_biograd.data.paths.resolve_data_dir`.

    Returns
    -------
    images_path, labels_path : Path

    Raises
    ------
    FileNotFoundError
        When a file is in none of the searched locations; the message lists them.
    """
    split = check_choice("split", split, SPLITS)
    root = resolve_data_dir(data_dir)
    files = MNIST_FILES[split]
    return _find_file(root, files["images"].name), _find_file(root, files["labels"].name)


# --------------------------------------------------------------------------- verification


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_mnist_file(path: str | os.PathLike, spec: MnistFile) -> None:
    """Verify a gzip file against ``spec.gz_sha256`` or an uncompressed file against ``spec.raw_md5``.

    Raises
    ------
    ValueError
        When the digest differs. The message names the file and the fix.
    """
    path = Path(path)
    if _is_gzip(path):
        verify_sha256(path, spec.gz_sha256, _FIX_CORRUPT)
        return
    actual = _md5_of(path)
    if actual != spec.raw_md5:
        raise ValueError(
            f"checksum mismatch for {str(path)!r}: md5 {actual}, expected {spec.raw_md5} "
            f"(canonical {spec.name}). The file is truncated or corrupt. {_FIX_CORRUPT}"
        )


# --------------------------------------------------------------------------- IDX reader


def _read_up_to(handle, limit: int) -> bytearray:
    """Read at most ``limit`` bytes in chunks, so a corrupt header cannot force a huge allocation."""
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = handle.read(min(_CHUNK_SIZE, limit - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _read_idx(path: str | os.PathLike, magic: int, kind: str) -> np.ndarray:
    """Read an unsigned-byte IDX file with the given magic number into an array of its dimensions."""
    path = Path(path)
    n_dims = magic & 0xFF
    opener = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rb") as handle:
            magic_bytes = _read_up_to(handle, 4)
            if len(magic_bytes) < 4:
                raise ValueError(
                    f"invalid MNIST {kind} file {str(path)!r}: it contains {len(magic_bytes)} bytes, "
                    f"fewer than the 4-byte magic number. {_FIX_CORRUPT}"
                )
            found = int.from_bytes(magic_bytes, "big")
            if found != magic:
                raise ValueError(
                    f"invalid MNIST {kind} file {str(path)!r}: magic number {found}, expected "
                    f"{magic}. {_FIX_CORRUPT}"
                )
            header = _read_up_to(handle, 4 * n_dims)
            if len(header) < 4 * n_dims:
                raise ValueError(
                    f"invalid MNIST {kind} file {str(path)!r}: it ends inside the "
                    f"{4 * (1 + n_dims)}-byte header. {_FIX_CORRUPT}"
                )
            dims = tuple(int.from_bytes(header[4 * i : 4 * i + 4], "big") for i in range(n_dims))
            n_bytes = math.prod(dims)
            # One byte more than declared, so that trailing data is detected.
            payload = _read_up_to(handle, n_bytes + 1)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise ValueError(
            f"invalid MNIST {kind} file {str(path)!r}: the gzip stream is truncated or corrupt "
            f"({error}). {_FIX_CORRUPT}"
        ) from error

    if len(payload) != n_bytes:
        problem = "ends early" if len(payload) < n_bytes else "has extra bytes at the end"
        raise ValueError(
            f"invalid MNIST {kind} file {str(path)!r}: the header declares dimensions {dims} "
            f"({n_bytes} data bytes) but the file {problem}. {_FIX_CORRUPT}"
        )
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def read_idx_images(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX image file (magic number 2051), gzip-compressed or not.

    Returns
    -------
    ndarray of shape (N, rows, cols), dtype uint8
        Writable; the file is not kept open.

    Raises
    ------
    ValueError
        When the magic number or the length is wrong, or the gzip stream is corrupt. The
        message names the path and the fix.
    """
    return _read_idx(path, IMAGE_MAGIC, "image")


def read_idx_labels(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX label file (magic number 2049), gzip-compressed or not.

    Returns
    -------
    ndarray of shape (N,), dtype uint8

    Raises
    ------
    ValueError
        As :func:`read_idx_images`.
    """
    return _read_idx(path, LABEL_MAGIC, "label")


# --------------------------------------------------------------------------- loading


def load_mnist(
    split: str, data_dir: str | os.PathLike | None = None, verify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Load the MNIST training or test set.

    Parameters
    ----------
    split : {"train", "test"}
        ``"train"`` has 60,000 samples and ``"test"`` 10,000.
    data_dir : path-like, optional
        Data root. ``None`` resolves it from ``LAVA_BIOGRAD_DATA``, ``shared/data`` beside
        the checkout, or the user cache (see :mod:`lava_biograd.data.paths`).
    verify : bool, default=True
        Check each file against its canonical checksum before reading it. With
        ``verify=False`` only the IDX structure is checked: any sample count is accepted,
        so files in the same format (for example Fashion-MNIST) also load.

    Returns
    -------
    images : ndarray of shape (N, 784), dtype uint8
        Pixels 0-255 in row-major order, 0 for the background.
    labels : ndarray of shape (N,), dtype int64
        Digits 0-9.

    Raises
    ------
    FileNotFoundError
        When the data root or a file is missing; the message lists the searched paths.
    ValueError
        When a file fails verification or has an invalid structure, when images are not
        28x28, when image and label counts differ, or when a label is outside 0-9.
    """
    if not isinstance(verify, bool):
        raise TypeError(f"verify must be True or False, got {verify!r}")
    split = check_choice("split", split, SPLITS)
    images_path, labels_path = locate_mnist(split, data_dir)
    files = MNIST_FILES[split]
    if verify:
        verify_mnist_file(images_path, files["images"])
        verify_mnist_file(labels_path, files["labels"])

    images = read_idx_images(images_path)
    labels = read_idx_labels(labels_path)
    if images.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"MNIST images in {str(images_path)!r} are {images.shape[1]}x{images.shape[2]}, "
            f"expected 28x28. {_FIX_CORRUPT}"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{str(images_path)!r} contains {len(images)} images but {str(labels_path)!r} contains "
            f"{len(labels)} labels. Both files must come from the same split. {_FIX_CORRUPT}"
        )
    if labels.size and labels.max() >= N_CLASSES:
        raise ValueError(
            f"{str(labels_path)!r} contains the label {int(labels.max())}, expected 0-9. {_FIX_CORRUPT}"
        )
    return images.reshape(len(images), N_PIXELS), labels.astype(np.int64)


def train_validation_split(
    images: np.ndarray, labels: np.ndarray, n_validation: int = N_VALIDATION
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split a training set into training and validation parts, keeping the sample order.

    The validation part is the last ``n_validation`` samples, so with the MNIST training
    set and the default it contains images 50,000-59,999 and training keeps 0-49,999.

    Parameters
    ----------
    images : ndarray of shape (N, ...)
    labels : ndarray of shape (N,)
    n_validation : int, default=10000
        Between 0 and ``N - 1``, so that training keeps at least one sample.

    Returns
    -------
    (train_images, train_labels), (validation_images, validation_labels)
        Views of the inputs, not copies.
    """
    images = np.asarray(images)
    labels = check_array("labels", labels, ndim=1)
    if images.ndim < 1 or len(images) != len(labels):
        raise ValueError(
            f"images and labels must have the same number of samples, got images of shape "
            f"{images.shape} and {len(labels)} labels"
        )
    n_samples = len(labels)
    if n_samples < 1:
        raise ValueError("cannot split an empty training set because images and labels have 0 samples")
    n_validation = check_int("n_validation", n_validation, minimum=0, maximum=n_samples - 1)
    n_train = n_samples - n_validation
    return (images[:n_train], labels[:n_train]), (images[n_train:], labels[n_train:])


# --------------------------------------------------------------------------- download


def _check_mirrors(mirrors) -> tuple[str, ...]:
    if isinstance(mirrors, str):
        mirrors = (mirrors,)
    try:
        mirrors = tuple(mirrors)
    except TypeError:
        raise TypeError(f"mirrors must be a sequence of base URLs, got {mirrors!r}") from None
    if not mirrors:
        raise ValueError("mirrors must contain at least one base URL, got an empty sequence")
    for mirror in mirrors:
        scheme = urllib.parse.urlsplit(mirror).scheme if isinstance(mirror, str) else None
        if scheme not in ("http", "https", "file"):
            raise ValueError(
                f"each mirror must be an http, https or file URL of a folder, got {mirror!r}. "
                f"For example {MNIST_MIRRORS[0]!r}"
            )
    return mirrors


def _fetch(url: str, spec: MnistFile, dest: Path, timeout: float) -> None:
    """Download ``url`` to ``dest`` through a temporary file that is renamed only after the sha256 matches."""
    handle, temp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    temp_path = Path(temp_name)
    try:
        digest = hashlib.sha256()
        n_bytes = 0
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                n_bytes += len(chunk)
                # A response larger than the canonical file cannot match; stop reading it.
                if n_bytes > spec.gz_bytes:
                    raise ValueError(f"{url} is larger than the canonical {spec.gz_bytes} bytes")
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != spec.gz_sha256:
            raise ValueError(
                f"checksum mismatch for {url}: sha256 {digest.hexdigest()}, expected {spec.gz_sha256}"
            )
        os.replace(temp_path, dest)
    finally:
        temp_path.unlink(missing_ok=True)


def download_mnist(
    dest_dir: str | os.PathLike | None = None,
    mirrors=MNIST_MIRRORS,
    timeout: float = 60.0,
) -> Path:
    """Download the four canonical MNIST gzip files and verify their sha256.

    A file that is already present with the right sha256 is kept. Every download goes to a
    temporary file in ``dest_dir`` that is renamed to its final name only after its sha256
    matches, so an interrupted or rejected download never leaves a partial file under the
    final name. Mirrors are tried in order until one delivers a matching file.

    Parameters
    ----------
    dest_dir : path-like, optional
        Target folder, created when missing. Default: ``<user cache>/data/mnist``
        (``~/.cache/lava_biograd/data/mnist``), which :func:`load_mnist` finds when neither
        ``data_dir``, ``LAVA_BIOGRAD_DATA`` nor ``shared/data`` beside the checkout is set.
    mirrors : sequence of str, default=MNIST_MIRRORS
        Base URLs (http, https or file) of folders that serve ``<name>.gz``.
    timeout : float, default=60
        Socket timeout in seconds for each request.

    Returns
    -------
    Path
        The folder that contains the four files.

    Raises
    ------
    RuntimeError
        When a file could not be fetched with the right sha256 from any mirror; the message
        lists the error of each mirror.
    """
    mirrors = _check_mirrors(mirrors)
    timeout = check_float("timeout", timeout, minimum=0.0, min_open=True)
    dest = Path(dest_dir).expanduser() if dest_dir is not None else user_cache_dir() / "data" / "mnist"
    dest.mkdir(parents=True, exist_ok=True)

    for files in MNIST_FILES.values():
        for spec in files.values():
            target = dest / f"{spec.name}.gz"
            if target.is_file() and sha256_of(target) == spec.gz_sha256:
                logger.info("MNIST file %s is present and verified", target)
                continue
            errors = []
            for mirror in mirrors:
                url = mirror.rstrip("/") + f"/{spec.name}.gz"
                logger.info("downloading %s to %s", url, target)
                try:
                    _fetch(url, spec, target, timeout)
                except (OSError, ValueError) as error:
                    logger.warning("download of %s failed: %s", url, error)
                    errors.append(f"{url}: {error}")
                    continue
                break
            else:
                raise RuntimeError(
                    f"could not download {spec.name}.gz with the expected sha256 from any mirror: "
                    + "; ".join(errors)
                    + ". Check the network connection or pass other mirrors."
                )
    return dest
