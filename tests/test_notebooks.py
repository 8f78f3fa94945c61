"""Every notebook runs top to bottom in smoke mode, so none can rot (docs/design.md section 4).

Each notebook under ``notebooks/`` is a jupytext percent script; it is executed as a plain Python
script in a fresh interpreter with ``CEREBELLAR_SDM_SMOKE=1`` (small sizes) and the Agg backend.
Oracle: the notebooks' own assertions of their key claims -- each names its oracle (exact
integers, brute force, the other engine, sampling-theory bounds or published values) -- so a
silent regression of a claim makes the script exit non-zero, and this test prints its output.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
# Notebooks that simulate the Brian2 circuit (numpy code target, no compilation).
USES_BRIAN = {
    "03_granule_layer.py",
    "04_write_and_read.py",
    "05_cerebellum_vs_attention.py",
    "06_autoassociative_recall.py",
}
# Wall-clock guard for one notebook in smoke mode (they take ~5-30 s each on 2 shared cores).
TIMEOUT_S = 300


def _marks(path: Path):
    marks = [pytest.mark.notebooks]
    if path.name in USES_BRIAN:
        marks.append(pytest.mark.brian)
    return marks


def test_all_six_notebooks_are_present():
    # Oracle: the list of notebooks in issue 6 (01 to 06).
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=_marks(p)) for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(path: Path, tmp_path: Path):
    env = dict(os.environ, CEREBELLAR_SDM_SMOKE="1", MPLBACKEND="Agg")
    completed = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,  # a notebook must not depend on the working directory or write into it
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert completed.returncode == 0, (
        f"{path.name} failed (exit {completed.returncode})\n"
        f"--- stdout (tail) ---\n{completed.stdout[-4000:]}\n"
        f"--- stderr (tail) ---\n{completed.stderr[-4000:]}"
    )
