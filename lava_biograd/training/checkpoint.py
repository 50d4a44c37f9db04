"""Checkpoints: one ``.npz`` file per save, written atomically.

A checkpoint stores the network parameters (``W*``, ``b*``, ``B*``), the optimiser state
(``opt/*`` arrays, if any) and a JSON header with the network config, the training
settings, the position in training (completed epochs, batch index inside the current
epoch and that epoch's sample order), the states of every random generator and the
metrics history. Loading it back and continuing gives the same weights as an
uninterrupted run.

The file is written to a temporary name in the target folder and then renamed over the
target with :func:`os.replace`, so an interruption never leaves a half-written file.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from lava_biograd.atomic import atomic_output

FORMAT_VERSION = 1


def save_checkpoint(path: str | os.PathLike, arrays: dict, header: dict) -> Path:
    """Write ``arrays`` and the JSON-serialisable ``header`` to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    meta = dict(header, format_version=FORMAT_VERSION)
    payload["__header__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **payload)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[dict, dict]:
    """Return ``(arrays, header)`` of a checkpoint written by :func:`save_checkpoint`.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is
    not a lava_biograd checkpoint or is damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {str(path)!r} not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"checkpoint {str(path)!r} is damaged or not an .npz file ({exc}); "
            "use another checkpoint, for example the one of the previous epoch"
        ) from exc
    if "__header__" not in arrays:
        raise ValueError(f"{str(path)!r} is an .npz file but not a lava_biograd checkpoint (no header)")
    header = json.loads(arrays.pop("__header__").tobytes().decode("utf-8"))
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"checkpoint {str(path)!r} has format version {version}, this library reads {FORMAT_VERSION}"
        )
    return arrays, header


def load_network(path: str | os.PathLike):
    """Return ``(net, header)``: the network and JSON header of a training checkpoint.

    The network is a :class:`BioGradNetwork`, or a ``FixedBioGradNetwork`` for a checkpoint
    of a fixed-point run.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a file that is
    not a complete lava_biograd checkpoint.
    """
    from lava_biograd.reference import BioGradNetwork

    arrays, header = load_checkpoint(path)
    if "network" not in header:
        raise ValueError(f"checkpoint {str(path)!r} has no network description in its header; it was not written by train")
    state = {k: v for k, v in arrays.items() if k[:1] in ("W", "b", "B") and k[1:].isdigit()}
    state.update(header.get("net_state", {}))
    state["config"] = header["network"]
    state["dtype"] = header.get("dtype", "float32")
    network_class = BioGradNetwork
    if state.get("precision") == "fixed":
        from lava_biograd.reference.fixed import FixedBioGradNetwork as network_class
    try:
        net = network_class.from_state_dict(state)
    except KeyError as error:
        raise ValueError(f"checkpoint {str(path)!r} is missing the array {error.args[0]!r}; the file is "
                         "incomplete, so use another checkpoint") from None
    return net, header
