"""The library lookup order and its error message (no real library needed)."""

import os
import shutil
import subprocess

import pytest

from rwcnn import _lib


def fake_library(path):
    """A tiny shared library (not rwcnn, but dlopen-able)."""
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    src = path + ".c"
    with open(src, "w") as f:
        f.write("int rwcnn_fake(void) { return 42; }\n")
    subprocess.run([cc, "-shared", "-fPIC", src, "-o", path], check=True)
    return path


def test_candidate_order(tmp_path):
    pkg = tmp_path / "repo" / "bindings" / "python" / "rwcnn"
    pkg.mkdir(parents=True)
    paths = [p for _, p in _lib.candidate_paths(str(pkg))]
    assert paths[0] == str(pkg / "librwcnn.so")
    repo = str(tmp_path / "repo")
    i = paths.index(os.path.join(repo, ".build", "release", "librwcnn.so"))
    assert paths[i + 1] == os.path.join(repo, "build", "librwcnn.so")
    # nearer directories come first
    assert paths.index(os.path.join(repo, "bindings", "build", "librwcnn.so")) < i
    assert paths[-1] == os.path.join(os.path.abspath(os.sep), "build", "librwcnn.so")


def test_env_variable_must_exist(monkeypatch, tmp_path):
    monkeypatch.setenv("RWCNN_LIBRARY", str(tmp_path / "missing.so"))
    with pytest.raises(_lib.LibraryNotFoundError, match="missing.so"):
        _lib.find_library()


def test_env_variable_wins(monkeypatch, tmp_path):
    lib = fake_library(str(tmp_path / "custom" / "libsomething.so"))
    monkeypatch.setenv("RWCNN_LIBRARY", lib)
    dll, path = _lib.find_library()
    assert path == lib and dll.rwcnn_fake() == 42


def test_repository_build_output_is_found(monkeypatch, tmp_path):
    monkeypatch.delenv("RWCNN_LIBRARY", raising=False)
    pkg = tmp_path / "repo" / "bindings" / "python" / "rwcnn"
    pkg.mkdir(parents=True)
    cmake = fake_library(str(tmp_path / "repo" / "build" / "librwcnn.so"))
    assert _lib.find_library(str(pkg), system=False)[1] == cmake
    swift = fake_library(str(tmp_path / "repo" / ".build" / "release" / "librwcnn.so"))
    assert _lib.find_library(str(pkg), system=False)[1] == swift
    bundled = fake_library(str(pkg / "librwcnn.so"))
    assert _lib.find_library(str(pkg), system=False)[1] == bundled


def test_error_lists_every_place(monkeypatch, tmp_path):
    monkeypatch.delenv("RWCNN_LIBRARY", raising=False)
    pkg = tmp_path / "pkg" / "rwcnn"
    pkg.mkdir(parents=True)
    with pytest.raises(_lib.LibraryNotFoundError) as ei:
        _lib.find_library(str(pkg), system=False)
    msg = str(ei.value)
    assert "RWCNN_LIBRARY" in msg
    for _, path in _lib.candidate_paths(str(pkg)):
        assert path in msg
