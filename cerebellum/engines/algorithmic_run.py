"""The algorithmic (and Poisson) circuit behind the engine interface.

:class:`AlgorithmicEngine` drives a :class:`~cerebellum.engines.algorithmic.Protocol`: one
window per write or read, every query set read from the state stored after the writes
(runtime), or everything queued and built once (``cpp_standalone``). Its windows start from
zero, so the schedule's ``background`` and ``rest`` presentations are not simulated (the
epochs list writes and reads only). Right after the reads it takes the monitors' spikes,
window-end rates and epochs as numpy (:func:`monitor_spikes`, :func:`monitor_rates`,
:func:`window_epochs`), then iterates recall through a frozen reader (runtime only).
"""

from __future__ import annotations

import gc
import shutil
import time
from pathlib import Path

import brian2
import numpy as np

from cerebellum.circuit import build_circuit
from cerebellum.circuit.build import release_standalone_directory
from cerebellum.circuit.transfer import activation_of
from cerebellum.engines.algorithmic import Protocol
from cerebellum.engines.base import CircuitRun, Engine, Schedule, register_engine
from cerebellum.engines.readout import Readout
from models.recall import recall

__all__ = ["AlgorithmicEngine", "monitor_rates", "monitor_spikes", "window_epochs"]


@register_engine("algorithmic", "deterministic", "poisson")
class AlgorithmicEngine(Engine):
    """The exact SDM as a Brian2 event network (``dynamics.mode`` algorithmic or poisson)."""

    name = "algorithmic"

    def prepare(self, schedule: Schedule) -> None:
        """Build the circuit; with ``cpp_standalone`` the run layout joins the cache key."""
        self.schedule = schedule
        self.timings: dict[str, float] = {}
        self._compile_args = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
        runs = None
        if self.params.device.device != "runtime":
            # Brian2 numbers derived names past the objects still alive: drop unreachable
            # ones so the same structure generates the same files (the build cache hits).
            gc.collect()
            runs = [schedule.n_patterns, *(len(q) for q in schedule.query_sets)]
        clock = time.perf_counter()
        circuit = build_circuit(
            self.params,
            self.wiring,
            n_values=schedule.values.shape[1],
            n_pattern_channels=schedule.n_patterns if schedule.pattern_channels else 0,
            rng=self.rng,
            runs=runs,
        )
        self.timings["build"] = time.perf_counter() - clock
        self.protocol = Protocol(circuit, report=self.report)
        self._before = None if circuit.standalone else self.protocol.pf_weights()

    def run(self) -> None:
        """Write, then read every query set (and iterate recall at runtime)."""
        if self.protocol.circuit.standalone:
            self._run_standalone()
        else:
            self._run_runtime()

    def _run_runtime(self) -> None:
        protocol, schedule = self.protocol, self.schedule
        clock = time.perf_counter()
        protocol.write(schedule.addresses, schedule.values)
        protocol.store("written")
        self.timings["write"] = time.perf_counter() - clock
        clock = time.perf_counter()
        self.readouts: list[Readout] = []
        for k, queries in enumerate(schedule.query_sets):
            if k:  # every set reads the written state
                protocol.restore("written")
            self.readouts.append(protocol.read(queries))
        self.timings["read"] = time.perf_counter() - clock
        # The monitors hold the writes and the last query set: take them before recall.
        first_read = schedule.n_patterns - 1  # the last write and the first read
        self._window = protocol.raster(first_read, 2) if schedule.query_sets[-1].size else None
        self._taken = _taken(protocol, self.readouts[-1:])
        self._recall = None
        if schedule.recall_steps:
            self._recall = recall(
                protocol.frozen_reader("written"),
                schedule.query_sets[0],  # models.recall takes numpy (as a tensor)
                max_steps=schedule.recall_steps,
                binarize=True,
            )

    def _run_standalone(self) -> None:
        protocol, schedule = self.protocol, self.schedule
        project_dir = None
        try:
            protocol.write(schedule.addresses, schedule.values)
            scheduled = [protocol.schedule_read(queries) for queries in schedule.query_sets]
            device = brian2.get_device()
            project_dir = device.project_dir
            clock = time.perf_counter()
            device.build(run=True, compile=True, directory=project_dir)
            self.timings["device_build"] = time.perf_counter() - clock
            self.timings["device_compile"] = float(device.timers["compile"]["make"] or 0.0)
            self.timings["device_run"] = float(getattr(device, "_last_run_time", float("nan")))
            self.readouts = [protocol.collect(start, bits) for start, bits in scheduled]
            self._after = protocol.pf_weights()
            self._write_counts = protocol.write_counts()
            self._counters = protocol.counters()
            self._window, self._taken, self._recall = None, {}, None
        finally:
            self._leave_standalone(project_dir)

    def _leave_standalone(self, project_dir) -> None:
        """Always return Brian2 to the runtime device, even if building failed."""
        brian2.device.reinit()
        brian2.set_device("runtime")
        brian2.prefs.codegen.cpp.extra_compile_args_gcc = self._compile_args
        if project_dir is not None and not self.params.device.build_directory:
            # A cached project keeps its code and binary; this run's data is read.
            for data in ("results", "static_arrays"):
                shutil.rmtree(Path(project_dir) / data, ignore_errors=True)
        release_standalone_directory()

    def collect(self) -> CircuitRun:
        """The readouts, recall, monitors' arrays, weights and the rule of this circuit."""
        protocol = self.protocol
        standalone = protocol.circuit.standalone
        weights = {} if self._before is None else {"before": self._before}
        weights["after"] = self._after if standalone else protocol.pf_weights()
        weights["write_counts"] = self._write_counts if standalone else protocol.write_counts()
        weights["counters"] = self._counters if standalone else protocol.counters()
        spikes = self._taken.get("spikes", {})
        window_s = float(protocol.circuit.window_duration)
        n_windows = self.schedule.n_patterns + sum(len(q) for q in self.schedule.query_sets)
        return CircuitRun(
            engine=self.name,
            readouts=self.readouts,
            recall=self._recall,
            spikes=spikes,
            rates=self._taken.get("rates", {}),
            weights=weights,
            epochs=self._taken.get("epochs", {}),
            timings_s=self.timings,
            counts={
                "simulated_s": n_windows * window_s,
                "n_spikes": {pop: int(s["times_s"].size) for pop, s in spikes.items()},
                "n_cells": {pop: int(s["n_cells"]) for pop, s in spikes.items()},
            },
            figures={} if self._window is None else {"window": self._window},
            activation=activation_of(self.params),
            exact_sdm=self.params.dynamics.mode in ("algorithmic", "deterministic"),
        )


def _taken(protocol: Protocol, readouts: list[Readout]) -> dict:
    """Spikes, rates and epochs of the protocol's current timeline."""
    return {
        "spikes": monitor_spikes(protocol),
        "rates": monitor_rates(protocol),
        "epochs": window_epochs(protocol, readouts),
    }


def monitor_spikes(protocol: Protocol) -> dict[str, dict]:
    """The spikes of every ``SpikeMonitor`` of the protocol's circuit (runtime).

    In the algorithmic and Poisson circuits that is the granule layer (and the mossy fibres
    where they are simulated); a cell model whose builder adds spike monitors adds its
    populations. The monitors hold the current timeline: :meth:`Protocol.restore` rewinds
    them, so take them before a later restore.

    Returns
    -------
    dict of str to dict
        ``{population: {"times_s", "cells", "n_cells", "observed_s"}}``, keyed by the Brian2
        group's name; ``observed_s`` is ``(0, t)`` with ``t`` the simulated time.
    """
    elapsed = float(protocol.circuit.network.t)
    spikes = {}
    for monitor in protocol.circuit.monitors.values():
        if not isinstance(monitor, brian2.SpikeMonitor):
            continue
        spikes[monitor.source.name] = {
            "times_s": np.asarray(monitor.t_, dtype=np.float64).copy(),
            "cells": np.asarray(monitor.i, dtype=np.int64).copy(),
            "n_cells": int(len(monitor.source)),
            "observed_s": (0.0, elapsed),
        }
    return spikes


def monitor_rates(protocol: Protocol) -> dict[str, dict]:
    """Window-end rates of every monitored population with a ``rate`` (Purkinje, DCN).

    Returns
    -------
    dict of str to dict
        ``{population: {"times_s": (n_windows,), "rate_hz": (n_windows, n_cells),
        "description"}}``, one row per window end (the window's last time step); NaN for a
        cell not recorded at a window end.
    """
    rates = {}
    for monitor in protocol.circuit.monitors.values():
        if isinstance(monitor, brian2.SpikeMonitor) or not isinstance(monitor, brian2.EventMonitor):
            continue
        if "rate" not in monitor.record_variables:
            continue
        times = np.asarray(monitor.t_, dtype=np.float64)
        cells = np.asarray(monitor.i, dtype=np.int64)
        values = np.asarray(monitor.variables["rate"].get_value(), dtype=np.float64)
        window_ends, row = np.unique(times, return_inverse=True)
        grid = np.full((window_ends.size, len(monitor.source)), np.nan)
        grid[row, cells] = values
        population = monitor.source.name
        rates[population] = {
            "times_s": window_ends,
            "rate_hz": grid,
            "description": (
                f"rate of every {population} cell at the end of each presentation window (Hz)"
            ),
        }
    return rates


def window_epochs(protocol: Protocol, readouts: list[Readout]) -> dict[str, np.ndarray]:
    """Every window simulated so far as an epoch: ``read`` for the windows of ``readouts``.

    A :class:`~cerebellum.engines.algorithmic.Protocol` keeps no log of which windows wrote,
    so the windows that no readout names are labelled ``write``; that is checked: their number
    must be the number of patterns written, and every readout's ``active_granule`` must equal
    the granule spikes the monitors hold now in its windows.

    Returns
    -------
    dict
        ``start_s``, ``stop_s`` (s), ``kind`` (``write`` or ``read``) and ``index`` (pattern
        number for a write, query number within its readout for a read), one row per window.
    """
    circuit = protocol.circuit
    window_s = float(circuit.window_duration)
    n_windows = int(round(float(circuit.network.t) / window_s))
    kind = np.full(n_windows, "write", dtype=object)
    index = np.zeros(n_windows, dtype=np.int64)
    for number, readout in enumerate(readouts):
        windows = np.round(readout.query_onset_s / window_s).astype(np.int64)
        _check_readout_windows(protocol, readout, windows, n_windows, f"readouts[{number}]")
        kind[windows] = "read"
        index[windows] = np.arange(windows.size)
    writes = kind == "write"
    if int(writes.sum()) != protocol.n_written:
        raise ValueError(
            f"readouts: {int(writes.sum())} windows are named by no readout but "
            f"{protocol.n_written} patterns were written; pass every read of the timeline"
        )
    index[writes] = np.arange(int(writes.sum()))
    start = np.arange(n_windows) * window_s
    return {"start_s": start, "stop_s": start + window_s, "kind": kind, "index": index}


def _check_readout_windows(protocol, readout, windows, n_windows: int, name: str) -> None:
    """A readout's windows lie in the timeline and its active sets match the monitors."""
    circuit = protocol.circuit
    if readout.n_queries and (windows.min() < 0 or windows.max() >= n_windows):
        raise ValueError(
            f"{name}: its windows {windows.min()}..{windows.max()} lie outside the "
            f"{n_windows} windows simulated"
        )
    granule = circuit.monitors["granule_spikes"]
    dt = float(circuit.params.dynamics.dt)
    spike_window = np.floor(np.asarray(granule.t_) / dt + 0.5).astype(np.int64)
    spike_window //= circuit.timing.n_steps
    spike_cells = np.asarray(granule.i, dtype=np.int64)
    query_of_window = np.full(n_windows + 1, -1)
    query_of_window[windows] = np.arange(windows.size)
    query = query_of_window[np.clip(spike_window, -1, n_windows)]
    active = np.zeros(readout.active_granule.shape, dtype=bool)
    active[query[query >= 0], spike_cells[query >= 0]] = True
    if not np.array_equal(active, readout.active_granule):
        raise ValueError(
            f"{name}: its active_granule differs from the granule spikes the monitors hold now "
            "in its windows (a restore and another read replaced them)"
        )
