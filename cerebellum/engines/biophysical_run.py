"""The biophysical cerebellum behind the engine interface: calibrate, write, read, collect.

:class:`BiophysicalEngine` drives a :class:`~cerebellum.engines.biophysical.BiophysicalProtocol`
in continuous time: the schedule's background presentations, the Golgi calibration (runtime
device), a rest before each write, the writes and the reads. It hands over spike counts in the
decoding window, every spike, rates per phase, membrane traces and PF -> Purkinje weights as
numpy (:class:`BiophysicalDetails` inside the :class:`~cerebellum.engines.base.CircuitRun`);
the read is decoded from the DCN (and Purkinje) counts by
:mod:`cerebellum.engines.spiking_analysis`, the module that owns what is specific to spiking
circuits. No Brian2 object escapes :meth:`BiophysicalEngine.collect`.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import brian2
import numpy as np
from brian2 import second

from cerebellum.circuit import Circuit, build_circuit
from cerebellum.circuit.transfer import equivalent_radius
from cerebellum.engines import spiking_analysis
from cerebellum.engines.base import CircuitRun, Engine, Schedule, register_engine
from cerebellum.engines.biophysical import (
    BiophysicalProtocol,
    GolgiCalibration,
    _check_params,
    calibrate_golgi,
    mirror_active_fraction,
)
from models.soft_activation import ActivationCurve
from models.validation import check_int, check_quantity, check_real, check_rng

__all__ = ["BiophysicalDetails", "BiophysicalEngine"]


@dataclass(frozen=True, eq=False, kw_only=True)
class BiophysicalDetails:
    """What only the spiking analysis reads (numpy arrays, SI units in the names).

    Attributes
    ----------
    read_purkinje : list of ndarray of shape (n_queries, n_values)
        The read decoded from Purkinje counts instead of DCN counts.
    probe_weights_dcn, probe_weights_purkinje : list of ndarray of shape (n_queries, n_patterns)
        Each pattern's weight decoded from its one-hot probe channel.
    reference_counts_dcn, reference_counts_purkinje : list of ndarray of shape (n_queries, 2)
        Decoding-window counts of the ``zero`` and ``one`` references per read.
    granule_match_counts : list of ndarray of shape (n_queries, n_neurons), uint8
    granule_spike_counts : list of ndarray of shape (n_queries, n_neurons), uint16
    write_granule_spike_counts : ndarray of shape (n_patterns, n_neurons), uint16
    write_match_counts : ndarray of shape (n_patterns, n_neurons), uint8
    complex_spike_counts : ndarray of shape (n_patterns, n_channels_total), int64
    calibration : GolgiCalibration or None
    rates_hz : dict of str to dict of str to ndarray
        ``rates_hz[phase][population]``: mean rate of every cell over the presentations of
        ``phase`` in ``("background", "write", "read")``.
    channel_names : list of str
    presentation_s, gap_s, decode_delay_s : float
    onsets_s : dict of str to ndarray
        Onsets of every kind of presentation.
    """

    read_purkinje: list
    probe_weights_dcn: list
    probe_weights_purkinje: list
    reference_counts_dcn: list
    reference_counts_purkinje: list
    granule_match_counts: list
    granule_spike_counts: list
    write_granule_spike_counts: np.ndarray
    write_match_counts: np.ndarray
    complex_spike_counts: np.ndarray
    calibration: GolgiCalibration | None
    rates_hz: dict
    channel_names: list
    presentation_s: float
    gap_s: float
    decode_delay_s: float
    onsets_s: dict


@register_engine("biophysical")
class BiophysicalEngine(Engine):
    """Conductance-based spiking cells in continuous time (``dynamics.mode == "biophysical"``).

    Parameters
    ----------
    params, wiring, rng, report
        As for :class:`~cerebellum.engines.base.Engine`; ``rng`` seeds Brian2 and draws the
        calibration queries.
    target_fraction : float, optional
        Active granule fraction for the calibration, in (0, 1); default
        :func:`~cerebellum.engines.biophysical.mirror_active_fraction`.
    inhibition_scale : float, optional
        Skip the calibration and use this scale (required with ``cpp_standalone``).
    n_calibration_queries, n_calibration_steps : int
        See :func:`~cerebellum.engines.biophysical.calibrate_golgi`.
    decode_delay : Quantity (time), optional
        Start of the decoding window after each read onset; default 10 ms (our choice: after
        the granule-layer onset transient).
    raster_duration : Quantity (time)
        Length of the raster / trace window (the last writes and the first reads).
    track_memory : bool
        Record peak Python-heap memory into ``timings_s["peak_memory_mb"]``.
    """

    name = "biophysical"

    def __init__(
        self,
        params,
        wiring,
        *,
        rng: np.random.Generator,
        report=None,
        target_fraction: float | None = None,
        inhibition_scale: float | None = None,
        n_calibration_queries: int = 8,
        n_calibration_steps: int = 7,
        decode_delay=None,
        raster_duration=1.0 * second,
        track_memory: bool = False,
    ) -> None:
        _check_params(params)
        check_rng(rng)
        super().__init__(params, wiring, rng=rng, report=report)
        if target_fraction is None:
            target_fraction = mirror_active_fraction(params.granule)
        self.target_fraction = check_real(
            target_fraction, "target_fraction", low=0.0, high=1.0, low_open=True, high_open=True
        )
        if inhibition_scale is not None:
            inhibition_scale = check_real(inhibition_scale, "inhibition_scale", low=0.0)
        elif params.device.device == "cpp_standalone":
            raise ValueError(
                "inhibition_scale is required with device='cpp_standalone' (calibrate on the "
                "runtime device first)"
            )
        self.inhibition_scale = inhibition_scale
        self.n_calibration_queries = check_int(
            n_calibration_queries, "n_calibration_queries", low=1
        )
        self.n_calibration_steps = check_int(n_calibration_steps, "n_calibration_steps", low=1)
        presentation = params.dynamics.presentation
        delay = 10.0 * brian2.ms if decode_delay is None else decode_delay
        check_quantity(delay, "decode_delay", second, low=0.0)
        if not delay < presentation:
            raise ValueError(
                f"decode_delay must be below presentation={presentation!r}; got {delay!r}"
            )
        check_quantity(raster_duration, "raster_duration", second, low=0.0, low_open=True)
        self.decode_delay_s = float(delay)
        self.raster_s = float(raster_duration)
        self.track_memory = bool(track_memory)

    def prepare(self, schedule: Schedule) -> None:
        """Build the circuit and lay out the whole timeline (calibration blocks included)."""
        values = schedule.values
        if not np.isin(values, (0.0, 1.0)).all():
            raise ValueError("values must be binary (0 or 1): each bit is a climbing-fibre burst")
        check_int(schedule.n_background, "n_background", low=1)
        self.schedule = schedule
        self.timings: dict[str, float] = {}
        if self.track_memory:
            tracemalloc.start()
        self._clock_total = time.perf_counter()
        self._compile_args = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
        clock = time.perf_counter()
        circuit = build_circuit(
            self.params,
            self.wiring,
            n_values=values.shape[1],
            n_pattern_channels=schedule.n_patterns if schedule.pattern_channels else 0,
            rng=self.rng,
        )
        protocol = BiophysicalProtocol(circuit, report=self.report)
        self.timings["build"] = time.perf_counter() - clock
        protocol.background(schedule.n_background)
        self.blocks = (
            [] if self.inhibition_scale is not None else self._calibration_blocks(protocol)
        )
        self.write_index = protocol.write(schedule.addresses, values, n_rest=schedule.n_rest)
        self.read_index = [protocol.read(q) for q in schedule.query_sets]
        self.protocol = protocol

    def _calibration_blocks(self, protocol: BiophysicalProtocol) -> list[np.ndarray]:
        """Schedule the calibration queries, one block per search step plus the final one."""
        n_dims = self.params.granule.n_dims
        blocks = []
        for _ in range(self.n_calibration_steps + 1):
            first = protocol.n_presentations
            for row in self.rng.integers(
                0, 2, size=(self.n_calibration_queries, n_dims), dtype=np.uint8
            ):
                protocol.schedule("calibration", row, None)
            blocks.append(np.arange(first, protocol.n_presentations))
        return blocks

    def run(self) -> None:
        """Calibrate (runtime), then simulate the writes and the reads."""
        protocol, circuit = self.protocol, self.protocol.circuit
        try:
            self.calibration = None
            scale = self.inhibition_scale
            if self.blocks:
                clock = time.perf_counter()
                protocol.run(self.schedule.n_background)
                self.calibration = calibrate_golgi(
                    protocol, self.blocks, target_fraction=self.target_fraction
                )
                scale = self.calibration.inhibition_scale
                self.timings["calibrate"] = time.perf_counter() - clock
            circuit.groups["golgi_granule"].w_inhibition = (
                self.params.cells.golgi.g_inhibition * scale
            )
            self._simulate(protocol, circuit)
        except BaseException:
            self._finish()
            raise

    def _simulate(self, protocol: BiophysicalProtocol, circuit: Circuit) -> None:
        n_total = protocol.n_channels_total
        clock = time.perf_counter()
        if circuit.standalone:
            protocol.run()
            device = brian2.get_device()
            device.build(run=True, compile=True, directory=device.project_dir)
            self.timings["device_build"] = time.perf_counter() - clock
            self.timings["device_run"] = float(getattr(device, "_last_run_time", float("nan")))
            self.weights_before = np.full(
                (self.params.granule.n_neurons, n_total),
                self.params.cells.climbing.w_initial,
                dtype=np.float32,
            )
        else:
            self.weights_before = _pf_weights(circuit, n_total)
            protocol.run(int(self.write_index[-1]) + 1)
            self.timings["write"] = time.perf_counter() - clock
            clock = time.perf_counter()
            protocol.run()
            self.timings["read"] = time.perf_counter() - clock

    def _finish(self) -> None:
        """Leave Brian2 on the runtime device; close the wall-time and memory records."""
        if self.params.device.device == "cpp_standalone":
            brian2.device.reinit()
            brian2.set_device("runtime")
            brian2.prefs.codegen.cpp.extra_compile_args_gcc = self._compile_args
        self.timings["total"] = time.perf_counter() - self._clock_total
        if self.track_memory:
            self.timings["peak_memory_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()

    def collect(self) -> CircuitRun:
        """Spike counts, decoded reads, rates, rasters, traces, weights and epochs."""
        from cerebellum.engines.biophysical_collect import collect_run

        try:
            return collect_run(self)
        finally:
            self._finish()

    @classmethod
    def summarise(
        cls, run: CircuitRun, *, params, wiring, patterns, values, noise, rng
    ) -> dict | None:
        """The read against the mirror and the rates against the literature
        (:func:`cerebellum.engines.spiking_analysis.summarise`)."""
        return spiking_analysis.summarise(
            run,
            params=params,
            wiring=wiring,
            patterns=patterns,
            values=values,
            noise=noise,
            rng=rng,
        )


def _activation(params) -> dict:
    """The mirror's hard rule, whose active fraction the Golgi calibration targets."""
    g = params.granule
    k = g.n_synapses_per_cell
    d_eff = equivalent_radius(g)
    curve = ActivationCurve.hard_threshold(k, 0 if g.activation.selected else d_eff)
    label = (
        "the mirror's hard rule ("
        + (f"all K = {k} inputs match" if g.activation.selected else f"radius d = {d_eff}")
        + "), whose active fraction the Golgi calibration targets"
    )
    return {"label": label, "curve": curve, "closed_form": None}


def _pf_weights(circuit: Circuit, n_channels_total: int) -> np.ndarray:
    """Weights of the first Purkinje cell of each channel, shape (n_neurons, n_channels_total)."""
    syn = circuit.groups["granule_purkinje"]
    per = len(circuit.groups["purkinje"]) // n_channels_total
    w = np.asarray(syn.w[:], dtype=np.float32)
    j = np.asarray(syn.j[:])
    i = np.asarray(syn.i[:])
    first = j % per == 0
    out = np.empty((circuit.params.granule.n_neurons, n_channels_total), dtype=np.float32)
    out[i[first], j[first] // per] = w[first]
    return out


#: Synapse groups and the population whose spikes they carry.
_SYNAPSE_SOURCES = {
    "mossy_granule": "mossy",
    "mossy_golgi": "mossy",
    "granule_golgi": "granule",
    "golgi_granule": "golgi",
    "granule_mli": "granule",
    "granule_purkinje": "granule",
    "mli_purkinje": "mli",
    "climbing_purkinje": "climbing",
    "purkinje_dcn": "purkinje",
}


def _synaptic_events(circuit: Circuit, n_spikes: dict) -> int:
    """Sum over synapse groups of pre-synaptic spikes times the mean out-degree."""
    total = 0.0
    for name, source in _SYNAPSE_SOURCES.items():
        if name in circuit.groups:
            n_syn = len(circuit.groups[name])
            total += n_spikes[source] * n_syn / len(circuit.groups[source])
    return int(round(total))
