"""The ``lava-biograd export`` subcommand, and reading ``.net`` files for ``evaluate``.

``lava-biograd export CHECKPOINT OUT.net`` writes the forward network as a lava-dl netx
HDF5 file in Loihi integer units: a float checkpoint quantised, a fixed-point checkpoint
(``--precision fixed``) with exactly its own integers. ``lava-biograd export CHECKPOINT
OUT.nir`` writes it as a NIR graph. ``--format`` overrides the choice made from the suffix.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from lava_biograd.cli_help import DefaultsHelpFormatter
from lava_biograd.export.nir_export import DEFAULT_DT, DISCRETIZATIONS

logger = logging.getLogger("lava_biograd.cli")

FORMATS = {".net": "netx", ".nir": "nir"}
FOREIGN_HEADER = {"dataset": "mnist", "n_validation": 10000, "train": {"seed": 0}}


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive finite number, got {text}")
    return value


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to ``subparsers`` (from ``add_subparsers``) and return its parser."""
    parser = subparsers.add_parser(
        "export", help="export a checkpoint's forward network as lava-dl netx HDF5 (.net) or NIR (.nir)",
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument("checkpoint", help="checkpoint file (.npz) written by train")
    parser.add_argument("out", help="output file; written only when the export succeeded")
    parser.add_argument("--format", choices=["netx", "nir"], default=None,
                        help="output format (default: from the suffix of OUT, .net for netx and .nir for NIR)")
    nir_group = parser.add_argument_group("NIR only")
    nir_group.add_argument("--timing", choices=["same_step", "delayed"], default=None,
                           help="timing the graph encodes, delayed as one Delay node per connection "
                                "(default: the checkpoint's timing)")
    nir_group.add_argument("--discretization", choices=list(DISCRETIZATIONS), default=None,
                           help="rule the LIF time constants are chosen for (default: forward_euler)")
    nir_group.add_argument("--dt", type=_positive_float, default=None,
                           help=f"length of one time step in NIR time units (default: {DEFAULT_DT:g})")
    return parser


def _output_format(args) -> str:
    if args.format is not None:
        return args.format
    suffix = Path(args.out).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"cannot tell the format from the suffix of {args.out!r}; "
                         "name the file *.net or *.nir, or pass --format netx or --format nir")
    return FORMATS[suffix]


def command_export(args) -> int:
    """Export the checkpoint ``args.checkpoint`` to ``args.out``; returns the exit status.

    Raises ``ValueError`` for invalid options or a network that cannot be exported and
    ``FileNotFoundError`` for a missing checkpoint or output folder. ``OUT`` is not
    touched then.
    """
    from lava_biograd.training.checkpoint import load_network

    output_format = _output_format(args)
    nir_options = {"--timing": args.timing, "--discretization": args.discretization, "--dt": args.dt}
    if output_format == "netx":
        nir_only = [name for name, value in nir_options.items() if value is not None]
        if nir_only:
            verb = "applies" if len(nir_only) == 1 else "apply"
            raise ValueError(f"{', '.join(nir_only)} {verb} only to --format nir; netx files always use one step "
                             "of delay per layer and Loihi integer units")
    net, header = load_network(args.checkpoint)
    summary = {"checkpoint": str(args.checkpoint), "out": str(args.out), "format": output_format,
               "sizes": list(net.config.sizes), "n_steps": net.config.n_steps}
    if output_format == "netx":
        from lava_biograd.export.netx import export_netx, read_netx

        source = {"checkpoint": Path(args.checkpoint).name, "dataset": header.get("dataset", "mnist"),
                  "n_validation": header.get("n_validation", 10000), "seed": header.get("train", {}).get("seed")}
        export_netx(net, args.out, source=source)
        written = read_netx(args.out)
        summary["scales"] = [layer.scale for layer in written.layers]
        summary["timing"] = net.config.timing
        summary["precision"] = "float" if written.fixed_format is None else "fixed"
        if net.config.timing == "same_step":
            logger.info("the network was trained with same_step timing; a netx network run from a zero state "
                        "computes delayed timing, and same_step needs netx's reset_interval=T with reset_offset=1 "
                        "(see lava_biograd.export.netx.run_netx)")
    else:
        from lava_biograd.export.nir_export import export_nir
        from lava_biograd.reference import BioGradNetwork

        if not isinstance(net, BioGradNetwork):
            raise ValueError(f"{args.checkpoint} is a fixed-point checkpoint, and NIR export takes float networks "
                             "only; export it to netx (OUT.net), which keeps its integers")
        timing = args.timing or net.config.timing
        discretization = args.discretization or DISCRETIZATIONS[0]
        dt = args.dt if args.dt is not None else DEFAULT_DT
        export_nir(net, args.out, timing=timing, discretization=discretization, dt=dt)
        summary.update(timing=timing, discretization=discretization, dt=dt)
    print(json.dumps(summary))
    return 0


def network_file_header(path) -> dict:
    """Return the checkpoint facts that ``evaluate`` needs for a ``.net`` file.

    Keys: ``dataset``, ``n_validation`` and ``train`` (``{"seed": ...}``), as in a
    checkpoint header. Files from other tools, and values that were not stored, get
    ``mnist``, 10000 and seed 0.
    """
    from lava_biograd.export.netx import read_netx

    source = read_netx(path).source
    seed = source.get("seed")
    return {
        "dataset": source.get("dataset") or FOREIGN_HEADER["dataset"],
        "n_validation": source.get("n_validation") if source.get("n_validation") is not None
        else FOREIGN_HEADER["n_validation"],
        "train": {"seed": seed if seed is not None else FOREIGN_HEADER["train"]["seed"]},
    }
