"""Crash test (issue 8, item 8): a training run that writes its checkpoint
every step is killed with SIGKILL at random moments, 20 times, each time
resumed from the checkpoint. After every kill the checkpoint loads and
never goes back; at the end the run finishes, exactly equal to an
uninterrupted run, and no temporary file is left behind."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import rwcnn
from conftest import PACKAGE_ROOT, read_safetensors

pytestmark = pytest.mark.usefixtures("lib")

KILLS = 20

TRAIN = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, %r)
    import rwcnn
    rwcnn.set_threads(1)
    data, held, ck, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    resume = os.path.exists(ck)
    print("go", flush=True)
    with rwcnn.Model(arch="4,M,8", cut="conv2_1", decoder="trained") as m:
        r = m.train(data, eval=held, steps=steps, batch=2, crop=16, checkpoint=ck, resume=resume,
                    checkpoint_every=1, eval_every=0, progress=False)
    print("done", r.steps_done, flush=True)
""" % PACKAGE_ROOT)


def run(args, **kw):
    return subprocess.Popen([sys.executable, "-c", TRAIN] + [str(a) for a in args],
                            stdout=subprocess.PIPE, text=True, **kw)


def temporaries(folder):
    return [n for n in os.listdir(folder) if ".tmp-" in n]


def test_sigkill_during_training(tmp_path):
    data, held = tmp_path / "data", tmp_path / "eval"
    data.mkdir()
    held.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        rwcnn.save_image(data / ("p%d.png" % i), rng.random((3, 24, 24), dtype=np.float32))
    rwcnn.save_image(held / "e.png", rng.random((3, 24, 24), dtype=np.float32))
    ck = tmp_path / "ck.safetensors"
    chooser = random.Random(int(os.environ.get("RWCNN_CRASH_SEED", "8")))
    last_step, killed_mid_write = 0, 0
    for _ in range(KILLS):
        p = run([data, held, ck, 10 ** 6])
        assert p.stdout.readline().strip() == "go"
        time.sleep(chooser.uniform(0.05, 0.6))
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdout.close()
        assert p.returncode == -signal.SIGKILL
        killed_mid_write += bool(temporaries(tmp_path))
        if not ck.exists():
            continue                      # killed before the first checkpoint
        with rwcnn.Model.load(ck):        # always complete
            pass
        step = int(read_safetensors(ck)[0]["checkpoint_step"])
        assert step >= last_step          # resume continued, never went back
        last_step = step
    assert last_step > 0, "no run lived long enough to write a checkpoint"

    # Finish: the resumed run ends where an uninterrupted one does, bit for bit.
    final = last_step + 3
    p = run([data, held, ck, final])
    out, _ = p.communicate(timeout=600)
    assert p.returncode == 0 and out.split()[-1] == str(final), out
    assert temporaries(tmp_path) == [], temporaries(tmp_path)
    fresh = tmp_path / "fresh.safetensors"
    p = run([data, held, fresh, final])
    p.communicate(timeout=600)
    assert p.returncode == 0
    a, b = read_safetensors(ck)[1], read_safetensors(fresh)[1]
    assert sorted(a) == sorted(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
    print("kills that left a temporary file behind (then cleaned): %d of %d" % (killed_mid_write, KILLS))
