"""Pickling a Model (Ray, multiprocessing, joblib): the unpickled model
reconstructs bit-identically, and its pickle holds no encoder weights while
the seed redraws them."""

import os
import pickle

import numpy as np
import pytest

import rwcnn

from conftest import IMAGES

pytestmark = pytest.mark.usefixtures("lib")
SMALL = dict(arch="vgg16", cut="pool2", width=0.25, seed=11)


def image():
    return rwcnn.load_image(os.path.join(IMAGES, "astronaut.png"))[:, 100:164, 200:264]


@pytest.mark.parametrize("decoder", ["random", "tied"])
def test_seeded_models_pickle_as_their_config(decoder):
    with rwcnn.Model(decoder=decoder, **SMALL) as m:
        data = pickle.dumps(m)
        assert len(data) < 1000  # the config only: every weight is redrawn
        back = pickle.loads(data)
        assert back.config == m.config
        np.testing.assert_array_equal(back.reconstruct(image()), m.reconstruct(image()))


def test_trained_decoder_pickles_without_the_encoder(tmp_path):
    with rwcnn.Model(decoder="trained", **SMALL) as m:
        m.train(IMAGES, steps=3, batch=2, crop=32, eval_every=0, checkpoint_every=0, progress=False)
        data = pickle.dumps(m)
        back = pickle.loads(data)
        assert back.config == m.config
        np.testing.assert_array_equal(back.reconstruct(image()), m.reconstruct(image()))
        m.save(tmp_path / "full.safetensors")
        full = os.path.getsize(tmp_path / "full.safetensors")
        # Encoder and decoder to pool2 have the same weight count: the pickle
        # is about half the full file (the decoder's weights, metadata).
        assert len(data) < 0.55 * full, (len(data), full)
        assert b'"encoder.' not in m.to_bytes() and b'"decoder.' in m.to_bytes()


def test_pretrained_encoder_travels_with_its_weights(tmp_path):
    with rwcnn.Model(decoder="tied", **SMALL) as m:
        with rwcnn.Model(decoder="tied", **dict(SMALL, seed=12)) as other:
            other.save(tmp_path / "other.safetensors")
        # Weights set by hand (a file of another seed) are not the seed's draw.
        loaded = rwcnn.Model.load(tmp_path / "other.safetensors")
        back = pickle.loads(pickle.dumps(loaded))
        np.testing.assert_array_equal(back.reconstruct(image()), loaded.reconstruct(image()))
        assert not np.array_equal(back.reconstruct(image()), m.reconstruct(image()))


def test_to_bytes_round_trip_and_bad_bytes():
    with rwcnn.Model(decoder="random", **SMALL) as m:
        data = m.to_bytes()
        back = rwcnn.Model.from_bytes(data)
        np.testing.assert_array_equal(back.reconstruct(image()), m.reconstruct(image()))
        with pytest.raises(rwcnn.FormatError):
            rwcnn.Model.from_bytes(data[:len(data) // 2])
        with pytest.raises(rwcnn.FormatError):
            rwcnn.Model.from_bytes(b"")


def test_train_options_dataclass_and_deprecated_eval(tmp_path):
    opts = rwcnn.TrainOptions(steps=2, batch=2, crop=16, eval_every=0, checkpoint_every=0)
    with rwcnn.Model(decoder="trained", **SMALL) as m:
        r = m.train(IMAGES, options=opts, progress=False)
        assert r.steps_done == 2
        r = m.train(IMAGES, options=opts, steps=1, progress=False)  # keywords win
        assert r.steps_done == 1
        with pytest.warns(DeprecationWarning):
            r = m.train(IMAGES, eval=IMAGES, options=opts, progress=False)
        assert r.eval_images == len([f for f in os.listdir(IMAGES) if f.endswith(".png")])
        with pytest.raises(rwcnn.ArgumentError):
            m.train(IMAGES, options={"steps": 2})
        with pytest.raises(TypeError):
            m.train(IMAGES, stepz=2)
