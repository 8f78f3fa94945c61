"""Run the biophysical cerebellum: calibrate, write, read, decode -- numpy out, nothing else.

The continuous-time protocol for :mod:`cerebellum.circuit.biophysical`. Time is a sequence of
back-to-back *presentations* of period ``T + G`` (``T = dynamics.presentation``, ``G =
dynamics.gap``): mossy fibres carry the address (push-pull Poisson trains) for ``T``, then all
fibres fire at the background rate for ``G`` while the state decays on its own. Kinds:

- ``background``: no address (spontaneous activity, measured first);
- ``calibration``: random queries while :func:`calibrate_golgi` searches the Golgi inhibition
  that gives the target fraction of active granule cells (plasticity off);
- ``rest``: no address and no plasticity, before each write: consecutive writes (and the last
  calibration query before the first write) lie ``1 + n_rest`` periods apart, so the
  parallel-fibre spikes of one write fall in the next write's LTD window only at its tail
  (``n_rest = 3``: 400 ms apart, the kernel at <= 4 % of its peak; back to back, 100 ms
  apart, it was 42-74 % and every write depressed the synapses of the pattern before it);
- ``write``: pattern ``mu``; the climbing fibre of every channel whose written bit is 1 fires a
  burst ``burst_delay`` after the onset (value channels: the pattern's value bits; probe
  channel ``nu``: 1 iff ``nu = mu``; reference ``zero``: never; reference ``one``: always);
  ``plasticity_gate`` is 1 during the presentation;
- ``read``: a query, plasticity off.

Each read is decoded from DCN (and Purkinje) spike counts against the two kinds of reference
channel of the same read (``zero``: LTP only; ``one``: LTD on every write); the decoding and
why it reads the SDM are :mod:`cerebellum.engines.spiking_analysis`'s.

References
----------
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Marr, D. (1969). A theory of cerebellar cortex. J. Physiol. 202, 437-470.
Albus, J. S. (1971). A theory of cerebellar function. Math. Biosci. 10, 25-61.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from brian2 import TimedArray, second
from scipy.stats import binom

from cerebellum.biophysical_params import (
    LIFGolgiParams,
    PoissonTrainMossyParams,
    TimingWindowClimbingParams,
)
from cerebellum.circuit import Circuit
from cerebellum.circuit.biophysical import (
    REFERENCE_ONE,
    REFERENCE_ZERO,
    n_reference_per_kind,
    reference_channels,
)
from cerebellum.engines.algorithmic import run_report_options
from cerebellum.params import CircuitParams, GranuleLayerParams
from models.activation import ActivationRule
from models.validation import check_int, check_real

__all__ = [
    "BIOPHYSICAL_POPULATIONS",
    "TRACED_POPULATIONS",
    "BiophysicalProtocol",
    "GolgiCalibration",
    "calibrate_golgi",
    "mirror_active_fraction",
]

#: Spiking populations, in circuit order (each has a ``<name>_spikes`` monitor).
BIOPHYSICAL_POPULATIONS = ("mossy", "granule", "golgi", "mli", "climbing", "purkinje", "dcn")

#: Populations with recorded membrane potentials (``<name>_traces``).
TRACED_POPULATIONS = ("granule", "golgi", "mli", "purkinje", "dcn")


def mirror_active_fraction(granule: GranuleLayerParams) -> float:
    """Probability that a uniform random query activates a cell under the mirror's hard rule.

    ``2**-n_inputs`` for the selected-coordinate and hyperplane rules, ``P[Bin(n, 1/2) <= d]``
    for a Hamming ball, ``k / r`` for top-k: the calibration target that makes the spiking
    layer as sparse as the mirror.

    Parameters
    ----------
    granule : GranuleLayerParams

    Returns
    -------
    float
    """
    if not isinstance(granule, GranuleLayerParams):
        raise TypeError(f"granule must be a GranuleLayerParams; got {type(granule).__name__}")
    if granule.activation.selected:
        return 2.0**-granule.n_inputs
    if granule.activation is ActivationRule.TOP_K:
        return granule.top_k / granule.n_neurons
    return float(binom.cdf(granule.activation_radius, granule.n_dims, 0.5))


@dataclass(frozen=True)
class GolgiCalibration:
    """Result of :func:`calibrate_golgi`.

    Attributes
    ----------
    inhibition_scale : float
        The chosen multiplier of ``LIFGolgiParams.g_inhibition``.
    target_fraction : float
        Asked-for fraction of granule cells active (>= 1 spike) per query.
    measured_fraction : float
        Mean fraction over the final calibration queries at ``inhibition_scale``.
    fraction_sd : float
        Its standard deviation across those queries.
    fractions : ndarray of shape (n_queries,)
        Per-query fractions at ``inhibition_scale``.
    scales_tried, fractions_tried : ndarray of shape (n_steps,)
        The search history (scale, mean fraction).
    """

    inhibition_scale: float
    target_fraction: float
    measured_fraction: float
    fraction_sd: float
    fractions: np.ndarray
    scales_tried: np.ndarray
    fractions_tried: np.ndarray


def _check_params(params: CircuitParams) -> None:
    if not isinstance(params, CircuitParams):
        raise TypeError(f"params must be a CircuitParams; got {type(params).__name__}")
    if params.dynamics.mode != "biophysical":
        raise ValueError(
            f"dynamics.mode must be 'biophysical' for the biophysical protocol; got "
            f"{params.dynamics.mode!r}"
        )
    expected = {
        "mossy": PoissonTrainMossyParams,
        "golgi": LIFGolgiParams,
        "climbing": TimingWindowClimbingParams,
    }
    for population, cls in expected.items():
        if not isinstance(getattr(params.cells, population), cls):
            raise TypeError(
                f"cells.{population} must be a {cls.__name__} in the biophysical protocol; got "
                f"{type(getattr(params.cells, population)).__name__}"
            )


class BiophysicalProtocol:
    """Drives a biophysical :class:`~cerebellum.circuit.Circuit` in continuous time.

    Parameters
    ----------
    circuit : Circuit
        Built from biophysical parameters (no run yet).
    report, report_period
        Brian2's progress callback, as for :class:`cerebellum.engines.algorithmic.Protocol`.
    """

    def __init__(self, circuit: Circuit, *, report=None, report_period: float = 1.0) -> None:
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a Circuit; got {type(circuit).__name__}")
        _check_params(circuit.params)
        self._run_options = run_report_options(report, report_period)
        self.circuit = circuit
        dyn = circuit.params.dynamics
        self.dt_s = float(dyn.dt)
        self.steps_on = dyn.n_input_steps
        self.steps_gap = dyn.n_gap_steps
        self.period_steps = self.steps_on + self.steps_gap
        self.slot_steps = (
            math.gcd(self.steps_on, self.steps_gap) if self.steps_gap else self.steps_on
        )
        self.n_reference_per_kind = n_reference_per_kind(circuit.params)
        self.n_channels_total = circuit.n_channels + 2 * self.n_reference_per_kind
        self.kinds: list[str] = []
        self._mossy_rows: list[np.ndarray] = []
        self._gate_rows: list[float] = []
        self._cf_indices: list[np.ndarray] = []
        self._cf_times: list[np.ndarray] = []
        self.write_bits: list[np.ndarray] = []
        self._n_written = 0
        self._frozen = False
        self._namespace: dict | None = None

    @property
    def period_s(self) -> float:
        """One presentation plus its gap, in seconds."""
        return self.period_steps * self.dt_s

    @property
    def n_presentations(self) -> int:
        """Presentations scheduled so far."""
        return len(self.kinds)

    def _mossy_row(self, bits: np.ndarray | None) -> np.ndarray:
        n_dims = self.circuit.params.granule.n_dims
        row = np.zeros(2 * n_dims)
        if bits is not None:
            row[2 * np.arange(n_dims) + bits] = 1.0
        return row

    def schedule(self, kind: str, bits: np.ndarray | None, cf_bits: np.ndarray | None) -> None:
        """Append one presentation (no simulation until :meth:`run`).

        Parameters
        ----------
        kind : {"background", "calibration", "rest", "write", "read"}
        bits : ndarray of shape (n_dims,), uint8, or None (background, rest)
        cf_bits : ndarray of shape (n_channels_total,), {0, 1}, or None
            Channels whose climbing fibre bursts (writes only).
        """
        if self._frozen:
            raise ValueError(
                "schedule: the timeline is fixed at the first run (one TimedArray for the whole "
                "run, so nothing is recompiled); schedule every presentation first"
            )
        onset = self.n_presentations * self.period_steps
        self.kinds.append(kind)
        self._mossy_rows.append(self._mossy_row(bits))
        self._gate_rows.append(1.0 if kind == "write" else 0.0)
        if cf_bits is not None:
            cf = self.circuit.params.cells.climbing
            channels = np.nonzero(np.asarray(cf_bits) > 0.5)[0]
            delay = round(float(cf.burst_delay) / self.dt_s)
            interval = max(1, round(float(cf.burst_interval) / self.dt_s))
            steps = onset + delay + interval * np.arange(cf.n_burst_spikes)
            self._cf_indices.append(np.repeat(channels, cf.n_burst_spikes))
            self._cf_times.append(np.tile(steps, channels.size) * self.dt_s)

    def _freeze(self) -> dict:
        """Build the run namespace once: TimedArrays and climbing-fibre spikes of the timeline."""
        c = self.circuit
        slots_per_on = self.steps_on // self.slot_steps
        slots_per_period = self.period_steps // self.slot_steps
        n_slots = self.n_presentations * slots_per_period
        mossy = np.zeros((n_slots, self._mossy_rows[0].size))
        gate = np.zeros(n_slots)
        for k, (row, g) in enumerate(zip(self._mossy_rows, self._gate_rows, strict=True)):
            first = k * slots_per_period
            mossy[first : first + slots_per_on] = row
            gate[first : first + slots_per_on] = g
        slot_dt = self.slot_steps * self.dt_s * second
        namespace = {}
        namespace["mf_pattern"] = TimedArray(mossy, dt=slot_dt, name="mf_pattern")
        namespace["plasticity_gate"] = TimedArray(gate, dt=slot_dt, name="plasticity_gate")
        if self._cf_indices:
            indices = np.concatenate(self._cf_indices).astype(int)
            times = np.concatenate(self._cf_times)
            order = np.lexsort((indices, times))
            c.groups["climbing"].set_spikes(indices[order], times[order] * second)
        self._frozen = True
        return namespace

    def run(self, until: int | None = None) -> None:
        """Simulate up to the end of presentation ``until - 1`` (default: all scheduled).

        The first call fixes the timeline (see :meth:`schedule`).
        """
        if not self.n_presentations:
            return
        if self._namespace is None:
            self._namespace = self._freeze()
        until = (
            self.n_presentations
            if until is None
            else check_int(until, "until", low=0, high=self.n_presentations)
        )
        done = int(round(float(self.circuit.network.t) / self.dt_s))
        total = until * self.period_steps
        if total > done:
            options = {} if self.circuit.standalone else self._run_options
            self.circuit.run((total - done) * self.dt_s * second, inputs=self._namespace, **options)

    # -- the steps of the experiment ------------------------------------------------------------

    def background(self, n: int) -> None:
        """Schedule ``n`` presentations without an address."""
        for _ in range(check_int(n, "n", low=0)):
            self.schedule("background", None, None)

    def write(self, addresses: np.ndarray, values: np.ndarray, *, n_rest: int = 0) -> np.ndarray:
        """Schedule the writes of ``addresses`` with binary ``values`` on the climbing fibres,
        each after ``n_rest`` rest presentations; returns the writes' presentation indices."""
        c = self.circuit
        n_rest = check_int(n_rest, "n_rest", low=0)
        n_new = addresses.shape[0]
        if c.n_pattern_channels and self._n_written + n_new > c.n_pattern_channels:
            raise ValueError(
                f"addresses: at most n_pattern_channels={c.n_pattern_channels} patterns can be "
                f"written; got {self._n_written} + {n_new}"
            )
        indices = []
        for row, value in zip(addresses, values, strict=True):
            for _ in range(n_rest):
                self.schedule("rest", None, None)
            cf = np.zeros(self.n_channels_total)
            cf[: c.n_values] = value
            if c.n_pattern_channels:
                cf[c.n_values + self._n_written] = 1.0
            k = self.n_reference_per_kind
            cf[reference_channels(c.n_channels, k, REFERENCE_ONE)] = 1.0
            cf[reference_channels(c.n_channels, k, REFERENCE_ZERO)] = 0.0
            indices.append(self.n_presentations)
            self.schedule("write", row, cf)
            self.write_bits.append(row)
            self._n_written += 1
        return np.asarray(indices, dtype=np.int64)

    def read(self, queries: np.ndarray) -> np.ndarray:
        """Schedule reads; returns their presentation indices."""
        first = self.n_presentations
        for row in queries:
            self.schedule("read", row, None)
        return np.arange(first, self.n_presentations)

    # -- read-out -------------------------------------------------------------------------------

    def spikes(self, population: str) -> tuple[np.ndarray, np.ndarray]:
        """All spikes of ``population`` so far: ``(times_s, cells)``."""
        monitor = self.circuit.monitors[f"{population}_spikes"]
        return np.asarray(monitor.t_), np.asarray(monitor.i)

    def counts(
        self,
        population: str,
        presentations: np.ndarray,
        *,
        start_s: float = 0.0,
        stop_s: float | None = None,
        spikes: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Spike counts per presentation and cell in ``[onset + start_s, onset + stop_s)``.

        Returns
        -------
        ndarray of shape (len(presentations), n_cells), int64
        """
        times, cells = self.spikes(population) if spikes is None else spikes
        n_cells = len(self.circuit.groups[population])
        stop_s = self.steps_on * self.dt_s if stop_s is None else stop_s
        period = self.period_s
        # Records lie on the step grid: shift by half a step before flooring.
        steps = np.floor(times / self.dt_s + 0.5).astype(np.int64)
        index = steps // self.period_steps
        offset = (steps - index * self.period_steps) * self.dt_s
        keep = (offset >= start_s - 1e-12) & (offset < stop_s - 1e-12)
        lookup = np.full(self.n_presentations + 1, -1, dtype=np.int64)
        lookup[np.asarray(presentations, dtype=np.int64)] = np.arange(len(presentations))
        index = np.clip(index, 0, self.n_presentations)
        row = lookup[index]
        keep &= row >= 0
        out = np.zeros((len(presentations), n_cells), dtype=np.int64)
        np.add.at(out, (row[keep], cells[keep]), 1)
        del period
        return out


def calibrate_golgi(
    protocol: BiophysicalProtocol,
    blocks: list,
    *,
    target_fraction: float,
) -> GolgiCalibration:
    """Search the Golgi inhibition scale that makes ``target_fraction`` of granule cells fire.

    Runs (runtime device) the scheduled calibration presentations block by block, plasticity
    off. The active fraction (>= 1 granule spike) falls with the scale, so the search doubles
    or halves the scale until the target is bracketed, then bisects geometrically; the last
    block runs at the log-linear interpolation between the bracketing scales, and its
    measurement is the reported fraction and spread across queries. The network keeps
    running: the state between blocks decays in the gaps, and no weight changes.

    Parameters
    ----------
    protocol : BiophysicalProtocol
        Already holding the calibration presentations (``kind="calibration"``), not yet run
        past the first block.
    blocks : list of ndarray of int
        Presentation indices of each search step; the last block is the final measurement
        (at least two blocks).
    target_fraction : float
        In (0, 1).

    Returns
    -------
    GolgiCalibration
    """
    target = check_real(
        target_fraction, "target_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    if not isinstance(blocks, list) or len(blocks) < 2:
        raise ValueError("blocks must be a list of at least two index arrays")
    c = protocol.circuit
    if c.standalone:
        raise ValueError("device: calibrate_golgi needs the runtime device; got cpp_standalone")
    synapses = c.groups["golgi_granule"]
    g_unit = c.params.cells.golgi.g_inhibition
    n_neurons = c.params.granule.n_neurons

    def measure(scale: float, block: np.ndarray) -> np.ndarray:
        synapses.w_inhibition = g_unit * scale
        protocol.run(int(block[-1]) + 1)
        counts = protocol.counts("granule", block)
        return (counts > 0).sum(axis=1) / n_neurons

    scales, fractions = [], []
    scale = float(c.params.cells.golgi.inhibition_scale) or 1.0
    low = high = None  # scales whose fraction is above / below the target
    for block in blocks[:-1]:
        fraction = float(measure(scale, block).mean())
        scales.append(scale)
        fractions.append(fraction)
        if fraction > target:
            low = scale if low is None or scale > low else low
        else:
            high = scale if high is None or scale < high else high
        if high is None:
            scale *= 2.0
        elif low is None:
            scale /= 2.0
        else:
            scale = math.sqrt(low * high)
    scales_np, fractions_np = np.asarray(scales), np.asarray(fractions)
    scale = _final_scale(scales_np, fractions_np, low, high, target)
    final = measure(scale, blocks[-1])
    return GolgiCalibration(
        inhibition_scale=float(scale),
        target_fraction=target,
        measured_fraction=float(final.mean()),
        fraction_sd=float(final.std(ddof=1)) if final.size > 1 else 0.0,
        fractions=final,
        scales_tried=scales_np,
        fractions_tried=fractions_np,
    )


def _final_scale(scales, fractions, low, high, target: float) -> float:
    """The scale of the final block: log-linear between the bracketing scales, else the
    closest tried (on a log scale of the fraction)."""
    if low is None or high is None:
        error = np.abs(np.log(np.maximum(fractions, 1e-12) / target))
        return float(scales[np.argmin(error)])
    f_low = fractions[scales == low][-1]
    f_high = fractions[scales == high][-1]
    if not f_low > f_high > 0:
        return math.sqrt(low * high)
    weight = (math.log(f_low) - math.log(target)) / (math.log(f_low) - math.log(f_high))
    return math.exp(math.log(low) + weight * (math.log(high) - math.log(low)))
