"""Handles are freed: create/use/free cycles do not grow the process."""

import gc
import os

import numpy as np
import pytest

import rwcnn

pytestmark = [pytest.mark.usefixtures("lib"),
              # ASan's quarantine keeps freed memory on purpose, so RSS grows;
              # under scripts/test --sanitize, LeakSanitizer checks leaks instead.
              pytest.mark.skipif(os.environ.get("RWCNN_SANITIZED") == "1",
                                 reason="RSS growth is meaningless under AddressSanitizer")]


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_create_free_cycles_do_not_leak(tmp_path):
    x = np.random.default_rng(0).random((3, 12, 12)).astype(np.float32)
    path = tmp_path / "m.safetensors"
    with rwcnn.Model(arch="8,M,16", cut="conv2_1") as m:
        m.save(path)

    def cycle(i):
        with rwcnn.Model(arch="8,M,16", cut="conv2_1", seed=i) as m:
            m.encode(x)
            m.config
            m.layers
        m2 = rwcnn.Model.load(path)      # freed by close() below, then __del__ is a no-op
        m2.reconstruct(x)
        m2.close()
        m3 = rwcnn.Model(arch="8", cut="conv1_1")
        del m3                           # freed by __del__

    for i in range(200):                 # warm-up: allocator pools, caches
        cycle(i)
    gc.collect()
    before = rss_bytes()
    for i in range(1000):
        cycle(i)
    gc.collect()
    growth = rss_bytes() - before
    assert growth < 4 << 20, "RSS grew by %.1f MB over 1000 cycles" % (growth / 2 ** 20)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc")
def test_failed_calls_do_not_leak(tmp_path):
    def cycle():
        for kwargs in (dict(cut="pool9"), dict(arch="8,X")):
            try:
                rwcnn.Model(**kwargs)
            except rwcnn.ArgumentError:
                pass
        try:
            rwcnn.load_image(tmp_path / "missing.png")
        except rwcnn.FileError:
            pass

    for _ in range(200):
        cycle()
    gc.collect()
    before = rss_bytes()
    for _ in range(1000):
        cycle()
    gc.collect()
    assert rss_bytes() - before < 4 << 20
