"""Run configurations for Lava, and a check that a Loihi hardware configuration can be compiled.

lava-nc 0.10.0 defines ``Loihi1HwCfg`` and ``Loihi2HwCfg``, but compiling for the chip
needs modules of Intel's proprietary Lava-Loihi extension, which is available to INRC
members and not on PyPI. The modules are the NeuroCore ProcessModel base class
``lava.magma.core.model.nc.model``, the NeuroCore sub-compiler
``lava.magma.compiler.subcompilers.nc.ncproc_compiler`` and the NxSDK runtime service
``lava.magma.runtime.runtime_services.nxsdk_runtime_service``. lava-nc imports them in
``try``/``except ImportError`` blocks, so without the extension a hardware configuration
fails late and obscurely. :func:`check_run_config` fails early with a clear message.

The extension is detected by importing those modules, not by a version string.
"""

from __future__ import annotations

import importlib

from lava_biograd.validation import check_choice

EXTENSION_MODULES = (
    "lava.magma.core.model.nc.model",
    "lava.magma.compiler.subcompilers.nc.ncproc_compiler",
    "lava.magma.runtime.runtime_services.nxsdk_runtime_service",
)
"""Modules of Intel's Lava-Loihi extension that compiling for Loihi hardware imports."""

RUN_CONFIG_NAMES = ("sim-float", "sim-fixed", "loihi2-hw")

MISSING_EXTENSION_MESSAGE = (
    "Running on Loihi hardware needs Intel's Lava-Loihi extension (available to INRC members), "
    "which is not installed. Simulate on the CPU instead: on the command line with --backend lava "
    "(add --precision fixed for Loihi arithmetic), in Python with Loihi2SimCfg(select_tag='floating_pt' "
    "or 'fixed_pt')"
)


def missing_extension_modules() -> tuple:
    """Return the modules of :data:`EXTENSION_MODULES` that fail to import (empty when the extension is present)."""
    missing = []
    for module in EXTENSION_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return tuple(missing)


def extension_available() -> bool:
    """Return whether every module of Intel's Lava-Loihi extension imports."""
    return not missing_extension_modules()


def is_hardware_config(run_cfg) -> bool:
    """Return whether ``run_cfg`` targets Loihi hardware (a subclass of Lava's ``AbstractLoihiHWRunCfg``)."""
    from lava.magma.core.run_configs import AbstractLoihiHWRunCfg, RunConfig

    if not isinstance(run_cfg, RunConfig):
        raise TypeError(f"run_cfg must be a Lava RunConfig such as Loihi2SimCfg(), got {run_cfg!r}")
    return isinstance(run_cfg, AbstractLoihiHWRunCfg)


def check_run_config(run_cfg):
    """Return ``run_cfg`` unchanged, or raise when it targets hardware that cannot be compiled here.

    Parameters
    ----------
    run_cfg : lava.magma.core.run_configs.RunConfig

    Raises
    ------
    TypeError
        ``run_cfg`` is not a Lava ``RunConfig``.
    RuntimeError
        ``run_cfg`` is a Loihi hardware configuration (``Loihi1HwCfg``, ``Loihi2HwCfg``)
        and Intel's Lava-Loihi extension is not installed.
    """
    if is_hardware_config(run_cfg) and not extension_available():
        raise RuntimeError(MISSING_EXTENSION_MESSAGE)
    return run_cfg


def make_run_config(name: str):
    """Return the run configuration called ``name``, checked with :func:`check_run_config`.

    Parameters
    ----------
    name : {'sim-float', 'sim-fixed', 'loihi2-hw'}
        ``'sim-float'``: ``Loihi2SimCfg(select_tag='floating_pt')``; ``'sim-fixed'``:
        ``Loihi2SimCfg(select_tag='fixed_pt')``; ``'loihi2-hw'``: ``Loihi2HwCfg()``,
        which raises ``RuntimeError`` unless Intel's Lava-Loihi extension is installed.
    """
    from lava.magma.core.run_configs import Loihi2HwCfg, Loihi2SimCfg

    check_choice("run configuration name", name, RUN_CONFIG_NAMES)
    if name == "sim-float":
        return Loihi2SimCfg(select_tag="floating_pt")
    if name == "sim-fixed":
        return Loihi2SimCfg(select_tag="fixed_pt")
    return check_run_config(Loihi2HwCfg())
