"""Deterministic spiking circuit == NeuronSDM mirror, exactly (issue 4 acceptance).

Oracle for every test: the other engine -- ``models.sdm.NeuronSDM`` built on the very same
address tensors (``Wiring.mirror``) -- plus brute-force sorting for the top-k tie rule.
Brian2 runs on the numpy code target (no compilation).
"""

import numpy as np
import pytest
import torch

from cerebellum.circuit import build_circuit
from cerebellum.engines import Schedule, simulate
from cerebellum.engines.algorithmic import Protocol
from cerebellum.engines.readout import Readout
from cerebellum.params import GranuleLayerParams
from cerebellum.presets import preset
from cerebellum.wiring import Wiring
from tests.cerebellum.helpers import noisy_patterns, wiring_from_child
from tests.helpers import torch_generator

pytestmark = pytest.mark.brian


def _streams(seed: int, k: int):
    return np.random.SeedSequence(seed).spawn(k)


def _patterns(rng, n_patterns, n_queries, n_dims, n_values, flip=0.08):
    return noisy_patterns(rng, n_patterns, n_queries, n_dims, n_values, flip)


def _simulate(params, wiring, addresses, values, query_sets, *, rng, pattern_channels=True):
    """The circuit's engine (``params.dynamics.mode``): write, then read every query set."""
    schedule = Schedule.experiment(addresses, values, query_sets, pattern_channels=pattern_channels)
    return simulate(params, wiring, schedule, rng=rng)


def _mirror(wiring, addresses, values):
    n_patterns = addresses.shape[0]
    mirror = wiring.mirror(values.shape[1] + n_patterns)
    mirror.write(
        torch.from_numpy(addresses), torch.from_numpy(np.hstack([values, np.eye(n_patterns)]))
    )
    return mirror


def _check_exact(result, mirror, query_sets, n_values):
    # Counters: the bipolar weights decode to the mirror's counters exactly (dw = 1/2 keeps
    # every weight on a grid of halves, so float64 is exact).
    np.testing.assert_array_equal(result.weights["counters"], mirror.counters.numpy())
    np.testing.assert_array_equal(result.weights["write_counts"], mirror.write_counts.numpy())
    for readout, queries in zip(result.readouts, query_sets, strict=True):
        q = torch.from_numpy(queries)
        np.testing.assert_array_equal(readout.active_granule, mirror.active(q).numpy())
        np.testing.assert_array_equal(
            readout.pattern_intersections, mirror.intersections(q).numpy()
        )
        expected = mirror.read(q).numpy()[:, :n_values]
        # 1e-9 relative: the circuit divides two exact sums; the mirror sums in another order.
        np.testing.assert_allclose(readout.read, expected, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(readout.pattern_weights, mirror.weights(q).numpy(), rtol=1e-12)
        # DCN output = dcn_rate_max * read (closed form of the linear PC -> DCN inhibition).
        np.testing.assert_allclose(readout.dcn_rate_hz, 100.0 * expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("name", "n_patterns", "n_queries"), [("tiny", 12, 10), ("default", 48, 32)]
)
def test_deterministic_mode_equals_mirror(name, n_patterns, n_queries):
    wiring_seed, data_seed, brian_seed = _streams(11, 3)
    params = preset(name)
    wiring = wiring_from_child(params, wiring_seed)
    rng = np.random.default_rng(data_seed)
    n_values = 6
    addresses, values, queries = _patterns(rng, n_patterns, n_queries, params.granule.n_dims, 6)
    query_sets = [queries, addresses[: n_queries // 2]]
    result = _simulate(
        params, wiring, addresses, values, query_sets, rng=np.random.default_rng(brian_seed)
    )
    mirror = _mirror(wiring, addresses, values)
    _check_exact(result, mirror, query_sets, n_values)
    # The default preset must actually exercise sparse activation (1-5 % of 10^4 cells).
    fraction = result.readouts[0].active_granule.mean()
    assert 0.0 < fraction < 0.1


def test_top_k_fires_exactly_k_with_lower_index_tie_rule():
    # Oracle: brute force -- sort neurons by (Hamming distance, index) and take the first k --
    # and the mirror's top-k. Duplicated addresses force ties at the cut: among neurons at equal
    # distance the lower index must win.
    seeds = _streams(12, 3)
    g = GranuleLayerParams(n_dims=12, n_neurons=120, activation="top-k", top_k=9)
    base = torch.randint(0, 2, (40, 12), dtype=torch.uint8, generator=torch_generator(seeds[0]))
    addresses_t = base.repeat(3, 1)  # neurons j, j + 40, j + 80 share an address
    wiring = Wiring(granule=g, addresses=addresses_t)
    params = preset("tiny").replace(granule=g)
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 8, 16, 12, 3, flip=0.2)
    result = _simulate(
        params, wiring, addresses, values, [queries], rng=np.random.default_rng(seeds[2])
    )
    active = result.readouts[0].active_granule
    assert (active.sum(axis=1) == 9).all()
    distance = (addresses_t.numpy()[None, :, :] != queries[:, None, :]).sum(axis=2)
    for row, dist in zip(active, distance, strict=True):
        order = np.lexsort((np.arange(120), dist))  # by distance, then index
        expected = np.zeros(120, dtype=bool)
        expected[order[:9]] = True
        np.testing.assert_array_equal(row, expected)
    # A tie must have occurred at the cut somewhere, else the tie rule was not exercised.
    cut_ties = [
        (dist == np.sort(dist)[8]).sum() > (row & (dist == np.sort(dist)[8])).sum()
        for row, dist in zip(active, distance, strict=True)
    ]
    assert any(cut_ties)
    mirror = _mirror(wiring, addresses, values)
    _check_exact(result, mirror, [queries], 3)


def test_biological_selected_coordinates_equal_mirror():
    # Oracle: models.sdm.activate_selected via NeuronSDM on the same SelectedCoordinates.
    seeds = _streams(13, 3)
    params = preset("biological")
    wiring = wiring_from_child(params, seeds[0])
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 4, 6, params.granule.n_dims, 1)
    result = _simulate(
        params,
        wiring,
        addresses,
        values,
        [queries],
        rng=np.random.default_rng(seeds[2]),
        pattern_channels=False,
    )
    mirror = wiring.mirror(1)
    mirror.write(torch.from_numpy(addresses), torch.from_numpy(values))
    q = torch.from_numpy(queries)
    np.testing.assert_array_equal(result.readouts[0].active_granule, mirror.active(q).numpy())
    np.testing.assert_array_equal(result.weights["counters"], mirror.counters.numpy())
    np.testing.assert_allclose(result.readouts[0].read, mirror.read(q).numpy(), rtol=1e-9)


def test_store_restore_repeats_reads_and_readout_round_trips(tmp_path, tiny_params):
    # Oracle: the same engine twice -- a read after restore() must reproduce the first read
    # exactly, and reads never change the weights (plasticity off); .npz round trip is exact.
    seeds = _streams(14, 3)
    wiring = wiring_from_child(tiny_params, seeds[0])
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 6, 5, 16, 2)
    circuit = build_circuit(
        tiny_params, wiring, n_values=2, n_pattern_channels=6, rng=np.random.default_rng(seeds[2])
    )
    protocol = Protocol(circuit)
    protocol.write(addresses, values)
    weights = protocol.pf_weights()
    protocol.store()
    first = protocol.read(queries)
    protocol.read(addresses)
    np.testing.assert_array_equal(protocol.pf_weights(), weights)
    protocol.restore()
    second = protocol.read(queries)
    for key, value in first.to_dict().items():
        np.testing.assert_array_equal(value, second.to_dict()[key])
    path = tmp_path / "readout.npz"
    first.save(path)
    loaded = Readout.load(path)
    for key, value in first.to_dict().items():
        np.testing.assert_array_equal(value, loaded.to_dict()[key])
    np.savez(tmp_path / "old.npz", schema_version=0)
    with pytest.raises(ValueError, match="schema_version"):
        Readout.load(tmp_path / "old.npz")
    with pytest.raises(ValueError, match="addresses must be binary"):
        protocol.write(addresses * 2, values)
    with pytest.raises(ValueError, match="values must have shape"):
        protocol.write(addresses, values[:, :1])


@pytest.mark.parametrize("variant", ["radius", "top-k", "selected-coordinate"])
def test_injected_fast_path_gives_identical_spikes(variant):
    # Oracle: the other path of the same engine (explicit mossy-fibre synapses) and the mirror:
    # the injected match counts must produce identical granule spikes and reads.
    seeds = _streams(16, 3)
    params = preset("tiny")
    if variant == "top-k":
        params = params.replace(
            granule={"activation": "top-k", "activation_radius": None, "top_k": 11}
        )
    elif variant == "selected-coordinate":
        params = preset("biological").replace(granule={"n_neurons": 3000})
    wiring = wiring_from_child(params, seeds[0])
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 6, 8, params.granule.n_dims, 2)
    results = {}
    for drive in ("synapses", "injected"):
        variant_params = params.replace(dynamics={"mossy_drive": drive})
        results[drive] = _simulate(
            variant_params, wiring, addresses, values, [queries], rng=np.random.default_rng(1)
        )
    fast, slow = results["injected"].readouts[0], results["synapses"].readouts[0]
    # The run no longer hands its Brian2 circuit over: build the injected one to see its groups.
    injected = build_circuit(
        params.replace(dynamics={"mossy_drive": "injected"}),
        wiring,
        n_values=values.shape[1],
        n_pattern_channels=addresses.shape[0],
        rng=np.random.default_rng(1),
    )
    assert "mossy_granule" not in injected.groups
    for key, value in slow.to_dict().items():
        np.testing.assert_array_equal(getattr(fast, key), value, err_msg=key)
    np.testing.assert_array_equal(
        results["injected"].weights["after"], results["synapses"].weights["after"]
    )
    mirror = _mirror(wiring, addresses, values)
    _check_exact(results["injected"], mirror, [queries], 2)


def test_raster_selects_the_requested_windows_as_numpy(tiny_params):
    # Oracle: the window index of every monitor record computed from its time (the protocol's
    # window clock, independently of the half-step selection): the raster holds exactly the
    # records of the requested windows, as plain numpy arrays.
    seeds = _streams(17, 3)
    wiring = wiring_from_child(tiny_params, seeds[0])
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 5, 4, 16, 2)
    circuit = build_circuit(tiny_params, wiring, n_values=2, rng=np.random.default_rng(seeds[2]))
    protocol = Protocol(circuit)
    protocol.write(addresses, values)
    protocol.read(queries)
    raster = protocol.raster(4, 2)  # the last write window and the first read window
    assert set(raster) == {"window_s", "start_s", "mossy", "granule", "purkinje", "dcn"}
    window_s = float(circuit.window_duration)
    assert raster["window_s"] == window_s and raster["start_s"] == 4 * window_s
    dt = float(tiny_params.dynamics.dt)
    monitors = {
        "mossy": "mossy_spikes",
        "granule": "granule_spikes",
        "purkinje": "purkinje",
        "dcn": "dcn",
    }
    for population, key in monitors.items():
        entry = raster[population]
        assert set(entry) == (
            {"times_s", "cells"} | ({"rate"} if population in ("purkinje", "dcn") else set())
        )
        assert all(isinstance(value, np.ndarray) for value in entry.values())
        windows = np.floor(entry["times_s"] / dt + 0.5).astype(int) // circuit.timing.n_steps
        assert set(windows) <= {4, 5}
        all_times = np.asarray(circuit.monitors[key].t_)
        all_windows = np.floor(all_times / dt + 0.5).astype(int) // circuit.timing.n_steps
        assert len(entry["times_s"]) == np.isin(all_windows, [4, 5]).sum() > 0
    # The read window's Purkinje rates are the ones the Readout reports.
    readout_rates = protocol.collect(5, queries[:1]).purkinje_rate_hz[0]
    steps = np.floor(raster["purkinje"]["times_s"] / dt + 0.5).astype(int)
    read_rows = steps // circuit.timing.n_steps == 5
    np.testing.assert_array_equal(raster["purkinje"]["rate"][read_rows], readout_rates)
    with pytest.raises(ValueError, match="n_windows"):
        protocol.raster(0, 0)


def test_frozen_reader_reads_the_stored_state_every_time(tiny_params):
    # Oracle: the same engine -- restore() then read() -- and repetition: two reads of the same
    # queries through the frozen reader give identical arrays, whatever was read in between.
    seeds = _streams(18, 3)
    wiring = wiring_from_child(tiny_params, seeds[0])
    rng = np.random.default_rng(seeds[1])
    addresses, values, queries = _patterns(rng, 6, 5, 16, 3)
    circuit = build_circuit(tiny_params, wiring, n_values=3, rng=np.random.default_rng(seeds[2]))
    protocol = Protocol(circuit)
    with pytest.raises(ValueError, match="snapshot"):
        protocol.frozen_reader()
    protocol.write(addresses, values)
    protocol.store("written")
    reader = protocol.frozen_reader()
    assert reader.n_dims == 16
    first = reader.read(torch.from_numpy(queries))
    reader.read(addresses)
    second = reader.read(queries)
    assert first.dtype == np.float64 and first.shape == (5, 3)
    np.testing.assert_array_equal(first, second)
    protocol.restore("written")
    np.testing.assert_array_equal(first, protocol.read(queries).read)
