"""`rwcnn sweep` from Python: a grid of settings, one run per combination.

    import rwcnn
    lines = rwcnn.sweep("examples/sweep_grid.json", index=5, out="out/sweep", resume=True)
    print(lines[0]["metrics"]["psnr"])

Runs the `rwcnn` command-line tool (see rwcnn.study.cli_path), which owns
the grid's meaning (`rwcnn sweep --help` lists the settings); each run's
JSON line comes back as a dict. With `out`, each run keeps its decoder,
its line and (while it trains) a checkpoint there, and `resume=True`
skips finished runs and continues interrupted ones exactly.
"""

import json
import os
import subprocess
import tempfile
from typing import Any, Dict, List, Optional, Union

from .errors import ArgumentError
from .study import cli_path

__all__ = ["sweep", "sweep_count"]

Grid = Union[str, "os.PathLike[str]", Dict[str, Any]]


def _call(grid: Grid, args: List[str], quiet: bool) -> str:
    path = None
    try:
        if isinstance(grid, dict):
            fd, path = tempfile.mkstemp(prefix="rwcnn-grid-", suffix=".json")
            with os.fdopen(fd, "w") as f:
                json.dump(grid, f)
            file = path
        elif isinstance(grid, (str, os.PathLike)):
            file = os.fspath(grid)
        else:
            raise ArgumentError("grid must be a grid file's path or a dict, got %s" % type(grid).__name__)
        proc = subprocess.run([cli_path(), "sweep", file] + args, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL if quiet else subprocess.PIPE, text=True)
    finally:
        if path is not None:
            os.unlink(path)
    if proc.returncode != 0:
        message = (proc.stderr or "").strip().splitlines()
        errors = [m for m in message if m.startswith("Error:")]
        raise ArgumentError((errors or message or ["rwcnn sweep failed"])[-1].replace("Error: ", "", 1))
    return proc.stdout


def sweep_count(grid: Grid) -> int:
    """The number of runs of `grid` (a grid file, or the same as a dict)."""
    return int(_call(grid, ["--count"], quiet=False).strip())


def sweep(grid: Grid, index: Optional[int] = None, out: Optional[Union[str, "os.PathLike[str]"]] = None,
          resume: bool = False, threads: Optional[int] = None, list_only: bool = False) -> List[Dict[str, Any]]:
    """Runs run `index` of `grid` (0-based), or every run one after the
    other, and returns their JSON lines as dicts (index, settings, metrics,
    final_loss, seconds, ...). `grid` is a grid file's path or the same
    object as a dict. `out`: a folder for each run's decoder, line and
    checkpoint; `resume` (needs `out`) skips finished runs and continues
    interrupted ones from their checkpoints. `list_only`: the runs'
    settings without running them. Bad grids and settings raise
    ArgumentError with the tool's message."""
    args: List[str] = []
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ArgumentError("index must be an integer, got %r" % (index,))
        args += ["--index", str(index)]
    if out is not None:
        args += ["--out", os.fspath(out)]
    if resume:
        if out is None:
            raise ArgumentError("resume needs out (the folder of the runs' results and checkpoints)")
        args.append("--resume")
    if threads is not None:
        args += ["--threads", str(int(threads))]
    if list_only:
        args.append("--list")
    text = _call(grid, args, quiet=False)
    return [json.loads(line) for line in text.splitlines() if line.strip()]
