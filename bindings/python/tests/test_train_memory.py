"""Training from memory: Model.train(data=array | iterable | callable,
eval_data=array) against folder training on the same images, the first step
against a numpy reference, resume refusals, hostile arguments; and the
encoder trace (encode now, decode later)."""

import os
import pickle

import numpy as np
import pytest

import rwcnn
from conftest import small_photo

pytestmark = pytest.mark.usefixtures("lib")

MODEL = dict(arch="8,M,16", cut="pool1", decoder="trained", seed=1)
RUN = dict(batch=4, crop=32, learning_rate=3e-3, eval_every=2, checkpoint_every=0, progress=False, data_seed=5)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, photos):
    """A folder of 6 square 48x48 photos and a held-out folder of 2."""
    train = tmp_path_factory.mktemp("memory_train")
    held = tmp_path_factory.mktemp("memory_held")
    for i, path in enumerate(photos[:8]):
        target = train if i < 6 else held
        rwcnn.save_image(str(target / ("%02d.png" % i)), small_photo(path, 48))
    return str(train), str(held)


def load_folder(folder):
    return np.stack([rwcnn.load_image(os.path.join(folder, n)) for n in sorted(os.listdir(folder))])


@pytest.fixture
def one_thread():
    before = rwcnn.get_threads()
    rwcnn.set_threads(1)
    yield
    rwcnn.set_threads(before)


def curve(data, eval_data=None, **kw):
    events = []
    with rwcnn.Model(**MODEL) as m:
        r = m.train(data=data, eval_data=eval_data, callback=events.append, **dict(RUN, **kw))
    return ([e.loss for e in events if e.kind == "step"],
            [e.eval_mse for e in events if e.kind == "eval"], r)


def test_array_training_gives_the_folder_runs_loss_curve(folders, one_thread):
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    a = curve(train, held, steps=5)
    b = curve(x, h, steps=5)
    assert len(a[0]) == 5 and len(a[1]) >= 2
    assert b[0] == a[0] and b[1] == a[1]
    assert b[2].train_images == 6 and b[2].eval_images == 2
    # Without held-out images: the same seeded split as the folder's.
    c = curve(train, steps=4)
    d = curve(x, steps=4)
    assert d[0] == c[0] and d[2].eval_images == c[2].eval_images
    # uint8 N x H x W x C (the other layout) trains on the same pixels.
    u8 = np.rint(x * 255).astype(np.uint8).transpose(0, 2, 3, 1)
    e = curve(u8, h, steps=5)
    np.testing.assert_allclose(e[0], a[0], rtol=1e-6)
    # A list of same-shaped images is an array too.
    assert curve(list(x), h, steps=5)[0] == a[0]


def test_a_list_of_differently_sized_images_trains_as_their_folder(folders, tmp_path, one_thread):
    """Images of different sizes in memory (rwcnn_train_options.image_shapes)
    are sampled as a folder of the same files: the same loss curve."""
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    sizes = [(48, 48), (40, 46), (44, 36), (48, 40), (36, 48), (42, 42)]
    mixed = [x[i][:, :hh, :ww].copy() for i, (hh, ww) in enumerate(sizes)]
    folder = tmp_path / "mixed"
    folder.mkdir()
    for i, img in enumerate(mixed):
        rwcnn.save_image(str(folder / ("%02d.png" % i)), img)
    mixed = [rwcnn.load_image(str(folder / ("%02d.png" % i))) for i in range(len(mixed))]
    a = curve(str(folder), held, steps=4)
    b = curve(mixed, h, steps=4)
    assert len(a[0]) == 4 and b[0] == a[0] and b[1] == a[1]
    assert b[2].train_images == 6
    # Held-out images of different sizes too; uint8 H x W x C items mix with float ones.
    held_mixed = [h[0], h[1][:, :40, :44]]
    c = curve([np.rint(m.transpose(1, 2, 0) * 255).astype(np.uint8) for m in mixed[:3]] + mixed[3:],
              held_mixed, steps=2)
    assert len(c[0]) == 2 and c[2].eval_images == 2


def test_old_option_names_still_work_and_warn(folders):
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    run = dict(RUN)
    new = curve(x, h, steps=2)
    del run["learning_rate"], run["data_seed"]
    with rwcnn.Model(**MODEL) as m, pytest.warns(DeprecationWarning, match="learning_rate"):
        old = m.train(data=x, eval_data=h, steps=2, lr=3e-3, seed=5, **run)
    assert old.final_loss == new[2].final_loss
    with rwcnn.Model(**MODEL) as m, pytest.raises(rwcnn.ArgumentError, match="not both"):
        m.train(data=x, eval_data=h, steps=2, lr=3e-3, learning_rate=1e-3, **run)


def test_an_iterable_cannot_be_rewound_on_resume_and_says_so(folders, tmp_path):
    """A resumed run reads an iterable from its start (it cannot go back to
    the checkpoint's step): training continues, with a RuntimeWarning and a
    line in the result's warnings; a callable resumes silently."""
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    crops = [x[i:i + 2, :, :32, :32] for i in (0, 2, 4)]
    ck = str(tmp_path / "iter.safetensors")
    curve(iter(crops), h, steps=2, batch=2, checkpoint=ck)
    with pytest.warns(RuntimeWarning, match="cannot be rewound"):
        steps, _, r = curve(iter(crops), h, steps=3, batch=2, checkpoint=ck, resume=True)
    assert len(steps) == 1 and r.steps_done == 3
    assert any("resumed at step 2" in w for w in r.warnings)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        steps, _, r = curve(lambda step: crops[step % 3], h, steps=4, batch=2, checkpoint=ck, resume=True)
    assert len(steps) == 1 and not r.warnings


def numpy_mse(model_kwargs, batch):
    with rwcnn.Model(**model_kwargs) as m:
        out = m.reconstruct(batch).astype(np.float64)
    return float(np.mean((out - batch.astype(np.float64)) ** 2))


class Loader:
    """A re-iterable of (images, labels) pairs, as a torch DataLoader gives."""

    def __init__(self, batches):
        self.batches = batches
        self.passes = 0

    def __iter__(self):
        self.passes += 1
        for b in self.batches:
            yield b, np.zeros(len(b), np.int64)

    def __len__(self):
        return len(self.batches)


def test_iterables_and_callables_of_batches(folders):
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    crops = [np.ascontiguousarray(x[i:i + 2, :, :32, :32]) for i in (0, 2, 4)]
    # The first step's loss is the fresh model's MSE on the first batch (numpy, float64).
    steps, _, r = curve(iter(crops), h, steps=3, batch=None, crop=None)
    assert len(steps) == 3 and r.train_images == 0 and r.eval_images == 2
    assert steps[0] == pytest.approx(numpy_mse(MODEL, crops[0]), rel=1e-5)
    # A re-iterable is iterated again when it runs out; batch and crop come from its first batch.
    loader = Loader(crops)
    steps, _, r = curve(loader, h, steps=7, batch=None, crop=None)
    assert len(steps) == 7 and loader.passes == 3
    # A callable gets the 0-based step index.
    asked = []

    def batch_of(step):
        asked.append(step)
        return crops[step % 3]
    curve(batch_of, h, steps=4, batch=2, crop=32)
    assert asked == [0, 1, 2, 3]
    # NHWC uint8 batches work too.
    u8 = [np.rint(c * 255).astype(np.uint8).transpose(0, 2, 3, 1) for c in crops]
    assert len(curve(iter(u8), h, steps=3, batch=None, crop=None)[0]) == 3


def test_resume_with_other_options_or_data_is_refused(folders, tmp_path):
    train, held = folders
    x, h = load_folder(train), load_folder(held)
    ck = str(tmp_path / "ck.safetensors")
    curve(x, h, steps=2, checkpoint=ck)
    for change, word in [(dict(crop=24), "crop"), (dict(learning_rate=1e-2), "learning_rate"),
                         (dict(data_seed=6), "data_seed"), (dict(flip=False), "flip"), (dict(batch=2), "batch")]:
        with pytest.raises(rwcnn.ArgumentError, match=word):
            curve(x, h, **dict(dict(steps=3, checkpoint=ck, resume=True), **change))
    with pytest.raises(rwcnn.ArgumentError, match="data source"):
        curve(x[:5], h, steps=3, checkpoint=ck, resume=True)
    with pytest.raises(rwcnn.ArgumentError, match="data source"):
        curve(train, held, steps=3, checkpoint=ck, resume=True)
    with pytest.raises(rwcnn.ArgumentError, match="held-out data"):
        curve(x, h[:1], steps=3, checkpoint=ck, resume=True)
    steps, _, r = curve(x, h, steps=3, checkpoint=ck, resume=True, eval_every=1)
    assert len(steps) == 1 and r.steps_done == 3


def test_hostile_training_data(folders, tmp_path):
    train, held = folders
    x, h = load_folder(train), load_folder(held)

    def refused(match, data, eval_data=None, error=rwcnn.ArgumentError, **kw):
        with pytest.raises(error, match=match):
            curve(data, eval_data, **dict(dict(steps=2), **kw))

    refused("dtype", x.astype(np.int64), h)
    refused("channels-last", x.transpose(0, 2, 3, 1).copy(), h)
    bad = x.copy()
    bad[1, 0, 3, 3] = np.nan
    refused("NaN|non-finite", bad, h)
    refused("0..255", x * 255, h)
    refused("3 channels", x[:, :2], h)
    refused("3 channels", [x[0], x[1][:2, :40, :40]], h)
    refused("smaller than the 32-pixel crop", [x[0], x[1][:, :20, :40]], h)
    refused("held-out images as an array", x, held)
    refused("a folder too", train, h)
    refused("needs held-out images", iter([x[:4, :, :32, :32]]))
    refused("every batch must be", iter([x[:3, :, :32, :32]] * 3), h, batch=4, crop=32)
    refused("ended after 1 batch", iter([x[:4, :, :32, :32]]), h, batch=4, crop=32)
    refused("square", iter([x[:4, :, :32, :40]]), h, batch=None, crop=None)
    refused("cannot convert|dtype", iter(["not an image"] * 3), h, batch=4, crop=32)
    refused("data must be", 42, h)
    refused("smaller than the 32-pixel crop", x, h[:, :, :20, :20])

    # An exception in the source stops the run and is re-raised; the checkpoint keeps the steps done.
    ck = str(tmp_path / "failing.safetensors")

    def failing(step):
        if step == 2:
            raise ValueError("the data server went away")
        return x[:4, :, :32, :32]
    with rwcnn.Model(**MODEL) as m:
        with pytest.raises(ValueError, match="went away"):
            m.train(data=failing, eval_data=h, steps=5, checkpoint=ck, **dict(RUN, batch=4, crop=32))
        with rwcnn.Model.load(ck) as back:
            probe = x[:1, :, :32, :32]
            np.testing.assert_array_equal(back.reconstruct(probe), m.reconstruct(probe))


# ---- the encoder trace --------------------------------------------------------------


def test_trace_from_encode_decodes_like_reconstruct(photos):
    image = small_photo(photos[0], 48)[:, :37, :45]
    with rwcnn.Model(arch="vgg16", cut="pool2", width=0.125, seed=3) as m:
        features, trace = m.encode(image, trace=True)
        assert features.shape == (16, 9, 11)
        assert isinstance(trace, rwcnn.Trace)
        assert trace.image_shape == (1, 3, 37, 45) and trace.feature_shape == (1, 16, 9, 11)
        np.testing.assert_array_equal(m.decode(features, trace=trace), m.reconstruct(image))
        batch = np.stack([image, image[:, ::-1].copy()])
        f2, t2 = m.encode(batch, trace=True)
        np.testing.assert_array_equal(m.decode(f2, trace=t2), m.reconstruct(batch))
        # Without the trace, switches unpooling cannot decode.
        with pytest.raises(rwcnn.ArgumentError, match="switches"):
            m.decode(features)
        # The trace outlives its model: another model of the same config decodes with it.
    with rwcnn.Model(arch="vgg16", cut="pool2", width=0.125, seed=3) as again:
        np.testing.assert_array_equal(again.decode(features, trace=trace), again.reconstruct(image))
    trace.close()
    trace.close()  # idempotent


def test_hostile_traces(photos):
    image = small_photo(photos[0], 48)[:, :32, :32]
    with rwcnn.Model(arch="vgg16", cut="pool2", width=0.125, seed=3) as m, \
            rwcnn.Model(arch="vgg16", cut="pool1", width=0.125, seed=3) as other:
        features, trace = m.encode(image, trace=True)
        f_other, foreign = other.encode(image, trace=True)
        with pytest.raises(rwcnn.ArgumentError, match="layers"):
            m.decode(f_other, trace=foreign)
        with pytest.raises(rwcnn.ArgumentError, match="trace is of features"):
            m.decode(features[:, :7], trace=trace)
        with pytest.raises(rwcnn.ArgumentError, match="rwcnn.Trace"):
            m.decode(features, trace="not a trace")
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(trace)
        with trace:
            pass
        assert trace.closed
        with pytest.raises(rwcnn.ArgumentError, match="closed"):
            m.decode(features, trace=trace)
        assert "closed" in repr(trace)


def test_readme_block_runs(capsys):
    """The Python block of README's "Training from memory" section, as written."""
    from conftest import REPO
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Training from memory"):]
    code = section[section.index("```python\n") + 10:]
    code = code[:code.index("```")]
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("held-out PSNR ") and out[-1] == "True"
