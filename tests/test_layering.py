"""The one-way seam of DESIGN.md section 2: ``models`` never imports Brian2 or ``cerebellum``.

Oracle: the contents of ``sys.modules`` in a fresh interpreter after importing every ``models``
module (a fresh subprocess, so nothing imported by other tests can hide a violation).
"""

import pkgutil
import subprocess
import sys

import models


def test_models_does_not_import_brian2_or_cerebellum():
    names = sorted(
        f"models.{info.name}" for info in pkgutil.iter_modules(models.__path__) if not info.ispkg
    )
    assert {"models.theory", "models.sdm", "models.attention"} <= set(names)
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "leaks = sorted(m for m in sys.modules if m.split('.')[0] in ('brian2', 'cerebellum'))\n"
        "print(','.join(leaks))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == "", f"models imported: {completed.stdout.strip()}"
