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


def test_candidate_order(monkeypatch, tmp_path):
    pkg = tmp_path / "repo" / "bindings" / "python" / "rwcnn"
    pkg.mkdir(parents=True)
    (tmp_path / "repo" / "Package.swift").write_text("// swift-tools-version:5.9\n")
    repo = str(tmp_path / "repo")
    monkeypatch.delenv("RWCNN_DEV", raising=False)
    assert [p for _, p in _lib.candidate_paths(str(pkg))] == [str(pkg / "librwcnn.so")]
    monkeypatch.setenv("RWCNN_DEV", "1")
    paths = [p for _, p in _lib.candidate_paths(str(pkg))]
    assert paths == [str(pkg / "librwcnn.so"),
                     os.path.join(repo, ".build", "release", "librwcnn.so"),
                     os.path.join(repo, "build", "librwcnn.so")]


def test_planted_parent_library_is_never_loaded(monkeypatch, tmp_path):
    """A package under <x>/site-packages must not load <x>/build/librwcnn.so
    (or any other parent's), with or without RWCNN_DEV: only its own
    repository, and only in development mode."""
    monkeypatch.delenv("RWCNN_LIBRARY", raising=False)
    pkg = tmp_path / "x" / "site-packages" / "rwcnn"
    pkg.mkdir(parents=True)
    planted = fake_library(str(tmp_path / "x" / "build" / "librwcnn.so"))
    fake_library(str(tmp_path / "build" / "librwcnn.so"))
    fake_library(str(tmp_path / "x" / ".build" / "release" / "librwcnn.so"))
    for dev in ("0", "1"):
        monkeypatch.setenv("RWCNN_DEV", dev)
        paths = [p for _, p in _lib.candidate_paths(str(pkg))]
        assert paths == [str(pkg / "librwcnn.so")], paths
        with pytest.raises(_lib.LibraryNotFoundError) as ei:
            _lib.find_library(str(pkg), system=False)
        assert planted not in str(ei.value)


def test_setup_py_bundles_only_what_it_is_told(monkeypatch, tmp_path):
    """setup.py follows the same rule: RWCNN_LIBRARY, or with RWCNN_DEV=1
    the repository holding it; never a parent's build/ folder."""
    import runpy
    here = tmp_path / "x" / "bindings" / "python"
    here.mkdir(parents=True)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "setup.py")
    shutil.copy(src, here / "setup.py")
    fake_library(str(tmp_path / "build" / "librwcnn.so"))        # a parent's, planted
    fake_library(str(tmp_path / "x" / "build" / "librwcnn.so"))  # the repository's, but no Package.swift yet
    monkeypatch.delenv("RWCNN_LIBRARY", raising=False)
    monkeypatch.setattr("setuptools.setup", lambda **kw: None)

    def bundled(dev):
        monkeypatch.setenv("RWCNN_DEV", dev)
        return runpy.run_path(str(here / "setup.py"))["LIBRARY"]

    assert bundled("0") is None and bundled("1") is None
    (tmp_path / "x" / "Package.swift").write_text("// swift-tools-version:5.9\n")
    assert bundled("0") is None
    assert bundled("1") == str(tmp_path / "x" / "build" / "librwcnn.so")


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
    monkeypatch.setenv("RWCNN_DEV", "1")
    pkg = tmp_path / "repo" / "bindings" / "python" / "rwcnn"
    pkg.mkdir(parents=True)
    (tmp_path / "repo" / "Package.swift").write_text("// swift-tools-version:5.9\n")
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
