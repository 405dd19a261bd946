"""One measurement of scripts/bench-torch, in a fresh process (so its peak RSS
is its own). Prints one JSON object on stdout. Not part of the test suite:
it needs torch (the PyTorch side) or the rwcnn Python binding (quality).

    python bench_torch_worker.py torch-forward --cut pool5 --size 224 --batch 8 --layout nhwc
    python bench_torch_worker.py torch-train   --cut pool1 --size 64 --batch 16 --layout nchw
    python bench_torch_worker.py torch-sgemm   --n 2048
    python bench_torch_worker.py torch-quality --cut pool1 --steps 500 --split DIR
    python bench_torch_worker.py rwcnn-quality --cut pool1 --steps 500 --split DIR

The networks are written here from the paper's definition (the same work as
../shared/bench/rwnet.py, not its code): VGG16's 3x3 convs (pad 1, bias,
ReLU) and 2x2 max pools up to the cut; the decoder mirrors them with 3x3
transposed convs (ReLU after all but the last, which outputs 3 channels) and
2x nearest-neighbour unpooling. Weights are He-normal on the true fan-in,
std sqrt(2 / (input channels x 9)) for both kinds, biases zero.

Timing protocol (the same as rwcnn benchmark and the reference harness):
2 warm-up calls, then at least --reps timed calls and at least --min-time
seconds (at most 2000), the median; quartiles as statistics.quantiles(n=4).
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def layer_names():
    names, block, conv = [], 1, 0
    for v in VGG16:
        if v == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 0
        else:
            conv += 1
            names.append(f"conv{block}_{conv}")
    return names


def encoder_spec(cut):
    """[(kind, cin, cout)] up to and including `cut`; kind 'conv' or 'pool'."""
    names = layer_names()
    if cut not in names:
        sys.exit(f"unknown cut {cut!r}; one of {', '.join(names)}")
    spec, c = [], 3
    for name, v in zip(names, VGG16):
        spec.append(("pool", c, c) if v == "M" else ("conv", c, v))
        if v != "M":
            c = v
        if name == cut:
            return spec


def conv_flops(cut, size):
    """2 x multiply-adds of the encoder's convs for one size x size image."""
    s, total = size, 0
    for kind, ci, co in encoder_spec(cut):
        if kind == "pool":
            s //= 2
        else:
            total += 2 * ci * co * 9 * s * s
    return total


def train_flops(cut, size):
    """4 x encoder convs - the deepest conv (its input needs no gradient), per image."""
    s, last = size, 0
    for kind, ci, co in encoder_spec(cut):
        if kind == "pool":
            s //= 2
        else:
            last = 2 * ci * co * 9 * s * s
    return 4 * conv_flops(cut, size) - last


def build(cut):
    """(encoder, decoder) as torch modules with He-normal weights and zero biases."""
    import torch
    from torch import nn
    spec = encoder_spec(cut)
    enc = []
    for kind, ci, co in spec:
        enc += [nn.MaxPool2d(2, 2)] if kind == "pool" else [nn.Conv2d(ci, co, 3, padding=1), nn.ReLU(inplace=True)]
    dec, convs_left = [], sum(k == "conv" for k, _, _ in spec)
    for kind, ci, co in reversed(spec):
        if kind == "pool":
            dec.append(nn.Upsample(scale_factor=2, mode="nearest"))
        else:
            dec.append(nn.ConvTranspose2d(co, ci, 3, padding=1))
            convs_left -= 1
            if convs_left > 0:
                dec.append(nn.ReLU(inplace=True))
    encoder, decoder = nn.Sequential(*enc), nn.Sequential(*dec)
    torch.manual_seed(0)
    with torch.no_grad():
        for m in list(encoder) + list(decoder):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                # Conv2d weight is (out, in, k, k); ConvTranspose2d (in, out, k, k).
                cin = m.weight.shape[0] if isinstance(m, nn.ConvTranspose2d) else m.weight.shape[1]
                m.weight.normal_(0.0, (2.0 / (cin * 9)) ** 0.5)
                m.bias.zero_()
    return encoder.eval(), decoder


# ------------------------------------------------------------ measurement


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


class Cost:
    """CPU split and switches of this process, and foreign CPU, over an interval."""

    def __init__(self):
        self.r0, self.m0, self.w0 = resource.getrusage(resource.RUSAGE_SELF), self.machine(), time.perf_counter()

    @staticmethod
    def machine():
        try:
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
            hz = os.sysconf("SC_CLK_TCK")
            return (v[0] + v[1] + v[2] + v[5] + v[6]) / hz, (v[7] / hz if len(v) > 7 else 0.0)
        except OSError:
            return float("nan"), float("nan")

    def fields(self):
        r1, m1 = resource.getrusage(resource.RUSAGE_SELF), self.machine()
        user, sys_ = r1.ru_utime - self.r0.ru_utime, r1.ru_stime - self.r0.ru_stime
        return dict(cpu_user_s=round(user, 3), cpu_sys_s=round(sys_, 3),
                    sys_share=round(sys_ / (user + sys_), 4) if user + sys_ > 0 else 0.0,
                    ctx_voluntary=r1.ru_nvcsw - self.r0.ru_nvcsw, ctx_involuntary=r1.ru_nivcsw - self.r0.ru_nivcsw,
                    minor_faults=r1.ru_minflt - self.r0.ru_minflt,
                    foreign_cpu_s=round(max(0.0, (m1[0] - self.m0[0]) - (user + sys_)), 2),
                    steal_s=round(m1[1] - self.m0[1], 2), watched_s=round(time.perf_counter() - self.w0, 2))


def time_calls(fn, warmup, reps, min_time, max_reps=2000):
    for _ in range(warmup):
        fn()
    times, cost = [], Cost()
    while len(times) < max_reps and (len(times) < reps or sum(times) < min_time):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times, cost.fields()


def summary(times):
    q = statistics.quantiles(times, n=4) if len(times) >= 2 else [times[0]] * 3
    return dict(s_median=statistics.median(times), s_min=min(times), s_q1=q[0], s_q3=q[2], reps=len(times),
                s_timed=sum(times))


def setup_torch(threads):
    import torch
    torch.set_num_threads(threads)
    return torch


# ------------------------------------------------------------- the work


def torch_forward(a):
    rss0 = peak_rss_mb()
    torch = setup_torch(a.threads)
    rss_import = peak_rss_mb()
    enc, _ = build(a.cut)
    x = torch.rand(a.batch, 3, a.size, a.size, generator=torch.Generator().manual_seed(7))
    if a.layout == "nhwc":
        enc, x = enc.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)

    def call():
        with torch.no_grad():
            enc(x)
    rss_setup = peak_rss_mb()
    times, cost = time_calls(call, a.warmup, a.reps, a.min_time)
    gflop = conv_flops(a.cut, a.size) * a.batch / 1e9
    return dict(bench="forward", cut=a.cut, size=a.size, batch=a.batch, gflop=gflop, **summary(times), **cost,
                rss_start_mb=round(rss0, 1), rss_import_mb=round(rss_import, 1), rss_setup_mb=round(rss_setup, 1))


def torch_train(a):
    rss0 = peak_rss_mb()
    torch = setup_torch(a.threads)
    import torch.nn.functional as F
    rss_import = peak_rss_mb()
    enc, dec = build(a.cut)
    x = torch.rand(a.batch, 3, a.size, a.size, generator=torch.Generator().manual_seed(7))
    if a.layout == "nhwc":
        fmt = torch.channels_last
        enc, dec, x = enc.to(memory_format=fmt), dec.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    opt = torch.optim.Adam(dec.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def step():
        with torch.no_grad():
            f = enc(x)
        loss = F.mse_loss(dec(f), x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    rss_setup = peak_rss_mb()
    times, cost = time_calls(step, a.warmup, a.reps, a.min_time)
    gflop = train_flops(a.cut, a.size) * a.batch / 1e9
    return dict(bench="train_step", cut=a.cut, size=a.size, batch=a.batch, unpool="nearest", optimizer="adam",
                lr=1e-3, gflop=gflop, **summary(times), **cost,
                rss_start_mb=round(rss0, 1), rss_import_mb=round(rss_import, 1), rss_setup_mb=round(rss_setup, 1))


def torch_sgemm(a):
    torch = setup_torch(a.threads)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(a.n, a.n, generator=g), torch.rand(a.n, a.n, generator=g)
    z = torch.empty(a.n, a.n)
    times, cost = time_calls(lambda: torch.mm(x, y, out=z), 2, 10, 0.0, max_reps=10)
    return dict(bench="sgemm", n=a.n, gflop=2 * a.n ** 3 / 1e9, **summary(times), **cost)


# -------------------------------------------------------- time to quality


def load_rgb(path):
    import numpy as np
    from PIL import Image
    with Image.open(path) as im:
        if im.mode in ("RGBA", "LA"):   # composite on black, as rwcnn does
            bg = Image.new("RGBA", im.size, (0, 0, 0, 255))
            im = Image.alpha_composite(bg, im.convert("RGBA"))
        return np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0


def psnr_mean(y, x):
    """Mean over images of PSNR (peak 1) of y clamped to [0, 1] against x."""
    import numpy as np
    y = np.clip(y.astype(np.float64), 0.0, 1.0)
    mse = ((y - x.astype(np.float64)) ** 2).reshape(len(x), -1).mean(axis=1)
    return float(np.mean(10 * np.log10(1.0 / np.maximum(mse, 1e-30))))


def quality_inputs(split):
    import numpy as np
    crops = np.load(os.path.join(split, "eval_crops.npy"))
    train = sorted(os.path.join(split, "train", f) for f in os.listdir(os.path.join(split, "train")))
    return crops, train


def torch_quality(a):
    import numpy as np
    torch = setup_torch(a.threads)
    import torch.nn.functional as F
    crops, train_files = quality_inputs(a.split)
    enc, dec = build(a.cut)
    opt = torch.optim.Adam(dec.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    ct = torch.from_numpy(crops)

    def reconstruct():
        with torch.no_grad():
            return torch.cat([dec(enc(ct[i:i + 32])) for i in range(0, len(ct), 32)]).numpy()
    psnr0 = psnr_mean(reconstruct(), crops)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    images = [load_rgb(f) for f in train_files]
    cost, losses = Cost(), []
    t1 = t0
    for _ in range(a.steps):
        batch = np.empty((16, 64, 64, 3), np.float32)
        for k in range(16):   # uniform image, uniform position, flip with p = 1/2
            im = images[rng.integers(len(images))]
            top, left = rng.integers(im.shape[0] - 63), rng.integers(im.shape[1] - 63)
            c = im[top:top + 64, left:left + 64]
            batch[k] = c[:, ::-1] if rng.random() < 0.5 else c
        xb = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
        with torch.no_grad():
            f = enc(xb)
        loss = F.mse_loss(dec(f), xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if len(losses) == 1:
            t1 = time.perf_counter()
    seconds = time.perf_counter() - t0
    fields = cost.fields()
    return dict(bench="quality", cut=a.cut, steps=a.steps, batch=16, crop=64, seconds=seconds,
                seconds_after_first_step=t0 + seconds - t1,
                psnr_before=psnr0, psnr=psnr_mean(reconstruct(), crops), eval_crops=len(crops),
                train_images=len(images), final_loss=float(np.mean(losses[-50:])), **fields)


def rwcnn_quality(a):
    import numpy as np
    import rwcnn
    rwcnn.set_threads(a.threads)
    crops, train_files = quality_inputs(a.split)
    m = rwcnn.Model(arch="vgg16", cut=a.cut, seed=0, unpool="nearest", decoder="trained")

    def reconstruct():
        return np.concatenate([m.reconstruct(crops[i:i + 32]) for i in range(0, len(crops), 32)])
    psnr0 = psnr_mean(reconstruct(), crops)
    stamps, losses = [], []

    def cb(e):
        if e.kind == "step":
            stamps.append(time.perf_counter())
            losses.append(e.loss)
        return False
    cost = Cost()
    t0 = time.perf_counter()
    r = m.train(data=os.path.join(a.split, "train"), eval=os.path.join(a.split, "eval"), steps=a.steps, batch=16,
                crop=64, lr=1e-3, betas=(0.9, 0.999), epsilon=1e-8, optimizer="adam", flip=True, seed=0,
                eval_every=0, checkpoint_every=0, progress=False, callback=cb)
    fields = cost.fields()
    return dict(bench="quality", cut=a.cut, steps=a.steps, batch=16, crop=64, seconds=stamps[-1] - t0,
                seconds_after_first_step=stamps[-1] - stamps[0],
                psnr_before=psnr0, psnr=psnr_mean(reconstruct(), crops), eval_crops=len(crops),
                train_images=r.train_images, final_loss=float(np.mean(losses[-50:])),
                library_eval_psnr=r.eval_psnr, rwcnn=rwcnn.version(), **fields)


def synthesis_run(a, task):
    from bench_torch_synthesis import run
    return run(a, task)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["torch-forward", "torch-train", "torch-sgemm", "torch-quality", "rwcnn-quality",
                                    "torch-invert", "torch-texture"])
    p.add_argument("--layer", default="conv4_1", help="invert/texture: the (deepest) loss layer")
    p.add_argument("--cut", default="pool1")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw")
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--min-time", type=float, default=3.0)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--split", help="quality: folder with train/, eval/ and eval_crops.npy")
    a = p.parse_args()
    fn = {"torch-forward": torch_forward, "torch-train": torch_train, "torch-sgemm": torch_sgemm,
          "torch-quality": torch_quality, "rwcnn-quality": rwcnn_quality,
          # image synthesis (issue 10): scripts/bench_torch_synthesis.py
          "torch-invert": lambda a: synthesis_run(a, "invert"),
          "torch-texture": lambda a: synthesis_run(a, "texture")}[a.mode]
    rec = fn(a)
    side = "rwcnn" if a.mode.startswith("rwcnn") else "torch"
    rec.update(side=side, threads=a.threads, rss_peak_mb=round(peak_rss_mb(), 1))
    if side == "torch":
        import torch
        rec.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
        if rec["bench"] != "quality":
            rec["layout"] = a.layout if rec["bench"] != "sgemm" else "-"
    if "s_median" in rec:
        rec["gflops"] = rec["gflop"] / rec["s_median"]
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
