"""The engine interface: a new engine is one module, and no consumer asks which engine ran.

Oracles: the source text of the consumer modules (a grep for the ways code branches on an
engine's kind); a third engine written here, whose fixed :class:`CircuitRun` (a constant read
of 1/2, uniform pattern weights, two hand-made spike trains) must come out unchanged through
the compare job, ``results.json`` (validated by its schema), the report and an NWB file read
back with pynwb; and the schedule's presentations enumerated by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from cerebellum.engines import CircuitRun, Engine, Schedule, engine_class, register_engine
from cerebellum.engines.readout import Readout
from tests.helpers import REPO_ROOT

ROOT = REPO_ROOT / "cerebellum"

#: Where an engine's kind may decide things: the engines, the circuits, the parameter modules
#: and presets (the spiking-analysis module lives in engines/).
ALLOWED = ("engines/", "circuit/", "params/", "biophysical_params/", "presets.py")

#: Ways code branches on the engine's kind.
BRANCHES = {
    "compares a mode": re.compile(r"\bmode\b[\"']?\)?\s*(==|!=)"),
    "tests a mode's membership": re.compile(r"\bmode\b\s+(not\s+)?in\s*[\(\[\{]"),
    "compares with an engine's name": re.compile(
        r"[=!]=\s*[\"'](biophysical|algorithmic|poisson|deterministic)[\"']"
    ),
    "checks an engine's types": re.compile(
        r"isinstance\([^)]*(Protocol|Engine\b|AlgorithmicEngine|BiophysicalEngine|"
        r"BiophysicalDetails|GolgiCalibration)"
    ),
    "imports an engine's implementation": re.compile(
        r"^\s*(from|import)\s+cerebellum\.engines\.(algorithmic|biophysical)\w*", re.M
    ),
    "compares a run's engine": re.compile(
        r"(\brun\.engine|\bengine_name|\bengine\.name)\s*(==|!=)"
    ),
}


def _consumer_modules() -> list[Path]:
    return [
        path
        for path in sorted(ROOT.rglob("*.py"))
        if not str(path.relative_to(ROOT)).startswith(ALLOWED)
    ]


def test_the_grep_sees_the_consumers():
    names = {str(path.relative_to(ROOT)) for path in _consumer_modules()}
    assert {"experiments/compare/analysis.py", "io/nwb.py", "io/report.py"} <= names
    assert not any(name.startswith("engines/") for name in names)


def test_no_consumer_branches_on_the_engine_kind():
    # Oracle: the consumers' source text.
    found = []
    for path in _consumer_modules():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for what, pattern in BRANCHES.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {what}: {line.strip()}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        'if params.dynamics.mode == "biophysical":',
        "elif mode in ('poisson', 'algorithmic'):",
        'if getattr(dyn, "mode", "") != "biophysical":',
        "if isinstance(result, BiophysicalEngine):",
        "from cerebellum.engines.biophysical import run",
        'if run.engine == "biophysical":',
    ],
)
def test_the_grep_catches_each_kind_of_branch(line):
    # Oracle: hand-written branches; a pattern that misses one would let the test above pass
    # on code that branches.
    assert any(pattern.search(line) for pattern in BRANCHES.values())


def test_schedule_presentations_in_time_order():
    # Oracle: the order written out by hand.
    schedule = Schedule.experiment(
        np.array([[0, 1], [1, 1]]),
        np.array([[1.0], [0.0]]),
        [np.array([[0, 0]]), np.array([[1, 0], [0, 1]])],
        n_background=1,
        n_rest=2,
    )
    assert schedule.presentations() == [
        ("background", 0),
        ("rest", 0),
        ("rest", 1),
        ("write", 0),
        ("rest", 2),
        ("rest", 3),
        ("write", 1),
        ("read", 0),
        ("read", 0),
        ("read", 1),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_rest": -1}, "n_rest"),
        ({"n_background": 1.5}, "n_background"),
        ({"pattern_channels": 1}, "pattern_channels"),
    ],
)
def test_schedule_refuses_bad_options(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        Schedule.experiment(np.zeros((1, 2)), np.zeros((1, 1)), [np.zeros((1, 2))], **kwargs)


#: The stub's spikes: two cells of one population, and its constant read.
STUB_READ = 0.5


class StubEngine(Engine):
    """A third engine: reads 1/2 everywhere, spreads weight evenly, fires two fixed trains."""

    name = "stub"

    def prepare(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def run(self) -> None:
        self.ran = True

    def collect(self) -> CircuitRun:
        s = self.schedule
        r, m = self.params.granule.n_neurons, s.n_patterns
        readouts = []
        for k, queries in enumerate(s.query_sets):
            q = queries.shape[0]
            onsets = (m + k * q + np.arange(q)) * 0.01
            readouts.append(
                Readout(
                    queries=queries,
                    active_granule=np.zeros((q, r), dtype=bool),
                    golgi_active_count=np.zeros(q),
                    mli_write_count_input=np.zeros(q),
                    purkinje_input=np.zeros((q, s.values.shape[1] + m)),
                    purkinje_rate_hz=np.zeros((q, s.values.shape[1] + m)),
                    dcn_rate_hz=np.zeros((q, s.values.shape[1])),
                    read=np.full((q, s.values.shape[1]), STUB_READ),
                    pattern_intersections=np.ones((q, m)),
                    pattern_weights=np.full((q, m), 1.0 / m),
                    query_onset_s=onsets,
                )
            )
        n_windows = m + sum(len(q) for q in s.query_sets)
        start = np.arange(n_windows) * 0.01
        kinds = np.array(["write"] * m + ["read"] * (n_windows - m), dtype=object)
        return CircuitRun(
            engine=self.name,
            readouts=readouts,
            spikes={
                "granule": {
                    "times_s": np.array([0.001, 0.002, 0.015]),
                    "cells": np.array([0, 1, 0]),
                    "n_cells": r,
                    "observed_s": (0.0, n_windows * 0.01),
                }
            },
            weights={"after": np.zeros((r, s.values.shape[1] + m))},
            epochs={
                "start_s": start,
                "stop_s": start + 0.01,
                "kind": kinds,
                "index": np.concatenate([np.arange(m), np.arange(n_windows - m)]),
            },
            counts={"simulated_s": n_windows * 0.01},
            activation={
                "label": "the stub's (a ball of radius 4)",
                "curve": _ball(self.params.granule),
                "closed_form": None,
            },
        )


def _ball(granule):
    from models.soft_activation import ActivationCurve

    return ActivationCurve.hard_threshold(granule.n_dims, granule.activation_radius)


@pytest.fixture
def stub_engine():
    """Register the stub for the algorithmic mode for one test, then restore the registry."""
    from cerebellum.engines import engine_for
    from cerebellum.presets import preset

    original = engine_for(preset("tiny"))
    register_engine("algorithmic")(StubEngine)
    try:
        yield StubEngine
    finally:
        register_engine("algorithmic")(original)
    assert engine_class("algorithmic") is original


def test_a_third_engine_runs_compare_report_and_nwb_unchanged(stub_engine, tmp_path):
    pytest.importorskip("pynwb")
    from pynwb import NWBHDF5IO

    from cerebellum.experiments.compare import CompareConfig, run_comparison
    from cerebellum.io.report import write_run
    from cerebellum.io.results_schema import load_results

    config = CompareConfig(preset="tiny", noise_levels=(0, 2), n_queries=4, neuron_sweep=(1.0,))
    comparison = run_comparison(config, nwb=True)
    write_run(comparison, tmp_path)
    results = load_results(tmp_path / "results.json")  # the schema's validator
    # The stub's fixed read and weights come through the job unchanged.
    np.testing.assert_array_equal(comparison.readout.read, STUB_READ)
    assert results["engines"][0] == "circuit"
    assert results["exact_check"]["applies"] is False
    assert "circuit" not in results["recall"]  # the stub iterates no reads
    assert results["biophysical"] is None  # no measurements of its own
    assert results["beta"]["circuit"]["predictions"]["own_rule"]["label"].startswith("the stub")
    assert "circuit vs NeuronSDM" in (tmp_path / "report.md").read_text()
    with NWBHDF5IO(str(tmp_path / "spikes.nwb"), "r") as io:
        nwbfile = io.read()
        units = nwbfile.units.to_dataframe()
        epochs = nwbfile.epochs.to_dataframe()
    granule = units[units["population"] == "granule"]
    assert len(granule) == config_neurons(comparison)
    np.testing.assert_allclose(granule["spike_times"].iloc[0], [0.001, 0.015])
    assert (epochs["kind"] == "write").sum() == comparison.config.n_patterns


def config_neurons(comparison) -> int:
    return comparison.params.granule.n_neurons


def test_a_run_without_epochs_writes_an_nwb_file_without_them(tmp_path):
    # Oracle: the file read back with pynwb. A cpp_standalone run logs no presentations; its
    # spikes and weights must still export, with no epochs table.
    pytest.importorskip("pynwb")
    from pynwb import NWBHDF5IO

    from cerebellum.io.nwb import run_content, write_nwb

    run = CircuitRun(
        engine="stub",
        readouts=[],
        spikes={
            "granule": {
                "times_s": np.array([0.004]),
                "cells": np.array([2]),
                "n_cells": 3,
                "observed_s": (0.0, 0.01),
            }
        },
        weights={"after": np.full((3, 2), 0.5)},
    )
    content = run_content(run)
    assert "epochs" not in content
    path = write_nwb(tmp_path / "run.nwb", **content, session_description="no epochs")
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        assert nwbfile.epochs is None
        assert len(nwbfile.units) == 3
