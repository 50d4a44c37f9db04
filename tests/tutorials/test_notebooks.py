"""Execute every tutorial notebook with nbclient. Any cell error fails its test.

The kernel is the ``python3`` kernel of the interpreter that runs pytest. A
``KernelSpecManager`` with no kernel directories resolves ``python3`` to ipykernel's
built-in spec, whose command is ``sys.executable -m ipykernel_launcher``. A ``python3``
kernelspec installed for the user or the system, which may point at another
interpreter, is therefore never used, and nothing has to be installed first. The kernel
talks to the test over Unix sockets in the test's temporary folder (ZeroMQ IPC
transport, which needs a POSIX system), so it opens no TCP port.

A notebook that lists ``"mnist"`` under ``metadata.lava_biograd.requires_data`` is
skipped when the MNIST files are not in the data root, and one that lists ``"nmnist"``
when the training or test recordings of N-MNIST (the full set or a subset) are missing.
"""

import re
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from lava_biograd.data.nmnist import SPLIT_FOLDERS, find_nmnist_source

TUTORIALS = Path(__file__).resolve().parents[2] / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))
# Per cell. Each whole notebook ran in 3 to 33 s on a shared machine with 2 CPU cores.
CELL_TIMEOUT_S = 300
KNOWN_DATA = {"mnist", "nmnist"}
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # colour codes of IPython tracebacks


def _required_data(notebook) -> list:
    required = notebook.metadata.get("lava_biograd", {}).get("requires_data", [])
    unknown = sorted(set(required) - KNOWN_DATA)
    if unknown:
        raise ValueError(
            f"metadata.lava_biograd.requires_data lists unknown datasets {unknown}; use names from {sorted(KNOWN_DATA)}"
        )
    return required


def _skip_without_nmnist() -> None:
    """Skip the calling test when a split of N-MNIST is not in the data root."""
    for split in SPLIT_FOLDERS:
        try:
            find_nmnist_source(split)
        except FileNotFoundError as error:
            pytest.skip(f"N-MNIST data missing: {error}")


def test_tutorials_found():
    assert NOTEBOOKS, f"no notebooks found in {TUTORIALS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, request, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    if "mnist" in _required_data(notebook):
        request.getfixturevalue("mnist_root")  # skips the test when MNIST is missing
    if "nmnist" in _required_data(notebook):
        _skip_without_nmnist()

    kernel_manager = AsyncKernelManager(
        kernel_name="python3",
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
        transport="ipc",
        ip=str(tmp_path / "kernel"),
    )
    client = NotebookClient(
        notebook,
        km=kernel_manager,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(TUTORIALS)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        message = ANSI_ESCAPE.sub("", str(error))
        pytest.fail(f"{path.name} failed in a cell:\n{message}", pytrace=False)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_saved_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name} cell {index} has saved outputs; clear them before committing"
        assert cell.execution_count is None, f"{path.name} cell {index} has an execution count; clear outputs"
