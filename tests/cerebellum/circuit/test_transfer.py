"""The granule layer's activation curve: closed form of the circuit's rule and spike estimate.

Oracles: the counter cell's definition (fires iff its window count exceeds theta), the
Bernoulli-count closed form of :mod:`models.soft_activation`, and the circuit's own spikes.
"""

from __future__ import annotations

import numpy as np
import pytest
from brian2 import ms

from cerebellum.circuit.transfer import closed_form_curve, count_threshold, measured_curve
from cerebellum.engines import Schedule, simulate
from cerebellum.params import GranuleLayerParams
from cerebellum.presets import poisson_dynamics, preset
from models.soft_activation import ActivationCurve, bernoulli_count_curve
from tests.cerebellum.helpers import wiring_from_child


def test_closed_form_of_each_rule(tiny_params):
    # Deterministic radius: the Hamming ball is h >= n - d; selected: all K inputs; top-k: none.
    curve = closed_form_curve(tiny_params)
    np.testing.assert_array_equal(
        curve.probabilities, ActivationCurve.hard_threshold(16, 4).probabilities
    )
    selected = tiny_params.replace(
        granule=GranuleLayerParams(
            n_dims=16, n_neurons=64, activation="selected-coordinate", n_inputs=3
        )
    )
    np.testing.assert_array_equal(closed_form_curve(selected).probabilities, [0, 0, 0, 1])
    top_k = tiny_params.replace(
        granule=GranuleLayerParams(n_dims=16, n_neurons=64, activation="top-k", top_k=5)
    )
    assert closed_form_curve(top_k) is None
    # Poisson: the Bernoulli-count curve with the counter's threshold (K_in = 20 steps).
    poisson = tiny_params.replace(dynamics=poisson_dynamics())
    theta = count_threshold(poisson.granule, poisson.dynamics)
    assert theta == pytest.approx((16 - 4 - 0.5) * 20 * 0.5 + (4 + 0.5) * 20 * 0.005)
    np.testing.assert_allclose(
        closed_form_curve(poisson).probabilities,
        bernoulli_count_curve(16, 20, 0.5, 0.005, theta).probabilities,
    )


def _measured(params, seed, n_queries):
    wiring_seed, data_seed, brian_seed, boot_seed = np.random.SeedSequence(seed).spawn(4)
    wiring = wiring_from_child(params, wiring_seed)
    rng = np.random.default_rng(data_seed)
    n = params.granule.n_dims
    addresses = rng.integers(0, 2, (4, n)).astype(np.uint8)
    queries = rng.integers(0, 2, (n_queries, n)).astype(np.uint8)
    schedule = Schedule.experiment(
        addresses, addresses.astype(float), [queries], pattern_channels=False
    )
    result = simulate(params, wiring, schedule, rng=np.random.default_rng(brian_seed))
    active = result.readouts[0].active_granule
    return measured_curve(wiring, queries, active, rng=np.random.default_rng(boot_seed))


@pytest.mark.brian
def test_deterministic_circuit_fires_exactly_on_its_closed_form(tiny_params):
    # Oracle: the algorithmic counter is the step 1[h >= n - d]: every observed h must be
    # exactly 0 or 1 and equal to it.
    curve = _measured(tiny_params, 5, 24)
    seen = curve.n_observations > 0
    expected = closed_form_curve(tiny_params).probabilities
    np.testing.assert_array_equal(curve.probabilities[seen], expected[seen])
    assert seen.sum() >= 8


@pytest.mark.brian
@pytest.mark.parametrize("seed", [11, 12])
def test_poisson_circuit_fires_with_the_bernoulli_closed_form(seed):
    # Oracle: the Bernoulli-count closed form (the counter integrates K_in = 20 Bernoulli
    # steps per fibre). Each of the ~16 observed h has a 95% interval that resamples queries
    # (widened to Clopper-Pearson, so at least 95% coverage); a correct closed form puts 4 or
    # more outside with probability < 1% (Bin(16, 0.05)). Measured on seeds 11-14: 0 outside
    # with 20 steps, 2-4 outside with an off-by-one count of 19 or 21 steps.
    params = preset("tiny", dynamics=poisson_dynamics(20 * ms))
    curve = _measured(params, seed, 48)
    expected = closed_form_curve(params).probabilities
    seen = curve.n_observations > 0
    inside = (expected >= curve.ci_low - 1e-12) & (expected <= curve.ci_high + 1e-12)
    outside = np.flatnonzero(seen & ~inside)
    assert outside.size <= 3, (outside, curve.probabilities, expected)
    # And the estimate is informative: near threshold the interval is narrower than 0.3.
    middle = seen & (expected > 0.2) & (expected < 0.8)
    assert middle.any() and np.all(curve.ci_high[middle] - curve.ci_low[middle] < 0.3)


def test_measured_curve_checks_shapes(tiny_wiring):
    queries = np.zeros((3, 16), dtype=np.uint8)
    with pytest.raises(ValueError, match="active_granule must have shape"):
        measured_curve(tiny_wiring, queries, np.zeros((3, 5), bool), rng=np.random.default_rng(0))
