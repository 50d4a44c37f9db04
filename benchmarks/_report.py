"""Helpers shared by the benchmark scripts: machine description, command line and Markdown sections.

Each benchmark owns one section of a Markdown file, delimited by ``<!-- NAME:start -->``
and ``<!-- NAME:end -->`` lines, and :func:`write_section` replaces only that section.
The scripts import this module with the ``benchmarks`` folder on ``sys.path``, because
the folder is not a package.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from lava_biograd.validation import check_layer_sizes

MNIST_PIXELS = 784
MNIST_CLASSES = 10

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]

DOCUMENT_HEADER = (
    "# Benchmarks\n\n"
    "Measured performance records of lava_biograd. Each section names the script that "
    "writes it; rerun that script to replace the section.\n\n"
)

_START_MARKER = re.compile(r"<!-- ([A-Za-z0-9_.-]+):start -->")


# ----------------------------------------------------------------- arguments
def parse_sizes(text: str) -> tuple:
    """Parse layer sizes written as ``784-500-100-10`` (commas also work) into a tuple of int."""
    parts = text.replace(",", "-").split("-")
    try:
        sizes = tuple(int(part) for part in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"layer sizes must be integers joined by '-', for example 784-500-100-10, got {text!r}"
        ) from None
    return sizes


# ----------------------------------------------------------------- machine description
def cpu_model() -> str:
    """Return the CPU model name from ``/proc/cpuinfo``, or what :mod:`platform` reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def blas_description() -> str:
    """Return the BLAS numpy was built with and, where threadpoolctl is installed, its runtime threads."""
    try:
        build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text = f"{build.get('name', 'unknown')} {build.get('version', '')}".strip()
    except (TypeError, KeyError):  # older numpy has no mode argument
        text = "unknown"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return f"{text} (install threadpoolctl to record its thread count)"
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    runtime = ", ".join(
        f"{pool.get('internal_api')} {pool.get('version')} with {pool.get('num_threads')} threads"
        for pool in pools
    )
    return f"{text}; loaded: {runtime}" if runtime else text


def git_revision() -> str:
    """Return the short commit hash of the checkout, marked when tracked files have changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPOSITORY_ROOT,
                                capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        changes = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPOSITORY_ROOT,
                                 capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if changes else commit


def machine_info() -> dict:
    """Return the CPU, core counts, software versions and commit of this run."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "platform": platform.platform(),
        "commit": git_revision(),
    }


def command_line(script, argv: list) -> str:
    """Return the shell command that reruns ``script`` (a path) with the arguments ``argv``.

    The interpreter and the script are written relative to the repository root where
    they lie inside it.
    """
    python = Path(sys.executable)
    script = Path(script).resolve()
    parts = []
    for path in (python, script):
        try:
            parts.append(str(path.relative_to(REPOSITORY_ROOT)))
        except ValueError:
            parts.append(str(path))
    return shlex.join([*parts, *argv])


# ----------------------------------------------------------------- Markdown sections
def section_markers(section: str) -> tuple:
    """Return the ``(start, end)`` marker lines that enclose ``section``.

    ``section`` must begin with a ``<!-- NAME:start -->`` line and end with the matching
    ``<!-- NAME:end -->`` line (a trailing newline is allowed).
    """
    match = _START_MARKER.match(section)
    if match is None:
        raise ValueError(
            f"a section must begin with a marker line such as <!-- name:start -->, got {section[:60]!r}"
        )
    start = match.group(0)
    end = f"<!-- {match.group(1)}:end -->"
    if not section.rstrip("\n").endswith(end):
        raise ValueError(f"a section that begins with {start} must end with {end}")
    return start, end


def write_section(path, section: str) -> Path:
    """Replace the text between the markers of ``section`` in the Markdown file ``path``.

    The markers are the first and the last line of ``section`` (see
    :func:`section_markers`). A missing file is created with a ``# Benchmarks`` title. A
    file without the markers gets the section appended. Text outside the markers is kept
    byte for byte.
    """
    marker_start, marker_end = section_markers(section)
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(DOCUMENT_HEADER + section, encoding="utf-8")
        return path
    text = path.read_text(encoding="utf-8")
    n_start, n_end = text.count(marker_start), text.count(marker_end)
    if n_start == 0 and n_end == 0:
        # One blank line between the existing text and the appended section.
        separator = "\n\n"
        if not text or text.endswith("\n\n"):
            separator = ""
        elif text.endswith("\n"):
            separator = "\n"
        path.write_text(text + separator + section, encoding="utf-8")
        return path
    start, end = text.find(marker_start), text.find(marker_end)
    if n_start != 1 or n_end != 1 or end < start:
        raise ValueError(
            f"{str(path)!r} must contain {marker_start} once followed by {marker_end} once, "
            f"found {n_start} start and {n_end} end markers; repair or remove them and rerun"
        )
    after = end + len(marker_end)
    if text[after:after + 1] == "\n":
        after += 1
    path.write_text(text[:start] + section + text[after:], encoding="utf-8")
    return path


def check_benchmark_sizes(sizes, synthetic: bool, why_hidden: str) -> tuple:
    """Validate ``--sizes``: at least one hidden layer (``why_hidden`` gives the reason), and MNIST's
    784 inputs and 10 classes unless ``synthetic``."""
    sizes = check_layer_sizes("--sizes", sizes)
    if len(sizes) < 3:
        raise ValueError(f"--sizes must have at least one hidden layer, because {why_hidden}; "
                         f"got {'-'.join(map(str, sizes))}")
    if not synthetic:
        if sizes[0] != MNIST_PIXELS:
            raise ValueError(
                f"--sizes must start with {MNIST_PIXELS} inputs for MNIST images, got {sizes[0]}; "
                "change the first size or pass --synthetic"
            )
        if sizes[-1] != MNIST_CLASSES:
            raise ValueError(
                f"--sizes must end with {MNIST_CLASSES} outputs for the MNIST classes, got {sizes[-1]}; "
                "change the last size or pass --synthetic"
            )
    elif sizes[-1] > MNIST_CLASSES:
        raise ValueError(
            f"--sizes must end with at most {MNIST_CLASSES} outputs with --synthetic, because the "
            f"synthetic labels use the 10-class dataset type; got {sizes[-1]}"
        )
    return sizes
