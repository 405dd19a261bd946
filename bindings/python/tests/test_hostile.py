"""Hostile inputs (issue 8): each case builds its own bad input here, runs
the call in a fresh interpreter and checks the exact error class (status),
a message naming the cause, a bounded peak RSS and CPU time measured with
getrusage (limits, not timings), and that the process is still alive and
answering afterwards.

A fresh interpreter per case makes the peak RSS that of the case alone
(ru_maxrss is a high-water mark for the whole process)."""

import json
import os
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

import rwcnn
from conftest import PACKAGE_ROOT, read_safetensors, write_safetensors

# Far below what the unbounded versions took (2-100 GB, or forever), far
# above what the library needs to refuse: an interpreter with numpy and
# librwcnn is about 60 MB.
PEAK_RSS_MB = 400
CPU_SECONDS = 60

pytestmark = pytest.mark.usefixtures("lib")


def isolated(case, **values):
    """Runs `case` (Python source using rwcnn, np and the given values) in a
    new interpreter; returns {"error", "status", "message", "peak_mb",
    "cpu", "alive"} after checking the limits."""
    prog = textwrap.dedent("""
        import json, resource, sys
        sys.path.insert(0, %r)
        import numpy as np
        import rwcnn
        values = json.loads(sys.argv[1])
        out = {"error": None, "status": 0, "message": ""}
        try:
            exec(compile(sys.argv[2], "case", "exec"), dict(rwcnn=rwcnn, np=np, **values))
        except rwcnn.Error as e:
            out = {"error": type(e).__name__, "status": e.status, "message": str(e)}
        r = resource.getrusage(resource.RUSAGE_SELF)
        # The peak of this process's own memory (VmHWM): ru_maxrss survives
        # execve, so it would report pytest's size at the fork instead.
        with open("/proc/self/status") as status:
            hwm = [l for l in status if l.startswith("VmHWM:")]
        out["peak_mb"] = int(hwm[0].split()[1]) / 1024.0 if hwm else r.ru_maxrss / 1024.0
        out["cpu"] = r.ru_utime + r.ru_stime
        out["alive"] = rwcnn.version() == rwcnn.__version__ or rwcnn.version() != ""
        print(json.dumps(out))
    """ % PACKAGE_ROOT)
    env = dict(os.environ, RWCNN_THREADS="1")
    p = subprocess.run([sys.executable, "-c", prog, json.dumps(values), textwrap.dedent(case)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, "the process died (%d): %s" % (p.returncode, p.stderr[-2000:])
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["alive"]
    assert out["peak_mb"] < PEAK_RSS_MB, "peak RSS %.0f MB" % out["peak_mb"]
    assert out["cpu"] < CPU_SECONDS, "CPU %.1f s" % out["cpu"]
    assert p.stderr.strip() == "", "the library printed: %s" % p.stderr[-2000:]
    return out


def expect(out, cls, *words):
    assert out["error"] == cls.__name__, out
    assert out["status"] == cls.status, out
    for w in words:
        assert w in out["message"], (w, out["message"])


# ---- PNG crafting --------------------------------------------------------------------

def chunk(kind, data, length=None):
    n = len(data) if length is None else length
    return struct.pack(">I", n) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, raw_rows=None, extra=b"", colour=2):
    """An 8-bit PNG (RGB by default); raw_rows are the filtered rows (filter
    byte + samples), zero rows if None."""
    channels = {0: 1, 2: 3, 6: 4}[colour]
    if raw_rows is None:
        raw_rows = (b"\0" + b"\x80" * (width * channels)) * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw_rows, 9)) + chunk(b"IEND", b""))


# ---- item 3: reads bounded by the input ---------------------------------------------

def test_png_declaring_a_2gb_text_chunk(tmp_path):
    # 72 bytes: a tEXt chunk header claiming 2^31-1 bytes, then the file ends.
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + struct.pack(">I", 2 ** 31 - 1) + b"tEXt" + b"k\0" + b"v" * 29)
    path = tmp_path / "text.png"
    path.write_bytes(data)
    assert len(data) == 72
    for call in ("rwcnn.load_image_bytes(open(path, 'rb').read())", "rwcnn.load_image(path)",
                 "rwcnn.image_size(path)"):
        expect(isolated(call, path=str(path)), rwcnn.FormatError, "tEXt", "past the end")


def test_large_real_text_chunk_is_skipped_unread(tmp_path):
    # A valid 8x8 image carrying 8 MB of zTXt/tEXt: loads, and libpng never sees it.
    text = chunk(b"tEXt", b"comment\0" + b"x" * (8 << 20)) + chunk(b"zTXt", b"c\0\0" + zlib.compress(b"y" * (64 << 20)))
    path = tmp_path / "chatty.png"
    path.write_bytes(png(8, 8, extra=text))
    out = isolated("""
        img = rwcnn.load_image(path)
        assert img.shape == (3, 8, 8) and abs(float(img.mean()) - 128 / 255) < 1e-6
    """, path=str(path))
    assert out["error"] is None, out


def test_png_too_short_for_its_header(tmp_path):
    # 4000 x 4000 RGB (48 MB raw, under the pixel limit) from 2 KB of data:
    # refused before the pixels are allocated.
    rows = zlib.compress(b"\0" * 2000)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4000, 4000, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    path = tmp_path / "short.png"
    path.write_bytes(data)
    out = isolated("rwcnn.load_image(path)", path=str(path))
    expect(out, rwcnn.FormatError, "IDAT", "1032")


def test_small_file_of_a_large_image_over_the_budget(tmp_path):
    # A real 3000 x 3000 RGB image (9 megapixels, under the pixel limit) in
    # under 300 KB of well-compressed rows: 108 MB as floats. Under a 64 MiB
    # limit it is refused from its header, before libpng inflates anything.
    rng = np.random.default_rng(0)
    row = b"\0" + bytes(rng.integers(0, 4, 3000 * 3, dtype=np.uint8))
    path = tmp_path / "large.png"
    path.write_bytes(png(3000, 3000, raw_rows=row * 3000))
    assert os.path.getsize(path) < 300_000
    for call in ("rwcnn.load_image(path)", "rwcnn.load_image_bytes(open(path, 'rb').read())"):
        out = isolated("rwcnn.set_memory_limit(64 << 20)\n" + call, path=str(path))
        expect(out, rwcnn.OutOfMemoryError, "3000x3000", "memory limit")
        assert out["cpu"] < 5 and out["peak_mb"] < 200, out


def test_dev_zero_and_fifo_are_refused_by_name(tmp_path):
    fifo = tmp_path / "x.png"
    os.mkfifo(fifo)
    out = isolated("rwcnn.Model.load('/dev/zero')")
    expect(out, rwcnn.FileError, "/dev/zero", "character device")
    out = isolated("rwcnn.load_image(path)", path=str(fifo))
    expect(out, rwcnn.FileError, "x.png", "FIFO")
    out = isolated("rwcnn.image_size(path)", path=str(fifo))
    expect(out, rwcnn.FileError, "FIFO")
    out = isolated("rwcnn.Model.load(path)", path=str(tmp_path))
    expect(out, rwcnn.FileError, "folder")


def test_fifo_in_a_training_folder_is_skipped(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        rwcnn.save_image(data / ("p%d.png" % i), rng.random((3, 24, 24), dtype=np.float32))
    os.mkfifo(data / "x.png")
    held = tmp_path / "eval"
    held.mkdir()
    rwcnn.save_image(held / "e.png", rng.random((3, 24, 24), dtype=np.float32))
    out = isolated("""
        warnings = []
        with rwcnn.Model(arch="4,M,8", cut="conv2_1", decoder="trained") as m:
            r = m.train(data, eval=held, steps=1, batch=2, crop=16, progress=False, eval_every=0,
                        callback=lambda p: warnings.append(p.message) if p.kind == "warning" else None)
        assert r.skipped_files == 1, r
        assert any("x.png" in w and "FIFO" in w for w in warnings), warnings
    """, data=str(data), held=str(held))
    assert out["error"] is None, out


# ---- item 2: every large allocation budgeted -----------------------------------------

def test_resize_target_over_budget(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rwcnn.save_image(data / "wide.png", np.full((3, 2, 1000), 0.5, np.float32))
    held = tmp_path / "eval"
    held.mkdir()
    rwcnn.save_image(held / "e.png", np.full((3, 64, 64), 0.5, np.float32))
    out = isolated("""
        with rwcnn.Model(arch="4,M,8", cut="conv2_1", decoder="trained") as m:
            m.train(data, eval=held, steps=1, batch=1, crop=64, short_side=4096, progress=False)
    """, data=str(data), held=str(held))
    expect(out, rwcnn.OutOfMemoryError, "wide.png", "resizing", "memory limit")


def test_memory_limit_setting(tmp_path):
    out = isolated("""
        default = rwcnn.get_memory_limit()
        assert default > 1 << 20
        rwcnn.set_memory_limit(4 << 20)
        assert rwcnn.get_memory_limit() == 4 << 20
        try:
            with rwcnn.Model(arch="64,64,M,128", cut="conv2_1") as m:   # 0.9 MB of parameters: fits
                pass
            rwcnn.Model(arch="256,256,M,512", cut="conv2_1")            # 14.2 MB: does not
        finally:
            pass
    """)
    expect(out, rwcnn.OutOfMemoryError, "memory limit", "parameter block")
    out = isolated("""
        rwcnn.set_memory_limit(0)
        d = rwcnn.get_memory_limit()
        rwcnn.set_memory_limit(1000)
    """)
    expect(out, rwcnn.ArgumentError, "1 MiB")


def test_tiny_file_huge_network(tmp_path):
    # metadata says two 8192-channel 7x7 convs (26 GB of weights), the file
    # holds 12 KB: refused before anything is drawn.
    meta = base_metadata(arch="8192,8192k7", cut="conv1_2")
    path = tmp_path / "huge.safetensors"
    write_safetensors(path, {"encoder.conv1_1.weight": np.zeros((10, 3, 10, 10), np.float32)}, meta)
    assert os.path.getsize(path) < 13000
    out = isolated("rwcnn.Model.load(path)", path=str(path))
    expect(out, rwcnn.FormatError, "encoder.conv1_1")
    # Nothing stored at all (tied decoder, encoder from the seed): the budget says no.
    meta = base_metadata(arch="8192,8192k7", cut="conv1_2", decoder="tied", encoder_weights="seed")
    write_safetensors(path, {}, meta)
    out = isolated("rwcnn.Model.load(path)", path=str(path))
    expect(out, rwcnn.OutOfMemoryError, "parameters", "memory limit")


# ---- item 1: nothing trusted before it is checked ------------------------------------

def base_metadata(**over):
    m = {"format": "rwcnn.model", "format_version": "1", "arch": "4,M,8", "width": "1.0",
         "kernel_size": "", "cut": "conv2_1", "init": "normal", "mean": "0.0", "scale": "he",
         "std": "", "seed": "0", "unpool": "switches", "decoder": "random", "normalize_input": "false"}
    m.update(over)
    return m


@pytest.fixture
def saved(tmp_path):
    """A small saved model: (path, metadata, tensors)."""
    path = tmp_path / "m.safetensors"
    with rwcnn.Model(arch="4,M,8", cut="conv2_1", seed=3) as m:
        m.save(path)
    meta, tensors = read_safetensors(path)
    return path, meta, tensors


def test_unknown_tensor_is_a_format_error(tmp_path, saved):
    path, meta, tensors = saved
    tensors["encoder.conv9_9.weight"] = np.zeros((2, 2), np.float32)
    write_safetensors(path, tensors, meta)
    expect(isolated("rwcnn.Model.load(path)", path=str(path)), rwcnn.FormatError, "encoder.conv9_9.weight",
           "not part of this model")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weight_is_a_format_error(tmp_path, saved, value):
    path, meta, tensors = saved
    tensors["decoder.conv2_1.weight"].flat[5] = value
    write_safetensors(path, tensors, meta)
    expect(isolated("rwcnn.Model.load(path)", path=str(path)), rwcnn.FormatError, "decoder.conv2_1.weight",
           "non-finite", "index 5")


@pytest.mark.parametrize("field,value", [("arch", "bogus"), ("cut", "pool9"), ("width", "-1"),
                                         ("kernel_size", "4"), ("mean", "nan"), ("std", "1e300"),
                                         ("seed", "-1"), ("unpool", "sideways")])
def test_wrong_metadata_is_a_format_error(tmp_path, saved, field, value):
    path, meta, tensors = saved
    meta[field] = value
    if field == "std":
        meta["scale"] = "fixed"
    meta.pop("encoder_fingerprint", None)
    write_safetensors(path, tensors, meta)
    expect(isolated("rwcnn.Model.load(path)", path=str(path)), rwcnn.FormatError, field)


@pytest.mark.parametrize("kwargs,word", [({"std": 1e300, "scale": "fixed"}, "std"),
                                         ({"std": float("inf"), "scale": "fixed"}, "std"),
                                         ({"mean": float("nan")}, "mean"),
                                         ({"mean": 1e6}, "mean")])
def test_absurd_init_is_an_argument_error(kwargs, word):
    out = isolated("rwcnn.Model(arch='4,M,8', cut='conv2_1', **kw)", kw=kwargs)
    expect(out, rwcnn.ArgumentError, word)


def decoder_only(saved):
    """The saved model as a decoder-only file: encoder tensors removed,
    encoder_weights "seed" (as `rwcnn-cli train --decoder-only` writes)."""
    path, meta, tensors = saved
    meta = dict(meta, encoder_weights="seed")
    tensors = {k: v for k, v in tensors.items() if not k.startswith("encoder.")}
    return path, meta, tensors


def test_decoder_only_file_loads_and_matches(tmp_path, saved):
    path, meta, tensors = decoder_only(saved)
    assert "encoder_fingerprint" in meta and "seed:" in meta["encoder_fingerprint"]
    write_safetensors(path, tensors, meta)
    x = np.random.default_rng(1).random((3, 16, 16), dtype=np.float32)
    with rwcnn.Model.load(path) as loaded, rwcnn.Model(arch="4,M,8", cut="conv2_1", seed=3) as ref:
        assert np.array_equal(loaded.encode(x), ref.encode(x))


@pytest.mark.parametrize("field,value", [("seed", "4"), ("init", "uniform"), ("mean", "0.5"),
                                         ("unpool", "nearest"), ("width", "2.0"), ("kernel_size", "5"),
                                         ("arch", "4,M3,8")])
def test_edited_decoder_only_file_is_a_format_error(tmp_path, saved, field, value):
    path, meta, tensors = decoder_only(saved)
    meta[field] = value
    write_safetensors(path, tensors, meta)
    out = isolated("rwcnn.Model.load(path)", path=str(path))
    expect(out, rwcnn.FormatError, field)
    if field in ("seed", "init", "mean", "unpool"):          # shapes unchanged: only the fingerprint can tell
        assert "fingerprint" in out["message"], out


def test_file_without_fingerprint_still_loads(tmp_path, saved):
    """Files written before the fingerprint existed (data/decoders/*) load."""
    path, meta, tensors = decoder_only(saved)
    del meta["encoder_fingerprint"]
    write_safetensors(path, tensors, meta)
    with rwcnn.Model.load(path):
        pass
    bundled = os.path.join(os.path.dirname(PACKAGE_ROOT), "..", "data", "decoders", "vgg16_seed0_pool1.safetensors")
    if os.path.exists(bundled):
        assert "encoder_fingerprint" not in read_safetensors(bundled)[0]
        with rwcnn.Model.load(bundled):
            pass


# ---- checkpoints ------------------------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        rwcnn.save_image(data / ("p%d.png" % i), rng.random((3, 24, 24), dtype=np.float32))
    ck = tmp_path / "ck.safetensors"
    with rwcnn.Model(arch="4,M,8", cut="conv2_1", decoder="trained") as m:
        m.train(data, steps=2, batch=2, crop=16, checkpoint=ck, progress=False, eval_every=0)
    meta, tensors = read_safetensors(ck)
    assert meta["checkpoint_step"] == "2" and meta["optimizer_updates"] == "2"
    return data, ck, meta, tensors


RESUME = """
with rwcnn.Model(arch="4,M,8", cut="conv2_1", decoder="trained") as m:
    m.train(data, steps=steps, batch=2, crop=16, checkpoint=ck, resume=True, progress=False, eval_every=0)
"""


@pytest.mark.parametrize("field,value", [("checkpoint_step", str(2 ** 61)),
                                         ("checkpoint_step", "9"),          # past steps = 5
                                         ("checkpoint_step", "-1"),
                                         ("checkpoint_samples", str(2 ** 63 - 1)),
                                         ("optimizer_updates", str(2 ** 63 - 1)),
                                         ("optimizer_updates", "3")])       # more updates than steps
def test_checkpoint_counters_are_bounded(checkpoint, field, value):
    data, ck, meta, tensors = checkpoint
    meta[field] = value
    write_safetensors(ck, tensors, meta)
    out = isolated(RESUME, data=str(data), ck=str(ck), steps=5)
    expect(out, rwcnn.FormatError, field)


def test_checkpoint_without_optimizer_state_is_a_format_error(checkpoint):
    data, ck, meta, tensors = checkpoint
    tensors = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    write_safetensors(ck, tensors, meta)
    out = isolated(RESUME, data=str(data), ck=str(ck), steps=5)
    expect(out, rwcnn.FormatError, "optimizer.first.decoder", "missing")


def test_checkpoint_with_negative_second_moment_is_a_format_error(checkpoint):
    data, ck, meta, tensors = checkpoint
    name = next(k for k in tensors if k.startswith("optimizer.second."))
    tensors[name].flat[0] = -1.0
    write_safetensors(ck, tensors, meta)
    out = isolated(RESUME, data=str(data), ck=str(ck), steps=5)
    expect(out, rwcnn.FormatError, name, "negative")


def test_checkpoint_without_run_record_is_refused(checkpoint):
    """A checkpoint from before run records (no train.* metadata) cannot be
    checked against this run's data and options: its resume is refused,
    and its weights still load as a model."""
    data, ck, meta, tensors = checkpoint
    assert any(k.startswith("train.") for k in meta)
    meta = {k: v for k, v in meta.items() if not k.startswith("train.")}
    write_safetensors(ck, tensors, meta)
    out = isolated(RESUME, data=str(data), ck=str(ck), steps=5)
    expect(out, rwcnn.FormatError, "records no run settings", "train.")
    with rwcnn.Model.load(ck):
        pass


def test_good_checkpoint_resumes(checkpoint):
    data, ck, meta, tensors = checkpoint
    out = isolated(RESUME + "\nassert rwcnn.Model.load(ck) is not None\n", data=str(data), ck=str(ck), steps=4)
    assert out["error"] is None, out
    assert read_safetensors(ck)[0]["checkpoint_step"] == "4"


# ---- item 4: atomic writes clean up after dead writers -------------------------------

def test_stale_temporaries_are_removed_live_ones_kept(tmp_path):
    target = tmp_path / "m.safetensors"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / ("m.safetensors.tmp-%d-1a2b" % dead.pid)
    live = tmp_path / ("m.safetensors.tmp-%d-3c4d" % os.getpid())   # this test's own process: alive
    other = tmp_path / ("n.safetensors.tmp-%d-5e6f" % dead.pid)     # another file's
    odd = tmp_path / "m.safetensors.tmp-notapid-77"
    for p in (stale, live, other, odd):
        p.write_bytes(b"partial")
    out = isolated("""
        with rwcnn.Model(arch="4,M,8", cut="conv2_1") as m:
            m.save(target)
        assert rwcnn.Model.load(target) is not None
    """, target=str(target))
    assert out["error"] is None, out
    assert not stale.exists()
    assert live.exists() and other.exists() and odd.exists()


def test_non_finite_torchvision_weight_is_a_format_error(tmp_path):
    path = tmp_path / "tv.safetensors"
    w = np.zeros((4, 3, 3, 3), np.float32)
    w[1, 2, 0, 0] = np.nan
    write_safetensors(path, {"features.0.weight": w, "features.0.bias": np.zeros(4, np.float32)})
    out = isolated("""
        with rwcnn.Model(arch="vgg16", cut="conv1_1", width=0.0625, normalize_input=True) as m:
            m.load_torchvision(path)
    """, path=str(path))
    expect(out, rwcnn.FormatError, "features.0.weight", "non-finite")


# ---- JPEG: a header's size and libjpeg's allocation bounded -------------------------

JPEG_FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "Tests", "RWCNNTests", "Data", "jpeg",
                            "progressive.jpg")


def progressive_jpeg(width, height):
    """The 67x45 progressive test file (YCbCr 4:2:0) with its SOF2 header
    claiming width x height: its scans then cover a sliver of the image, so
    libjpeg would allocate the whole image's coefficients and then run out of
    data."""
    data = open(JPEG_FIXTURE, "rb").read()
    at = data.find(b"\xff\xc2")
    assert at > 0 and struct.unpack(">HH", data[at + 5:at + 9]) == (45, 67)
    return data[:at + 5] + struct.pack(">HH", height, width) + data[at + 9:]


def test_jpeg_declaring_a_huge_size(tmp_path):
    # 65000 x 65000 = 4.2 G pixels: refused on the header, nothing decoded.
    path = tmp_path / "huge.jpg"
    path.write_bytes(progressive_jpeg(65000, 65000))
    for call in ("rwcnn.load_image_bytes(open(path, 'rb').read())", "rwcnn.load_image(path)"):
        expect(isolated(call, path=str(path)), rwcnn.OutOfMemoryError, "65000x65000", "over the limit")
    assert isolated("assert rwcnn.image_size(path) == (65000, 65000, 3)", path=str(path))["error"] is None


def test_progressive_jpeg_over_the_memory_limit(tmp_path):
    # 8000 x 8000 is under the pixel limit, but its decode (the 8-bit samples
    # and libjpeg's coefficient buffer, about 570 MB) is over a 64 MiB budget:
    # refused before libjpeg allocates anything.
    path = tmp_path / "wide.jpg"
    path.write_bytes(progressive_jpeg(8000, 8000))
    out = isolated("""
        rwcnn.set_memory_limit(64 << 20)
        rwcnn.load_image(path)
    """, path=str(path))
    expect(out, rwcnn.OutOfMemoryError, "8000x8000", "memory limit")
    assert out["peak_mb"] < 150, out


def test_progressive_jpeg_with_too_few_scans(tmp_path):
    # 2048 x 2048 within the budget: libjpeg allocates the coefficients (25 MB)
    # and runs out of scan data; a FORMAT error, not a gray image.
    path = tmp_path / "short.jpg"
    path.write_bytes(progressive_jpeg(2048, 2048))
    out = isolated("rwcnn.load_image(path)", path=str(path))
    expect(out, rwcnn.FormatError, "truncated or corrupt")
