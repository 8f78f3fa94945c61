"""Fixtures of the cerebellum's tests: the tiny presets and a tiny wiring (the seeded helpers
that parametrised tests call are in ``helpers.py``).

Imports happen inside the fixtures: collecting this folder must not import Brian2 for the test
files that never use it (the CLI's theory command, the run directories).
"""

import pytest


@pytest.fixture
def tiny_params():
    """The ``tiny`` preset (algorithmic; n = 16, r = 256)."""
    from cerebellum.presets import preset

    return preset("tiny")


@pytest.fixture
def biophysical_tiny_params():
    """The ``biophysical-tiny`` preset (n = 16, r = 2000, 4 selected inputs)."""
    from cerebellum.presets import preset

    return preset("biophysical-tiny")


@pytest.fixture
def tiny_wiring(tiny_params):
    """The tiny preset's wiring from ``torch.Generator().manual_seed(0)``."""
    from tests.cerebellum.helpers import wiring_from_manual_seed

    return wiring_from_manual_seed(tiny_params, 0)
