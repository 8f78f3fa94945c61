"""Write m patterns, then read q queries: the experiment protocol on a built circuit.

One presentation window per pattern or query (see :mod:`cerebellum.circuit`). Inputs enter
the network through three ``TimedArray`` s indexed by window, rebuilt for every run:

- ``mf_pattern(t, f)`` -- 1 if mossy fibre ``f`` is active in the window (``f = 2 i + bit_i``);
- ``cf_value(t, c)`` -- the climbing-fibre signal: the value written on Purkinje channel ``c``
  (the pattern's value, then its one-hot pattern code on the pattern channels);
- ``plasticity_gate(t)`` -- 1 during writes, 0 during reads, so reads never change a weight
  or a write count.

Because reads leave weights and write counts untouched, reads of different query sets see the
same written state; :meth:`Protocol.store` / :meth:`Protocol.restore` (runtime device) also
rewind the clock, the monitors and Brian2's random state so a read can be repeated exactly;
:meth:`Protocol.frozen_reader` packages that as a reader that always reads the stored state
(for iterated recall). :meth:`Protocol.raster` hands the spikes and rates of chosen windows
over as plain numpy arrays. With ``cpp_standalone`` nothing runs until the engine
(:class:`~cerebellum.engines.algorithmic_run.AlgorithmicEngine`)
builds the project once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import TimedArray, second

from cerebellum.circuit import Circuit
from cerebellum.engines.readout import Readout, as_numpy, binary_matrix, value_matrix
from models.validation import check_int, check_real

__all__ = ["FrozenReader", "Protocol", "run_report_options"]


def run_report_options(report, report_period: float) -> dict:
    """``network.run`` keyword arguments for a progress callback (empty without one).

    Parameters
    ----------
    report : callable or None
        ``report(elapsed, completed, start, duration)`` (Brian2's report protocol).
    report_period : float
        Wall seconds between calls, > 0.

    Returns
    -------
    dict
    """
    if report is None:
        return {}
    if not callable(report):
        raise TypeError(f"report must be callable or None; got {type(report).__name__}")
    period = check_real(report_period, "report_period", low=0.0, low_open=True)
    return {"report": report, "report_period": period * second}


class Protocol:
    """Drives a :class:`~cerebellum.circuit.Circuit`: writes, reads, store and restore.

    Parameters
    ----------
    circuit : Circuit
        A freshly built circuit (no run yet).
    report : callable, optional
        Brian2's progress callback ``report(elapsed, completed, start, duration)``
        (``completed`` a fraction of the current run), passed to every ``network.run`` at
        runtime (cpp_standalone runs its own loop and takes none).
    report_period : float
        Wall seconds between calls (default 1).
    """

    def __init__(self, circuit: Circuit, *, report=None, report_period: float = 1.0) -> None:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a Circuit; got {type(circuit).__name__}")
        self._run_options = run_report_options(report, report_period)
        self.circuit = circuit
        self._n_windows = 0
        self._n_written = 0
        self._stored: dict[str, tuple[int, int]] = {}

    @property
    def n_written(self) -> int:
        """Patterns written so far."""
        return self._n_written

    # -- running ------------------------------------------------------------------------------

    def _run_windows(self, bits: np.ndarray, cf_values: np.ndarray | None) -> int:
        """Simulate one window per row of ``bits``; returns the first window index."""
        c = self.circuit
        start, n_new = self._n_windows, bits.shape[0]
        total = start + n_new
        n_dims = c.params.granule.n_dims
        duration = c.window_duration
        namespace: dict = {}
        if c.params.dynamics.mossy_drive == "injected":
            drive = np.zeros((total, c.params.granule.n_neurons))
            drive[start:] = c.wiring.match_counts(bits)
            namespace["granule_drive"] = TimedArray(drive, dt=duration)
        else:
            mossy = np.zeros((total, 2 * n_dims))
            rows = np.repeat(np.arange(start, total), n_dims)
            mossy[rows, (2 * np.arange(n_dims)[None, :] + bits).ravel()] = 1.0
            namespace["mf_pattern"] = TimedArray(mossy, dt=duration)
        climbing = np.zeros((total, c.n_channels))
        gate = np.zeros(total)
        if cf_values is not None:
            climbing[start:] = cf_values
            gate[start:] = 1.0
        namespace["cf_value"] = TimedArray(climbing, dt=duration)
        namespace["plasticity_gate"] = TimedArray(gate, dt=duration)
        if n_new:
            options = {} if c.standalone else self._run_options
            c.run(n_new * duration, inputs=namespace, **options)
            if not c.standalone:
                self._check_completed(total)
        self._n_windows = total
        return start

    def _check_completed(self, n_windows: int) -> None:
        """Raise if Brian2 stopped the run early.

        Brian2 turns a first Ctrl+C during ``Network.run`` into a request to stop after the
        current time step and returns normally; the windows after that step were never
        simulated, so any read-out would be silently wrong. Treat it as the interrupt it is.
        """
        c = self.circuit
        expected_steps = n_windows * c.timing.n_steps
        done_steps = int(round(float(c.network.t / c.params.dynamics.dt)))
        if done_steps < expected_steps:
            raise KeyboardInterrupt(
                f"simulation stopped after {done_steps} of {expected_steps} time steps"
            )

    def write(self, addresses, values) -> None:
        """Write patterns with plasticity on (one window each, in order).

        Parameters
        ----------
        addresses : ndarray or Tensor of shape (n_patterns, n_dims), {0, 1}
            Pattern addresses ``p_a``.
        values : ndarray or Tensor of shape (n_patterns, n_values), float
            Pattern values ``p_v``, carried by the climbing fibres.
        """
        c = self.circuit
        bits = binary_matrix("addresses", addresses, c.params.granule.n_dims)
        values = value_matrix("values", values, c.n_values, bits.shape[0])
        n_new = bits.shape[0]
        if c.n_pattern_channels and self._n_written + n_new > c.n_pattern_channels:
            raise ValueError(
                f"addresses: at most n_pattern_channels={c.n_pattern_channels} patterns can be "
                f"written; got {self._n_written} + {n_new}"
            )
        one_hot = np.zeros((n_new, c.n_pattern_channels))
        if c.n_pattern_channels:
            one_hot[np.arange(n_new), self._n_written + np.arange(n_new)] = 1.0
        self._run_windows(bits, np.concatenate([values, one_hot], axis=1))
        self._n_written += n_new

    def schedule_read(self, queries) -> tuple[int, np.ndarray]:
        """Simulate (or, standalone, queue) the read windows; see :meth:`read`.

        Parameters
        ----------
        queries : ndarray or Tensor of shape (n_queries, n_dims), {0, 1}

        Returns
        -------
        start : int
            Index of the first read window (pass to :meth:`collect`).
        queries : ndarray of shape (n_queries, n_dims), uint8
        """
        bits = binary_matrix("queries", queries, self.circuit.params.granule.n_dims)
        return self._run_windows(bits, None), bits

    def read(self, queries) -> Readout:
        """Read queries with plasticity off (runtime device).

        Parameters
        ----------
        queries : ndarray or Tensor of shape (n_queries, n_dims), {0, 1}

        Returns
        -------
        Readout
        """
        if self.circuit.standalone:
            raise ValueError(
                "device: read() needs the runtime device; with cpp_standalone use the engine "
                "(cerebellum.engines.simulate)"
            )
        start, bits = self.schedule_read(queries)
        return self.collect(start, bits)

    def store(self, name: str = "written") -> None:
        """Snapshot the network state (runtime device), e.g. right after the writes.

        Parameters
        ----------
        name : str
            Snapshot name for :meth:`restore`.
        """
        if self.circuit.standalone:
            raise ValueError("device: store() needs the runtime device; got cpp_standalone")
        self.circuit.network.store(name)
        self._stored[name] = (self._n_windows, self._n_written)

    def restore(self, name: str = "written") -> None:
        """Return to a snapshot made by :meth:`store`.

        Parameters
        ----------
        name : str
            A name given to :meth:`store`.
        """
        if name not in self._stored:
            raise ValueError(f"name must be a stored snapshot {sorted(self._stored)}; got {name!r}")
        self.circuit.network.restore(name)
        self._n_windows, self._n_written = self._stored[name]

    # -- read-out -----------------------------------------------------------------------------

    def _window_of(self, times_s: np.ndarray) -> np.ndarray:
        dt = float(self.circuit.params.dynamics.dt)
        steps = np.floor(np.asarray(times_s) / dt + 0.5).astype(np.int64)
        return steps // self.circuit.timing.n_steps

    def collect(self, start: int, queries: np.ndarray) -> Readout:
        """Gather the monitors of windows ``start .. start + len(queries) - 1`` into a Readout.

        Parameters
        ----------
        start : int
            From :meth:`schedule_read`.
        queries : ndarray of shape (n_queries, n_dims), uint8

        Returns
        -------
        Readout
        """
        c = self.circuit
        mon = c.monitors
        n_q = queries.shape[0]
        n_v, n_c = c.n_values, c.n_channels
        spikes = mon["granule_spikes"]
        window = self._window_of(np.asarray(spikes.t_)) - start
        keep = (window >= 0) & (window < n_q)
        active = np.zeros((n_q, c.params.granule.n_neurons), dtype=bool)
        active[window[keep], np.asarray(spikes.i)[keep]] = True

        def per_window(monitor, names, n_cells):
            win = self._window_of(np.asarray(monitor.t_)) - start
            sel = (win >= 0) & (win < n_q)
            cells = np.asarray(monitor.i)[sel]
            out = []
            for name in names:
                values = monitor.variables[name].get_value()
                grid = np.full((n_q, n_cells), np.nan)
                grid[win[sel], cells] = np.asarray(values, dtype=np.float64)[sel]
                out.append(grid)
            return out

        pf_input, read, rate = per_window(mon["purkinje"], ("pf_input", "read", "rate"), n_c)
        (dcn_rate,) = per_window(mon["dcn"], ("rate",), n_v)
        (write_input,) = per_window(mon["mli"], ("write_count_input",), 1)
        (active_count,) = per_window(mon["golgi"], ("active_count",), 1)
        pl = c.params.plasticity
        w0, dw = pl.pf_weight_initial, pl.pf_weight_step
        intersections = (w0 * active_count + dw * write_input - pf_input[:, n_v:]) / (2 * dw)
        total = intersections.sum(axis=1, keepdims=True)
        weights = np.divide(intersections, total, out=np.zeros_like(intersections), where=total > 0)
        onset = (start + np.arange(n_q)) * float(c.window_duration)
        return Readout(
            queries=queries,
            active_granule=active,
            golgi_active_count=active_count[:, 0],
            mli_write_count_input=write_input[:, 0],
            purkinje_input=pf_input,
            purkinje_rate_hz=rate,
            dcn_rate_hz=dcn_rate,
            read=read[:, :n_v],
            pattern_intersections=intersections,
            pattern_weights=weights,
            query_onset_s=onset,
        )

    def raster(self, first_window: int, n_windows: int) -> dict:
        """Spikes and window-end rates of ``n_windows`` windows from ``first_window``, as numpy.

        For raster figures (e.g. the last write window and the first read window:
        ``raster(n_patterns - 1, 2)`` right after the first read). A record belongs to the
        selection when its time lies in ``[start_s, start_s + n_windows * window_s)``, each
        end moved half a time step earlier (records sit on the step grid).

        Parameters
        ----------
        first_window : int
            Index of the first window (writes and reads are numbered in the order run), >= 0.
        n_windows : int
            Number of windows, >= 1.

        Returns
        -------
        dict
            ``window_s`` (float, s), ``start_s`` (float, s), and per population
            ``mossy`` (None on the injected fast path, which has no fibres) and
            ``granule`` {``times_s``, ``cells``} (spikes), ``purkinje`` and ``dcn``
            {``times_s``, ``cells``, ``rate``} (window-end rates in Hz); arrays are numpy.
        """
        first_window = check_int(first_window, "first_window", low=0)
        n_windows = check_int(n_windows, "n_windows", low=1)
        c = self.circuit
        window_s = float(c.window_duration)
        start_s = first_window * window_s
        stop_s = start_s + n_windows * window_s
        half_step = 0.5 * float(c.params.dynamics.dt)

        def select(monitor, *names):
            t = np.asarray(monitor.t_)
            keep = (t >= start_s - half_step) & (t < stop_s - half_step)
            out = {"times_s": t[keep], "cells": np.asarray(monitor.i)[keep]}
            for name in names:
                out[name] = np.asarray(monitor.variables[name].get_value(), dtype=float)[keep]
            return out

        mossy = c.monitors.get("mossy_spikes")  # none on the injected fast path
        return {
            "window_s": window_s,
            "start_s": start_s,
            "mossy": None if mossy is None else select(mossy),
            "granule": select(c.monitors["granule_spikes"]),
            "purkinje": select(c.monitors["purkinje"], "rate"),
            "dcn": select(c.monitors["dcn"], "rate"),
        }

    def frozen_reader(self, snapshot: str = "written") -> FrozenReader:
        """A reader that reads from the stored state ``snapshot`` every time (runtime device).

        What :func:`models.recall.recall` iterates: each :meth:`FrozenReader.read` restores
        the snapshot first, so every read sees the written memory, never an earlier read.

        Parameters
        ----------
        snapshot : str
            A name given to :meth:`store`.

        Returns
        -------
        FrozenReader
        """
        if self.circuit.standalone:
            raise ValueError("device: frozen_reader() needs the runtime device; got cpp_standalone")
        if snapshot not in self._stored:
            raise ValueError(
                f"snapshot must be a stored snapshot {sorted(self._stored)}; got {snapshot!r}"
            )
        return FrozenReader(protocol=self, snapshot=snapshot)

    # -- synaptic state ------------------------------------------------------------------------

    def pf_weights(self) -> np.ndarray:
        """PF -> Purkinje weights ``w``.

        Returns
        -------
        ndarray of shape (n_neurons, n_channels), float64
        """
        c = self.circuit
        syn = c.groups["granule_purkinje"]
        weights = np.empty((c.params.granule.n_neurons, c.n_channels))
        weights[np.asarray(syn.i[:]), np.asarray(syn.j[:])] = np.asarray(syn.w[:])
        return weights

    def write_counts(self) -> np.ndarray:
        """Write counts stored at the PF -> MLI synapses.

        Returns
        -------
        ndarray of shape (n_neurons,), float64 (integer-valued)
        """
        c = self.circuit
        syn = c.groups["granule_mli"]
        counts = np.empty(c.params.granule.n_neurons)
        counts[np.asarray(syn.i[:])] = np.asarray(syn.n_writes[:])
        return counts

    def counters(self) -> np.ndarray:
        """The mirror's counters decoded from the weights: ``(w0 + dw n_writes - w) / (2 dw)``.

        Returns
        -------
        ndarray of shape (n_neurons, n_channels), float64
        """
        pl = self.circuit.params.plasticity
        w0, dw = pl.pf_weight_initial, pl.pf_weight_step
        return (w0 + dw * self.write_counts()[:, None] - self.pf_weights()) / (2 * dw)


@dataclass(frozen=True)
class FrozenReader:
    """Reads queries through the circuit, each time from the same stored state.

    Made by :meth:`Protocol.frozen_reader`. Anything with ``n_dims`` and ``read`` can be
    iterated by :func:`models.recall.recall`.

    Attributes
    ----------
    protocol : Protocol
    snapshot : str
        The :meth:`Protocol.store` name restored before every read.
    """

    protocol: Protocol
    snapshot: str

    @property
    def n_dims(self) -> int:
        """Address length n."""
        return self.protocol.circuit.params.granule.n_dims

    def read(self, queries) -> np.ndarray:
        """Restore the snapshot, read ``queries`` and return the decoded read.

        Parameters
        ----------
        queries : ndarray or CPU Tensor of shape (n_queries, n_dims), {0, 1}

        Returns
        -------
        ndarray of shape (n_queries, n_values), float64
            :attr:`cerebellum.engines.readout.Readout.read`.
        """
        self.protocol.restore(self.snapshot)
        return self.protocol.read(as_numpy("queries", queries)).read
