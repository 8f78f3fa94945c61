"""Plain helper functions shared by the test files (functions, not fixtures: parametrised tests
and the child interpreters of some tests call them with their own seeds).

Only numpy and torch here; the helpers that need :mod:`cerebellum` (and so Brian2) live in
``tests/cerebellum/helpers.py``.
"""

from pathlib import Path

import numpy as np
import torch

#: The repository root (``tests/`` is one level below it).
REPO_ROOT = Path(__file__).resolve().parents[1]


def torch_generator(child: np.random.SeedSequence) -> torch.Generator:
    """A torch generator seeded by one child of a SeedSequence (the project's seeding rule)."""
    return torch.Generator().manual_seed(int(child.generate_state(1)[0]))


def seeded_generator(seed: int) -> torch.Generator:
    """Torch generator from one integer via SeedSequence: the first child of ``seed``."""
    return torch_generator(np.random.SeedSequence(seed).spawn(1)[0])
