"""NWB export (cerebellum.io.nwb): a tiny algorithmic run written with pynwb and read back.

Oracles: the Readout of the same run (granule spikes per read window, window-end rates), the
other engine -- ``NeuronSDM`` on the same wiring (granule spikes per write window) -- the
arrays handed to ``write_nwb`` (weights and epochs round-trip exactly: HDF5 stores float64 as
is), and the window arithmetic of the protocol (window k spans [k W, (k + 1) W)).
"""

import dataclasses
import datetime
import os

import numpy as np
import pytest
import torch

pynwb = pytest.importorskip("pynwb")

from pynwb import NWBHDF5IO  # noqa: E402

from cerebellum.circuit import build_circuit, window_timing  # noqa: E402
from cerebellum.engines import CircuitRun, Schedule, simulate  # noqa: E402
from cerebellum.engines.algorithmic import Protocol  # noqa: E402
from cerebellum.engines.algorithmic_run import window_epochs  # noqa: E402
from cerebellum.engines.biophysical_collect import _epochs, _read_rates  # noqa: E402
from cerebellum.engines.readout import Readout  # noqa: E402
from cerebellum.io.nwb import run_content, write_nwb  # noqa: E402
from cerebellum.presets import poisson_dynamics, preset  # noqa: E402
from tests.cerebellum.helpers import noisy_patterns, wiring_from_child  # noqa: E402

pytestmark = pytest.mark.brian

N_PATTERNS, N_QUERIES, N_VALUES = 8, 6, 3


def _tiny_inputs(seed: int, dynamics=None):
    """Tiny preset (algorithmic unless ``dynamics``): params, wiring, data and Brian2's rng."""
    wiring_seed, data_seed, brian_seed = np.random.SeedSequence(seed).spawn(3)
    params = preset("tiny", dynamics=dynamics)
    wiring = wiring_from_child(params, wiring_seed)
    rng = np.random.default_rng(data_seed)
    addresses, values, queries = noisy_patterns(
        rng, N_PATTERNS, N_QUERIES, params.granule.n_dims, N_VALUES, 0.1
    )
    return params, wiring, addresses, values, queries, np.random.default_rng(brian_seed)


def _tiny_run(seed: int, dynamics=None):
    """The circuit's engine on the tiny inputs: write the patterns, read the queries."""
    params, wiring, addresses, values, queries, rng = _tiny_inputs(seed, dynamics)
    circuit_run = simulate(
        params, wiring, Schedule.experiment(addresses, values, [queries]), rng=rng
    )
    return circuit_run, params, wiring, addresses


def _tiny_protocol(seed: int, dynamics=None):
    """A Protocol on the tiny inputs with the patterns written (for the timeline checks)."""
    params, wiring, addresses, values, queries, rng = _tiny_inputs(seed, dynamics)
    circuit = build_circuit(
        params, wiring, n_values=N_VALUES, n_pattern_channels=N_PATTERNS, rng=rng
    )
    protocol = Protocol(circuit)
    protocol.write(addresses, values)
    return protocol, wiring, addresses, queries


@pytest.fixture(scope="module")
def run():
    circuit_run, params, wiring, addresses = _tiny_run(5)
    return {
        "params": params,
        "wiring": wiring,
        "addresses": addresses,
        "readout": circuit_run.readouts[0],
        "before": circuit_run.weights["before"],
        "after": circuit_run.weights["after"],
        "content": run_content(circuit_run),
        # Window k spans [k W, (k + 1) W), W = K dt (the window layout of cerebellum.circuit).
        "window_s": window_timing(params).n_steps * float(params.dynamics.dt),
    }


@pytest.fixture(scope="module")
def nwb_path(run, tmp_path_factory):
    path = tmp_path_factory.mktemp("nwb") / "tiny.nwb"
    write_nwb(path, **run["content"], session_description="tiny algorithmic write + read")
    return path


def _granule_counts(nwbfile, epochs, kind):
    """Spike counts ``(n_epochs of kind, n_granule)`` from the file's units and epochs."""
    units = nwbfile.units
    population = np.asarray(units["population"].data[:])
    cells = np.asarray(units["cell"].data[:])
    rows = np.nonzero(population == "granule")[0]
    selected = np.nonzero(epochs["kind"] == kind)[0]
    order = np.argsort(epochs["index"][selected])
    counts = np.zeros((selected.size, rows.size), dtype=np.int64)
    for row in rows:
        times = np.asarray(units.get_unit_spike_times(int(row)))
        for k, epoch in enumerate(selected[order]):
            inside = (times >= epochs["start"][epoch]) & (times < epochs["stop"][epoch])
            counts[k, cells[row]] = int(inside.sum())
    return counts


def _read_epochs(nwbfile):
    table = nwbfile.epochs
    return {
        "start": np.asarray(table["start_time"].data[:]),
        "stop": np.asarray(table["stop_time"].data[:]),
        "kind": np.asarray(table["kind"].data[:]).astype(str),
        "index": np.asarray(table["index"].data[:]),
        "tags": [list(tags) for tags in table["tags"][:]],
    }


def test_granule_spike_counts_per_window_equal_readout_and_mirror(run, nwb_path):
    # Oracle (reads): Readout.active_granule of the same run -- in the algorithmic circuit an
    # active granule cell fires exactly once in its window, a silent one never.
    # Oracle (writes): the other engine, NeuronSDM on the same wiring, activated by each address.
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwbfile = io.read()
        epochs = _read_epochs(nwbfile)
        n_granule = run["params"].granule.n_neurons
        population = np.asarray(nwbfile.units["population"].data[:]).astype(str)
        assert (population == "granule").sum() == n_granule  # silent cells have rows too
        read_counts = _granule_counts(nwbfile, epochs, "read")
        write_counts = _granule_counts(nwbfile, epochs, "write")
    readout = run["readout"]
    assert read_counts.shape == (N_QUERIES, n_granule)
    assert readout.active_granule.any()  # the comparison is not between two empty sets
    np.testing.assert_array_equal(read_counts, readout.active_granule.astype(np.int64))
    mirror = run["wiring"].mirror(N_VALUES + N_PATTERNS)
    expected = mirror.active(torch.from_numpy(run["addresses"])).numpy().astype(np.int64)
    np.testing.assert_array_equal(write_counts, expected)


def test_poisson_granule_spike_counts_per_read_window_equal_readout(tmp_path):
    # Oracle: Readout.active_granule of the same Poisson run (granule cells fire at most once,
    # at the window's decision step, whatever the random mossy-fibre spikes were).
    circuit_run, _, _, _ = _tiny_run(9, dynamics=poisson_dynamics())
    readout = circuit_run.readouts[0]
    # A run whose engine took no snapshot before the writes (cpp_standalone) exports "after"
    # only; the engine's other arrays (write counts, counters) are not weight snapshots.
    after_only = {key: w for key, w in circuit_run.weights.items() if key != "before"}
    path = write_nwb(
        tmp_path / "poisson.nwb",
        **run_content(dataclasses.replace(circuit_run, weights=after_only)),
        session_description="tiny Poisson write + read",
    )
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        read_counts = _granule_counts(nwbfile, _read_epochs(nwbfile), "read")
        snapshots = list(nwbfile.processing["plasticity"]["pf_purkinje_weights"]["snapshot"][:])
    assert readout.active_granule.any()
    np.testing.assert_array_equal(read_counts, readout.active_granule.astype(np.int64))
    assert snapshots == ["after"]  # no weights["before"] in the run


def test_weights_epochs_and_rates_round_trip(run, nwb_path):
    # Oracle: the arrays handed to write_nwb (exact: float64 stored as is) and the protocol's
    # window arithmetic (window k = [k W, (k + 1) W); m writes then q reads, in that order).
    with NWBHDF5IO(str(nwb_path), "r") as io:
        nwbfile = io.read()
        table = nwbfile.processing["plasticity"]["pf_purkinje_weights"]
        snapshots = list(np.asarray(table["snapshot"].data[:]).astype(str))
        weights = np.asarray(table["weight"].data[:])
        epochs = _read_epochs(nwbfile)
        rates = {
            name: (np.asarray(series.timestamps[:]), np.asarray(series.data[:]), series.unit)
            for name, series in nwbfile.processing["rates"].data_interfaces.items()
        }
    assert snapshots == ["before", "after"]
    np.testing.assert_array_equal(weights[0], run["before"])
    np.testing.assert_array_equal(weights[1], run["after"])
    assert not np.array_equal(run["before"], run["after"])  # the writes changed weights

    n_windows, window_s = N_PATTERNS + N_QUERIES, run["window_s"]
    np.testing.assert_array_equal(epochs["start"], run["content"]["epochs"]["start_s"])
    np.testing.assert_array_equal(epochs["stop"], run["content"]["epochs"]["stop_s"])
    np.testing.assert_allclose(epochs["start"], np.arange(n_windows) * window_s, rtol=1e-12)
    np.testing.assert_allclose(epochs["stop"] - epochs["start"], window_s, rtol=1e-12)
    expected_kind = ["write"] * N_PATTERNS + ["read"] * N_QUERIES
    assert list(epochs["kind"]) == expected_kind
    assert epochs["tags"] == [[kind] for kind in expected_kind]
    expected_index = np.concatenate([np.arange(N_PATTERNS), np.arange(N_QUERIES)])
    np.testing.assert_array_equal(epochs["index"], expected_index)

    # Rates: one row per window end; the read windows' rows are the Readout's rates.
    readout = run["readout"]
    assert set(rates) == {"purkinje", "dcn"}
    for name, expected in (("purkinje", readout.purkinje_rate_hz), ("dcn", readout.dcn_rate_hz)):
        times, data, unit = rates[name]
        assert unit == "Hz" and data.shape == (n_windows, expected.shape[1])
        np.testing.assert_array_equal(data[N_PATTERNS:], expected)
        assert np.all((times > epochs["start"]) & (times < epochs["stop"]))


def _spikes():
    return {"granule": {"times_s": np.array([0.001, 0.002]), "cells": np.array([3, 1])}}


def _valid():
    return {
        "spikes": _spikes(),
        "rates": {"dcn": {"times_s": np.array([0.0, 0.1]), "rate_hz": np.ones((2, 3))}},
        "weights": {"before": np.zeros((4, 2)), "after": np.ones((4, 2))},
        "epochs": {
            "start_s": np.array([0.0, 0.1]),
            "stop_s": np.array([0.1, 0.2]),
            "kind": np.array(["write", "read"]),
        },
        "session_description": "synthetic",
    }


def _replace(key, sub, value):
    arguments = _valid()
    if sub is None:
        arguments[key] = value
    else:
        target = arguments[key]
        for part in sub[:-1]:
            target = target[part]
        target[sub[-1]] = value
    return arguments


BAD_INPUTS = [
    # (argument, path inside it, bad value, exception, words the message must hold)
    ("spikes", None, [1, 2], TypeError, "spikes must be a dict"),
    ("spikes", ("granule", "cells"), np.array([3]), ValueError, r"spikes\['granule'\]\['cells'\]"),
    ("spikes", ("granule", "cells"), np.array([0.5, 1]), TypeError, "must hold integers"),
    ("spikes", ("granule", "cells"), np.array([True, False]), TypeError, "dtype bool"),
    ("spikes", ("granule", "times_s"), np.array([-1.0, 0.0]), ValueError, r"times_s'\] must be"),
    ("spikes", ("granule", "times_s"), np.array([np.nan, 0]), ValueError, "finite"),
    ("spikes", ("granule", "n_cells"), 3, ValueError, r"n_cells'\]"),
    ("spikes", ("granule", "colour"), 1, ValueError, r"unknown keys \['colour'\]"),
    ("spikes", ("granule", "observed_s"), (0.0, 0.0015), ValueError, "inside observed_s"),
    ("rates", ("dcn", "rate_hz"), np.ones((3, 3)), ValueError, r"rates\['dcn'\]\['rate_hz'\]"),
    ("rates", ("dcn", "times_s"), np.array([0.1, 0.0]), ValueError, "ascending"),
    ("rates", ("dcn", "rate_hz"), np.full(2, np.inf), ValueError, "finite"),
    ("weights", ("after",), np.ones((4, 3)), ValueError, r"weights\['after'\] must have the sha"),
    ("weights", ("after",), np.ones(4), ValueError, r"\(n_granule, n_channels\)"),
    ("weights", None, {}, ValueError, "at least one snapshot"),
    ("epochs", ("stop_s",), np.array([0.1, 0.05]), ValueError, r"epochs\['stop_s'\] must be >="),
    ("epochs", ("kind",), np.array([1, 2]), TypeError, r"epochs\['kind'\] must hold"),
    ("epochs", ("kind",), np.array(["read"]), ValueError, r"epochs\['kind'\] must have the sha"),
    ("epochs", ("start",), np.zeros(2), ValueError, r"unknown keys \['start'\]"),
    ("session_description", None, "", ValueError, "session_description"),
    ("metadata", None, {"seed": 1}, ValueError, r"metadata has unknown keys \['seed'\]"),
    (
        "metadata",
        None,
        {"session_start_time": datetime.datetime(2026, 1, 1)},
        TypeError,
        "timezone-aware",
    ),
]


@pytest.mark.parametrize(("argument", "sub", "value", "error", "words"), BAD_INPUTS)
def test_bad_input_is_refused_naming_the_field(tmp_path, argument, sub, value, error, words):
    # Oracle: the field the test broke -- the message names it, and nothing is written.
    with pytest.raises(error, match=words):
        write_nwb(tmp_path / "bad.nwb", **_replace(argument, sub, value))
    assert os.listdir(tmp_path) == []


def test_missing_directory_is_refused(tmp_path):
    # Oracle: the path the test chose does not exist.
    with pytest.raises(ValueError, match="path: the directory"):
        write_nwb(tmp_path / "absent" / "run.nwb", **_valid())


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    # Oracle: the directory as it was before the call (atomic write: temp file, os.replace).
    target = tmp_path / "run.nwb"
    write_nwb(target, **_valid())
    old = target.read_bytes()
    original = NWBHDF5IO.write

    def write_then_fail(self, *args, **kwargs):
        original(self, *args, **kwargs)  # the temporary file is complete, then the disk "fails"
        raise OSError("disk full")

    monkeypatch.setattr(NWBHDF5IO, "write", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        write_nwb(target, **_valid())
    assert os.listdir(tmp_path) == ["run.nwb"] and target.read_bytes() == old
    with pytest.raises(OSError, match="disk full"):
        write_nwb(tmp_path / "new.nwb", **_valid())
    assert os.listdir(tmp_path) == ["run.nwb"]


def test_synthetic_arrays_round_trip(tmp_path):
    # Oracle: the arrays handed to write_nwb; silent cells (n_cells) have empty spike trains.
    arguments = _valid()
    arguments["spikes"]["granule"]["n_cells"] = 5
    arguments["spikes"]["purkinje"] = {"times_s": np.zeros(0), "cells": np.zeros(0, np.int64)}
    arguments["metadata"] = {"experimenter": "A. Tester", "keywords": ["SDM", "cerebellum"]}
    path = write_nwb(tmp_path / "synthetic.nwb", **arguments, identifier="synthetic-1")
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.identifier == "synthetic-1"
        assert list(nwbfile.experimenter) == ["A. Tester"]
        trains = [list(nwbfile.units.get_unit_spike_times(i)) for i in range(len(nwbfile.units))]
        series = nwbfile.processing["rates"]["dcn"]
        np.testing.assert_array_equal(series.data[:], arguments["rates"]["dcn"]["rate_hz"])
        np.testing.assert_array_equal(series.timestamps[:], arguments["rates"]["dcn"]["times_s"])
    assert trains == [[], [0.002], [], [0.001], []]  # purkinje: no spikes, no n_cells, no rows


def test_stale_or_missing_readouts_are_refused():
    # Oracle: the protocol's own timeline -- after a restore and another read, the monitors
    # hold the second read's spikes, so the first Readout no longer describes them.
    protocol, _, addresses, queries = _tiny_protocol(7)
    protocol.store()
    first = protocol.read(queries)
    protocol.restore()
    second = protocol.read(addresses[:N_QUERIES])
    assert not np.array_equal(first.active_granule, second.active_granule)
    with pytest.raises(ValueError, match=r"readouts\[0\]: its active_granule differs"):
        window_epochs(protocol, [first])
    with pytest.raises(ValueError, match="patterns were written"):
        window_epochs(protocol, [])
    epochs = window_epochs(protocol, [second])
    assert list(epochs["kind"]) == ["write"] * N_PATTERNS + ["read"] * N_QUERIES


def test_run_content_exports_what_a_biophysical_run_holds(tmp_path):
    # Oracle: the arrays put into a synthetic CircuitRun (no biophysical run needed), its rates
    # and epochs made by the biophysical engine's collection from a Readout and the onsets.
    n_granule, n_channels, presentation_s = 4, 2, 0.05
    readout = Readout(
        queries=np.zeros((2, 3), np.uint8),
        active_granule=np.zeros((2, n_granule), bool),
        golgi_active_count=np.zeros(2),
        mli_write_count_input=np.zeros(2),
        purkinje_input=np.zeros((2, n_channels)),
        purkinje_rate_hz=np.array([[10.0, 20.0], [30.0, np.nan]]),
        dcn_rate_hz=np.array([[1.0], [2.0]]),
        read=np.zeros((2, 1)),
        pattern_intersections=np.zeros((2, 1)),
        pattern_weights=np.zeros((2, 1)),
        query_onset_s=np.array([0.3, 0.4]),
    )
    observed_s = (0.25, 0.45)
    circuit_run = CircuitRun(
        engine="biophysical",
        readouts=[readout],
        spikes={
            "granule": {
                "times_s": np.array([0.31, 0.32]),
                "cells": np.array([2, 0]),
                "n_cells": n_granule,
                "observed_s": observed_s,
            },
            "dcn": {
                "times_s": np.array([0.33]),
                "cells": np.array([0]),
                "n_cells": 1,
                "observed_s": observed_s,
            },
        },
        rates=_read_rates([readout], 0.01),
        weights={
            "before": np.zeros((n_granule, n_channels)),
            "after": np.full((n_granule, n_channels), 0.5),
        },
        epochs=_epochs(
            {"write": np.array([0.1, 0.2]), "read": np.array([0.3, 0.4])}, presentation_s
        ),
    )
    content = run_content(circuit_run)
    path = write_nwb(tmp_path / "bio.nwb", **content, session_description="synthetic bio")
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        units = nwbfile.units
        assert list(np.asarray(units["population"].data[:]).astype(str)) == ["granule"] * 4 + [
            "dcn"
        ]
        assert [list(units.get_unit_spike_times(i)) for i in range(5)] == [
            [0.32],
            [],
            [0.31],
            [],
            [0.33],
        ]
        np.testing.assert_array_equal(units["obs_intervals"][0], [[0.25, 0.45]])
        epochs = _read_epochs(nwbfile)
        series = nwbfile.processing["rates"]["purkinje"]
        np.testing.assert_array_equal(series.data[:], readout.purkinje_rate_hz)
        np.testing.assert_array_equal(series.timestamps[:], readout.query_onset_s)
    assert list(epochs["kind"]) == ["write", "write", "read", "read"]
    np.testing.assert_array_equal(epochs["start"], [0.1, 0.2, 0.3, 0.4])
    np.testing.assert_array_equal(epochs["stop"], np.array([0.1, 0.2, 0.3, 0.4]) + presentation_s)
    np.testing.assert_array_equal(epochs["index"], [0, 1, 0, 1])


@pytest.mark.brian
def test_compare_nwb_flag_writes_the_run_and_its_spikes_match_the_readout(tmp_path):
    # Oracle: the run's own Readout (readout.npz) -- the granule spikes in each read window of
    # spikes.nwb are its active sets; the file sits inside the atomically written directory.

    from cerebellum import cli
    from cerebellum.engines.readout import Readout

    out = tmp_path / "run"
    argv = ["compare", "--preset", "tiny", "--n-patterns", "4", "--n-queries", "2"]
    argv += ["--recall-steps", "1", "--nwb", "--out", str(out), "--no-progress"]
    assert cli.main(argv) == 0
    readout = Readout.load(out / "readout.npz")
    with NWBHDF5IO(str(out / "spikes.nwb"), "r") as io:
        nwb = io.read()
        units = nwb.units.to_dataframe()
        epochs = nwb.epochs.to_dataframe()
    granule = units[units["population"] == "granule"].sort_values("cell")
    reads = epochs[epochs["kind"] == "read"].sort_values("start_time")
    assert len(reads) == readout.active_granule.shape[0]
    for q, (_, epoch) in enumerate(reads.iterrows()):
        fired = np.array(
            [
                np.any((t >= epoch.start_time) & (t < epoch.stop_time))
                for t in granule["spike_times"]
            ]
        )
        np.testing.assert_array_equal(fired, readout.active_granule[q])


def test_compare_nwb_flag_refuses_cpp_standalone(tmp_path, capsys):
    # Oracle: the CLI contract -- one line naming the flag, exit 2, nothing written.
    from cerebellum import cli

    out = tmp_path / "run"
    argv = ["compare", "--preset", "tiny", "--nwb", "--device", "cpp_standalone"]
    assert cli.main([*argv, "--out", str(out), "--no-progress"]) == 2
    assert "--nwb needs --device runtime" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not out.exists()
