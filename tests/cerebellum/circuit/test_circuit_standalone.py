"""The one cpp_standalone integration test (issue 4: "one integration test runs standalone").

Oracle: the other engines -- the runtime (numpy) device on the same wiring and seed, and the
NeuronSDM mirror -- must give identical granule activity, weights and reads. The network is
the ``tiny`` preset compiled with ``-O0`` so the cold C++ build stays short; the device is
returned to runtime afterwards (the algorithmic engine calls ``device.reinit()``). The two engines
also transmit mossy-fibre spikes differently (numpy: a flag summed over all synapses every
step; compiled: ``on_pre``, spike by spike), so the comparison checks that both forms agree.

It also checks the build cache (:mod:`cerebellum.circuit.build`) on that real build: a second
run of the same structure with another wiring, other patterns and another seed (in a new
process, as a second CLI run is) recompiles nothing. Oracle: ``make`` itself -- no object
file or binary is rewritten (their modification times stay the same), and the second run is
still exact.
"""

import os
import subprocess
import sys

import brian2
import numpy as np
import pytest
import torch
from brian2.devices.device import RuntimeDevice

from cerebellum.circuit.build import CACHE_ENV
from cerebellum.engines import Schedule, simulate
from cerebellum.presets import preset
from tests.cerebellum.helpers import wiring_from_child
from tests.helpers import REPO_ROOT

pytestmark = pytest.mark.brian


def _inputs(seed):
    wiring_seed, data_seed, brian_seed = np.random.SeedSequence(seed).spawn(3)
    wiring = wiring_from_child(preset("tiny"), wiring_seed)
    rng = np.random.default_rng(data_seed)
    addresses = rng.integers(0, 2, (6, 16)).astype(np.uint8)
    values = rng.integers(0, 2, (6, 3)).astype(np.float64)
    queries = addresses ^ (rng.random((6, 16)) < 0.1).astype(np.uint8)
    return wiring, addresses, values, [queries, addresses[:3]], int(brian_seed.generate_state(1)[0])


def _check_against_runtime_and_mirror(standalone, seed):
    wiring, addresses, values, query_sets, brian_seed = _inputs(seed)
    schedule = Schedule.experiment(addresses, values, query_sets)
    built = simulate(standalone, wiring, schedule, rng=np.random.default_rng(brian_seed))
    assert isinstance(brian2.get_device(), RuntimeDevice)
    reference = simulate(preset("tiny"), wiring, schedule, rng=np.random.default_rng(brian_seed))
    np.testing.assert_array_equal(built.weights["after"], reference.weights["after"])
    mirror = wiring.mirror(3)
    mirror.write(torch.from_numpy(addresses), torch.from_numpy(values))
    for ours, theirs, q in zip(built.readouts, reference.readouts, query_sets, strict=True):
        np.testing.assert_array_equal(ours.active_granule, theirs.active_granule)
        np.testing.assert_array_equal(ours.pattern_intersections, theirs.pattern_intersections)
        np.testing.assert_array_equal(
            ours.active_granule, mirror.active(torch.from_numpy(q)).numpy()
        )
        # 1e-9 relative: the same exact sums divided in C++ and in numpy.
        np.testing.assert_allclose(ours.read, theirs.read, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            ours.read, mirror.read(torch.from_numpy(q)).numpy(), rtol=1e-9, atol=1e-12
        )


def _compiled(cache):
    """Modification times (ns) of every object file and binary ``make`` made in the cache."""
    files = [*cache.rglob("*.o"), *cache.glob("*/main")]
    return {str(path): path.stat().st_mtime_ns for path in files}


def _run_in_a_new_process(seed, cache):
    """``_check_against_runtime_and_mirror`` in a fresh interpreter with the cache at ``cache``.

    A new process per run is how the CLI meets the cache, and it keeps the generated names
    free of Brian2 objects that earlier tests of a pytest worker may still hold (Brian2
    numbers derived names past the live ones, and a renamed file is recompiled).
    """
    code = (
        f"import importlib, sys; sys.path.insert(0, {str(REPO_ROOT)!r}); "
        f"t = importlib.import_module({__name__!r}); "
        f"t._check_against_runtime_and_mirror(t._standalone(), {seed})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, CACHE_ENV: str(cache)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _standalone():
    return preset("tiny").replace(device={"device": "cpp_standalone", "fast_compile": True})


def test_cpp_standalone_equals_runtime_and_mirror_and_compiles_once(tmp_path):
    cache = tmp_path / "cache"
    _run_in_a_new_process(15, cache)
    (project,) = [path for path in cache.iterdir() if path.is_dir()]
    first = _compiled(cache)
    assert str(project / "main") in first
    # The run's data is removed once read; the compiled project stays.
    assert not (project / "results").exists()
    assert not (project / "static_arrays").exists()

    _run_in_a_new_process(16, cache)
    assert [path for path in cache.iterdir() if path.is_dir()] == [project]
    assert _compiled(cache) == first
