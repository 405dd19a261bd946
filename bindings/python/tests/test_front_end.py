"""Thin front ends and one vocabulary: Python takes its defaults, tables,
display rule and resampling from the library, and they agree with the
header and the CLI; the CLI's small traps (usage of the failing
subcommand, help wrapping, option names) stay fixed."""

import ctypes
import dataclasses
import inspect
import os
import re
import subprocess
import warnings

import numpy as np
import pytest

import rwcnn
from rwcnn import _lib, _version, errors

from conftest import HEADER, IMAGES

pytestmark = pytest.mark.usefixtures("lib")
CLI = os.path.join(os.path.dirname(rwcnn.library_path()), "rwcnn-cli")
if not os.path.exists(CLI):   # a CMake stage directory: the CLI stays in the Swift build
    CLI = os.path.join(os.path.dirname(HEADER), "..", ".build", "release", "rwcnn-cli")
needs_cli = pytest.mark.skipif(not os.path.exists(CLI), reason="rwcnn-cli not built")
PHOTO = os.path.join(IMAGES, "chelsea.png")   # 451 x 300: odd side, not square


def header_text():
    with open(HEADER) as f:
        return f.read()


# ---- resize_crop ----------------------------------------------------------------


def triangle_resize_1d(a, n_out, axis):
    """The antialiased triangle filter in float64 (pixel centres at i + 0.5;
    support widened by the downscale factor; weights normalised)."""
    n_in = a.shape[axis]
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    k = np.arange(n_in) + 0.5
    w = np.maximum(0.0, 1.0 - np.abs(k[None, :] - centres[:, None]) / support)
    w /= w.sum(axis=1, keepdims=True)
    return np.moveaxis(np.tensordot(w, np.moveaxis(a, axis, 0), axes=(1, 0)), 0, axis)


def reference_resize_crop(chw, size):
    c, h, w = chw.shape
    if h <= w:
        nh, nw = size, max(size, int(np.floor(w * size / h + 0.5)))
    else:
        nh, nw = max(size, int(np.floor(h * size / w + 0.5))), size
    x = chw.astype(np.float64)
    if nw != w:
        x = triangle_resize_1d(x, nw, 2)
    if nh != h:
        x = triangle_resize_1d(x, nh, 1)
    top, left = (nh - size) // 2, (nw - size) // 2
    return x[:, top:top + size, left:left + size]


@pytest.mark.parametrize("size", [16, 72, 224, 500])
def test_resize_crop_matches_a_float64_reference(size):
    photo = rwcnn.load_image(PHOTO)
    got = rwcnn.resize_crop(photo, size)
    assert got.shape == (3, size, size) and got.dtype == np.float32
    np.testing.assert_allclose(got, reference_resize_crop(photo, size), rtol=0, atol=2e-6)


def test_resize_crop_takes_batches_and_uint8_and_refuses_bad_input():
    rng = np.random.default_rng(5)
    batch = rng.random((2, 3, 30, 41)).astype(np.float32)
    got = rwcnn.resize_crop(batch, 12)
    assert got.shape == (2, 3, 12, 12)
    for i in range(2):
        np.testing.assert_allclose(got[i], reference_resize_crop(batch[i], 12), atol=2e-6)
    u8 = (rng.random((30, 41, 3)) * 255).astype(np.uint8)
    np.testing.assert_allclose(rwcnn.resize_crop(u8, 12),
                               reference_resize_crop(u8.transpose(2, 0, 1) / 255.0, 12), atol=2e-6)
    for bad in (0, -3, 2.5, True):
        with pytest.raises(rwcnn.ArgumentError, match="size"):
            rwcnn.resize_crop(batch, bad)
    nan = batch[0].copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(rwcnn.ArgumentError, match="NaN"):
        rwcnn.resize_crop(nan, 12)


@needs_cli
def test_resize_crop_gives_the_clis_pixels(tmp_path):
    # `rwcnn features --size 72` encodes the CLI's resized crop; the same
    # model on Python's resize_crop must give the same features bit for bit.
    out = tmp_path / "f.npy"
    subprocess.run([CLI, "features", PHOTO, "--arch", "8,M,16", "--cut", "conv2_1", "--seed", "9",
                    "--size", "72", "-o", str(out)], check=True, capture_output=True, text=True)
    cli = np.load(out)
    with rwcnn.Model(arch="8,M,16", cut="conv2_1", seed=9, decoder="tied") as m:
        mine = m.encode(rwcnn.resize_crop(rwcnn.load_image(PHOTO), 72))
    np.testing.assert_array_equal(cli[0], mine)


# ---- display rule ------------------------------------------------------------------


def test_for_display_normalises_random_and_tied_and_clamps_trained():
    x = rwcnn.resize_crop(rwcnn.load_image(PHOTO), 32)
    for decoder in ("random", "tied"):
        with rwcnn.Model(arch="8,M,16", cut="pool1", seed=3, decoder=decoder) as m:
            raw = m.reconstruct(x)
            lo, hi = float(raw.min()), float(raw.max())
            np.testing.assert_allclose(m.for_display(raw), (raw - lo) / (hi - lo), atol=1e-6)
    with rwcnn.Model(arch="8,M,16", cut="pool1", seed=3, decoder="trained") as m:
        raw = m.reconstruct(x)
        assert raw.min() < 0 or raw.max() > 1     # the clamp has something to do
        np.testing.assert_array_equal(m.for_display(raw), np.clip(raw, 0, 1))
        batch = np.stack([raw, raw])
        np.testing.assert_array_equal(m.for_display(batch), np.clip(batch, 0, 1))


# ---- one vocabulary: defaults, tables, version ------------------------------------------


def test_python_writes_no_default_of_its_own():
    for name, p in inspect.signature(rwcnn.Model.__init__).parameters.items():
        if p.kind == p.POSITIONAL_OR_KEYWORD and name != "self":
            assert p.default is None, "Model(%s=) defaults to %r, not the library's" % (name, p.default)
    for f in dataclasses.fields(rwcnn.TrainOptions):
        assert f.default is None, "TrainOptions.%s defaults to %r" % (f.name, f.default)
    own = {"self", "data", "options", "progress", "callback", "deprecated"}
    for name, p in inspect.signature(rwcnn.Model.train).parameters.items():
        if name not in own and p.default is not p.empty:
            assert p.default is None, "train(%s=) defaults to %r" % (name, p.default)


def test_model_defaults_are_the_librarys():
    cfg = _lib.ModelConfig()
    _lib.lib().rwcnn_model_config_init(ctypes.byref(cfg))
    d = rwcnn.Model.defaults()
    assert d["arch"] == cfg.arch.decode() and d["cut"] == cfg.cut.decode()
    assert (d["width"], d["mean"], d["seed"], d["std"]) == (cfg.width, cfg.mean, cfg.seed, cfg.std)
    assert d["distribution"] == rwcnn.model._name(rwcnn.model._table("DISTRIBUTIONS"), cfg.distribution)
    with rwcnn.Model() as m:
        assert m.config == dict(d, std=None)   # std is reported for scale="fixed" only
    with rwcnn.Model(scale="fixed") as m:
        assert m.config["std"] == d["std"]


@needs_cli
def test_cli_defaults_are_the_librarys():
    """Every default `rwcnn train --help` shows equals the library's."""
    text = subprocess.run([CLI, "train", "--help"], capture_output=True, text=True, check=True).stdout
    # One entry per option: its first line starts "  [-x, ]--name", the
    # lines after it (deeper indented) continue its help.
    entries, shown = re.split(r"\n(?=  (?:-\w, )?--)", text), {}
    for entry in entries:
        m = re.match(r"\s*(?:-\w, )?--([a-z0-9-]+).*?\(default: ([^)]+)\)", re.sub(r"\s+", " ", entry))
        if m:
            shown[m.group(1)] = m.group(2)
    t, m = rwcnn.TrainOptions.defaults(), rwcnn.Model.defaults()
    want = {"steps": t.steps, "batch": t.batch, "learning-rate": t.learning_rate, "momentum": t.momentum,
            "beta1": t.betas[0], "beta2": t.betas[1], "epsilon": t.epsilon,
            "weight-decay": t.weight_decay, "eval-every": t.eval_every,
            "checkpoint-every": t.checkpoint_every, "eval-fraction": t.eval_fraction,
            "crop": t.crop, "short-side": t.short_side, "data-seed": t.data_seed, "optimizer": t.optimizer,
            "arch": m["arch"], "width": m["width"], "seed": m["seed"], "distribution": m["distribution"],
            "scale": m["scale"], "mean": m["mean"], "unpool": m["unpool"]}
    for option, value in want.items():
        assert option in shown, "--%s shows no default" % option
        got = shown[option]
        if isinstance(value, str):
            assert got == value, option
        else:
            assert float(got) == pytest.approx(float(value), rel=1e-12), option


@needs_cli
def test_cli_adam_settings_reach_the_run(tmp_path):
    """--beta1, --beta2 and --epsilon are the run's (its checkpoint records
    them), and a bad one is the core's argument error."""
    from conftest import read_safetensors
    ck, out = tmp_path / "ck.safetensors", tmp_path / "m.safetensors"
    base = [CLI, "train", "--arch", "4,M,8", "--cut", "conv2_1", "--data", IMAGES, "--crop", "16", "--batch", "2",
            "--steps", "1", "--eval-every", "0", "--threads", "1", "-o", str(out)]
    subprocess.run(base + ["--beta1", "0.5", "--beta2", "0.99", "--epsilon", "1e-06", "--checkpoint", str(ck)],
                   capture_output=True, text=True, check=True)
    meta = read_safetensors(ck)[0]
    assert (meta["train.beta1"], meta["train.beta2"], meta["train.epsilon"]) == ("0.5", "0.99", "1e-06")
    bad = subprocess.run(base + ["--beta2", "1"], capture_output=True, text=True)
    assert bad.returncode != 0 and "betas must be in [0, 1)" in bad.stderr, bad.stderr


def test_train_defaults_are_the_librarys():
    o = _lib.TrainOptions()
    _lib.lib().rwcnn_train_options_init(ctypes.byref(o))
    t = rwcnn.TrainOptions.defaults()
    assert (t.steps, t.batch, t.crop, t.learning_rate, t.eval_fraction) == (o.steps, o.batch, o.crop, o.learning_rate,
                                                               o.eval_fraction)
    assert t.betas == (o.beta1, o.beta2) and t.flip == bool(o.flip) and t.optimizer == "adam"


def test_status_table_is_the_librarys():
    L = _lib.lib()
    n = 0
    while L.rwcnn_status_name(n).decode() != "RWCNN_UNKNOWN_STATUS":
        assert errors.STATUS_NAMES[n] == L.rwcnn_status_name(n).decode(), n
        n += 1
    assert n == len(errors.STATUS_NAMES)
    pinned = {k: int(v) for k, v in re.findall(r"\b(RWCNN_(?:OK|ERR_[A-Z_]+))\s*=\s*(\d+)", header_text())}
    assert {v: k for k, v in pinned.items()} == errors.STATUS_NAMES
    for cls in (errors.ArgumentError, errors.FileError, errors.FormatError, errors.OutOfMemoryError,
                errors.CancelledError, errors.InternalError, errors.BufferTooSmallError):
        assert isinstance(errors.error_for_status(cls.status), cls)
        assert getattr(_lib, errors.STATUS_NAMES[cls.status]) == cls.status
    for name, value in pinned.items():
        assert getattr(_lib, name) == value


def test_lib_enum_constants_are_the_headers():
    pinned = re.findall(r"\b(RWCNN_(?:DIST|SCALE|UNPOOL|DECODER|OPTIMIZER|PROGRESS|ENUM)_[A-Z_]+)\s*=\s*(\d+)",
                        header_text())
    assert len(pinned) >= 20
    for name, value in pinned:
        assert getattr(_lib, name) == int(value), name


def test_version_is_written_once_in_the_header():
    text = header_text()
    major, minor, patch = (int(re.search(r"#define RWCNN_VERSION_%s (\d+)" % k, text).group(1))
                           for k in ("MAJOR", "MINOR", "PATCH"))
    assert rwcnn.__version__ == "%d.%d.%d" % (major, minor, patch)
    assert _version.HEADER_VERSION_NUMBER == major * 10000 + minor * 100 + patch
    assert rwcnn.version() == rwcnn.__version__ and rwcnn.version_number() == _version.HEADER_VERSION_NUMBER


# ---- one name per concept -------------------------------------------------------------


def test_distribution_is_the_name_and_init_an_old_alias():
    x = rwcnn.resize_crop(rwcnn.load_image(PHOTO), 24)
    with rwcnn.Model(arch="8,M", cut="pool1", distribution="laplace", seed=2) as m:
        assert m.config["distribution"] == "laplace" and "init" not in m.config
        want = m.encode(x)
    with pytest.warns(DeprecationWarning, match="distribution"):
        old = rwcnn.Model(arch="8,M", cut="pool1", init="laplace", seed=2)
    with old:
        np.testing.assert_array_equal(old.encode(x), want)
    with pytest.raises(rwcnn.ArgumentError, match="not both"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rwcnn.Model(init="laplace", distribution="normal")
    with pytest.raises(TypeError, match="colour"):
        rwcnn.Model(colour="red")
    # A config pickled before the rename still rebuilds the model.
    cfg = dict(rwcnn.Model.defaults(), arch="8,M", cut="pool1", seed=2, std=None)
    cfg["init"] = cfg.pop("distribution")
    cfg["init"] = "laplace"
    with rwcnn.model._model_from_config(cfg) as m:
        np.testing.assert_array_equal(m.encode(x), want)


@needs_cli
def test_cli_init_distribution_is_an_alias_of_distribution(tmp_path):
    outs = []
    for flag in ("--distribution", "--init-distribution"):
        out = tmp_path / ("f%d.npy" % len(outs))
        subprocess.run([CLI, "features", PHOTO, "--arch", "8,M", "--cut", "pool1", "--size", "24", flag,
                        "logistic", "-o", str(out)], check=True, capture_output=True)
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[0], outs[1])
    bad = subprocess.run([CLI, "features", PHOTO, "--cut", "pool1", "--distribution", "cauchy", "-o",
                          str(tmp_path / "x.npy")], capture_output=True, text=True)
    assert bad.returncode == 64 and "normal, uniform, laplace, logistic" in bad.stderr
    help_text = subprocess.run([CLI, "features", "--help"], capture_output=True, text=True).stdout
    assert "--distribution" in help_text and "--init-distribution" not in help_text
    # --kernel-size (kernel_size in C and Python), --kernel its old name.
    for flag in ("--kernel-size", "--kernel"):
        out = tmp_path / ("k%s.npy" % flag)
        subprocess.run([CLI, "features", PHOTO, "--arch", "8,M", "--cut", "pool1", "--size", "24", flag, "5",
                        "-o", str(out)], check=True, capture_output=True)
        outs.append(np.load(out))
    np.testing.assert_array_equal(outs[2], outs[3])
    assert not np.array_equal(outs[2], outs[0])      # 5x5 kernels differ from 3x3 ones
    info = subprocess.run([CLI, "info", "--arch", "8,M", "--kernel-size", "5", "--size", "32"],
                          capture_output=True, text=True, check=True).stdout
    assert "kernel 5" in info and "--kernel-size" in help_text


# ---- CLI usage and help ------------------------------------------------------------------


SUBCOMMANDS = ["demo", "info", "reconstruct", "features", "train", "evaluate", "benchmark", "study",
               "report", "sweep", "invert", "texture", "style"]


@needs_cli
@pytest.mark.parametrize("args,sub", [
    (["reconstruct", PHOTO, "--decoder", "tied", "-o", "/nonexistent/x.png"], "reconstruct"),
    (["reconstruct", PHOTO, "--decoder", "tide", "--cut", "pool1", "-o", "x.png"], "reconstruct"),
    (["features", PHOTO, "--cut", "pool1", "-o", "f.txt"], "features"),
    (["evaluate", "--data", IMAGES, "--decoder", "tied"], "evaluate"),
])
def test_a_subcommand_error_prints_that_subcommands_usage(args, sub):
    done = subprocess.run([CLI] + args, capture_output=True, text=True)
    assert done.returncode == 64, done.stderr
    assert "Usage: rwcnn %s " % sub in done.stderr, done.stderr
    assert "See 'rwcnn %s --help'" % sub in done.stderr
    assert "<subcommand>" not in done.stderr


@needs_cli
@pytest.mark.parametrize("sub", [None] + SUBCOMMANDS)
def test_help_paragraphs_wrap_cleanly(sub):
    """Greedy wrapping at 80 columns (ArgumentParser fills at most 79): no
    line is longer, and no line of a paragraph could have taken the next
    line's first word."""
    env = dict(os.environ, COLUMNS="80")
    text = subprocess.run([CLI] + ([sub] if sub else []) + ["--help"], capture_output=True, text=True,
                          env=env, check=True).stdout
    lines = text.split("\n")
    # The overview and discussion: the lines before USAGE (ArgumentParser
    # fills them to 79 columns; option help and the USAGE lines go to 80).
    start = next(i for i, l in enumerate(lines) if l.startswith("USAGE:"))
    prose = lines[:start]
    for line in lines:
        assert len(line) <= (79 if line in prose else 80), "%r is %d columns" % (line, len(line))
    # USAGE wraps whole groups ("[--size <size>]") greedily under the first one.
    usage = lines[start:lines.index("", start)]
    head = re.match(r"USAGE: rwcnn(?: [a-z]+)? ", usage[0]).end()
    for a, b in zip(usage, usage[1:]):
        assert b.startswith(" " * head) and not b[head].isspace(), "usage continuation %r" % b
        first = b.strip().split(" ")[0] if b.strip().startswith("<") else \
            re.match(r"\[[^]]*\]|--\S+(?: <[^>]*>)?|\S+", b.strip()).group(0)
        assert len(a) + 1 + len(first) > 80, "ragged usage: %r then %r" % (a, b)
    for a, b in zip(prose, prose[1:]):
        if a.strip() and b.strip() and not b.startswith(" ") and not a.startswith(" "):
            first = b.split()[0]
            assert len(a) + 1 + len(first) > 79, "ragged wrap: %r then %r" % (a, b)
