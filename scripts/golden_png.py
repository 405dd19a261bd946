#!/usr/bin/env python3
"""Golden decodes of the bundled photos for Tests/RWCNNTests/PNGTests.swift.

    pip install pillow
    python3 scripts/golden_png.py

Pillow decodes each data/images/*.png to its stored samples (no colour
management, like rwcnn); for each file this prints the size, the channel
count, the sum of all samples and three pixels (first, middle, last), which
the Swift test compares with `PNG.read`.
"""

import glob
import os

import numpy as np
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}

for path in sorted(glob.glob(os.path.join(ROOT, "data", "images", "*.png"))):
    img = Image.open(path)
    a = np.asarray(img).reshape(img.height, img.width, CHANNELS[img.mode]).astype(np.int64)
    h, w = img.height, img.width
    pixels = [(0, 0), (h // 2, w // 2), (h - 1, w - 1)]
    print('("%s", %d, %d, %d, %d, [%s]),' % (
        os.path.basename(path), w, h, CHANNELS[img.mode], int(a.sum()),
        ", ".join("[%d, %d, [%s]]" % (y, x, ", ".join(str(v) for v in a[y, x])) for y, x in pixels)))
