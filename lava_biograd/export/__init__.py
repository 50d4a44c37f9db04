"""Export trained networks for inference elsewhere: lava-dl netx HDF5 and NIR.

* :mod:`~lava_biograd.export.quantize`: float to Loihi integer units, and a numpy model
  of the integer network that matches Lava's fixed-point models bit for bit.
* :mod:`~lava_biograd.export.netx`: write and read netx files, and run them in Lava.
* :mod:`~lava_biograd.export.nir_export` and :mod:`~lava_biograd.export.nir_sim`: write
  a NIR graph, and run one in numpy.

lava-dl is needed only to run a netx file in Lava. Writing and reading files needs
h5py and nir.
"""

from lava_biograd.export.netx import NETX_FORMAT_OPTIONS, export_netx, fixed_netx_layers, load_network_file, read_netx, run_netx
from lava_biograd.export.nir_export import export_nir, read_nir, to_nir
from lava_biograd.export.nir_sim import simulate_nir
from lava_biograd.export.quantize import QuantizedLayer, quantize_layer, quantize_network, simulate_quantized

__all__ = [
    "NETX_FORMAT_OPTIONS",
    "QuantizedLayer",
    "export_netx",
    "export_nir",
    "fixed_netx_layers",
    "load_network_file",
    "quantize_layer",
    "quantize_network",
    "read_netx",
    "read_nir",
    "run_netx",
    "simulate_nir",
    "simulate_quantized",
    "to_nir",
]
