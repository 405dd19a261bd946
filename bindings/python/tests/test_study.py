"""`rwcnn study` and `rwcnn report` end to end (through rwcnn.study /
rwcnn.report and the CLI): every study in --quick mode writes well-formed JSON
lines and a report that headless Chromium shows with every figure loaded and
no console error (screenshots kept in out/test-report/); an interrupted study
resumes without redoing finished runs and writes the same lines; bad input
fails with a clear message."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

import rwcnn
from conftest import IMAGES, REPO

import headless_chromium

CLI = os.environ.get("RWCNN_CLI", os.path.join(REPO, ".build", "release", "rwcnn-cli"))
SHOTS = os.path.join(REPO, "out", "test-report")
METRICS = ("psnr", "ssim", "colour_ssim", "fitted_psnr_channel", "fitted_psnr_matrix",
           "cross_ssim", "cross_colour_ssim", "cross_fitted_psnr_matrix", "images")

pytestmark = pytest.mark.skipif(not os.access(CLI, os.X_OK), reason="rwcnn-cli not built")


@pytest.fixture(autouse=True)
def _cli(monkeypatch, lib):
    monkeypatch.setenv("RWCNN_CLI", CLI)


def read_lines(path):
    with open(path) as f:
        text = f.read()
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def check_record(r, study):
    assert r["study"] == study and r["rwcnn"] == rwcnn.version()
    assert isinstance(r["run"], str) and r["method"] in ("trained", "random", "tied", "bicubic", "theory")
    assert isinstance(r["seconds"], (int, float)) and r["seconds"] >= 0
    assert r["protocol"]["quick"] is True and r["command"].startswith("rwcnn study " + study)
    assert isinstance(r["config"], dict) and isinstance(r["seed"], int)
    m = r["metrics"]
    if r["method"] == "theory":
        assert 0 < m["cosine"] <= 1 and 0 < m["predicted"] < 1
        return
    assert set(METRICS) <= set(m)
    for k in METRICS:
        v = m[k]
        # PSNR of an identical image (bicubic at full resolution) is recorded as null.
        assert v is None if (k.endswith("psnr") or "psnr_" in k) and v is None else isinstance(v, (int, float)), (k, v)
    assert -1 <= m["ssim"] <= 1 and -1 <= m["colour_ssim"] <= 1
    assert os.path.exists(os.path.join(os.path.dirname(r["_file"]), r["image"]))


def check_report(page, name):
    shot = os.path.join(SHOTS, name + ".png")
    os.makedirs(SHOTS, exist_ok=True)
    seen = headless_chromium.inspect_page(page, shot)
    assert seen["errors"] == []
    assert seen["images"] and all(i["ok"] for i in seen["images"]), seen["images"]
    assert seen["svgs"] and all(s["ok"] for s in seen["svgs"])
    assert os.path.getsize(shot) > 10000


@pytest.mark.skipif(headless_chromium.chromium_path() is None, reason="chromium not installed (scripts/setup)")
@pytest.mark.parametrize("study", rwcnn.study.__globals__["STUDIES"])
def test_quick_study_writes_lines_and_a_report_chromium_shows(study, tmp_path):
    out = tmp_path / study
    records = rwcnn.study(study, quick=True, out=str(out), quiet=True)
    lines = read_lines(out / (study + ".jsonl"))
    assert lines == records and len(lines) >= 6
    assert len({r["run"] for r in lines}) == len(lines)
    for r in lines:
        r["_file"] = str(out / (study + ".jsonl"))
        check_record(r, study)
    if study == "distributions":
        per_init = {}
        for r in lines:
            per_init.setdefault((r["x"], r["method"]), set()).add(r["seed"])
        assert len(per_init) == 10 and all(len(s) >= 3 for s in per_init.values())
    if study == "layers":
        assert {r["method"] for r in lines} == {"trained", "random", "bicubic"}
    page = rwcnn.report([str(out)], output=str(tmp_path / "report"))
    check_report(page, study)
    if study in ("random", "tied"):
        # The structure kept beyond the cross-image baseline, plotted and tabled.
        text = open(page).read()
        assert "Structure kept beyond the cross-image baseline" in text and "<th>kept</th>" in text
        r = next(r for r in lines if r["method"] != "theory")
        m = r["metrics"]
        kept = (m["colour_ssim"] - m["cross_colour_ssim"]) / (1 - m["cross_colour_ssim"])
        cells = [float(c) for c in re.findall(r"<td>(-?\d+\.\d{3})</td>", text)]
        assert any(abs(c - kept) <= 0.0006 for c in cells), kept


def _run_cli(*args):
    return subprocess.run([CLI] + list(args), capture_output=True, text=True)


def test_killed_study_resumes_without_redoing_runs(tmp_path):
    args = ["study", "unpool", "--quick", "--threads", "1"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert _run_cli(*args, "--out", str(whole)).returncode == 0

    proc = subprocess.Popen([CLI] + args + ["--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = cut / "unpool.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and results.read_text().count("\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # halfway, without warning
    proc.wait()
    before = results.read_bytes()
    finished = before.count(b"\n")
    assert 1 <= finished < 6, "the study was not interrupted halfway"

    again = _run_cli(*args, "--out", str(cut))
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("recorded, skipped") == finished
    after = results.read_bytes()
    assert after.startswith(before), "finished runs are kept as they were, not redone"

    def strip(lines):
        return [{k: v for k, v in r.items() if k not in ("seconds", "command")} for r in lines]
    assert strip(read_lines(results)) == strip(read_lines(whole / "unpool.jsonl"))
    assert not (cut / "checkpoints").exists(), "checkpoints are removed once their runs are recorded"


def test_bad_input_gives_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run_cli("study", "random", "--quick", "--data", str(empty), "--out", str(tmp_path / "o1"))
    assert r.returncode != 0 and "has no PNG or JPEG files" in r.stderr, r.stderr

    small = tmp_path / "small"
    small.mkdir()
    import numpy as np
    for i in range(3):
        rwcnn.save_image(str(small / ("%d.png" % i)), np.full((3, 20, 20), 0.1 * i, np.float32))
    r = _run_cli("study", "layers", "--quick", "--data", str(small), "--short-side", "0", "--out", str(tmp_path / "o2"))
    assert r.returncode != 0 and "no image in" in r.stderr and "32x32" in r.stderr, r.stderr
    r = _run_cli("study", "layers", "--quick", "--crop", "16", "--out", str(tmp_path / "o3"))
    assert r.returncode != 0 and "too small for" in r.stderr, r.stderr

    r = _run_cli("study", "colours", "--quick")
    assert r.returncode != 0 and "unknown study" in r.stderr and "distributions" in r.stderr, r.stderr
    with pytest.raises(rwcnn.ArgumentError, match="unknown study"):
        rwcnn.study("colours")
    with pytest.raises(rwcnn.ArgumentError, match="has no PNG or JPEG files"):
        rwcnn.study("random", quick=True, data=str(empty), out=str(tmp_path / "o4"), quiet=True)
    r = _run_cli("report", str(empty), "-o", str(tmp_path / "rep"))
    assert r.returncode != 0 and "no .jsonl results" in r.stderr, r.stderr
