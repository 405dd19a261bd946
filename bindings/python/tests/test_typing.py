"""The package is typed: py.typed ships beside it, and mypy --strict passes
on it (scripts/setup installs mypy; without it this test is skipped)."""

import os
import subprocess
import sys

import pytest

import rwcnn

PACKAGE = os.path.dirname(os.path.abspath(rwcnn.__file__))


def test_py_typed_marker():
    assert os.path.isfile(os.path.join(PACKAGE, "py.typed"))


def test_mypy_strict_passes(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed (scripts/setup installs it)")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--cache-dir", str(tmp_path), PACKAGE],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_py_typed_is_package_data(tmp_path):
    """setup.py lists py.typed as package data, so what it builds (a wheel,
    pip install) carries it; without it, type checkers ignore the
    installed package's hints."""
    env = dict(os.environ)
    env.pop("RWCNN_LIBRARY", None)   # the pure package is enough here
    env.pop("RWCNN_DEV", None)
    done = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
                          cwd=os.path.dirname(PACKAGE), capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert os.path.isfile(tmp_path / "rwcnn" / "py.typed")
    assert os.path.isfile(tmp_path / "rwcnn" / "model.py")
