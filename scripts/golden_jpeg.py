#!/usr/bin/env python3
"""JPEG fixtures for the Swift and C tests, with Pillow's decodes of them.

    pip install pillow numpy
    python3 scripts/golden_jpeg.py

Writes Tests/RWCNNTests/Data/jpeg/<name>.jpg, made by Pillow from odd-sized
crops of the bundled photos (baseline 4:2:0 and 4:4:4, progressive, gray,
restart markers), and <name>.pillow.png, Pillow's decode of each JPEG stored
losslessly. The Swift test decodes the .jpg with rwcnn and compares it with
the .png. The Python tests make their own files with Pillow at test time.
"""

import os

from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "RWCNNTests", "Data", "jpeg")

astronaut = Image.open(os.path.join(ROOT, "data", "images", "astronaut.png")).convert("RGB")
camera = Image.open(os.path.join(ROOT, "data", "images", "camera.png")).convert("L")
colour = astronaut.crop((150, 60, 150 + 67, 60 + 45))
gray = camera.crop((200, 100, 200 + 53, 100 + 39))

FILES = {
    "baseline420": (colour, dict(quality=85, subsampling=2)),
    "baseline444": (colour, dict(quality=92, subsampling=0)),
    "progressive": (colour, dict(quality=80, subsampling=2, progressive=True)),
    "gray": (gray, dict(quality=90)),
    "restarts": (colour, dict(quality=75, subsampling=1, restart_marker_blocks=1)),
}

os.makedirs(OUT, exist_ok=True)
for name, (image, options) in FILES.items():
    path = os.path.join(OUT, name + ".jpg")
    image.save(path, "JPEG", **options)
    Image.open(path).save(os.path.join(OUT, name + ".pillow.png"))
    print(name, Image.open(path).mode, Image.open(path).size)
