"""Plain helper functions shared by the cerebellum's test files: wiring and data drawn from the
seeds each test names (the tiny presets themselves are fixtures in ``conftest.py``)."""

import numpy as np
import torch

from cerebellum.wiring import Wiring, sample_wiring
from tests.helpers import torch_generator


def wiring_from_child(params, child: np.random.SeedSequence) -> Wiring:
    """``params``'s granule wiring drawn by the torch generator of one SeedSequence child."""
    return sample_wiring(params.granule, generator=torch_generator(child))


def wiring_from_manual_seed(params, seed: int) -> Wiring:
    """``params``'s granule wiring drawn by ``torch.Generator().manual_seed(seed)``."""
    return sample_wiring(params.granule, generator=torch.Generator().manual_seed(seed))


def noisy_patterns(rng, n_patterns, n_queries, n_dims, n_values, flip):
    """Binary addresses and values, and queries: stored addresses drawn at random with each bit
    flipped with probability ``flip`` (drawn from ``rng`` in this order)."""
    addresses = rng.integers(0, 2, (n_patterns, n_dims)).astype(np.uint8)
    values = rng.integers(0, 2, (n_patterns, n_values)).astype(np.float64)
    noise = (rng.random((n_queries, n_dims)) < flip).astype(np.uint8)
    queries = addresses[rng.integers(0, n_patterns, n_queries)] ^ noise
    return addresses, values, queries
