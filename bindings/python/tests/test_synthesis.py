"""rwcnn.invert / texture / style: numpy in and out, the loss curve, seeding,
progress, cancel and Ctrl-C, and clear errors for bad options."""

import ctypes
import io
import os
import signal

import numpy as np
import pytest

import rwcnn
from conftest import IMAGES

MODEL = dict(arch="8,A,8,M,8", cut="conv2_1", seed=0)


@pytest.fixture
def images(lib):
    rng = np.random.default_rng(1)
    return rng.random((2, 3, 16, 16), dtype=np.float32)


def test_invert_batch_and_loss_curve(images):
    with rwcnn.Model(**MODEL) as m:
        r = rwcnn.invert(images, "relu2_1", model=m, steps=8)
    assert r.image.shape == images.shape and r.image.dtype == np.float32
    assert r.losses.shape == (8,) and r.steps_done == 8
    assert r.final_loss < r.start_loss and r.losses[-1] < r.losses[0]
    assert 0 <= r.image.min() and r.image.max() <= 1   # clamped by default
    # The loss curve agrees with the numpy loss of the first image's step 0:
    # the start is seeded noise, so the same seed gives the same curve.
    with rwcnn.Model(**MODEL) as m:
        again = rwcnn.invert(images, "conv2_1", model=m, steps=8)
        other = rwcnn.invert(images, "conv2_1", model=m, steps=8, noise_seed=5)
    np.testing.assert_array_equal(again.image, r.image)
    np.testing.assert_array_equal(again.losses, r.losses)
    assert not np.array_equal(other.image, r.image)


def test_invert_features_match_better_than_noise(lib):
    # Independent check in numpy: the result's features are closer to the
    # photo's than the noise start's are (relative feature error).
    from PIL import Image
    photo = np.asarray(Image.open(os.path.join(IMAGES, "astronaut.png")).convert("RGB").resize((32, 32)))
    with rwcnn.Model(arch="vgg16", cut="conv1_2", seed=0) as m:
        r = rwcnn.invert(photo, "conv1_2", model=m, steps=60)
        small = np.asarray(r.image)
        target = m.encode(photo)
        got = m.encode(small)
        noise = m.encode(np.random.default_rng(0).random((3, 32, 32), dtype=np.float32))
    err = lambda f: float(((f - target) ** 2).sum() / (target ** 2).sum())  # noqa: E731
    assert small.shape == (3, 32, 32)
    assert err(got) < 0.2 * err(noise)
    assert abs(err(got) - r.final_loss) < 1e-3 * max(1.0, r.final_loss)


def test_texture_any_size_uint8_and_model_built_for_the_layers(lib):
    rng = np.random.default_rng(2)
    source = (rng.random((20, 20, 3)) * 255).astype(np.uint8)     # H x W x C uint8
    r = rwcnn.texture(source, ["conv1_1", "pool1", "relu2_1"], weights=[1, 1, 0.5], arch="8,A,8,M,8",
                      out_size=(12, 28), steps=5, optimizer="lbfgs")
    assert r.image.shape == (3, 12, 28)
    assert r.final_loss < r.start_loss
    r2 = rwcnn.texture(source, "conv1_1", arch="8,A,8,M,8", count=3, steps=2)
    assert r2.image.shape == (3, 3, 20, 20)


def test_style_from_content(images):
    with rwcnn.Model(**MODEL) as m:
        r = rwcnn.style(images, images[0], content_layer="conv2_1", style_layers=["conv1_1", "pool1"],
                        style_weights=[1, 2], model=m, steps=4, start="content", tv_weight=0.1)
    assert r.image.shape == images.shape
    assert r.final_loss <= r.start_loss


def test_progress_bar_callback_and_cancel(images):
    stream = io.StringIO()
    seen = []
    with rwcnn.Model(**MODEL) as m:
        rwcnn.invert(images, "conv2_1", model=m, steps=3, scales=2, progress=stream,
                     callback=lambda p: seen.append((p.step, p.scale, p.image.shape)))
        assert [s[0] for s in seen] == [1, 2, 3, 4, 5, 6]
        assert seen[0][2] == (2, 3, 8, 8) and seen[-1][2] == (2, 3, 16, 16)
        assert "invert" in stream.getvalue() and "6/6" in stream.getvalue()
        with pytest.raises(rwcnn.CancelledError):
            rwcnn.invert(images, "conv2_1", model=m, steps=10, callback=lambda p: p.step >= 2)


def test_ctrl_c_cancels_cleanly(images):
    steps = []

    def callback(p):
        steps.append(p.step)
        if p.step == 2:
            os.kill(os.getpid(), signal.SIGINT)   # as Ctrl-C would

    # A shell starts background jobs with SIGINT ignored; Ctrl-C handling is
    # tested from Python's default handler, as an interactive run has it.
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    handler = signal.getsignal(signal.SIGINT)
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(KeyboardInterrupt):
            rwcnn.invert(images, "conv2_1", model=m, steps=50, callback=callback)
    assert signal.getsignal(signal.SIGINT) is handler
    signal.signal(signal.SIGINT, previous)
    assert max(steps) <= 3


@pytest.mark.parametrize("call, message", [
    (lambda m, x: rwcnn.texture(x, [], model=m, steps=2), "no layers given"),
    (lambda m, x: rwcnn.texture(x, [], arch="vgg16", steps=2), "no layers given"),
    (lambda m, x: rwcnn.invert(x, "conv9_9", model=m, steps=2), "unknown layer"),
    (lambda m, x: rwcnn.invert(x, "conv9_9", arch="vgg16", steps=2), "unknown layer"),
    (lambda m, x: rwcnn.invert(x, "pool2", model=m, steps=2), "past the model's cut"),
    (lambda m, x: rwcnn.texture(x, ["conv1_1"], weights=[-1], model=m, steps=2), "at least 0"),
    (lambda m, x: rwcnn.texture(x, ["conv1_1", "pool1"], weights=[1], model=m, steps=2), "one per layer"),
    (lambda m, x: rwcnn.style(x, x, content_layer="conv2_1", style_layers=["pool1"], content_weight=-1,
                              model=m, steps=2), "at least 0"),
    (lambda m, x: rwcnn.invert(x, "conv1_1", model=m, steps=0), "steps must be"),
    (lambda m, x: rwcnn.invert(x[:, :, :1, :1], "conv2_1", model=m, steps=2), "too small"),
    (lambda m, x: rwcnn.texture(x, ["conv2_1"], out_size=1, model=m, steps=2), "too small"),
    (lambda m, x: rwcnn.invert(x, "conv1_1", model=m, steps=2, optimizer="sgd"), "optimizer must be"),
    (lambda m, x: rwcnn.invert(x, "conv1_1", model=m, steps=2, learning_rate=0), "learning rate"),
    (lambda m, x: rwcnn.invert(x, "conv2_1", model=m, steps=2, scales=5), "at scale 1 of 5"),
    (lambda m, x: rwcnn.style(x, x[:, :1], content_layer="conv2_1", style_layers=["pool1"], model=m, steps=2),
     "channels"),
])
def test_bad_options_are_clear_errors(images, call, message):
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(rwcnn.ArgumentError, match=message):
            call(m, images)


def test_vocabulary_from_the_library(lib):
    from rwcnn import synthesis
    assert list(synthesis.SYNTHESIS_OPTIMIZERS) == ["adam", "lbfgs"]
    assert list(synthesis.FEATURE_NORMALIZATIONS) == ["mean", "relative"]
    assert list(synthesis.GRAM_NORMALIZATIONS) == ["scaled", "gatys"]


def test_task_defaults_come_from_the_library(images):
    from rwcnn import _lib, synthesis
    lbfgs = synthesis.SYNTHESIS_OPTIMIZERS["lbfgs"]
    for task, optimizer, centred in (("invert", "adam", False), ("texture", "lbfgs", True), ("style", "lbfgs", True)):
        o, c = synthesis._task_defaults(task)
        assert o.optimizer == synthesis.SYNTHESIS_OPTIMIZERS[optimizer] and c is centred
        assert o.steps == 200 and o.clamp == 1
    # None takes the task's default; a given value wins.
    assert synthesis._options("texture", *([None] * 14)).optimizer == lbfgs
    assert synthesis._options("texture", None, "adam", *([None] * 12)).optimizer != lbfgs
    with pytest.raises(rwcnn.ArgumentError, match="task 7"):
        _lib.lib().rwcnn_synthesis_options_init_task(None, 0, 7, None)
    # the inputs: arch by task, and style's layers and content weight
    assert [synthesis._arch(t, None) for t in ("invert", "texture", "style")] == ["vgg16", "vgg16-avg", "vgg16-avg"]
    assert synthesis._arch("style", "vgg19") == "vgg19"
    d = synthesis._task_inputs("style")
    assert (d.content_layer, d.content_weight) == (b"conv4_2", 1.0)
    assert [d.style_layers[i] for i in range(d.style_layer_count)] == [
        b"conv1_1", b"conv2_1", b"conv3_1", b"conv4_1", b"conv5_1"]
    with pytest.raises(rwcnn.ArgumentError, match="task 7"):
        _lib.lib().rwcnn_synthesis_task_defaults(7, ctypes.byref(d), ctypes.sizeof(d))
    # texture without options runs the library's L-BFGS: the curve then
    # falls at every step (L-BFGS reports the loss after each step).
    with rwcnn.Model(**MODEL) as m:
        r = rwcnn.texture(images[:1], ["conv1_1"], model=m, steps=4)
    assert all(b <= a for a, b in zip(r.losses, r.losses[1:]))
