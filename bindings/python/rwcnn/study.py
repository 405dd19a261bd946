"""The paper's studies and their report, from Python.

    import rwcnn
    records = rwcnn.study("layers", quick=True, out="out/studies/layers")
    rwcnn.report(["out/studies/layers"], output="out/report")   # out/report/index.html

Both run the `rwcnn` command-line tool (the studies drive training loops,
checkpoints and resumption that live in the engine's CLI), found as
$RWCNN_CLI, next to the loaded librwcnn (a build tree's rwcnn-cli), or as
`rwcnn` / `rwcnn-cli` on PATH. `study` returns the recorded runs (one dict
per JSON line); see `rwcnn study --help` for the studies and settings.
"""

import json
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional, Sequence, Union

from . import _lib
from .errors import ArgumentError, Error

__all__ = ["study", "report", "cli_path", "STUDIES"]

STUDIES = ("layers", "distributions", "random", "tied", "width", "shape", "unpool")


def cli_path() -> str:
    """The rwcnn command-line tool this module runs."""
    env = os.environ.get("RWCNN_CLI")
    if env:
        return env
    try:
        sibling = os.path.join(os.path.dirname(_lib.library_path()), "rwcnn-cli")
        if os.access(sibling, os.X_OK):
            return sibling
    except Exception:  # no library found: fall through to PATH
        pass
    for name in ("rwcnn", "rwcnn-cli"):
        found = shutil.which(name)
        if found:
            return found
    raise Error("cannot find the rwcnn command-line tool; set RWCNN_CLI or put rwcnn on PATH")


def _run(args: List[str], quiet: bool) -> "subprocess.CompletedProcess[str]":
    proc = subprocess.run([cli_path()] + args, stdout=subprocess.DEVNULL if quiet else None,
                          stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()
        raise ArgumentError(message[-1] if message else "rwcnn %s failed" % args[0])
    return proc


def study(name: str, data: Optional[str] = None, eval_data: Optional[str] = None, quick: bool = False,
          steps: Optional[int] = None, seeds: Optional[Sequence[int]] = None, out: Optional[str] = None,
          crop: Optional[int] = None, short_side: Optional[int] = None, batch: Optional[int] = None,
          threads: Optional[int] = None, quiet: bool = False) -> List[Dict[str, Any]]:
    """Runs (or resumes) study `name` (one of STUDIES, or "all") and returns
    its records, one dict per run. Progress goes to the terminal unless
    `quiet`. `eval_data` is a held-out folder (default: a seeded split of
    `data`). Bad input raises ArgumentError with the tool's message."""
    if name != "all" and name not in STUDIES:
        raise ArgumentError("unknown study %r; choose one of %s or all" % (name, ", ".join(STUDIES)))
    args = ["study", name]
    for flag, value in (("--data", data), ("--eval-data", eval_data), ("--steps", steps), ("--out", out), ("--crop", crop),
                        ("--short-side", short_side), ("--batch", batch), ("--threads", threads)):
        if value is not None:
            args += [flag, str(value)]
    if seeds is not None:
        args += ["--seeds"] + [str(int(s)) for s in seeds]
    if quick:
        args.append("--quick")
    _run(args, quiet)
    names = STUDIES if name == "all" else (name,)
    base = out or "out/studies"
    records: List[Dict[str, Any]] = []
    for n in names:
        folder = os.path.join(base, n) if (name == "all" or out is None) else out
        with open(os.path.join(folder, n + ".jsonl")) as f:
            records += [json.loads(line) for line in f if line.strip()]
    return records


def report(results: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
           output: Union[str, "os.PathLike[str]"] = "report") -> str:
    """Writes output/index.html from study results (.jsonl files or folders)
    and returns its path."""
    paths = [results] if isinstance(results, (str, os.PathLike)) else list(results)
    _run(["report"] + [os.fspath(r) for r in paths] + ["-o", os.fspath(output)], quiet=True)
    return os.path.join(os.fspath(output), "index.html")
