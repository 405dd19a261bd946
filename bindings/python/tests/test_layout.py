"""The ctypes mirrors against the C header: struct sizes and field offsets
(compiled with gcc), enum values, and a prototype for every function."""

import ctypes
import os
import re
import shutil
import subprocess

import pytest

from conftest import HEADER
from rwcnn import _lib


def header_text():
    if not os.path.exists(HEADER):
        pytest.skip("header not found at %s (set RWCNN_HEADER)" % HEADER)
    with open(HEADER) as f:
        return f.read()


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def test_struct_layout_matches_gcc(tmp_path):
    header_text()
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "rwcnn.h"', 'int main(void) {']
    for cname, struct in _lib.STRUCTS.items():
        lines.append('printf("%s sizeof %%zu\\n", sizeof(%s));' % (cname, cname))
        lines.append('printf("%s alignof %%zu\\n", _Alignof(%s));' % (cname, cname))
        for fname, _ in struct._fields_:
            lines.append('printf("%s %s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                         % (cname, fname, cname, fname, cname, fname))
    lines += ['return 0;', '}']
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I", os.path.dirname(HEADER), str(src),
                    "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    seen = 0
    for line in out.splitlines():
        parts = line.split()
        cname, what = parts[0], parts[1]
        struct = _lib.STRUCTS[cname]
        if what == "sizeof":
            assert ctypes.sizeof(struct) == int(parts[2]), cname
        elif what == "alignof":
            assert ctypes.alignment(struct) == int(parts[2]), cname
        else:
            field = getattr(struct, what)
            assert (field.offset, field.size) == (int(parts[2]), int(parts[3])), (cname, what)
            seen += 1
    assert seen == sum(len(s._fields_) for s in _lib.STRUCTS.values())


def test_every_struct_field_is_mirrored_in_order():
    text = strip_comments(header_text())
    for cname, struct in _lib.STRUCTS.items():
        m = re.search(r"typedef struct %s \{(.*?)\}\s*%s;" % (cname, cname), text, re.S)
        assert m, cname
        names = []
        for decl in m.group(1).split(";"):
            decl = decl.strip()
            if not decl:
                continue
            fn = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
            if fn:
                names.append(fn.group(1))
                continue
            # "double eval_mse, eval_psnr, eval_ssim" declares several fields
            first, *rest = [p.strip() for p in decl.split(",")]
            names.append(re.findall(r"(\w+)\s*(?:\[[^\]]*\])?$", first)[0])
            names += rest
        assert names == [f for f, _ in struct._fields_], cname


def test_every_function_has_a_prototype():
    text = strip_comments(header_text())
    declared = set(re.findall(r"\b(rwcnn_\w+)\s*\(", text))
    declared -= {"rwcnn_progress_fn"}
    assert declared == set(_lib.PROTOTYPES)


def test_enum_values_match_header():
    text = strip_comments(header_text())
    values = dict((k, int(v)) for k, v in re.findall(r"\b(RWCNN_[A-Z0-9_]+)\s*=\s*(\d+)", text))
    assert len(values) >= 20
    for name, value in values.items():
        assert getattr(_lib, name) == value, name


def test_prototypes_resolve_in_library(lib):
    for name, (restype, argtypes) in _lib.PROTOTYPES.items():
        f = getattr(lib, name)
        assert f.restype is restype, name
        assert f.argtypes == argtypes, name


def test_header_version_matches_library(lib):
    text = header_text()
    major, minor, patch = (int(re.search(r"#define RWCNN_VERSION_%s (\d+)" % k, text).group(1))
                           for k in ("MAJOR", "MINOR", "PATCH"))
    import rwcnn
    assert rwcnn.version() == "%d.%d.%d" % (major, minor, patch)
    assert rwcnn.version_number() == major * 10000 + minor * 100 + patch
    from rwcnn._version import HEADER_VERSION_NUMBER
    assert HEADER_VERSION_NUMBER == major * 10000 + minor * 100 + patch


def test_status_names(lib):
    from rwcnn.errors import STATUS_NAMES
    for code, name in STATUS_NAMES.items():
        assert lib.rwcnn_status_name(code).decode() == name
    assert lib.rwcnn_status_name(99).decode() == "RWCNN_UNKNOWN_STATUS"
