"""Why the detail fit alone scored trained decoders below plain SSIM (docs/METRICS.md).

    python3 scripts/colour_diagnosis.py   # writes out/colour-diagnosis/variants.png, terms.json

Reconstructions from the engine (python package), everything else numpy /
scipy / scikit-image. Decomposes SSIM into luminance, contrast, structure
terms for: plain, detail-LS fit (the definition before the change), raw-LS
fit, inverse detail fit; needs scipy and scikit-image besides the test
dependencies (pip install scipy scikit-image), and the built library.
"""
import os, sys, json
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter
from skimage.metrics import structural_similarity
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
os.environ.setdefault("RWCNN_LIBRARY", os.path.join(ROOT, ".build", "release", "librwcnn.so"))
import rwcnn


OUT = os.path.join(ROOT, "out", "colour-diagnosis")
R = 5

def photo(size=224):
    img = Image.open(os.path.join(ROOT, "data/images/astronaut.png")).convert("RGB").resize((size, size), Image.BICUBIC)
    return (np.asarray(img).astype(np.float32) / 255).transpose(2, 0, 1).copy()

def gf(p):
    return gaussian_filter(p, 1.5, truncate=3.5)

def terms(x, y):
    """mean over channels and interior of luminance, contrast, structure and ssim maps."""
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    out = []
    for a, b in zip(x.astype(np.float64), y.astype(np.float64)):
        ma, mb = gf(a), gf(b)
        va = gf(a * a) - ma * ma; vb = gf(b * b) - mb * mb; cab = gf(a * b) - ma * mb
        va = np.maximum(va, 0); vb = np.maximum(vb, 0)
        L = (2 * ma * mb + C1) / (ma * ma + mb * mb + C1)
        CS = (2 * cab + C2) / (va + vb + C2)
        Cc = (2 * np.sqrt(va * vb) + C2) / (va + vb + C2)
        S = L * CS
        s = (slice(R, -R), slice(R, -R))
        out.append([L[s].mean(), Cc[s].mean(), (CS / Cc)[s].mean(), S[s].mean()])
    return np.mean(out, axis=0)

def ssim(a, b):
    return structural_similarity(a.astype(np.float64), b.astype(np.float64), channel_axis=0, data_range=1,
                                 gaussian_weights=True, sigma=1.5, use_sample_covariance=False)

def detail(x):
    return np.stack([(p - gf(p))[R:-R, R:-R] for p in x.astype(np.float64)])

def apply(a, r, o):
    c = r.shape[0]
    r64 = r.reshape(c, -1).T.astype(np.float64); o64 = o.reshape(c, -1).T.astype(np.float64)
    b = o64.mean(0) - r64.mean(0) @ a
    return np.clip((r64 @ a + b).T.reshape(r.shape), 0, 1)

def fit_detail(r, o):
    c = r.shape[0]
    dr, do = detail(r).reshape(c, -1).T, detail(o).reshape(c, -1).T
    a, *_ = np.linalg.lstsq(dr, do, rcond=None)
    return a

def fit_detail_inverse(r, o):
    c = r.shape[0]
    dr, do = detail(r).reshape(c, -1).T, detail(o).reshape(c, -1).T
    m, *_ = np.linalg.lstsq(do, dr, rcond=None)   # dr ~ do @ m
    return np.linalg.inv(m)

def fit_raw(r, o):
    c = r.shape[0]
    r64 = r.reshape(c, -1).T.astype(np.float64); o64 = o.reshape(c, -1).T.astype(np.float64)
    rc, oc = r64 - r64.mean(0), o64 - o64.mean(0)
    a, *_ = np.linalg.lstsq(rc, oc, rcond=None)
    return a

def lowpass_gain(r, o, sigma=4.0):
    """per-channel gain of low vs high frequencies of r relative to o (regression of r on o)."""
    g = []
    for a, b in zip(r.astype(np.float64), o.astype(np.float64)):
        la, lb = gaussian_filter(a, sigma), gaussian_filter(b, sigma)
        ha, hb = a - la, b - lb
        la, lb = la - la.mean(), lb - lb.mean()
        g.append(((la * lb).sum() / (lb * lb).sum(), (ha * hb).sum() / (hb * hb).sum(),
                  np.corrcoef(ha.ravel(), hb.ravel())[0, 1]))
    return np.mean(g, axis=0)

def to_png(x):
    return Image.fromarray((np.clip(x, 0, 1).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))

def main():
    os.makedirs(OUT, exist_ok=True)
    x = photo()
    rows, result = [], {}
    cases = []
    for cut in ["pool1", "pool2", "pool3"]:
        with rwcnn.Model.load(os.path.join(ROOT, "data/decoders/vgg16_seed0_%s.safetensors" % cut)) as m:
            cases.append(("trained " + cut, np.clip(m.reconstruct(x), 0, 1)))
    for cut in ["pool1", "pool2"]:
        with rwcnn.Model(arch="vgg16", cut=cut, seed=0, decoder="tied") as m:
            cases.append(("tied " + cut, rwcnn.display_normalize(m.reconstruct(x))))
    for name, r in cases:
        variants = {"plain": r, "detail LS": apply(fit_detail(r, x), r, x),
                    "raw LS": apply(fit_raw(r, x), r, x), "inverse detail": apply(fit_detail_inverse(r, x), r, x)}
        row = {"gain low/high/corr-high": [round(float(v), 3) for v in lowpass_gain(r, x)],
               "detail LS diag": [round(float(v), 3) for v in np.diag(fit_detail(r, x))],
               "raw LS diag": [round(float(v), 3) for v in np.diag(fit_raw(r, x))]}
        for k, v in variants.items():
            t = terms(v, x)
            row[k] = {"ssim": round(float(ssim(v.astype(np.float32), x)), 4), "L": round(float(t[0]), 4),
                      "C": round(float(t[1]), 4), "S": round(float(t[2]), 4)}
        result[name] = row
        strip = Image.new("RGB", (4 * 228, 224), "white")
        for i, v in enumerate(variants.values()):
            strip.paste(to_png(v), (i * 228, 0))
        rows.append(strip)
    from PIL import ImageDraw
    top, left = 24, 110
    grid = Image.new("RGB", (left + 5 * 228, top + len(rows) * 228), "white")
    d = ImageDraw.Draw(grid)
    for j, label in enumerate(["original", "reconstruction", "detail LS fit (old)", "raw LS fit", "inverse detail fit"]):
        d.text((left + j * 228 + 4, 6), label, fill="black")
    for i, s in enumerate(rows):
        d.text((4, top + i * 228 + 100), cases[i][0], fill="black")
        grid.paste(to_png(x), (left, top + i * 228)); grid.paste(s, (left + 228, top + i * 228))
    grid.save(os.path.join(OUT, "variants.png"))
    print(json.dumps(result, indent=1))
    json.dump(result, open(os.path.join(OUT, "terms.json"), "w"), indent=1)

main()
