"""examples/ray_tune_sweep.py on a local Ray instance (ray.init(num_cpus=2)):
every trial runs with its CPU share (1 thread), reports finite PSNR/SSIM from
rwcnn's progress callback, and stops early through cancel. Ray is optional:
without it this test is skipped, saying so."""

import os
import re
import subprocess
import sys

import pytest

pytest.importorskip("ray", reason="ray is not installed (pip install 'ray[tune]'; see README "
                                  "'Ray Tune'): the Ray Tune example was not run")
pytestmark = pytest.mark.usefixtures("lib")

from conftest import REPO  # noqa: E402


def test_ray_tune_example_runs_trials_with_their_cpu_share_and_stops_them_by_cancel(tmp_path):
    env = dict(os.environ)
    env.setdefault("RWCNN_LIBRARY", os.path.join(REPO, ".build", "release", "librwcnn.so"))
    # patience 0: every trial cancels itself at its first evaluation (step 5 of 20).
    cmd = [sys.executable, os.path.join(REPO, "examples", "ray_tune_sweep.py"), "--cuts", "pool1",
           "--widths", "0.125", "--inits", "normal", "uniform", "--seeds", "0", "1", "--steps", "20",
           "--eval-every", "5", "--patience", "0", "--storage", str(tmp_path / "ray")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| pool1 |")]
    assert len(rows) == 4, proc.stdout
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        cut, width, init, seed, step, psnr, ssim, threads, error = cells
        assert step == "5", row            # stopped by cancel at the first evaluation
        assert threads == "1", row         # one CPU per trial -> rwcnn.set_threads(1)
        assert 5 < float(psnr) < 60 and -1 <= float(ssim) <= 1, row
        assert error == "False", row
    assert sorted((r.split("|")[3].strip(), r.split("|")[4].strip()) for r in rows) == \
        [("normal", "0"), ("normal", "1"), ("uniform", "0"), ("uniform", "1")]
    assert re.search(r"^best: ", proc.stdout, re.M)
