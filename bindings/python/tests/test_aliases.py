"""Layer aliases: every convention's name builds the same model, and
Model.layer_aliases lists them (torchvision indices from its VGG16/VGG19
`features` Sequential)."""

import numpy as np
import pytest

import rwcnn

pytestmark = pytest.mark.usefixtures("lib")

TABLE = [  # (arch, rwcnn name, other names)
    ("vgg16", "conv1_1", ["relu1_1", "block1_conv1", "features.1", "features.0"]),
    ("vgg16", "pool2", ["block2_pool", "features.9"]),
    ("vgg16", "conv4_2", ["relu4_2", "block4_conv2", "features.20", "features.19"]),
    ("vgg16", "pool5", ["block5_pool", "features.30"]),
    ("vgg19", "conv4_2", ["relu4_2", "block4_conv2", "features.22", "features.21"]),
    ("vgg19", "pool3", ["block3_pool", "features.18"]),
]


@pytest.mark.parametrize("arch,name,aliases", TABLE)
def test_aliases_build_the_same_model(arch, name, aliases):
    image = np.random.default_rng(0).random((3, 32, 32), dtype=np.float32)
    with rwcnn.Model(arch=arch, cut=name, width=0.0625, seed=3) as plain:
        assert plain.layer_aliases[name] == aliases
        want = plain.encode(image)
        for alias in aliases:
            with rwcnn.Model(arch=arch, cut=alias, width=0.0625, seed=3) as m:
                assert m.cut == name
                np.testing.assert_array_equal(m.encode(image), want)


def test_unknown_name_lists_every_convention():
    with pytest.raises(rwcnn.ArgumentError) as e:
        rwcnn.Model(cut="relu6_1")
    text = str(e.value)
    assert "conv1_1, conv1_2, pool1" in text
    assert "conv4_2 = relu4_2 = block4_conv2 = features.20 = features.19" in text
