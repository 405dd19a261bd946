"""Smoke test of `rwcnn benchmark` (ctest cli_benchmark_json): it runs, every
configuration emits one well-formed JSON object with the promised fields, the
temporary training images are removed and bad ids fail cleanly. No timing
assertions: the figures depend on the machine and its load.

    python3 tests/cli/check_benchmark_json.py .build/release/rwcnn-cli
"""
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

cli = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="rwcnn-benchmark-test-")  # TMPDIR of the tool: its noise images go here


def run(*args):
    env = dict(os.environ, TMPDIR=tmp)
    return subprocess.run([cli, "benchmark", *args], capture_output=True, text=True, timeout=1200, env=env)


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


p = run("--quick", "--json", "--threads", "2")
check(p.returncode == 0, f"--quick --json exit status {p.returncode}: {p.stderr[-2000:]}")
lines = [l for l in p.stdout.splitlines() if l.strip()]
recs = [json.loads(l) for l in lines]  # raises on malformed JSON
check([r["id"] for r in recs] == ["sgemm:512", "forward:conv1_2:64:1", "train:pool1:64:4"],
      f"ids {[r.get('id') for r in recs]}")
for r in recs:
    for k in ("s_median", "s_min", "s_q1", "s_q3", "gflop", "gflops", "rss_peak_mb", "cpu_user_s", "cpu_sys_s",
              "sys_share", "foreign_cpu_s", "watched_s"):
        check(isinstance(r.get(k), (int, float)) and math.isfinite(r[k]) and r[k] >= 0, f"{r['id']}: {k} = {r.get(k)}")
    # The summary against Python's statistics module on the raw times.
    t = r["s_all"]
    check(len(t) == r["reps"] and all(v > 0 for v in t), f"{r['id']}: raw times {t}")
    q = statistics.quantiles(t, n=4)
    for k, v in (("s_median", statistics.median(t)), ("s_min", min(t)), ("s_q1", q[0]), ("s_q3", q[2])):
        check(math.isclose(r[k], v, rel_tol=1e-12), f"{r['id']}: {k} {r[k]} != {v}")
    check(r["s_median"] > 0 and r["rss_peak_mb"] > 0, f"{r['id']}: zero median or RSS")
    check(0 <= r["sys_share"] <= 1, f"{r['id']}: sys_share {r['sys_share']}")
    check(r["threads"] == 2 and r["warmup"] == 1, f"{r['id']}: threads/warmup {r['threads']} {r['warmup']}")
    # sgemm always times 10 calls; the others the --quick count
    check(r["reps"] == (10 if r["bench"] == "sgemm" else 3), f"{r['id']}: reps {r['reps']}")
fwd, train = recs[1], recs[2]
check(fwd["bench"] == "forward" and fwd["cut"] == "conv1_2" and fwd["size"] == 64 and fwd["batch"] == 1, "forward record")
# 2 x (3*64*9 + 64*64*9) multiply-adds per pixel of a 64x64 image
check(abs(fwd["gflop"] - 2 * (3 * 64 * 9 + 64 * 64 * 9) * 64 * 64 / 1e9) < 1e-9, f"forward gflop {fwd['gflop']}")
check(train["bench"] == "train_step" and train["batch"] == 4 and train["unpool"] == "nearest", "train record")
check(os.listdir(tmp) == [], f"temporary image folder left behind: {os.listdir(tmp)}")

# One configuration runs in this process; the table mode prints a header and a row.
p = run("--only", "forward:conv1_2:32:2", "--warmup", "0", "--reps", "2", "--min-time", "0", "--threads", "1")
check(p.returncode == 0 and "forward conv1_2, 32x32, batch 2" in p.stdout, f"table mode: {p.stdout} {p.stderr}")

p = run("--list")
check(p.returncode == 0 and "train:pool4:64:16" in p.stdout and "forward:pool5:224:8" in p.stdout, "--list")

for bad in (["--only", "train:nope"], ["--only", "forward:pool1:0:1"], ["--only", "bogus"], ["--reps", "0"]):
    p = run(*bad, "--json")
    check(p.returncode != 0 and p.stderr.strip() and not p.stdout.strip(), f"{bad}: status {p.returncode}, out {p.stdout!r}")
os.rmdir(tmp)
print("ok")
