"""The one cpp_standalone integration test (issue 4: "one integration test runs standalone").

Oracle: the other engines -- the runtime (numpy) device on the same wiring and seed, and the
NeuronSDM mirror -- must give identical granule activity, weights and reads. The network is
the ``tiny`` preset compiled with ``-O0`` so the cold C++ build stays short; the device is
returned to runtime afterwards (``run_protocol`` calls ``device.reinit()``).
"""

import brian2
import numpy as np
import pytest
import torch
from brian2.devices.device import RuntimeDevice

from cerebellum.presets import preset
from cerebellum.protocol import run_protocol
from cerebellum.wiring import sample_wiring

pytestmark = pytest.mark.brian


def test_cpp_standalone_equals_runtime_and_mirror(tmp_path):
    wiring_seed, data_seed = np.random.SeedSequence(15).spawn(2)
    runtime = preset("tiny")
    standalone = runtime.replace(
        device={
            "device": "cpp_standalone",
            "build_directory": str(tmp_path / "build"),
            "fast_compile": True,
        }
    )
    wiring = sample_wiring(
        runtime.granule,
        generator=torch.Generator().manual_seed(int(wiring_seed.generate_state(1)[0])),
    )
    rng = np.random.default_rng(data_seed)
    addresses = rng.integers(0, 2, (6, 16)).astype(np.uint8)
    values = rng.integers(0, 2, (6, 3)).astype(np.float64)
    queries = addresses ^ (rng.random((6, 16)) < 0.1).astype(np.uint8)
    query_sets = [queries, addresses[:3]]
    built = run_protocol(
        standalone, wiring, addresses, values, query_sets, rng=np.random.default_rng(1)
    )
    assert isinstance(brian2.get_device(), RuntimeDevice)
    reference = run_protocol(
        runtime, wiring, addresses, values, query_sets, rng=np.random.default_rng(1)
    )
    np.testing.assert_array_equal(built.pf_weights, reference.pf_weights)
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
