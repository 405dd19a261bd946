"""A torchvision-named VGG16 file, written with numpy and the `safetensors`
package, loads into the encoder; its features equal a numpy computation."""

import numpy as np
import pytest

import rwcnn
from test_model import conv_same, max_pool

pytestmark = pytest.mark.usefixtures("lib")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
# torchvision's vgg16.features indices of the convs up to pool2.
CONVS = [("conv1_1", 0, 3, 64), ("conv1_2", 2, 64, 64), ("conv2_1", 5, 64, 128), ("conv2_2", 7, 128, 128)]


def torchvision_file(path, rng):
    tensors = {}
    for _, index, cin, cout in CONVS:
        tensors["features.%d.weight" % index] = (rng.standard_normal((cout, cin, 3, 3)) * np.sqrt(2 / (9 * cin))).astype(np.float32)
        tensors["features.%d.bias" % index] = (0.1 * rng.standard_normal(cout)).astype(np.float32)
    # Layers past the cut are ignored.
    tensors["features.10.weight"] = np.zeros((256, 128, 3, 3), np.float32)
    safetensors_numpy.save_file(tensors, str(path))
    return tensors


def test_torchvision_names_load_and_features_match_numpy(tmp_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "vgg16_features.safetensors"
    tensors = torchvision_file(path, rng)
    image = rng.random((3, 20, 18)).astype(np.float32)

    with rwcnn.Model(arch="vgg16", cut="pool2", normalize_input=True) as m:
        m.load_torchvision(path)
        got = m.encode(image)

    x = (image.astype(np.float64) - MEAN[:, None, None]) / STD[:, None, None]
    for name, index, _, _ in CONVS:
        x = np.maximum(conv_same(x, tensors["features.%d.weight" % index].astype(np.float64),
                                 tensors["features.%d.bias" % index].astype(np.float64)), 0)
        if name.endswith("_2"):
            x = max_pool(x, 2, 2)
    got = np.asarray(got).reshape(x.shape)
    assert np.max(np.abs(got - x)) <= 1e-4 * np.max(np.abs(x))


def test_mismatched_torchvision_file_names_the_tensor(tmp_path):
    rng = np.random.default_rng(8)
    path = tmp_path / "bad.safetensors"
    tensors = torchvision_file(path, rng)
    tensors["features.2.weight"] = np.zeros((64, 32, 3, 3), np.float32)       # wrong shape
    safetensors_numpy.save_file(tensors, str(path))
    with rwcnn.Model(arch="vgg16", cut="pool2", normalize_input=True) as m:
        with pytest.raises(rwcnn.FormatError, match="features.2.weight"):
            m.load_torchvision(path)
    del tensors["features.5.bias"]
    tensors["features.2.weight"] = np.zeros((64, 64, 3, 3), np.float32)
    safetensors_numpy.save_file(tensors, str(path))
    with rwcnn.Model(arch="vgg16", cut="pool2", normalize_input=True) as m:
        with pytest.raises(rwcnn.FormatError, match="features.5.bias"):
            m.load_torchvision(path)
