"""Training through the binding: loss goes down, results, progress output,
cancellation from a callback (CancelledError) with a loadable checkpoint,
Ctrl-C, resume."""

import io
import os
import signal

import numpy as np
import pytest

import rwcnn
from conftest import small_photo

pytestmark = pytest.mark.usefixtures("lib")

MODEL = dict(arch="8,M,16", cut="pool1", decoder="trained", seed=1)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, photos):
    d = tmp_path_factory.mktemp("train_images")
    for path in photos[:8]:
        rwcnn.save_image(d / os.path.basename(path), small_photo(path, 48))
    return str(d)


def test_training_lowers_the_loss(data_dir, tmp_path):
    events = []
    with rwcnn.Model(**MODEL) as m:
        x = rwcnn.load_image(os.path.join(data_dir, sorted(os.listdir(data_dir))[0]))
        before = rwcnn.mse(m.reconstruct(x), x)
        result = m.train(data=data_dir, steps=60, batch=4, crop=32, learning_rate=3e-3, eval_every=0,
                         checkpoint_every=0, progress=False, callback=events.append)
        after = rwcnn.mse(m.reconstruct(x), x)
        assert m.config["decoder"] == "trained"
    losses = [e.loss for e in events if e.kind == "step"]
    assert len(losses) == 60
    assert [e.step for e in events if e.kind == "step"] == list(range(1, 61))
    assert all(e.steps == 60 for e in events)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:5])
    assert after < before
    assert isinstance(result, rwcnn.TrainResult)
    assert result.steps_done == 60
    assert result.final_loss == pytest.approx(losses[-1])
    assert result.train_images + result.eval_images == 8
    assert result.eval_images >= 1 and result.eval_mse is not None
    assert result.eval_psnr > 0 and result.skipped_files == 0
    assert any(e.kind == "eval" and e.eval_psnr is not None for e in events)
    assert result.as_dict()["steps_done"] == 60


def test_progress_bar_text(data_dir):
    out = io.StringIO()
    with rwcnn.Model(**MODEL) as m:
        m.train(data=data_dir, steps=40, batch=2, crop=16, eval_every=20, checkpoint_every=0,
                progress=out)
    text = out.getvalue()
    assert "train 40/40" in text and "loss" in text and "eval" in text
    assert len(text.splitlines()) <= 30          # not a line per step off a terminal


def test_default_progress_goes_to_stderr(data_dir, capsys):
    with rwcnn.Model(**MODEL) as m:
        m.train(data=data_dir, steps=3, batch=2, crop=16, checkpoint_every=0)
    captured = capsys.readouterr()
    assert "train 3/3" in captured.err and captured.out == ""


def test_warnings_for_unreadable_files(data_dir, tmp_path):
    d = tmp_path / "mixed"
    d.mkdir()
    for name in sorted(os.listdir(data_dir))[:3]:
        (d / name).write_bytes(open(os.path.join(data_dir, name), "rb").read())
    (d / "broken.png").write_bytes(b"not a png")
    seen = []
    with rwcnn.Model(**MODEL) as m:
        r = m.train(data=str(d), eval_data=data_dir, steps=2, batch=2, crop=16, progress=False,
                    checkpoint_every=0, callback=seen.append)
    assert r.skipped_files == 1 and len(r.warnings) == 1 and "broken" in r.warnings[0]
    assert any(e.kind == "warning" for e in seen)


def test_cancel_from_callback_keeps_a_loadable_checkpoint(data_dir, tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    x = rwcnn.load_image(os.path.join(data_dir, sorted(os.listdir(data_dir))[0]))
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(rwcnn.CancelledError) as ei:
            m.train(data=data_dir, steps=50, batch=2, crop=16, checkpoint=str(ckpt),
                    checkpoint_every=0, progress=False,
                    callback=lambda e: e.kind == "step" and e.step == 3)
        assert ei.value.status == 5 and str(ei.value)
        want = m.reconstruct(x)
    assert ckpt.exists()
    with rwcnn.Model.load(ckpt) as back:
        assert back.config["decoder"] == "trained"
        np.testing.assert_allclose(back.reconstruct(x), want, rtol=1e-5, atol=1e-6)


def test_resume_continues_bit_for_bit(data_dir, tmp_path):
    old = rwcnn.get_threads()
    rwcnn.set_threads(1)
    try:
        x = rwcnn.load_image(os.path.join(data_dir, sorted(os.listdir(data_dir))[1]))
        opts = dict(data=data_dir, steps=8, batch=2, crop=16, eval_every=0, progress=False)
        with rwcnn.Model(**MODEL) as m:
            m.train(checkpoint=str(tmp_path / "full.safetensors"), **opts)
            want = m.reconstruct(x)
        ckpt = str(tmp_path / "part.safetensors")
        with rwcnn.Model(**MODEL) as m:
            with pytest.raises(rwcnn.CancelledError):
                m.train(checkpoint=ckpt, callback=lambda e: e.step >= 4, **opts)
        with rwcnn.Model(**MODEL) as m:
            r = m.train(resume=ckpt, **opts)
            assert r.steps_done == 8
            np.testing.assert_array_equal(m.reconstruct(x), want)
    finally:
        rwcnn.set_threads(old)


def test_keyboard_interrupt_in_callback(data_dir, tmp_path):
    ckpt = tmp_path / "kbd.safetensors"
    steps = []

    def callback(e):
        steps.append(e.step)
        if e.step == 2:
            raise KeyboardInterrupt

    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(KeyboardInterrupt):
            m.train(data=data_dir, steps=50, batch=2, crop=16, checkpoint=str(ckpt),
                    progress=False, callback=callback)
    assert max(steps) == 2
    rwcnn.Model.load(ckpt).close()


def test_sigint_cancels_cleanly(data_dir, tmp_path):
    ckpt = tmp_path / "sigint.safetensors"
    steps = []

    def callback(e):
        steps.append(e.step)
        if e.step == 2:
            os.kill(os.getpid(), signal.SIGINT)   # as Ctrl-C would

    # A shell starts background jobs with SIGINT ignored; Ctrl-C handling is
    # tested from Python's default handler, as an interactive run has it.
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    handler = signal.getsignal(signal.SIGINT)
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(KeyboardInterrupt):
            m.train(data=data_dir, steps=50, batch=2, crop=16, checkpoint=str(ckpt),
                    progress=False, callback=callback)
    assert signal.getsignal(signal.SIGINT) is handler
    signal.signal(signal.SIGINT, previous)
    assert max(steps) <= 3
    rwcnn.Model.load(ckpt).close()


def test_callback_exception_propagates(data_dir):
    def callback(e):
        raise RuntimeError("boom at %d" % e.step)

    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(RuntimeError, match="boom at"):
            m.train(data=data_dir, steps=5, batch=2, crop=16, progress=False,
                    checkpoint_every=0, callback=callback)


def test_training_argument_errors(data_dir, tmp_path):
    with rwcnn.Model(arch="8,M,16", cut="pool1", decoder="tied") as m:
        with pytest.raises(rwcnn.ArgumentError):
            m.train(data=data_dir, steps=2, progress=False)        # tied cannot be trained
    empty = tmp_path / "empty"
    empty.mkdir()
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(rwcnn.ArgumentError):
            m.train(data=str(empty), steps=2, progress=False)      # no usable image
        with pytest.raises(rwcnn.ArgumentError):
            m.train(data=data_dir, resume=True, progress=False)    # resume without a path
        with pytest.raises(rwcnn.FileError):
            m.train(data=str(tmp_path / "missing"), steps=2, progress=False)
        with pytest.raises(rwcnn.ArgumentError):
            m.train(data=data_dir, optimizer="lbfgs", progress=False)


def test_progress_bar_on_a_terminal(data_dir):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    with rwcnn.Model(**MODEL) as m:
        m.train(data=data_dir, steps=5, batch=2, crop=16, checkpoint_every=0, progress=out)
    text = out.getvalue()
    assert text.startswith("\r") and "\rtrain 5/5" in text
    assert text.endswith("\n")
    assert "eval  step 5" in text
