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


def test_train_option_names_are_one_per_concept():
    """The names of the training options live once, in the Swift core
    (TrainOptionName, Support/Vocabulary.swift): the C struct's fields,
    Python's TrainOptions and train() keywords and the CLI's flags spell
    them alike (C's data_dir / images and eval_dir / eval_images are typed
    forms of data and eval_data; Python's betas is beta1, beta2)."""
    import dataclasses
    import inspect
    import os
    import subprocess
    from conftest import REPO
    source = open(os.path.join(REPO, "Sources", "RWCNN", "Support", "Vocabulary.swift")).read()
    body = source[source.index("enum TrainOptionName"):]
    body = body[:body.index("public var cliName")]
    core = set()
    for case in re.findall(r"case ([^\n]+)", body):
        for item in case.split(","):
            item = item.strip()
            m = re.match(r'(\w+)\s*=\s*"(\w+)"', item)
            core.add(m.group(2) if m else item)
    c_fields = {name for name, _ in _lib.TrainOptions._fields_}
    py = {f.name for f in dataclasses.fields(rwcnn.TrainOptions)}
    typed = {"eval_data": {"eval_dir", "eval_images"}, "betas": {"beta1", "beta2"}}
    for name in py:
        assert name in c_fields or typed[name] <= c_fields, name
        assert name in core or typed[name] <= core, name
    keywords = set(inspect.signature(rwcnn.Model.train).parameters)
    assert py <= keywords
    for old in ("lr", "seed", "eval"):
        assert old not in keywords and old not in py
    from rwcnn.study import cli_path
    try:
        cli = cli_path()
    except rwcnn.Error:
        pytest.skip("rwcnn-cli not built (the sanitizer builds make the library alone)")
    help_text = subprocess.run([cli, "train", "--help"], capture_output=True, text=True,
                               env=dict(os.environ, COLUMNS="200")).stdout
    flags = set(re.findall(r"--([a-z][a-z0-9-]*)", help_text))
    for name in core - {"flip"}:
        assert name.replace("_", "-") in flags, name
    assert "no-flip" in flags and "lr" not in flags and "eval" not in flags
