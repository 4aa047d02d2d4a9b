"""Weights: reading checkpoints and converting them to sharded safetensors.

Importing this package is cheap (no torch): torch is imported only when a pickle is read.
"""

from hf_custom.weights.converter import ConvertResult, OutputFile, convert
from hf_custom.weights.names import Rename, reconcile_names
from hf_custom.weights.pickle_scan import scan_pickle_globals, unsafe_globals
from hf_custom.weights.safetensors_format import read_safetensors_header
from hf_custom.weights.shards import parse_size, plan_shards

__all__ = [
    "ConvertResult",
    "OutputFile",
    "Rename",
    "convert",
    "parse_size",
    "plan_shards",
    "read_safetensors_header",
    "reconcile_names",
    "scan_pickle_globals",
    "unsafe_globals",
]
