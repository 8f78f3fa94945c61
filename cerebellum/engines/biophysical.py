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

Decoding (a read-out choice, measured in the same run, not a formula inside the network):
with ``x_c`` the spike count of channel ``c``'s DCN cells (or Purkinje cells) in
``[onset + decode_delay, onset + T)`` of a read,

``read_c = (x_c - x_zero) / (x_one - x_zero)``,

the position of channel ``c`` between the two kinds of reference channel of the same read,
``x_zero`` and ``x_one`` being the mean counts of the ``k`` channels of each kind
(``LIFPurkinjeParams.n_reference_per_kind``): ``zero`` has had only LTP (baseline) and
``one`` LTD on every write (saturation). For a linear
PC/DCN transfer this is ``sum_mu v_mu,c I_mu / sum_mu I_mu`` with ``I_mu`` the LTD-weighted
overlap of the read's and pattern ``mu``'s parallel-fibre activity -- the SDM read
(Kanerva 1988) without a write-count normaliser in the circuit; probe channel ``nu`` decodes to
pattern ``nu``'s weight. The references replace the algorithmic model's write-count MLI
(which would be a hypothesis, not a measured mechanism).

Everything leaves as numpy (:class:`BiophysicalResult`); no Brian2 object escapes
:func:`run_biophysical`.

References
----------
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Marr, D. (1969). A theory of cerebellar cortex. J. Physiol. 202, 437-470.
Albus, J. S. (1971). A theory of cerebellar function. Math. Biosci. 10, 25-61.
"""

from __future__ import annotations

import math
import time
import tracemalloc
from dataclasses import dataclass, field

import brian2
import numpy as np
from brian2 import TimedArray, second
from scipy.stats import binom

from cerebellum.biophysical_params import (
    LIFGolgiParams,
    PoissonTrainMossyParams,
    TimingWindowClimbingParams,
)
from cerebellum.circuit import Circuit, build_circuit
from cerebellum.circuit.biophysical import (
    REFERENCE_ONE,
    REFERENCE_ZERO,
    n_reference_per_kind,
    reference_channels,
)
from cerebellum.engines.algorithmic import run_report_options
from cerebellum.engines.readout import Readout, as_numpy, binary_matrix, value_matrix
from cerebellum.params import CircuitParams, GranuleLayerParams
from cerebellum.wiring import Wiring
from models.activation import ActivationRule
from models.validation import check_int, check_quantity, check_real, check_rng

__all__ = [
    "BIOPHYSICAL_POPULATIONS",
    "BiophysicalProtocol",
    "BiophysicalResult",
    "GolgiCalibration",
    "calibrate_golgi",
    "compare_with_mirror",
    "LITERATURE_RATES_HZ",
    "PER_LEVEL_MEASURES",
    "mirror_active_fraction",
    "rates_against_literature",
    "run_biophysical",
]

#: Spiking populations, in circuit order (each has a ``<name>_spikes`` monitor).
BIOPHYSICAL_POPULATIONS = ("mossy", "granule", "golgi", "mli", "climbing", "purkinje", "dcn")

#: Published firing-rate ranges (Hz) per population and the phases they apply to: ``(low,
#: high, phases, source)``. Granule cells: sparse, mostly silent at rest (~0.5 Hz spontaneous
#: in vivo, Chadderton, Margrie & Hausser 2004); the bound 5 Hz on the mean is our reading of
#: "sparse". Mossy fibres: a few Hz at rest up to hundreds of Hz when driven (Rancz et al.
#: 2007; Arenz et al. 2008); in a read half of the fibres are driven. Golgi cells 5-30 Hz
#: (Vos et al. 1999; Holtzman et al. 2006); molecular-layer interneurons 5-30 Hz (Jorntell &
#: Ekerot 2002; Hausser & Clark 1997); Purkinje simple spikes 40-100 Hz (Zhou et al. 2014);
#: deep-nuclear cells 20-60 Hz (Person & Raman 2012). Climbing fibres fire only the write
#: bursts here (their ~1 Hz spontaneous complex spikes, e.g. Zhou et al. 2014, are not
#: modelled), checked by the complex-spike counts, not by a rate.
LITERATURE_RATES_HZ = {
    "granule": (0.0, 5.0, ("background", "read"), "Chadderton et al. 2004 (sparse)"),
    "mossy": (1.0, 300.0, ("background", "read"), "Rancz et al. 2007; Arenz et al. 2008"),
    "golgi": (5.0, 30.0, ("background", "read"), "Vos et al. 1999; Holtzman et al. 2006"),
    "mli": (5.0, 30.0, ("background", "read"), "Jorntell & Ekerot 2002; Hausser & Clark 1997"),
    "purkinje": (40.0, 100.0, ("background", "read"), "Zhou et al. 2014"),
    "dcn": (20.0, 60.0, ("background", "read"), "Person & Raman 2012"),
}


def rates_against_literature(rates_hz: dict) -> list[dict]:
    """Each population's mean rate per phase beside its published range.

    Parameters
    ----------
    rates_hz : dict
        :attr:`BiophysicalResult.rates_hz` (``rates_hz[phase][population]``, per cell).

    Returns
    -------
    list of dict
        One row per population of :data:`LITERATURE_RATES_HZ`: ``population``, ``low_hz``,
        ``high_hz``, ``source``, ``phases`` (the phases the range applies to), per phase
        ``<phase>_mean_hz``, ``<phase>_median_hz`` and ``<phase>_p10_hz`` / ``_p90_hz``
        (across cells), and ``in_range`` (every applicable phase's mean inside the range).
    """
    rows = []
    for population, (low, high, phases, source) in LITERATURE_RATES_HZ.items():
        row = {"population": population, "low_hz": low, "high_hz": high, "source": source}
        row["phases"] = list(phases)
        inside = []
        for phase, by_population in rates_hz.items():
            rate = np.asarray(by_population[population], dtype=np.float64)
            mean = float(rate.mean())
            row[f"{phase}_mean_hz"] = mean
            row[f"{phase}_median_hz"] = float(np.median(rate))
            row[f"{phase}_p10_hz"] = float(np.percentile(rate, 10))
            row[f"{phase}_p90_hz"] = float(np.percentile(rate, 90))
            if phase in phases:
                inside.append(low <= mean <= high)
        row["in_range"] = bool(inside) and all(inside)
        rows.append(row)
    return rows


#: The per-noise-level measures of :func:`compare_with_mirror` (one array over the levels each;
#: ``probe_weight_error`` only with probe channels).
PER_LEVEL_MEASURES = (
    "cosine_dcn",
    "bit_agreement_dcn",
    "cosine_purkinje",
    "bit_agreement_purkinje",
    "cosine_attention_dcn",
    "bit_agreement_attention_dcn",
    "jaccard",
    "probe_weight_error",
)

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


@dataclass(frozen=True, eq=False)
class BiophysicalResult:
    """What :func:`run_biophysical` measured (numpy arrays, SI units in the names).

    Attributes
    ----------
    readouts : list of Readout
        One per query set. Meanings in the biophysical mode: ``read`` -- decoded from DCN
        spike counts (module docstring); ``active_granule`` -- >= 1 spike during the
        presentation; ``golgi_active_count`` -- number of active granule cells;
        ``mli_write_count_input`` -- MLI spikes in the decoding window (there is no write
        count); ``purkinje_input`` -- Purkinje spike counts per channel (value + probe; probe
        columns NaN without probe channels) in the decoding window; ``purkinje_rate_hz``,
        ``dcn_rate_hz`` -- their mean rates per cell;
        ``pattern_intersections`` -- ``|A_read ∩ A_write(mu)|`` of the spiking active sets;
        ``pattern_weights`` -- those normalised to sum 1.
    read_purkinje : list of ndarray of shape (n_queries, n_values)
        The read decoded from Purkinje counts instead.
    probe_weights_dcn, probe_weights_purkinje : list of ndarray of shape (n_queries, n_patterns)
        Each pattern's weight decoded from its one-hot probe channel (module docstring).
    reference_counts_dcn, reference_counts_purkinje : list of ndarray of shape (n_queries, 2)
        Decoding-window counts of the ``zero`` and ``one`` references per read (the mean over
        the reference channels of each kind).
    granule_match_counts : list of ndarray of shape (n_queries, n_neurons), uint8
        Matching mossy-fibre inputs ``h`` of every granule cell for every query.
    granule_spike_counts : list of ndarray of shape (n_queries, n_neurons), uint16
        Granule spikes during each read presentation.
    write_granule_spike_counts : ndarray of shape (n_patterns, n_neurons), uint16
    write_match_counts : ndarray of shape (n_patterns, n_neurons), uint8
    complex_spike_counts : ndarray of shape (n_patterns, n_channels_total), int64
        Complex spikes per write and channel (summed over the channel's Purkinje cells).
    calibration : GolgiCalibration or None
    rates_hz : dict of str to dict of str to ndarray
        ``rates_hz[phase][population]``: mean rate of every cell over the presentations of
        ``phase`` in ``("background", "write", "read")``.
    raster : dict of str to dict of str to ndarray
        ``raster[population] = {"times_s", "cells"}`` over ``raster_window_s``.
    raster_window_s : tuple of float
    traces : dict of str to dict of str to ndarray
        ``traces[population] = {"times_s": (n_samples,), "v_volt": (n_cells, n_samples)}``
        for the recorded cells over ``raster_window_s``.
    pf_weights_before, pf_weights_after : ndarray of shape (n_neurons, n_channels_total)
        PF -> Purkinje weights of the first Purkinje cell of each channel (all cells of a
        channel share their weights: same PF spikes, same climbing fibre), before the writes
        and after the reads.
    channel_names : list of str
        ``value_i``, ``probe_mu``, ``reference_zero_k``, ``reference_one_k``.
    presentation_s, gap_s, decode_delay_s : float
    onsets_s : dict of str to ndarray
        Onsets of the ``background``, ``calibration``, ``rest``, ``write`` and ``read``
        presentations.
    n_spikes : dict of str to int
        Spikes per population over the whole run.
    n_synaptic_events : int
        Pre-synaptic spikes times out-degree, over all synapse groups.
    simulated_s : float
    timings_s : dict of str to float
        ``build``, ``calibrate``, ``write``, ``read`` (runtime) or ``device_build`` and
        ``device_run`` (standalone), ``total``.
    spike_trains : dict of str to dict of str to ndarray
        ``spike_trains[population] = {"times_s", "cells"}``: every spike of the run (what
        :func:`cerebellum.io.nwb.biophysical_content` exports).
    """

    readouts: list
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
    raster: dict
    raster_window_s: tuple
    traces: dict
    pf_weights_before: np.ndarray
    pf_weights_after: np.ndarray
    channel_names: list
    presentation_s: float
    gap_s: float
    decode_delay_s: float
    onsets_s: dict
    n_spikes: dict
    n_synaptic_events: int
    simulated_s: float
    timings_s: dict = field(default_factory=dict)
    spike_trains: dict = field(default_factory=dict)


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
            self.circuit.run(
                (total - done) * self.dt_s * second, inputs=self._namespace, **options
            )

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


def _channel_counts(counts: np.ndarray, n_channels: int) -> np.ndarray:
    """Sum cell counts over the cells of each channel (channel-major groups)."""
    per = counts.shape[1] // n_channels
    return counts.reshape(counts.shape[0], n_channels, per).sum(axis=2)


def _decode(
    channel_counts: np.ndarray, n_channels: int, per_kind: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(x_c - x_zero) / (x_one - x_zero)`` for every channel; NaN where the references tie.

    ``x_zero`` and ``x_one`` are the mean counts of the ``per_kind`` reference channels of
    each kind.
    """
    zero = channel_counts[:, reference_channels(n_channels, per_kind, REFERENCE_ZERO)]
    one = channel_counts[:, reference_channels(n_channels, per_kind, REFERENCE_ONE)]
    zero, one = zero.mean(axis=1), one.mean(axis=1)
    span = one - zero
    decoded = np.full((channel_counts.shape[0], n_channels), np.nan)
    ok = span != 0
    decoded[ok] = (channel_counts[ok, :n_channels] - zero[ok, None]) / span[ok, None]
    return decoded, np.stack([zero, one], axis=1)


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
    if low is not None and high is not None:
        f_low = fractions_np[scales_np == low][-1]
        f_high = fractions_np[scales_np == high][-1]
        if f_low > f_high > 0:
            weight = (math.log(f_low) - math.log(target)) / (math.log(f_low) - math.log(f_high))
            scale = math.exp(math.log(low) + weight * (math.log(high) - math.log(low)))
        else:
            scale = math.sqrt(low * high)
    else:
        error = np.abs(np.log(np.maximum(fractions_np, 1e-12) / target))
        scale = float(scales_np[np.argmin(error)])
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


def _synaptic_events(circuit: Circuit, n_spikes: dict) -> int:
    """Sum over synapse groups of pre-synaptic spikes times the mean out-degree."""
    groups = {
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
    total = 0.0
    for name, source in groups.items():
        if name in circuit.groups:
            n_syn = len(circuit.groups[name])
            total += n_spikes[source] * n_syn / len(circuit.groups[source])
    return int(round(total))


def run_biophysical(
    params: CircuitParams,
    wiring: Wiring,
    addresses,
    values,
    query_sets: list,
    *,
    rng: np.random.Generator,
    pattern_channels: bool = True,
    target_fraction: float | None = None,
    inhibition_scale: float | None = None,
    n_background: int = 4,
    n_rest: int = 3,
    n_calibration_queries: int = 8,
    n_calibration_steps: int = 7,
    decode_delay=None,
    raster_duration=1.0 * second,
    track_memory: bool = False,
    report=None,
) -> BiophysicalResult:
    """Build the biophysical circuit, calibrate the Golgi inhibition, write, read, decode.

    Parameters
    ----------
    params : CircuitParams
        ``dynamics.mode == "biophysical"`` and biophysical cell models
        (:func:`cerebellum.biophysical_params.biophysical_cells`).
    wiring : Wiring
        Sampled for ``params.granule``.
    addresses : ndarray of shape (n_patterns, n_dims), {0, 1}
    values : ndarray of shape (n_patterns, n_values), {0, 1}
        Binary: each bit is a climbing-fibre burst (1) or none (0).
    query_sets : list of ndarray of shape (n_queries, n_dims), {0, 1}
        Read in order from the written state (reads never change a weight).
    rng : numpy.random.Generator
        Seeds Brian2 (Poisson spikes) and the calibration queries.
    pattern_channels : bool
        One-hot probe channel per pattern (pattern weights from spikes).
    target_fraction : float, optional
        Active granule fraction for the calibration, in (0, 1); default
        :func:`mirror_active_fraction` (as sparse as the mirror's rule).
    inhibition_scale : float, optional
        Skip the calibration and use this scale (required with ``cpp_standalone``, which
        cannot adapt between runs).
    n_background : int
        Background presentations at the start (spontaneous rates), >= 1.
    n_rest : int
        Rest presentations (no address, no plasticity) before each write, >= 0; default 3
        (our choice): writes 400 ms apart, so one write's parallel-fibre spikes reach the next
        write's LTD kernel at <= 4 % of its peak (conditioning trials in vivo are seconds
        apart).
    n_calibration_queries, n_calibration_steps : int
        See :func:`calibrate_golgi`.
    decode_delay : Quantity (time), optional
        Start of the decoding window after each read onset, in ``[0, presentation)``;
        default 10 ms (our choice: after the granule-layer onset transient).
    raster_duration : Quantity (time)
        Length of the raster / trace window: the last writes and the first reads, half of it
        (rounded down to whole presentations) before the first read.
    track_memory : bool
        Record peak Python-heap memory (``tracemalloc``) into ``timings_s["peak_memory_mb"]``.
    report : callable, optional
        Brian2's progress callback for every run (:class:`cerebellum.engines.algorithmic.Protocol`).

    Returns
    -------
    BiophysicalResult
    """
    _check_params(params)
    if not isinstance(wiring, Wiring):
        raise TypeError(f"wiring must be a Wiring; got {type(wiring).__name__}")
    check_rng(rng)
    n_dims = params.granule.n_dims
    bits = binary_matrix("addresses", addresses, n_dims)
    values_np = as_numpy("values", values)
    if values_np.ndim != 2:
        raise ValueError(f"values must have shape (n_patterns, n_values); got {values_np.shape}")
    values_np = value_matrix("values", values_np, values_np.shape[1], bits.shape[0])
    if not np.isin(values_np, (0.0, 1.0)).all():
        raise ValueError("values must be binary (0 or 1): each bit is a climbing-fibre burst")
    if not isinstance(query_sets, list | tuple) or not query_sets:
        raise TypeError("query_sets must be a non-empty list of (n_queries, n_dims) arrays")
    query_bits = [binary_matrix(f"query_sets[{k}]", q, n_dims) for k, q in enumerate(query_sets)]
    if target_fraction is None:
        target_fraction = mirror_active_fraction(params.granule)
    target_fraction = check_real(
        target_fraction, "target_fraction", low=0.0, high=1.0, low_open=True, high_open=True
    )
    if inhibition_scale is not None:
        inhibition_scale = check_real(inhibition_scale, "inhibition_scale", low=0.0)
    elif params.device.device == "cpp_standalone":
        raise ValueError(
            "inhibition_scale is required with device='cpp_standalone' (calibrate on the runtime "
            "device first)"
        )
    n_background = check_int(n_background, "n_background", low=1)
    n_rest = check_int(n_rest, "n_rest", low=0)
    presentation = params.dynamics.presentation
    delay = 10.0 * brian2.ms if decode_delay is None else decode_delay
    check_quantity(delay, "decode_delay", second, low=0.0)
    if not delay < presentation:
        raise ValueError(f"decode_delay must be below presentation={presentation!r}; got {delay!r}")
    check_quantity(raster_duration, "raster_duration", second, low=0.0, low_open=True)

    timings: dict[str, float] = {}
    if track_memory:
        tracemalloc.start()
    clock_total = time.perf_counter()
    compile_args = list(brian2.prefs.codegen.cpp.extra_compile_args_gcc)
    try:
        clock = time.perf_counter()
        circuit = build_circuit(
            params,
            wiring,
            n_values=values_np.shape[1],
            n_pattern_channels=bits.shape[0] if pattern_channels else 0,
            rng=rng,
        )
        protocol = BiophysicalProtocol(circuit, report=report)
        timings["build"] = time.perf_counter() - clock
        protocol.background(n_background)
        blocks = []
        if inhibition_scale is None:
            n_cal = check_int(n_calibration_queries, "n_calibration_queries", low=1)
            n_steps = check_int(n_calibration_steps, "n_calibration_steps", low=1)
            for _ in range(n_steps + 1):
                first = protocol.n_presentations
                for row in rng.integers(0, 2, size=(n_cal, n_dims), dtype=np.uint8):
                    protocol.schedule("calibration", row, None)
                blocks.append(np.arange(first, protocol.n_presentations))
        write_index = protocol.write(bits, values_np, n_rest=n_rest)
        read_index = [protocol.read(q) for q in query_bits]
        calibration = None
        clock = time.perf_counter()
        if blocks:
            protocol.run(n_background)
            calibration = calibrate_golgi(protocol, blocks, target_fraction=target_fraction)
            inhibition_scale = calibration.inhibition_scale
            timings["calibrate"] = time.perf_counter() - clock
        circuit.groups["golgi_granule"].w_inhibition = (
            params.cells.golgi.g_inhibition * inhibition_scale
        )
        weights_before = (
            None if circuit.standalone else _pf_weights(circuit, protocol.n_channels_total)
        )
        clock = time.perf_counter()
        if circuit.standalone:
            protocol.run()
            device = brian2.get_device()
            device.build(run=True, compile=True, directory=device.project_dir)
            timings["device_build"] = time.perf_counter() - clock
            timings["device_run"] = float(getattr(device, "_last_run_time", float("nan")))
            weights_before = np.full(
                (params.granule.n_neurons, protocol.n_channels_total),
                params.cells.climbing.w_initial,
                dtype=np.float32,
            )
        else:
            protocol.run(int(write_index[-1]) + 1)
            timings["write"] = time.perf_counter() - clock
            clock = time.perf_counter()
            protocol.run()
            timings["read"] = time.perf_counter() - clock
        result = _collect(
            protocol,
            write_index,
            read_index,
            query_bits,
            calibration,
            weights_before,
            float(delay),
            float(raster_duration),
            n_background,
            timings,
        )
    finally:
        if params.device.device == "cpp_standalone":
            brian2.device.reinit()
            brian2.set_device("runtime")
            brian2.prefs.codegen.cpp.extra_compile_args_gcc = compile_args
        timings["total"] = time.perf_counter() - clock_total
        if track_memory:
            timings["peak_memory_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return result


def _collect(
    protocol,
    write_index,
    read_index,
    query_bits,
    calibration,
    weights_before,
    delay_s,
    raster_s,
    n_background,
    timings,
) -> BiophysicalResult:
    c = protocol.circuit
    n_ch = c.n_channels
    n_total = protocol.n_channels_total
    n_v, n_p = c.n_values, c.n_pattern_channels
    on_s = protocol.steps_on * protocol.dt_s
    window_s = on_s - delay_s
    spikes = {pop: protocol.spikes(pop) for pop in BIOPHYSICAL_POPULATIONS}
    n_pc = len(c.groups["purkinje"]) // n_total
    n_dcn = len(c.groups["dcn"]) // n_total

    write_counts = protocol.counts("granule", write_index, spikes=spikes["granule"])
    write_active = write_counts > 0
    write_bits = np.asarray(protocol.write_bits, dtype=np.uint8)
    write_match = c.wiring.match_counts(write_bits).astype(np.uint8)
    cs_monitor = c.monitors["complex_spikes"]
    cs = protocol.counts(
        "purkinje",
        write_index,
        stop_s=protocol.period_s,
        spikes=(np.asarray(cs_monitor.t_), np.asarray(cs_monitor.i)),
    )
    complex_counts = _channel_counts(cs, n_total)

    readouts, read_pc, probes_dcn, probes_pc, refs_dcn, refs_pc = [], [], [], [], [], []
    match_counts, spike_counts = [], []
    for index, queries in zip(read_index, query_bits, strict=True):
        gc = protocol.counts("granule", index, spikes=spikes["granule"])
        active = gc > 0
        pc = _channel_counts(
            protocol.counts("purkinje", index, start_s=delay_s, spikes=spikes["purkinje"]), n_total
        )
        dcn = _channel_counts(
            protocol.counts("dcn", index, start_s=delay_s, spikes=spikes["dcn"]), n_total
        )
        mli = protocol.counts("mli", index, start_s=delay_s, spikes=spikes["mli"]).sum(axis=1)
        decoded_dcn, ref_dcn = _decode(dcn, n_ch, protocol.n_reference_per_kind)
        decoded_pc, ref_pc = _decode(pc, n_ch, protocol.n_reference_per_kind)
        intersections = active.astype(np.float64) @ write_active.T.astype(np.float64)
        total = intersections.sum(axis=1, keepdims=True)
        weights = np.divide(intersections, total, out=np.zeros_like(intersections), where=total > 0)
        # Without probe channels the Readout still has one column per pattern (NaN).
        pc_cols = np.full((pc.shape[0], n_v + write_active.shape[0]), np.nan)
        pc_cols[:, :n_ch] = pc[:, :n_ch]
        readouts.append(
            Readout(
                queries=queries,
                active_granule=active,
                golgi_active_count=active.sum(axis=1).astype(np.float64),
                mli_write_count_input=mli.astype(np.float64),
                purkinje_input=pc_cols,
                purkinje_rate_hz=pc_cols / (n_pc * window_s),
                dcn_rate_hz=dcn[:, :n_v] / (n_dcn * window_s),
                read=decoded_dcn[:, :n_v],
                pattern_intersections=intersections,
                pattern_weights=weights,
                query_onset_s=index * protocol.period_s,
            )
        )
        read_pc.append(decoded_pc[:, :n_v])
        probes_dcn.append(decoded_dcn[:, n_v : n_v + n_p])
        probes_pc.append(decoded_pc[:, n_v : n_v + n_p])
        refs_dcn.append(ref_dcn)
        refs_pc.append(ref_pc)
        match_counts.append(c.wiring.match_counts(queries).astype(np.uint8))
        spike_counts.append(np.minimum(gc, np.iinfo(np.uint16).max).astype(np.uint16))

    kinds = np.asarray(protocol.kinds)
    rates: dict[str, dict[str, np.ndarray]] = {}
    for phase in ("background", "write", "read"):
        index = np.nonzero(kinds == phase)[0]
        rates[phase] = {}
        for pop in BIOPHYSICAL_POPULATIONS:
            counts = protocol.counts(pop, index, spikes=spikes[pop])
            duration = max(len(index), 1) * on_s
            rates[phase][pop] = counts.sum(axis=0) / duration

    # The window spans the last writes and the first reads: half of it before the first read.
    first_read = int(read_index[0][0]) if len(read_index[0]) else n_background - 1
    before = int(raster_s / 2 // protocol.period_s)
    start = max(0, first_read - before) * protocol.period_s
    stop = start + raster_s
    raster = {}
    for pop in BIOPHYSICAL_POPULATIONS:
        times, cells = spikes[pop]
        keep = (times >= start) & (times < stop)
        raster[pop] = {"times_s": times[keep], "cells": cells[keep]}
    traces = {}
    for pop in TRACED_POPULATIONS:
        monitor = c.monitors[f"{pop}_traces"]
        t = np.asarray(monitor.t_)
        keep = (t >= start) & (t < stop)
        traces[pop] = {"times_s": t[keep], "v_volt": np.asarray(monitor.v_)[:, keep]}

    n_spikes = {pop: int(spikes[pop][0].size) for pop in BIOPHYSICAL_POPULATIONS}
    names = (
        [f"value_{k}" for k in range(n_v)]
        + [f"probe_{k}" for k in range(n_p)]
        + [
            f"reference_{kind}_{k}"
            for kind in ("zero", "one")
            for k in range(protocol.n_reference_per_kind)
        ]
    )
    onsets = {
        kind: np.nonzero(kinds == kind)[0] * protocol.period_s
        for kind in ("background", "calibration", "rest", "write", "read")
    }
    return BiophysicalResult(
        readouts=readouts,
        read_purkinje=read_pc,
        probe_weights_dcn=probes_dcn,
        probe_weights_purkinje=probes_pc,
        reference_counts_dcn=refs_dcn,
        reference_counts_purkinje=refs_pc,
        granule_match_counts=match_counts,
        granule_spike_counts=spike_counts,
        write_granule_spike_counts=np.minimum(write_counts, 65535).astype(np.uint16),
        write_match_counts=write_match,
        complex_spike_counts=complex_counts,
        calibration=calibration,
        rates_hz=rates,
        raster=raster,
        raster_window_s=(start, stop),
        traces=traces,
        pf_weights_before=weights_before,
        pf_weights_after=_pf_weights(c, n_total),
        channel_names=names,
        presentation_s=on_s,
        gap_s=protocol.steps_gap * protocol.dt_s,
        decode_delay_s=delay_s,
        onsets_s=onsets,
        n_spikes=n_spikes,
        n_synaptic_events=_synaptic_events(c, n_spikes),
        simulated_s=protocol.n_presentations * protocol.period_s,
        timings_s=timings,
        spike_trains={
            pop: {"times_s": times, "cells": np.asarray(cells, dtype=np.int64)}
            for pop, (times, cells) in spikes.items()
        },
    )


# -- measurements against the mirror ------------------------------------------------------------


def _cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.nan_to_num(np.asarray(a, dtype=np.float64))
    b = np.asarray(b, dtype=np.float64)
    norm = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.divide((a * b).sum(axis=1), norm, out=np.zeros(a.shape[0]), where=norm > 0)


def compare_with_mirror(
    result: BiophysicalResult,
    wiring: Wiring,
    patterns,
    values,
    *,
    noise,
    rng: np.random.Generator,
    query_set: int = 0,
) -> dict:
    """The measurements of the biophysical read against ``NeuronSDM`` on the same wiring.

    Oracle for every number: the mirror (:class:`models.sdm.NeuronSDM` from
    :meth:`cerebellum.wiring.Wiring.mirror`, hard rule) written with the same patterns and read
    with the same queries; attention is ``softmax(beta cos) @ values`` with the beta measured
    from spikes.

    Parameters
    ----------
    result : BiophysicalResult
    wiring : Wiring
    patterns : ndarray of shape (n_patterns, n_dims), {0, 1}
    values : ndarray of shape (n_patterns, n_values)
    noise : ndarray of int, shape (n_queries,)
        Flipped bits of each query of ``result.readouts[query_set]``.
    rng : numpy.random.Generator
        For the beta bootstrap.
    query_set : int
        Which readout.

    Returns
    -------
    dict
        ``noise_levels``; per level (arrays over levels) ``cosine_dcn``, ``bit_agreement_dcn``,
        ``cosine_purkinje``, ``bit_agreement_purkinje``, ``cosine_attention_dcn``,
        ``bit_agreement_attention_dcn``, ``jaccard``; the measured ``curve`` (ActivationCurve);
        ``beta_measured``, ``beta_ci`` (query-cluster bootstrap, from spike-set
        intersections), ``beta_predicted`` (theory for the measured curve), ``fit_radius``;
        ``probe_weight_error`` (mean absolute gap between the probe and theory weights per
        level).
    """
    import torch

    from models.fitting import estimate_beta_counts
    from models.soft_activation import (
        curve_activation_probability,
        curve_intersection,
        estimate_activation_curve,
    )
    from models.theory import fit_beta, nearest_radius

    readout = result.readouts[query_set]
    queries = readout.queries
    patterns = binary_matrix("patterns", patterns, wiring.granule.n_dims)
    values = np.asarray(as_numpy("values", values), dtype=np.float64)
    noise = np.asarray(noise, dtype=np.int64)
    if noise.shape != (queries.shape[0],):
        raise ValueError(f"noise must have shape ({queries.shape[0]},); got {noise.shape}")
    mirror = wiring.mirror(values.shape[1])
    mirror.write(torch.as_tensor(patterns), torch.as_tensor(values))
    mirror_read = mirror.read(torch.as_tensor(queries)).numpy()
    n = wiring.granule.n_dims
    k = wiring.granule.n_synapses_per_cell
    matches = result.granule_match_counts[query_set]
    curve = estimate_activation_curve(matches, readout.active_granule, k)
    filled = curve
    if np.isnan(curve.probabilities).any():
        from models.soft_activation import ActivationCurve

        filled = ActivationCurve(np.nan_to_num(curve.probabilities), label="measured, NaN -> 0")
    fit_radius = max(2, nearest_radius(n, curve_activation_probability(filled)))
    predicted = fit_beta(n, filled, fit_radius=fit_radius).beta
    distances = (queries[:, None, :] != patterns[None, :, :]).sum(axis=2)
    cosines = 1.0 - 2.0 * distances / n
    near = distances < fit_radius
    clusters = np.broadcast_to(np.arange(queries.shape[0])[:, None], distances.shape)
    estimate = estimate_beta_counts(
        cosines[near], readout.pattern_intersections[near], clusters=clusters[near], rng=rng
    )
    logits = estimate.beta * cosines
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    attention = weights @ values
    theory = curve_intersection(n, filled, distances, wiring.granule.n_neurons)
    theory_weights = theory / theory.sum(axis=1, keepdims=True)
    hard = matches == k if wiring.granule.activation.selected else None
    if hard is None:
        hard = (n - matches) <= wiring.granule.activation_radius
    active = readout.active_granule
    jaccard = (active & hard).sum(axis=1) / np.maximum((active | hard).sum(axis=1), 1)
    levels = np.unique(noise)
    out: dict = {"noise_levels": levels}
    pairs = {
        "dcn": (readout.read, mirror_read),
        "purkinje": (result.read_purkinje[query_set], mirror_read),
        "attention_dcn": (readout.read, attention),
    }
    for name, (a, b) in pairs.items():
        cos = _cosine_rows(a, b)
        bits = (np.nan_to_num(a) > 0.5) == (b > 0.5)
        out[f"cosine_{name}"] = np.array([cos[noise == lv].mean() for lv in levels])
        out[f"bit_agreement_{name}"] = np.array([bits[noise == lv].mean() for lv in levels])
    out["jaccard"] = np.array([jaccard[noise == lv].mean() for lv in levels])
    probe = result.probe_weights_dcn[query_set]
    if probe.shape[1] == patterns.shape[0]:
        err = np.abs(np.nan_to_num(probe) - theory_weights).mean(axis=1)
        out["probe_weight_error"] = np.array([err[noise == lv].mean() for lv in levels])
    out.update(
        curve=curve,
        beta_measured=estimate.beta,
        beta_ci=(estimate.ci_low, estimate.ci_high),
        beta_predicted=predicted,
        fit_radius=fit_radius,
        mirror_read=mirror_read,
        attention_read=attention,
    )
    return out
