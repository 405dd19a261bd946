"""One vocabulary: the Python enum tables are the library's, they agree with
the header's pinned numbers, and the versions agree with the header."""

import ctypes
import re

import pytest

import rwcnn
from rwcnn import _lib, model

from conftest import HEADER

pytestmark = pytest.mark.usefixtures("lib")

# Each table against the header's macros: RWCNN_<PREFIX>_<NAME> = value.
PREFIXES = {"DISTRIBUTIONS": "DIST", "SCALE_RULES": "SCALE", "UNPOOL_MODES": "UNPOOL",
            "DECODER_MODES": "DECODER", "OPTIMIZERS": "OPTIMIZER", "_PROGRESS_NAMES": "PROGRESS"}


def header_values(prefix):
    text = open(HEADER).read()
    return {k.lower(): int(v) for k, v in re.findall(r"\bRWCNN_%s_([A-Z]+)\s*=\s*(\d+)" % prefix, text)}


@pytest.mark.parametrize("table", sorted(PREFIXES))
def test_tables_are_the_librarys_and_match_the_header(table):
    got = model._table(table)
    want = header_values(PREFIXES[table])
    if table == "_PROGRESS_NAMES":
        pass  # RWCNN_PROGRESS_EVAL is "eval"
    assert got == want
    if not table.startswith("_"):
        assert getattr(model, table) == got
    L = _lib.lib()
    for name, value in got.items():
        out = ctypes.c_int(-1)
        L.rwcnn_enum_value(model._TABLE_KINDS[table], name.upper().encode(), ctypes.byref(out))
        assert out.value == value


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(rwcnn.ArgumentError, match="normal, uniform, laplace, logistic"):
        out = ctypes.c_int()
        _lib.lib().rwcnn_enum_value(_lib.RWCNN_ENUM_DISTRIBUTION, b"cauchy", ctypes.byref(out))
    assert _lib.lib().rwcnn_enum_name(99, 0) is None
    assert _lib.lib().rwcnn_enum_name(_lib.RWCNN_ENUM_OPTIMIZER, 2) is None


def test_versions_are_the_headers():
    text = open(HEADER).read()
    major, minor, patch = (re.search(r"#define RWCNN_VERSION_%s (\d+)" % k, text).group(1)
                           for k in ("MAJOR", "MINOR", "PATCH"))
    assert rwcnn.__version__ == "%s.%s.%s" % (major, minor, patch)


def test_a_library_of_another_minor_is_refused(monkeypatch):
    from rwcnn import _version
    dll = ctypes.CDLL(rwcnn.library_path())
    monkeypatch.setattr(_version, "HEADER_VERSION_NUMBER", _version.HEADER_VERSION_NUMBER + 100)
    with pytest.raises(_lib.LibraryNotFoundError, match="not ABI-compatible"):
        _lib._declare(dll)
