"""Models: shapes, layers, config, features of custom stacks against an
independent numpy implementation, the tied decoder as an adjoint, files,
lifetime."""

import threading

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import rwcnn
from conftest import read_safetensors

pytestmark = pytest.mark.usefixtures("lib")
RNG = np.random.default_rng(99)

VGG16_LAYERS = ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2",
                "conv3_1", "conv3_2", "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3",
                "pool4", "conv5_1", "conv5_2", "conv5_3", "pool5"]


# ---- an independent reference (float64 numpy) -----------------------------------

def conv_same(x, w, b):
    """Cross-correlation, stride 1, zero padding k//2: x [C,H,W], w [O,C,k,k]."""
    k = w.shape[-1]
    p = k // 2
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    win = sliding_window_view(xp, (k, k), axis=(1, 2))      # [C, H, W, k, k]
    return np.einsum("chwij,ocij->ohw", win, w) + b[:, None, None]


def conv_transpose_same(f, w):
    """The adjoint of conv_same (no bias): f [O,H,W], w [O,C,k,k] -> [C,H,W]."""
    k = w.shape[-1]
    p = k // 2
    fp = np.pad(f, ((0, 0), (p, p), (p, p)))
    win = sliding_window_view(fp, (k, k), axis=(1, 2))      # [O, H, W, k, k]
    return np.einsum("ohwij,ocij->chw", win, w[:, :, ::-1, ::-1])


def max_pool(x, k, s):
    win = sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s]
    return win.max(axis=(3, 4))


def reference_features(spec, cut, weights, x):
    """Runs the spec's layers up to `cut` with the file's encoder weights."""
    block, conv_in_block = 1, 0
    x = x.astype(np.float64)
    for token in spec.split(","):
        token = token.strip()
        if token[0] in "Mm":
            rest = token[1:]
            if not rest:
                k = s = 2
            elif "s" in rest:
                k, s = (int(v) for v in rest.split("s"))
            else:
                k = s = int(rest)
            name = "pool%d" % block
            x = max_pool(x, k, s)
            block, conv_in_block = block + 1, 0
        else:
            conv_in_block += 1
            name = "conv%d_%d" % (block, conv_in_block)
            w = weights["encoder.%s.weight" % name].astype(np.float64)
            b = weights["encoder.%s.bias" % name].astype(np.float64)
            x = np.maximum(conv_same(x, w, b), 0)
        if name == cut:
            return x
    raise AssertionError("cut %s not in %s" % (cut, spec))


# ---- tests ---------------------------------------------------------------------------

def test_vgg16_pool5_shapes():
    with rwcnn.Model(arch="vgg16", cut="pool5") as m:
        assert m.feature_shape(224, 224) == (512, 7, 7)
        assert m.layers == VGG16_LAYERS
        shapes = dict(m.layer_shapes(224, 224))
        assert shapes["conv1_1"] == (64, 224, 224)
        assert shapes["pool2"] == (128, 56, 56)
        assert shapes["pool5"] == (512, 7, 7)
        x = RNG.random((3, 64, 64)).astype(np.float32)
        f = m.encode(x)
        assert f.shape == m.feature_shape(64, 64) == (512, 2, 2)
        assert f.dtype == np.float32


def test_vgg19_layers():
    with rwcnn.Model(arch="vgg19", cut="conv1_1") as m:
        assert len(m.layers) == 21 and "conv5_4" in m.layers


@pytest.mark.parametrize("arch,cut,size", [
    ("8,M,16", "conv2_1", (23, 29)),
    ("8,M,16", "pool1", (16, 16)),
    ("6k5,M3s2,4k1", "conv2_1", (21, 18)),
    ("4 4 M 5", "conv2_1", (15, 11)),
])
def test_feature_shape_equals_encode_output(arch, cut, size):
    with rwcnn.Model(arch=arch, cut=cut, seed=3) as m:
        x = RNG.random((2, 3) + size).astype(np.float32)
        f = m.encode(x)
        assert f.shape == (2,) + m.feature_shape(*size)
        assert m.encode(x[0]).shape == m.feature_shape(*size)


@pytest.mark.parametrize("arch,cut,width,kernel_size", [
    ("8,M,16", "conv2_1", 1.0, None),
    ("8,M,16", "conv2_1", 0.5, None),
    ("6k5,M3s2,4k1", "conv2_1", 1.0, None),
    ("4,4,M,6", "conv2_1", 1.0, 5),
    ("5,M", "pool1", 1.0, None),
])
def test_custom_arch_features_match_numpy(tmp_path, arch, cut, width, kernel_size):
    with rwcnn.Model(arch=arch, cut=cut, width=width, kernel_size=kernel_size, seed=11,
                     distribution="uniform") as m:
        path = tmp_path / "model.safetensors"
        m.save(path)
        meta, weights = read_safetensors(path)
        assert meta["arch"] == arch and meta["cut"] == cut
        if kernel_size:
            spec = ",".join(t if t.strip()[0] in "Mm" else "%sk%d" % (t.split("k")[0], kernel_size)
                            for t in arch.split(","))
        else:
            spec = arch
        if width != 1.0:
            spec = ",".join(t if t.strip()[0] in "Mm" else str(max(1, int(round(int(t) * width))))
                            for t in spec.split(","))
        x = RNG.random((2, 3, 19, 22)).astype(np.float32)
        got = m.encode(x)
        for i in range(2):
            want = reference_features(spec, cut, weights, x[i])
            assert got[i].shape == want.shape
            np.testing.assert_allclose(got[i], want, rtol=1e-4, atol=1e-5)


def test_weight_draws_have_the_he_scale(tmp_path):
    with rwcnn.Model(arch="64,M,128", cut="conv2_1", seed=5) as m:
        m.save(tmp_path / "m.safetensors")
    _, w = read_safetensors(tmp_path / "m.safetensors")
    v = w["encoder.conv2_1.weight"]
    assert v.shape == (128, 64, 3, 3)
    assert abs(v.mean()) < 0.01
    assert v.std() == pytest.approx(np.sqrt(2 / (64 * 9)), rel=0.05)
    assert not np.any(w["encoder.conv2_1.bias"])


def test_same_seed_same_weights_other_seed_differs():
    x = RNG.random((3, 16, 16)).astype(np.float32)
    with rwcnn.Model(arch="8,M,16", cut="conv2_1", seed=7) as a, \
            rwcnn.Model(arch="8,M,16", cut="conv2_1", seed=7) as b, \
            rwcnn.Model(arch="8,M,16", cut="conv2_1", seed=8) as c:
        np.testing.assert_array_equal(a.encode(x), b.encode(x))
        assert not np.array_equal(a.encode(x), c.encode(x))


def test_tied_decoder_is_the_adjoint(tmp_path):
    with rwcnn.Model(arch="6k3", cut="conv1_1", decoder="tied", seed=2) as m:
        m.save(tmp_path / "tied.safetensors")
        _, w = read_safetensors(tmp_path / "tied.safetensors")
        f = RNG.normal(size=(6, 9, 10)).astype(np.float32)
        assert m.decoded_shape(9, 10) == (3, 9, 10)
        got = m.decode(f)
        want = conv_transpose_same(f.astype(np.float64), w["encoder.conv1_1.weight"]
                                   .astype(np.float64))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        # and the adjoint identity <conv(x), f> = <x, conv^T(f)>
        x = RNG.normal(size=(3, 9, 10))
        lhs = np.sum(conv_same(x, w["encoder.conv1_1.weight"].astype(np.float64),
                               np.zeros(6)) * f)
        assert lhs == pytest.approx(np.sum(x * got), rel=1e-4)


def test_decode_and_reconstruct_shapes():
    x = RNG.random((2, 3, 20, 24)).astype(np.float32)
    with rwcnn.Model(arch="8,M,16,M", cut="pool2", unpool="nearest") as m:
        f = m.encode(x)
        assert f.shape == (2, 16, 5, 6)
        d = m.decode(f)
        assert d.shape == (2,) + m.decoded_shape(5, 6) == (2, 3, 20, 24)
        assert m.decode(f[0]).shape == (3, 20, 24)
    with rwcnn.Model(arch="8,M,16,M", cut="pool2") as m:   # switches
        r = m.reconstruct(x)
        assert r.shape == x.shape and r.dtype == np.float32
        assert m.reconstruct(x[1]).shape == (3, 20, 24)
        np.testing.assert_allclose(m.reconstruct(x[1]), r[1], rtol=1e-5, atol=1e-6)
        with pytest.raises(rwcnn.ArgumentError):
            m.decode(m.encode(x))                       # switches are needed


def test_uint8_hwc_input_equals_float_chw():
    u8 = RNG.integers(0, 256, size=(18, 20, 3), dtype=np.uint8)
    chw = (u8.transpose(2, 0, 1) / 255.0).astype(np.float32)
    with rwcnn.Model(arch="8,M", cut="pool1") as m:
        np.testing.assert_array_equal(m.encode(u8), m.encode(chw))
        np.testing.assert_array_equal(m.encode(np.stack([u8, u8]))[1], m.encode(chw))


def test_tied_reconstruction_keeps_structure(photos):
    img = rwcnn.load_image(photos[0])[:, :96, :96]
    with rwcnn.Model(cut="conv1_2", decoder="tied") as m:
        out = rwcnn.display_normalize(m.reconstruct(img))
    assert rwcnn.colour_ssim(out, img) > 0.5


def test_config_round_trip_and_repr():
    kwargs = dict(arch="8,M,16k5", cut="conv2_1", width=2.0, kernel_size=None, distribution="laplace",
                  scale="fixed", std=0.05, mean=0.01, seed=2 ** 64 - 1, unpool="zeros",
                  decoder="tied", normalize_input=True)
    with rwcnn.Model(**kwargs) as m:
        c = m.config
        for k, v in kwargs.items():
            assert c[k] == v, k
        assert m.cut == "conv2_1" and m.arch == "8,M,16k5"
        assert "laplace" in repr(m)
    with rwcnn.Model(kernel_size=5, cut="conv1_1") as m:
        assert m.config["kernel_size"] == 5
        assert m.config["scale"] == "he" and m.config["decoder"] == "random"
        assert m.config["std"] is None
        x = RNG.random((3, 32, 32)).astype(np.float32)
        with rwcnn.Model(**m.config) as again:
            np.testing.assert_array_equal(again.encode(x), m.encode(x))


def test_save_load_equality(tmp_path):
    x = RNG.random((3, 24, 24)).astype(np.float32)
    with rwcnn.Model(arch="8,M,16,M", cut="pool2", seed=21, distribution="logistic",
                     scale="glorot") as m:
        path = tmp_path / "model.safetensors"
        m.save(path)
        want_f, want_r, want_cfg = m.encode(x), m.reconstruct(x), m.config
    with rwcnn.Model.load(str(path)) as m2:
        assert m2.config == want_cfg
        np.testing.assert_array_equal(m2.encode(x), want_f)
        np.testing.assert_array_equal(m2.reconstruct(x), want_r)
        m2.save(tmp_path / "again.safetensors")
    _, a = read_safetensors(path)
    _, b = read_safetensors(tmp_path / "again.safetensors")
    assert sorted(a) == sorted(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_close_is_idempotent_and_guards_use():
    m = rwcnn.Model(arch="4", cut="conv1_1")
    assert not m.closed
    m.close()
    m.close()
    assert m.closed
    assert "closed" in repr(m)
    with pytest.raises(rwcnn.ArgumentError, match="closed"):
        m.encode(np.zeros((3, 4, 4), np.float32))
    with rwcnn.Model(arch="4", cut="conv1_1") as m2:
        pass
    assert m2.closed
    del m, m2


def test_concurrent_encode_on_one_model():
    x = RNG.random((3, 40, 40)).astype(np.float32)
    with rwcnn.Model(arch="16,M,32", cut="conv2_1") as m:
        want = m.encode(x)
        results, errors = [], []

        def work():
            try:
                for _ in range(5):
                    results.append(m.encode(x))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(results) == 20
        for r in results:
            np.testing.assert_array_equal(r, want)


def test_threads_setting():
    old = rwcnn.get_threads()
    assert old >= 1
    try:
        rwcnn.set_threads(1)
        assert rwcnn.get_threads() == 1
    finally:
        rwcnn.set_threads(old)
    assert isinstance(rwcnn.version(), str)
    assert rwcnn.library_path()
