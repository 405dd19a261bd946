"""Shared fixtures. The package is imported from this source tree (not an
installed copy) unless RWCNN_TEST_INSTALLED=1."""

import glob
import json
import os
import struct
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)                   # bindings/python
REPO = os.path.dirname(os.path.dirname(PACKAGE_ROOT))  # the repository root
if os.environ.get("RWCNN_TEST_INSTALLED") != "1":
    sys.path.insert(0, PACKAGE_ROOT)

import rwcnn  # noqa: E402
from rwcnn import _lib  # noqa: E402

IMAGES = os.path.join(REPO, "data", "images")
HEADER = os.environ.get("RWCNN_HEADER", os.path.join(REPO, "include", "rwcnn.h"))


def _library_available():
    try:
        _lib.lib()
        return True, ""
    except _lib.LibraryNotFoundError as e:
        return False, str(e)


@pytest.fixture(scope="session")
def lib():
    ok, why = _library_available()
    if not ok:
        if os.environ.get("RWCNN_LIBRARY"):
            pytest.fail(why)       # explicitly configured: a failure, not a skip
        pytest.skip("librwcnn not built: " + why.splitlines()[0])
    return _lib.lib()


@pytest.fixture(scope="session")
def photos():
    paths = sorted(glob.glob(os.path.join(IMAGES, "*.png")))
    if not paths:
        pytest.skip("no bundled photos in %s" % IMAGES)
    return paths


def read_safetensors(path):
    """A minimal safetensors reader: (metadata dict, {name: float32 array})."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", (name, info["dtype"])
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[base + start:base + end], dtype="<f4") \
            .reshape(info["shape"]).astype(np.float32)
    return metadata, tensors


def write_safetensors(path, tensors, metadata=None):
    """A minimal safetensors writer (for crafting files the library must reject)."""
    header = {}
    blobs = []
    offset = 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def small_photo(path, side=48):
    """A bundled photo reduced (by striding) to roughly side x side."""
    img = rwcnn.load_image(path)
    step = max(1, min(img.shape[1:]) // side)
    return np.ascontiguousarray(img[:, ::step, ::step][:, :side, :side])
