"""A Ray Tune sweep over rwcnn decoders: cut x width x distribution x seed.

    pip install "ray[tune]"            # or: pip install ./bindings/python[ray]
    python examples/ray_tune_sweep.py  # the bundled photos, 2 CPUs, a small grid
    python examples/ray_tune_sweep.py --steps 400 --cuts pool1 pool2 pool3 --widths 0.5 1

Each trial trains one decoder of a random VGG16 on the photos and reports
the held-out PSNR and SSIM from rwcnn's progress callback (every
--eval-every steps). Ray runs the trials on a local instance with
`ray.init(num_cpus=N)`; each trial asks for one CPU and gives rwcnn exactly
its share through `rwcnn.set_threads`, so trials never fight for the cores.

Early stop goes through rwcnn's cancel: the callback returns True once the
PSNR has not improved for --patience evaluations, and when Tune's ASHA
scheduler stops a trial, the exception its `tune.report` raises inside the
callback also cancels training cleanly (rwcnn re-raises it after the
library has stopped). Run from the repository root, or set RWCNN_LIBRARY.
"""

import argparse
import os
import sys
from typing import Any, Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))  # the source tree's package


def trial(config: Dict[str, Any]) -> None:
    """One Tune trial: train, report PSNR/SSIM at each evaluation, stop early by cancel."""
    import ray
    from ray import tune

    import rwcnn

    report = getattr(tune, "report", None) or ray.train.report   # tune.report from Ray 2.41 on
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    rwcnn.set_threads(max(1, int(cpus)))          # this trial's share of the cores, BLAS included
    best = {"psnr": float("-inf"), "stale": 0}

    def on_progress(event: "rwcnn.TrainProgress") -> bool:
        if event.kind != "eval":
            return False
        report({"psnr": event.eval_psnr, "ssim": event.eval_ssim, "step": event.step,
                     "threads": rwcnn.get_threads()})   # raises when Tune stops the trial: cancels
        if event.eval_psnr > best["psnr"] + 0.01:
            best["psnr"], best["stale"] = event.eval_psnr, 0
        else:
            best["stale"] += 1
        return best["stale"] >= config["patience"]    # True: rwcnn cancels the run

    with rwcnn.Model(arch="vgg16", cut=config["cut"], width=config["width"],
                     distribution=config["distribution"],
                     seed=config["seed"], decoder="trained") as model:
        try:
            model.train(data=config["data"], steps=config["steps"], batch=config["batch"],
                        crop=config["crop"], short_side=config["short_side"], eval_fraction=0.3,
                        eval_every=config["eval_every"], checkpoint_every=0, progress=False,
                        callback=on_progress)
        except rwcnn.CancelledError:
            pass                                      # our own early stop: the reports stand


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.path.join(REPO, "data", "images"))
    p.add_argument("--cuts", nargs="+", default=["pool1", "pool2"])
    p.add_argument("--widths", nargs="+", type=float, default=[0.125, 0.25])
    p.add_argument("--distributions", "--inits", dest="distributions", nargs="+", default=["normal", "uniform"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--crop", type=int, default=32)
    p.add_argument("--short-side", type=int, default=64)
    p.add_argument("--eval-every", type=int, default=10)
    p.add_argument("--patience", type=int, default=3)
    p.add_argument("--cpus", type=int, default=2, help="ray.init(num_cpus=...)")
    p.add_argument("--storage", default="out/ray", help="Tune's result folder")
    p.add_argument("--asha", action="store_true", help="also stop trials early with Tune's ASHA scheduler")
    args = p.parse_args(argv)

    import ray
    from ray import tune

    # Trials run in worker processes: hand them this package and its library.
    env = {"PYTHONPATH": os.pathsep.join([os.path.join(REPO, "bindings", "python")]
                                         + [q for q in os.environ.get("PYTHONPATH", "").split(os.pathsep) if q])}
    for name in ("RWCNN_LIBRARY", "RWCNN_DEV"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if "RWCNN_LIBRARY" not in env and "RWCNN_DEV" not in env:
        env["RWCNN_DEV"] = "1"                        # the checkout's own build (.build/release)
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": env})
    space = {
        "cut": tune.grid_search(args.cuts), "width": tune.grid_search(args.widths),
        "distribution": tune.grid_search(args.distributions), "seed": tune.grid_search(args.seeds),
        "data": os.path.abspath(args.data), "steps": args.steps, "batch": args.batch, "crop": args.crop,
        "short_side": args.short_side, "eval_every": args.eval_every, "patience": args.patience,
    }
    scheduler = None
    if args.asha:
        from ray.tune.schedulers import ASHAScheduler
        scheduler = ASHAScheduler(time_attr="step", grace_period=args.eval_every, reduction_factor=2,
                                  max_t=args.steps)
    run_config = getattr(tune, "RunConfig", None) or ray.train.RunConfig   # tune.RunConfig from Ray 2.41 on
    tuner = tune.Tuner(
        tune.with_resources(trial, {"cpu": 1}),
        param_space=space,
        tune_config=tune.TuneConfig(metric="psnr", mode="max", scheduler=scheduler),
        run_config=run_config(name="rwcnn_sweep", storage_path=os.path.abspath(args.storage), verbose=0),
    )
    results = tuner.fit()
    rows = []
    for r in results:
        c, m = r.config, r.metrics or {}
        rows.append((c["cut"], c["width"], c["distribution"], c["seed"], m.get("step"), m.get("psnr"),
                     m.get("ssim"), m.get("threads"), r.error is not None))
    print("| cut | width | distribution | seed | last step | PSNR | SSIM | threads | error |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in sorted(rows, key=lambda t: (t[0], t[1], t[2], t[3])):
        psnr = "%.2f" % row[5] if row[5] is not None else "-"
        ssim = "%.4f" % row[6] if row[6] is not None else "-"
        print("| %s | %g | %s | %d | %s | %s | %s | %s | %s |" % (row[0], row[1], row[2], row[3], row[4],
                                                                 psnr, ssim, row[7], row[8]))
    best = results.get_best_result()
    print("best: %s  PSNR %.2f  SSIM %.4f" % ({k: best.config[k] for k in ("cut", "width", "distribution", "seed")},
                                             best.metrics["psnr"], best.metrics["ssim"]))
    ray.shutdown()
    return 1 if any(row[8] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
