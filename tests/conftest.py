"""Fixtures shared by every test folder (the helpers that parametrisation needs as plain
functions are in ``tests/helpers.py``; the cerebellum's fixtures in ``tests/cerebellum``)."""

from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (README.md, notebooks/, the packages)."""
    return REPO_ROOT
