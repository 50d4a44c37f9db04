"""N-MNIST recordings: decode, verify, bin into 5 ms steps, cache and split.

**Sources.** For a split folder ``<S>`` (``Train`` or ``Test``) the data root (see
:mod:`lava_biograd.data.paths`) is searched in this order, each step trying the
containers ``<root>/NMNIST``, ``<root>/nmnist`` and ``<root>`` itself:

1. an extracted folder ``<container>/<S>/<digit>/*.bin``;
2. an original archive ``<container>/<S>.zip`` (or ``train.zip``/``test.zip``) with the
   members ``<S>/<digit>/*.bin``;
3. a subset tarball ``<container>/nmnist-<S>-subset*.tar.gz`` with the same members.

The label of a recording is its digit folder. Recordings are ordered by file name, then
digit folder. N-MNIST file names are the 1-based MNIST index of the sample, so this is the
MNIST order, and it is the order in which the BioGrad authors' loader sorted the files.

**Verification.** A ``MANIFEST.csv`` in the container (next to the split folder or the
archive) lists ``split, path, label, n_events, bytes, sha256`` (and more columns) per
recording. When it is present and ``verify=True``, the recordings of a split must be
exactly those the manifest lists, with the same size, sha256, label and event count.
Every recording is also checked on decoding, with or without a manifest: length a
multiple of 5 bytes, x and y in 0-33 and non-decreasing timestamps.

**Cache.** Binned spikes are stored 8 inputs per byte (``np.packbits``) in one ``.npz``
per split, binning setting and source, by default under ``<user cache>/nmnist-cache``.
The full training set takes 60,000 x 60 x 289 bytes (1.04 GB) at 5 ms bins. A cache file is
used only when its binning settings and source fingerprint match. The fingerprint
covers the size and modification time (ns) of every recording of a folder, or of the
archive, and of the manifest.

N-MNIST is by Orchard, Jayawant, Cohen and Thakor (Frontiers in Neuroscience 9:437, 2015).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import logging
import os
import re
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np
import tonic.io
from tonic.datasets import NMNIST as _TonicNMNIST
from tqdm import tqdm

from lava_biograd.atomic import atomic_output
from lava_biograd.data.binning import (
    NMNIST_SENSOR_SIZE,
    BinnedEvents,
    bin_events,
    check_binning,
    pack_spikes,
    unpack_spikes,
)
from lava_biograd.data.paths import ENV_VAR, resolve_data_dir, user_cache_dir
from lava_biograd.validation import check_choice, check_int

logger = logging.getLogger(__name__)

#: Structured dtype of decoded events, ``tonic.datasets.NMNIST.dtype`` (integer fields x, y, t, p).
EVENT_DTYPE = _TonicNMNIST.dtype
SPLIT_FOLDERS = {"train": "Train", "test": "Test"}
N_TRAIN_FULL = 60_000
N_TEST_FULL = 10_000
N_VALIDATION = 10_000
N_INPUTS = NMNIST_SENSOR_SIZE[0] * NMNIST_SENSOR_SIZE[1] * NMNIST_SENSOR_SIZE[2]
MANIFEST_NAME = "MANIFEST.csv"
MANIFEST_COLUMNS = ("split", "path", "label", "n_events", "bytes", "sha256")
CACHE_FORMAT = 1

_EVENT_BYTES = 5
_SENSOR_EXTENT = 34
_FIX_RECORDING = (
    "Replace it with an intact copy from the original N-MNIST archive, or point --data-dir "
    f"(or {ENV_VAR}) at a folder with intact copies."
)


# --------------------------------------------------------------------------- decoding


def _read_source_bytes(source, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        return Path(source).read_bytes(), name or repr(str(source))
    if hasattr(source, "read"):
        data = source.read()
        if not isinstance(data, bytes):
            raise TypeError(
                f"the file object must be opened in binary mode ('rb'), its read() returned "
                f"{type(data).__name__}"
            )
        return data, name or repr(getattr(source, "name", "<file object>"))
    raise TypeError(
        f"source must be a path, bytes or a binary file object, got {type(source).__name__}"
    )


def read_events(source, name: str | None = None) -> np.ndarray:
    """Decode and validate one N-MNIST recording.

    Each event is 5 bytes: byte 0 is x, byte 1 is y, bit 7 of byte 2 is the polarity
    (1 = ON) and the remaining 23 bits (bits 6-0 of byte 2, bytes 3 and 4, big-endian)
    are the timestamp in µs. Decoding uses tonic's ``tonic.io.read_mnist_file``. tonic
    treats y = 240 as a timestamp-overflow marker, but N-MNIST has none, and the y check
    below rejects them before tonic runs.

    Parameters
    ----------
    source : path-like, bytes or binary file object
        The ``.bin`` recording or its content.
    name : str, optional
        How error messages refer to the recording; defaults to the path.

    Returns
    -------
    numpy structured array of dtype :data:`EVENT_DTYPE`
        Fields ``x``, ``y``, ``t`` (µs) and ``p`` (0 = OFF, 1 = ON), one entry per event.

    Raises
    ------
    ValueError
        When the length is not a multiple of 5 (a truncated file), when x or y lies outside
        0-33, or when a timestamp is smaller than the one before. The message names the
        recording.
    """
    data, name = _read_source_bytes(source, name)
    if len(data) % _EVENT_BYTES != 0:
        raise ValueError(
            f"N-MNIST recording {name} is truncated or corrupt: its length of {len(data)} bytes "
            f"is not a multiple of {_EVENT_BYTES} bytes per event. {_FIX_RECORDING}"
        )
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, _EVENT_BYTES)
    for column, field in ((0, "x"), (1, "y")):
        invalid = np.flatnonzero(raw[:, column] >= _SENSOR_EXTENT)
        if invalid.size:
            first = int(invalid[0])
            raise ValueError(
                f"N-MNIST recording {name} is corrupt: event {first} has {field}={raw[first, column]}, "
                f"outside the sensor range 0-{_SENSOR_EXTENT - 1} ({invalid.size} such events). "
                f"{_FIX_RECORDING}"
            )

    events = tonic.io.read_mnist_file(io.BytesIO(data), dtype=EVENT_DTYPE, is_stream=True)
    decreasing = np.flatnonzero(np.diff(events["t"]) < 0)
    if decreasing.size:
        first = int(decreasing[0]) + 1
        raise ValueError(
            f"N-MNIST recording {name} is corrupt: the timestamp of event {first} "
            f"({events['t'][first]} µs) is smaller than that of event {first - 1} "
            f"({events['t'][first - 1]} µs). {_FIX_RECORDING}"
        )
    return events


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class NmnistSource:
    """Location of one N-MNIST split on disk.

    Attributes
    ----------
    split : {"train", "test"}
    kind : {"folder", "zip", "tar"}
    path : pathlib.Path
        The split folder (``.../Train``) or the archive.
    manifest : pathlib.Path or None
        ``MANIFEST.csv`` in the same container, if present.
    """

    split: str
    kind: str
    path: Path
    manifest: Path | None

    @property
    def container(self) -> Path:
        """Folder that contains the split folder or the archive."""
        return self.path.parent

    def describe(self) -> str:
        """Return a one-line description for logs, such as ``"folder /data/NMNIST/Train"``."""
        return f"{self.kind} {self.path}"

    def recording_name(self, member: str) -> str:
        """Return how messages refer to ``member`` (``"Train/5/00001.bin"``) of this source."""
        if self.kind == "folder":
            return repr(str(self.container / member))
        return f"{member!r} in archive {str(self.path)!r}"


def _existing_containers(root: Path) -> list[Path]:
    # NMNIST and nmnist are one folder on a case-insensitive file system.
    containers, seen = [], set()
    for folder in (root / "NMNIST", root / "nmnist", root):
        if folder.is_dir():
            stat = folder.stat()
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                containers.append(folder)
    return containers


def find_nmnist_source(split: str, data_dir: str | os.PathLike | None = None) -> NmnistSource:
    """Find the recordings of ``split`` under the data root, in the order of the module docstring.

    Raises
    ------
    FileNotFoundError
        When no source exists; the message lists the searched locations.
    ValueError
        When a container has more than one subset tarball of the split.
    """
    split = check_choice("split", split, tuple(SPLIT_FOLDERS))
    folder = SPLIT_FOLDERS[split]
    root = resolve_data_dir(data_dir)
    containers = _existing_containers(root)

    def source(kind: str, path: Path) -> NmnistSource:
        manifest = path.parent / MANIFEST_NAME
        return NmnistSource(split, kind, path, manifest if manifest.is_file() else None)

    for container in containers:
        if (container / folder).is_dir():
            return source("folder", container / folder)
    for container in containers:
        for name in (f"{folder}.zip", f"{folder.lower()}.zip"):
            if (container / name).is_file():
                return source("zip", container / name)
    for container in containers:
        tarballs = sorted(container.glob(f"nmnist-{folder}-subset*.tar.gz"))
        if len(tarballs) > 1:
            names = ", ".join(path.name for path in tarballs)
            raise ValueError(
                f"found several N-MNIST {split} tarballs in {str(container)!r} ({names}); "
                "keep one of them or extract the one you want into NMNIST/"
            )
        if tarballs:
            return source("tar", tarballs[0])

    searched = [str(c / p) for c in (root / "NMNIST", root / "nmnist", root)
                for p in (f"{folder}/", f"{folder}.zip", f"nmnist-{folder}-subset*.tar.gz")]
    raise FileNotFoundError(
        f"N-MNIST {split} recordings not found; searched: {', '.join(searched)}. Extract the "
        f"N-MNIST archives into <data root>/NMNIST/ or put {folder}.zip there, and pass the data "
        f"root with --data-dir (or {ENV_VAR})"
    )


def _member_sort_key(member: str) -> tuple[str, str]:
    _, digit, file_name = member.split("/")
    return file_name, digit


def _member_pattern(folder: str) -> re.Pattern:
    return re.compile(rf"^(?:\./)?({folder}/[0-9]/[^/]+\.bin)$")


def _archive_error(source: NmnistSource, error: Exception) -> ValueError:
    return ValueError(
        f"cannot read N-MNIST archive {str(source.path)!r}: {error}. The archive is truncated "
        "or corrupt; replace it with an intact copy"
    )


_ARCHIVE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error, gzip.BadGzipFile)


def list_recordings(source: NmnistSource) -> dict[str, str]:
    """List the recordings of a source in loading order (file name, then digit folder).

    Returns
    -------
    dict
        ``{member: stored_name}``, where ``member`` is the normalised path such as
        ``"Train/5/00001.bin"`` (the manifest's ``path``) and ``stored_name`` is the
        name inside the archive, or ``member`` for a folder.
    """
    folder = SPLIT_FOLDERS[source.split]
    pattern = _member_pattern(folder)
    stored: list[tuple[str, str]] = []
    if source.kind == "folder":
        for digit in range(10):
            digit_dir = source.path / str(digit)
            if digit_dir.is_dir():
                with os.scandir(digit_dir) as entries:
                    for entry in entries:
                        if entry.name.endswith(".bin") and entry.is_file():
                            member = f"{folder}/{digit}/{entry.name}"
                            stored.append((member, member))
    else:
        try:
            if source.kind == "zip":
                with zipfile.ZipFile(source.path) as archive:
                    names = [info.filename for info in archive.infolist() if not info.is_dir()]
            else:
                with tarfile.open(source.path, "r:*") as archive:
                    names = [info.name for info in archive if info.isfile()]
        except _ARCHIVE_ERRORS as error:
            raise _archive_error(source, error) from error
        for name in names:
            match = pattern.match(name)
            if match:
                stored.append((match.group(1), name))

    members: dict[str, str] = {}
    for member, name in sorted(stored, key=lambda item: _member_sort_key(item[0])):
        if member in members:
            raise ValueError(f"{source.describe()} contains {member!r} twice; replace it with an intact copy")
        members[member] = name
    if not members:
        raise FileNotFoundError(
            f"{source.describe()} contains no N-MNIST recordings; expected files "
            f"{folder}/<digit>/<number>.bin"
        )
    return members


def _iter_recording_bytes(source: NmnistSource, members: dict[str, str]) -> Iterator[tuple[str, bytes]]:
    """Yield ``(member, content)`` in storage order (archive order for a tarball)."""
    if source.kind == "folder":
        for member in members:
            yield member, (source.container / member).read_bytes()
        return
    try:
        if source.kind == "zip":
            with zipfile.ZipFile(source.path) as archive:
                for member, name in members.items():
                    yield member, archive.read(name)
        else:
            # A .tar.gz cannot seek cheaply, so its members are read in archive order.
            member_of_name = {name: member for member, name in members.items()}
            with tarfile.open(source.path, "r:*") as archive:
                for info in archive:
                    if info.isfile() and info.name in member_of_name:
                        yield member_of_name[info.name], archive.extractfile(info).read()
    except _ARCHIVE_ERRORS as error:
        raise _archive_error(source, error) from error


# --------------------------------------------------------------------------- manifest


class ManifestEntry(NamedTuple):
    """Expected properties of one recording, from ``MANIFEST.csv``."""

    label: int
    n_events: int
    n_bytes: int
    sha256: str


def read_manifest(path: str | os.PathLike, split: str) -> dict[str, ManifestEntry]:
    """Read the manifest rows of ``split`` as ``{path: ManifestEntry}``.

    Raises
    ------
    ValueError
        When a column of :data:`MANIFEST_COLUMNS` is missing or a row has an invalid
        value; the message names the line.
    """
    split = check_choice("split", split, tuple(SPLIT_FOLDERS))
    entries: dict[str, ManifestEntry] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(
                f"N-MNIST manifest {str(path)!r} lacks the columns {missing}; its header is "
                f"{reader.fieldnames}. Restore the original MANIFEST.csv, or remove it to skip "
                "the manifest checks"
            )
        for row in reader:
            if row["split"] != split:
                continue
            try:
                entry = ManifestEntry(
                    int(row["label"]), int(row["n_events"]), int(row["bytes"]), row["sha256"].lower()
                )
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"N-MNIST manifest {str(path)!r}, line {reader.line_num}: invalid row {row} ({error})"
                ) from None
            entries[row["path"]] = entry
    return entries


def _check_manifest_members(source: NmnistSource, members, entries: dict[str, ManifestEntry]) -> None:
    missing = sorted(set(entries) - set(members))
    unlisted = sorted(set(members) - set(entries))
    if missing or unlisted:
        raise ValueError(
            f"the N-MNIST {source.split} recordings in {source.describe()} differ from manifest "
            f"{str(source.manifest)!r}: {len(missing)} listed recordings are missing "
            f"(first: {missing[:3]}) and {len(unlisted)} recordings are not listed (first: {unlisted[:3]}). "
            "Extract the complete archive again, or pass verify=False (CLI: --no-verify) if this "
            "is a different copy of N-MNIST than the manifest describes"
        )


def _verify_recording(
    name: str, member: str, data: bytes, n_events: int, entry: ManifestEntry, manifest: Path
) -> None:
    label = int(member.split("/")[1])
    checks = (
        ("size", len(data), entry.n_bytes),
        ("sha256", hashlib.sha256(data).hexdigest(), entry.sha256),
        ("label", label, entry.label),
        ("event count", n_events, entry.n_events),
    )
    for what, actual, expected in checks:
        if actual != expected:
            raise ValueError(
                f"N-MNIST recording {name} does not match manifest {str(manifest)!r}: {what} is "
                f"{actual}, expected {expected}. {_FIX_RECORDING}"
            )


# --------------------------------------------------------------------------- cache


def source_fingerprint(source: NmnistSource) -> str:
    """Return a sha256 over the identity, sizes and modification times of the source files.

    For a folder every recording counts, so an added, removed, replaced or touched file
    changes the fingerprint. An archive counts as one file.

    NOTE: an edit that keeps a file's size and restores its modification time is not
    detected; delete the cache folder after such an edit.
    """
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{source.kind}\0{source.path.resolve()}\n".encode())
    if source.kind == "folder":
        paths = [source.container / member for member in list_recordings(source)]
    else:
        paths = [source.path]
    if source.manifest is not None:
        paths.append(source.manifest)
    for path in paths:
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_path(source: NmnistSource, cache_dir: Path, duration_ms: int, bin_ms: int) -> Path:
    """Return the cache file of a source and binning setting (one file per source location)."""
    location = hashlib.sha256(f"{source.kind}\0{source.path.resolve()}".encode()).hexdigest()[:12]
    return cache_dir / f"nmnist-{source.split}-{duration_ms}ms-{bin_ms}ms-{location}.npz"


def _read_cache(path: Path, expected: dict, require_verified: bool):
    if not path.is_file():
        logger.info("no N-MNIST cache at %s; binning the recordings", path)
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"][()]))
            packed, labels, files = archive["packed"], archive["labels"], archive["files"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        logger.warning(
            "N-MNIST cache file %s is unreadable (%s: %s); rebuilding it", path, type(error).__name__, error
        )
        return None

    changed = [key for key, value in expected.items() if meta.get(key) != value]
    if changed:
        logger.info("N-MNIST cache %s is out of date (%s changed); rebuilding it", path, ", ".join(changed))
        return None
    if require_verified and not meta.get("verified", False):
        logger.info("N-MNIST cache %s was built without manifest verification; rebuilding it", path)
        return None
    n_steps = expected["duration_ms"] // expected["bin_ms"]
    n = meta.get("n_recordings")
    valid = (
        packed.dtype == np.uint8 and packed.shape == (n, n_steps, -(-N_INPUTS // 8))
        and labels.shape == (n,) and files.shape == (n,) and labels.dtype == np.int64
        and (n == 0 or (labels.min() >= 0 and labels.max() <= 9))
    )
    if not valid:
        logger.warning(
            "N-MNIST cache file %s is corrupt (arrays %s %s, %s, %s for %s recordings); rebuilding it",
            path, packed.shape, packed.dtype, labels.shape, files.shape, n,
        )
        return None
    logger.info("loaded %d binned N-MNIST %s recordings from cache %s", n, expected["split"], path)
    return packed, labels, [str(f) for f in files]


def _write_cache(path: Path, packed: np.ndarray, labels: np.ndarray, files: list[str], meta: dict) -> None:
    """Write the cache file through a temporary file and ``os.replace``, so readers never see a partial file."""
    with atomic_output(path, create_folder=True) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, packed=packed, labels=labels, files=np.array(files, dtype=str),
                     meta=np.array(json.dumps(meta)))


# --------------------------------------------------------------------------- loading


class NmnistArrays(NamedTuple):
    """Binned recordings of one split.

    Attributes
    ----------
    spikes : ndarray of uint8
        Shape ``(N, T, 289)`` packed by :func:`lava_biograd.data.binning.pack_spikes`, or
        ``(N, T, 2312)`` with 0/1 values when loaded with ``packed=False``.
    labels : ndarray of shape (N,), dtype int64
    files : list of str
        Recording paths such as ``"Train/5/00001.bin"``, in the order of ``labels``.
    """

    spikes: np.ndarray
    labels: np.ndarray
    files: list[str]


def _bin_source(source: NmnistSource, verify: bool, duration_ms: int, bin_ms: int):
    members = list_recordings(source)
    entries = None
    if verify and source.manifest is not None:
        entries = read_manifest(source.manifest, source.split)
        _check_manifest_members(source, members, entries)
    elif verify:
        logger.info("no %s next to %s; checking the recording format only", MANIFEST_NAME, source.describe())

    index = {member: i for i, member in enumerate(members)}
    packed = np.zeros((len(members), duration_ms // bin_ms, -(-N_INPUTS // 8)), dtype=np.uint8)
    done = np.zeros(len(members), dtype=bool)
    recordings = _iter_recording_bytes(source, members)
    description = f"binning N-MNIST {source.split}"
    for member, data in tqdm(recordings, total=len(members), desc=description, disable=None, leave=False):
        name = source.recording_name(member)
        events = read_events(data, name=name)
        if entries is not None:
            _verify_recording(name, member, data, len(events), entries[member], source.manifest)
        packed[index[member]] = pack_spikes(bin_events(events, duration_ms, bin_ms, NMNIST_SENSOR_SIZE))
        done[index[member]] = True
    if not done.all():
        unread = [member for member, found in zip(members, done) if not found]
        raise ValueError(
            f"{source.describe()} changed while it was read: {len(unread)} listed recordings were "
            f"not found on the second pass (first: {unread[:3]}); load it again"
        )
    labels = np.array([int(member.split("/")[1]) for member in members], dtype=np.int64)
    return packed, labels, list(members), entries is not None


def _load_source(source: NmnistSource, cache_dir, verify: bool, duration_ms: int, bin_ms: int, cache: bool):
    if not cache:
        packed, labels, files, _ = _bin_source(source, verify, duration_ms, bin_ms)
        return packed, labels, files

    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else user_cache_dir() / "nmnist-cache"
    path = cache_path(source, cache_dir, duration_ms, bin_ms)
    expected = {
        "format": CACHE_FORMAT, "split": source.split, "duration_ms": duration_ms, "bin_ms": bin_ms,
        "sensor_size": list(NMNIST_SENSOR_SIZE), "fingerprint": source_fingerprint(source),
    }
    # The manifest's size and time are part of the fingerprint, so a cache built while no
    # manifest existed is out of date once one appears.
    cached = _read_cache(path, expected, require_verified=verify and source.manifest is not None)
    if cached is not None:
        return cached

    packed, labels, files, verified = _bin_source(source, verify, duration_ms, bin_ms)
    meta = dict(expected, verified=verified, n_recordings=len(files), source=source.describe())
    try:
        _write_cache(path, packed, labels, files, meta)
    except OSError as error:
        logger.warning("could not write the N-MNIST cache file %s (%s); continuing without it", path, error)
    else:
        logger.info(
            "binned %d N-MNIST %s recordings from %s into cache %s",
            len(files), source.split, source.describe(), path,
        )
    return packed, labels, files


def _check_flag(name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def load_nmnist(
    split: str,
    data_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    verify: bool = True,
    duration_ms: int = 300,
    bin_ms: int = 5,
    *,
    cache: bool = True,
    packed: bool = True,
) -> NmnistArrays:
    """Load one N-MNIST split as binary spike trains of ``duration_ms // bin_ms`` steps.

    Each recording is decoded with :func:`read_events` and binned with
    :func:`lava_biograd.data.binning.bin_events` (5 ms bins over the first 300 ms by
    default, 2312 inputs per step, input index ``p * 1156 + y * 34 + x``).

    Parameters
    ----------
    split : {"train", "test"}
    data_dir : path-like, optional
        Data root; ``None`` resolves it as :func:`lava_biograd.data.paths.resolve_data_dir`.
        The sources searched under it are listed in the module docstring.
    cache_dir : path-like, optional
        Folder of the binned cache; default ``<user cache>/nmnist-cache``.
    verify : bool, default=True
        Check the recordings against ``MANIFEST.csv`` when one is next to them.
    duration_ms, bin_ms : int, default 300 and 5
        Encoded window and step width in ms; ``duration_ms`` a multiple of ``bin_ms``.
    cache : bool, default=True
        Read and write the cache; ``False`` bins the recordings on every call.
    packed : bool, default=True
        Return spikes packed 8 per byte (``(N, T, 289)``, as stored in the cache) or
        unpacked 0/1 (``(N, T, 2312)``, 8 times larger).

    Returns
    -------
    NmnistArrays
        ``(spikes, labels, files)``, ordered by file name, then digit folder.

    Raises
    ------
    FileNotFoundError
        When no source of the split exists.
    ValueError
        When a recording or archive is corrupt or differs from the manifest; the message
        names the file (and the archive member).
    """
    split = check_choice("split", split, tuple(SPLIT_FOLDERS))
    duration_ms, bin_ms, _ = check_binning(duration_ms, bin_ms)
    verify = _check_flag("verify", verify)
    cache = _check_flag("cache", cache)
    packed = _check_flag("packed", packed)
    source = find_nmnist_source(split, data_dir)
    spikes, labels, files = _load_source(source, cache_dir, verify, duration_ms, bin_ms, cache)
    if not packed:
        spikes = unpack_spikes(spikes, N_INPUTS)
    return NmnistArrays(spikes, labels, files)


# --------------------------------------------------------------------------- datasets


def nmnist_splits(
    data_dir: str | os.PathLike | None = None,
    n_validation: int = N_VALIDATION,
    cache_dir: str | os.PathLike | None = None,
    verify: bool = True,
    duration_ms: int = 300,
    bin_ms: int = 5,
    *,
    cache: bool = True,
) -> dict:
    """Load N-MNIST as training, validation and test datasets.

    The training recordings, in file-name order, are split so that validation is the last
    ``n_validation`` of them. On the full dataset with the default this is the BioGrad
    authors' split: 50,000 for training and 10,000 (MNIST indices 50,000-59,999) for
    validation. A split needs at least ``2 * n_validation`` training recordings. With
    fewer (the 1,000-recording subset, for example) or with ``n_validation=0``, all of
    them are used for training and ``"validation"`` is ``None``.

    Parameters
    ----------
    data_dir, cache_dir, verify, duration_ms, bin_ms, cache
        As in :func:`load_nmnist`.
    n_validation : int, default=10000

    Returns
    -------
    dict
        ``"train"``, ``"validation"`` (or ``None``) and ``"test"`` as :class:`BinnedEvents`
        named ``"nmnist-train"``, ``"nmnist-validation"`` and ``"nmnist-test"``, and
        ``"description"``, a one-line summary of the sources and the split for logs.
    """
    n_validation = check_int("n_validation", n_validation, minimum=0)
    duration_ms, bin_ms, _ = check_binning(duration_ms, bin_ms)
    verify, cache = _check_flag("verify", verify), _check_flag("cache", cache)

    sources = {split: find_nmnist_source(split, data_dir) for split in SPLIT_FOLDERS}
    loaded = {
        split: _load_source(source, cache_dir, verify, duration_ms, bin_ms, cache)
        for split, source in sources.items()
    }

    def dataset(split: str, name: str, rows: slice) -> BinnedEvents:
        # Slices keep views of the packed array, so the 1 GB training set is not copied.
        packed, labels, files = loaded[split]
        return BinnedEvents(packed[rows], labels[rows], n_inputs=N_INPUTS, packed=True,
                            files=files[rows], name=name)

    test = dataset("test", "nmnist-test", slice(None))
    n_train = len(loaded["train"][1])
    if n_validation > 0 and n_train >= 2 * n_validation:
        n_fit = n_train - n_validation
        train = dataset("train", "nmnist-train", slice(0, n_fit))
        validation = dataset("train", "nmnist-validation", slice(n_fit, n_train))
        split_text = (f"training = first {n_fit} of {n_train} training recordings by file name, "
                      f"validation = last {n_validation}")
    else:
        train, validation = dataset("train", "nmnist-train", slice(None)), None
        if n_validation == 0:
            reason = "n_validation=0"
        else:
            reason = f"a validation split of {n_validation} needs at least {2 * n_validation} training recordings"
        split_text = f"training = all {n_train} training recordings, no validation ({reason})"

    subset = n_train < N_TRAIN_FULL or len(test) < N_TEST_FULL
    description = (
        f"N-MNIST{' subset' if subset else ''} ({sources['train'].describe()}, {sources['test'].describe()}): "
        f"{split_text}, test = {len(test)} recordings; {duration_ms // bin_ms} steps of {bin_ms} ms"
    )
    return {"train": train, "validation": validation, "test": test, "description": description}
