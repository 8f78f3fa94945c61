"""The biophysical circuit's random synapses come from the run's seed sequence.

Oracle: numpy's SeedSequence semantics -- a child spawned from a generator's seed sequence is
fixed by that sequence alone and spawning draws nothing from the generator -- checked on the
synapses of built (not run) ``biophysical-tiny`` circuits.
"""

from __future__ import annotations

import numpy as np
import pytest

from cerebellum.circuit import build_circuit
from cerebellum.presets import preset
from tests.cerebellum.helpers import wiring_from_manual_seed


@pytest.fixture(scope="module")
def wiring():
    params = preset("biophysical-tiny")
    return params, wiring_from_manual_seed(params, 0)


def _random_synapses(params, wiring, rng) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    circuit = build_circuit(params, wiring, n_values=2, n_pattern_channels=2, rng=rng)
    return {
        name: (np.asarray(circuit.groups[name].i[:]), np.asarray(circuit.groups[name].j[:]))
        for name in ("granule_golgi", "granule_mli", "mli_purkinje", "purkinje_dcn")
    }


def test_same_run_seed_same_synapses_other_seed_other_synapses(wiring):
    params, wired = wiring
    first = _random_synapses(params, wired, np.random.default_rng(7))
    again = _random_synapses(params, wired, np.random.default_rng(7))
    other = _random_synapses(params, wired, np.random.default_rng(8))
    for name in first:
        assert np.array_equal(first[name][0], again[name][0]), name
        assert np.array_equal(first[name][1], again[name][1]), name
    # One wiring, another run seed: the random interneuron wiring differs (the sum of the
    # wiring's coordinates no longer fixes it).
    assert not np.array_equal(first["mli_purkinje"][0], other["mli_purkinje"][0])


def test_building_spawns_without_drawing_from_the_run_stream(wiring):
    params, wired = wiring
    rng = np.random.default_rng(11)
    twin = np.random.default_rng(11)
    build_circuit(params, wired, n_values=2, n_pattern_channels=0, rng=rng)
    twin.integers(0, 2**31 - 1)  # the Brian2 seed, the build's one draw
    assert rng.integers(0, 2**32) == twin.integers(0, 2**32)
