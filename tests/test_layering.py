"""The one-way seam of DESIGN.md section 2: ``models`` never imports Brian2 or ``cerebellum``.

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
