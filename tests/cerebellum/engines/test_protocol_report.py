"""Progress inside a simulation (Brian2's ``report`` callback) and the mossy fibres in the raster.

The ``tiny`` preset's algorithmic circuit (n = 16, r = 256), runtime device.
"""

import numpy as np
import pytest
import torch

from cerebellum.circuit import build_circuit
from cerebellum.engines.algorithmic import Protocol, run_report_options
from cerebellum.presets import preset
from tests.cerebellum.helpers import wiring_from_manual_seed

pytestmark = pytest.mark.brian

N_PATTERNS = 4


def _protocol(**options):
    params = preset("tiny")
    wiring = wiring_from_manual_seed(params, 7)
    rng = np.random.default_rng(7)
    circuit = build_circuit(
        params, wiring, n_values=params.granule.n_dims, n_pattern_channels=N_PATTERNS, rng=rng
    )
    patterns = torch.as_tensor(rng.integers(0, 2, size=(N_PATTERNS, params.granule.n_dims)))
    return Protocol(circuit, **options), patterns.to(torch.uint8), params


def test_report_is_called_inside_every_run_with_its_completed_fraction():
    # Oracle: Brian2's report protocol -- called at the start and the end of every
    # network.run (and every report_period between), ``completed`` a fraction in [0, 1] that
    # reaches 1 at each run's end. Two runs here: the writes, then the reads.
    calls = []
    protocol, patterns, _ = _protocol(
        report=lambda elapsed, completed, start, duration: calls.append(float(completed)),
        report_period=0.5,
    )
    protocol.write(patterns, patterns.double())
    protocol.read(patterns)
    assert calls, "the callback was never called"
    assert all(0.0 <= value <= 1.0 for value in calls)
    assert calls.count(1.0) == 2


def test_raster_shows_the_mossy_fibres_one_volley_per_window():
    # Oracle: the algorithmic protocol -- in each window exactly one fibre of each of the n
    # push-pull pairs fires (fibre 2 i + bit_i), all on the window's first step.
    protocol, patterns, params = _protocol()
    protocol.write(patterns, patterns.double())
    protocol.read(patterns[:1])
    raster = protocol.raster(N_PATTERNS - 1, 2)  # the last write and the read
    mossy = raster["mossy"]
    n = params.granule.n_dims
    assert mossy["cells"].size == 2 * n
    fibres = 2 * np.arange(n)
    expected = np.concatenate([fibres + patterns[-1].numpy(), fibres + patterns[0].numpy()])
    fired = np.sort(mossy["cells"][:n]), np.sort(mossy["cells"][n:])  # in time order
    np.testing.assert_array_equal(np.concatenate(fired), expected)
    assert np.unique(np.round(mossy["times_s"], 12)).size == 2


def test_report_must_be_callable():
    # Oracle: the input contract -- a clear error naming the argument.
    with pytest.raises(TypeError, match="report must be callable"):
        run_report_options(3, 1.0)
    with pytest.raises(ValueError, match="report_period"):
        run_report_options(print, 0)
    assert run_report_options(None, 1.0) == {}
