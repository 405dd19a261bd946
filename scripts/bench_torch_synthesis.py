"""The image-synthesis rows of scripts/bench-torch on the PyTorch side: one
Adam step on the pixels of one size x size image, the loss that
`rwcnn benchmark`'s invert:/texture: rows time (BenchmarkSynthesis.swift),
written here from its definition with autograd on the input.

- invert: VGG16 (3x3 convs, ReLU, 2x2 max pools) up to LAYER, relative
  feature loss sum((F - T)^2) / sum(T^2) against the features of a fixed
  image, Adam (lr 0.05) on the pixels, clamp to [0, 1].
- texture: the same VGG16 with 2x2 average pools; at the first conv of
  every block up to LAYER's (and LAYER), the scaled Gram loss
  sum ||G - A||^2 / sum ||A||^2 with G = F F^T / (H W); Adam, clamp.

Used by bench_torch_worker.py (modes torch-invert and torch-texture).
"""
from bench_torch_worker import VGG16, layer_names, peak_rss_mb, setup_torch, summary, time_calls


def _layers(task, layer):
    names = layer_names()
    if layer not in names:
        raise SystemExit(f"unknown layer {layer!r}; one of {', '.join(names)}")
    last = names.index(layer)
    if task == "invert":
        return [layer], last
    picked = [n for n in names[:last + 1] if n.startswith("conv") and n.endswith("_1")]
    return picked + ([layer] if layer not in picked else []), last


def _encoder(torch, last, avg):
    """(modules, names): the VGG16 stack up to layer index `last`, He-normal weights."""
    import torch.nn as nn
    g = torch.Generator().manual_seed(0)
    mods, names, c = [], layer_names(), 3
    for i, v in enumerate(VGG16[:last + 1]):
        if v == "M":
            mods.append(nn.AvgPool2d(2, 2) if avg else nn.MaxPool2d(2, 2))
        else:
            conv = nn.Conv2d(c, v, 3, padding=1)
            with torch.no_grad():
                conv.weight.normal_(0, (2.0 / (c * 9)) ** 0.5, generator=g)
                conv.bias.zero_()
            mods.append(nn.Sequential(conv, nn.ReLU()))
            c = v
        mods[-1].requires_grad_(False)
    return mods, names[:last + 1]


def run(a, task):
    rss0 = peak_rss_mb()
    torch = setup_torch(a.threads)
    rss_import = peak_rss_mb()
    wanted, last = _layers(task, a.layer)
    mods, names = _encoder(torch, last, avg=task == "texture")

    def features(x):
        out = {}
        for m, n in zip(mods, names):
            x = m(x)
            if n in wanted:
                out[n] = x
        return out

    def gram(f):
        n, c, h, w = f.shape
        f = f.reshape(n, c, h * w)
        return f @ f.transpose(1, 2) / (h * w)

    gen = torch.Generator().manual_seed(7)
    source = torch.rand(1, 3, a.size, a.size, generator=gen)
    with torch.no_grad():
        t = features(source)
        targets = {n: (t[n] if task == "invert" else gram(t[n])) for n in wanted}
        energy = {n: (targets[n] ** 2).sum() for n in wanted}
    x = torch.rand(1, 3, a.size, a.size, generator=gen).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=0.05, betas=(0.9, 0.999), eps=1e-8)

    def step():
        f = features(x)
        loss = 0
        for n in wanted:
            v = f[n] if task == "invert" else gram(f[n])
            loss = loss + ((v - targets[n]) ** 2).sum() / energy[n]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    rss_setup = peak_rss_mb()
    times, cost = time_calls(step, a.warmup, a.reps, a.min_time)
    flops = 0.0
    c, h = 3, a.size
    for v in VGG16[:last + 1]:
        if v == "M":
            h //= 2
        else:
            flops += 2 * c * v * 9 * h * h
            c = v
    return dict(bench=f"{task}_step", layer=a.layer, layers=wanted, size=a.size, batch=1,
                arch="vgg16" if task == "invert" else "vgg16-avg", optimizer="adam", gflop=2 * flops / 1e9,
                **summary(times), **cost, rss_start_mb=round(rss0, 1), rss_import_mb=round(rss_import, 1),
                rss_setup_mb=round(rss_setup, 1))
