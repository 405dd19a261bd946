#!/usr/bin/env python3
"""Writes Tests/RWCNNTests/Data/numpy_written.safetensors, a small file made by
the reference `safetensors` package from numpy arrays, which the Swift tests
read back and compare with the values below (SafetensorsTests.swift).

    pip install safetensors numpy
    python3 scripts/make_safetensors_fixture.py [output path]

numpy has no bfloat16, so the BF16 tensor is given to the package's own
serializer as raw 16-bit words: the top halves of float32 values that
bfloat16 represents exactly.
"""
import os
import sys

import numpy as np
from safetensors import TensorSpec, serialize_file

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "Tests", "RWCNNTests", "Data", "numpy_written.safetensors")

METADATA = {"producer": "numpy+safetensors", "note": "caf\u00e9 \"quoted\"\n\u2713"}

BF16_VALUES = np.array([1.0, -2.0, 0.15625, 3.140625, 2.0**100, -0.0], dtype=np.float32)


def arrays():
    return {
        "f32": np.array([[0.0, 1.0, -2.5], [3.25, 1e-3, -65504.0]], dtype=np.float32),
        "f64": np.array([0.1, -1e10, 3.0, 1e-300], dtype=np.float64),
        "f16": np.array([[1.0, -0.5], [65504.0, 2.0**-24], [np.inf, -0.0]], dtype=np.float16),
        "bf16": (BF16_VALUES.view(np.uint32) >> 16).astype("<u2"),
        "scalar": np.array(7.5, dtype=np.float32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    tensors = arrays()
    assert (BF16_VALUES.view(np.uint32) & 0xFFFF == 0).all()
    specs = {}
    for name, a in tensors.items():
        # The specs hold raw pointers: `tensors` keeps every array alive.
        assert a.flags["C_CONTIGUOUS"]
        dtype = "bfloat16" if name == "bf16" else a.dtype.name
        specs[name] = TensorSpec(dtype=dtype, shape=a.shape, data_ptr=a.ctypes.data, data_len=a.nbytes)
    serialize_file(specs, out, metadata=METADATA)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
