"""Equations and construction of the spiking cerebellum (Brian2); building never runs it.

The Marr-Albus-Kanerva mapping (Marr 1969; Albus 1971; Kanerva 1988, ch. 9):

=====================  ====================================================================
SDM                    circuit
=====================  ====================================================================
address / query bits   ``2 n`` mossy fibres, a push-pull pair per bit
hard location j        granule cell j; its mossy-fibre synapses are its address
activation radius d    Golgi inhibition as a fixed threshold ``theta`` (radius mode)
top k                  Golgi feedback loop that admits exactly k granule cells (top-k mode)
counter of j, value c  PF -> Purkinje weight ``w[j, c]`` (bipolar, climbing-fibre gated)
write count of j       PF -> molecular-layer interneuron (MLI) weight ``n_writes[j]``
read                   Purkinje summed PF input, divided by the MLI's summed input; DCN rate
=====================  ====================================================================

Time is cut into *windows* of ``K`` steps, one window per presentation (a write or a read).
With ``s = timestep(t, dt) mod K`` the step inside the window:

- ``0 <= s < K_in`` (``K_in = presentation / dt``): mossy fibres fire. Deterministic mode:
  every active fibre fires once at ``s = 0``. Poisson mode: a Bernoulli spike per step with
  probability ``rate * dt`` (``mf_rate_on`` for active fibres, ``mf_rate_off`` otherwise).
  Each spike adds 1 to the granule cell's input count ``x_j`` (a perfect integrator over
  the window, cleared by the window-end event: the Golgi cell's periodic inhibition).
  The mossy-fibre -> granule synapses are explicit Brian2 ``Synapses`` (one per address bit)
  whose summed variable delivers, each step, the number of the cell's fibres that spiked in
  the previous step (a one-step spike flag on the fibre). This is the same integer as an
  ``on_pre`` increment with the same one-step latency, but numpy's ``bincount`` over all
  synapses is several times faster than ``add.at`` over the spiking ones when each volley
  hits every granule cell ``n - H`` times (measured: 6 ms vs 47 ms per volley, r = 10^4).
- Radius mode, decision step ``s = K_in``: the granule cell fires iff ``x_j > theta`` with
  ``theta = (N_syn - d - 1/2) lam_on + (d + 1/2) lam_off`` where ``lam = K_in p`` is the mean
  count of one fibre and ``N_syn`` the synapses per cell. Deterministic (``lam_on = 1,
  lam_off = 0``): ``x_j = n - H(q, x_a^j)`` and ``x_j > n - d - 1/2  <=>  H <= d``, exactly.
  Selected-coordinate wiring uses ``d = 0`` over its ``n_inputs`` synapses (all must match).
- Top-k mode: each granule cell has the priority ``P_j = x_j r + (r - 1 - j)`` -- distinct
  integers, larger for more matches and, among equal matches, for lower indices (the
  mirror's tie rule). During ``B = ceil(log2 H)`` steps (``H = (x_max + 1) r``) the Golgi cell
  bisects its inhibition level: it sums ``N(mid) = #{j : P_j >= mid}`` over its granule-cell
  synapses and keeps the invariant ``N(lo) >= k > N(hi)``; after ``B`` halvings (steps
  ``K_in + 1 .. K_in + B``) ``hi = lo + 1`` so exactly ``k`` cells have ``P_j >= lo``, and at
  the decision step ``s = K_in + B + 1`` those cells fire. This is exact and costs ``B``
  steps (20 for n = 64, r = 10^4), not ``r``.
- A granule spike is a parallel-fibre volley: Purkinje channel ``c`` adds ``w[j, c]``, the MLI
  adds ``n_writes[j]``, the Golgi cell counts it (``A``). During writes (``gate(t) = 1``) the
  climbing fibre carries the value ``v_c`` and every spiking PF synapse changes by
  ``dw (1 - 2 v_c)`` (PF alone LTP, PF + CF LTD), and ``n_writes[j] += 1``. Hence after
  writes ``w = w0 + dw (n_writes - 2 S)`` with ``S`` the mirror's counter.
- Last step ``s = K - 1``: the window-end event records and clears everything. The decoded
  read is

  ``read_c = (w0 A + dw C - I_c) / (2 dw C)`` (0 if ``C = 0``),

  with ``I_c`` the Purkinje summed input and ``C`` the MLI's summed write counts; this equals
  ``sum_j S_jc / sum_j n_writes_j`` over the active cells -- NeuronSDM's read. With one-hot
  values on ``m`` extra Purkinje channels, ``(w0 A + dw C - I_mu) / (2 dw)`` is the
  intersection count of pattern mu. The Purkinje rate is ``rho0 + g (1 - 2 read)`` and the
  DCN, inhibited by its Purkinje cell through a summed synapse, fires
  ``rate_max (1 + rho0/g) / 2 - rate_max / (2 g) rho_PC = rate_max * read``.

Fast path (``DynamicsParams(mossy_drive="injected")``, deterministic mode only): the mossy-fibre
group and its ``n r`` synapses are left out; the protocol computes each cell's match count
``n - H`` (or matching selected inputs) by an exact integer matrix product
(:meth:`cerebellum.wiring.Wiring.match_counts`) and the granule cells add it at step ``K_in``,
the step at which the synaptic volley would have arrived. Granule spikes, weights and reads
are identical (tested); what is skipped is the mossy-fibre spiking and synaptic transmission.

Devices: the Brian2 runtime device with the numpy code target by default (no compilation;
what the tests use), ``codegen_target="cython"`` for large runtime networks after a one-off
compile, or ``cpp_standalone`` (:class:`cerebellum.params.DeviceParams`).

So ``K = K_in + 2`` steps per presentation in radius mode (3 when deterministic) and
``K_in + B + 3`` in top-k mode. All arithmetic in the deterministic mode is on integers and
halves (with ``dw = 1/2``), hence exact in float64.

References
----------
Marr, D. (1969). A theory of cerebellar cortex. J. Physiol. 202, 437-470.
Albus, J. S. (1971). A theory of cerebellar function. Math. Biosci. 10, 25-61.
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Ito, M. (2001). Cerebellar long-term depression. Physiol. Rev. 81, 1143-1195.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import brian2
import numpy as np
from brian2 import EventMonitor, Network, NeuronGroup, SpikeMonitor, Synapses, prefs

from cerebellum.params import CircuitParams
from cerebellum.wiring import Wiring

__all__ = ["Circuit", "WindowTiming", "build_circuit", "window_timing"]


@dataclass(frozen=True)
class WindowTiming:
    """Step layout of one presentation window.

    Attributes
    ----------
    n_input_steps : int
        ``K_in``, steps during which mossy fibres may fire.
    n_search_steps : int
        ``B``, Golgi bisection steps (0 in radius mode).
    decision_step : int
        Step at which granule cells fire: ``K_in`` (radius) or ``K_in + B + 1`` (top-k).
    n_steps : int
        ``K``, steps per window; the last one ends the window.
    priority_limit : int
        ``H``: all priorities are below it (top-k mode; 0 otherwise).
    """

    n_input_steps: int
    n_search_steps: int
    decision_step: int
    n_steps: int
    priority_limit: int


def window_timing(params: CircuitParams) -> WindowTiming:
    """Window layout for ``params`` (see the module docstring).

    Parameters
    ----------
    params : CircuitParams

    Returns
    -------
    WindowTiming
    """
    g = params.granule
    k_in = params.dynamics.n_input_steps
    if g.inhibition == "top_k":
        max_count = g.n_synapses_per_cell * k_in
        limit = (max_count + 1) * g.n_neurons
        search = max(1, math.ceil(math.log2(limit)))
        # The last volley reaches the count in step K_in (before thresholds), after the
        # Golgi cell's summed input of that step was taken: the search starts one step later.
        decision = k_in + 1 + search
    else:
        limit, search = 0, 0
        decision = k_in
    return WindowTiming(k_in, search, decision, decision + 2, limit)


@dataclass
class Circuit:
    """A built (not yet run) cerebellar network and the handles the protocol needs.

    Attributes
    ----------
    params : CircuitParams
    wiring : Wiring
    n_values : int
        Value channels (Purkinje cells read out as the SDM read).
    n_pattern_channels : int
        Extra one-hot Purkinje channels whose input gives each pattern's intersection count.
    timing : WindowTiming
    network : brian2.Network
    groups : dict of str to Brian2 objects
        ``mossy``, ``granule``, ``golgi``, ``mli``, ``purkinje``, ``dcn`` and the synapses
        ``mossy_granule``, ``granule_golgi``, ``granule_mli``, ``granule_purkinje``,
        ``purkinje_dcn`` (no ``mossy`` / ``mossy_granule`` on the injected fast path).
    monitors : dict of str to Brian2 monitors
        ``granule_spikes`` and window-end ``EventMonitor`` s of ``purkinje``, ``dcn``,
        ``mli``, ``golgi``.
    constants : dict
        The namespace of constants (TimedArrays are added per run by the protocol).
    """

    params: CircuitParams
    wiring: Wiring
    n_values: int
    n_pattern_channels: int
    timing: WindowTiming
    network: Network
    groups: dict[str, Any]
    monitors: dict[str, Any]
    constants: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        """Purkinje cells: ``n_values + n_pattern_channels``."""
        return self.n_values + self.n_pattern_channels

    @property
    def window_duration(self) -> brian2.Quantity:
        """Duration of one presentation window, ``K dt``."""
        return self.timing.n_steps * self.params.dynamics.dt

    @property
    def standalone(self) -> bool:
        """True when built for ``cpp_standalone``."""
        return self.params.device.device == "cpp_standalone"


def _select_device(params: CircuitParams) -> None:
    dev = params.device
    if dev.device == "cpp_standalone":
        directory = dev.build_directory or tempfile.mkdtemp(prefix="cerebellum_standalone_")
        os.makedirs(directory, exist_ok=True)
        brian2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        if dev.fast_compile:
            prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0", "-std=c++11"]
    else:
        brian2.set_device("runtime")
        prefs.codegen.target = dev.codegen_target
    brian2.defaultclock.dt = params.dynamics.dt


def build_circuit(
    params: CircuitParams,
    wiring: Wiring,
    *,
    n_values: int,
    n_pattern_channels: int = 0,
    rng: np.random.Generator,
) -> Circuit:
    """Build the network of the module docstring (no run).

    Selects the Brian2 device (``params.device``), seeds Brian2's random number generator
    from ``rng`` -- the only call of ``brian2.seed`` in the project -- and creates every group.

    Parameters
    ----------
    params : CircuitParams
    wiring : Wiring
        Must have been sampled for ``params.granule``.
    n_values : int
        Value channels, >= 1.
    n_pattern_channels : int
        One-hot pattern channels (>= the number of patterns to be written, or 0 for none).
    rng : numpy.random.Generator
        Source of the Brian2 seed (Poisson spikes).

    Returns
    -------
    Circuit
    """
    if not isinstance(params, CircuitParams):
        raise TypeError(f"params must be a CircuitParams; got {type(params).__name__}")
    if not isinstance(wiring, Wiring):
        raise TypeError(f"wiring must be a Wiring; got {type(wiring).__name__}")
    if wiring.granule != params.granule:
        raise ValueError("wiring.granule must equal params.granule (sample it for these params)")
    for name, value, low in (
        ("n_values", n_values, 1),
        ("n_pattern_channels", n_pattern_channels, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise TypeError(f"{name} must be an int; got {value!r}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}; got {value}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    n_values, n_pattern_channels = int(n_values), int(n_pattern_channels)

    _select_device(params)
    brian2.seed(int(rng.integers(0, 2**31 - 1)))

    g, dyn, pl, out = params.granule, params.dynamics, params.plasticity, params.output
    timing = window_timing(params)
    n_channels = n_values + n_pattern_channels
    lam_on = timing.n_input_steps * dyn.spike_probability_on
    lam_off = timing.n_input_steps * dyn.spike_probability_off
    radius = g.activation_radius if g.wiring == "canonical" else 0
    n_syn = g.n_synapses_per_cell
    theta = 0.0
    if g.inhibition == "radius":
        theta = (n_syn - radius - 0.5) * lam_on + (radius + 0.5) * lam_off

    constants: dict[str, Any] = {
        "window_steps": timing.n_steps,
        "n_input_steps": timing.n_input_steps,
        "decision_step": timing.decision_step,
        "end_step": timing.n_steps - 1,
        "p_on": dyn.spike_probability_on,
        "p_off": dyn.spike_probability_off,
        "theta": theta,
        "n_neurons": g.n_neurons,
        "k_active": g.top_k or 0,
        "priority_limit": timing.priority_limit,
        "w0": pl.pf_weight_initial,
        "dw": pl.pf_weight_step,
        "rho0": out.purkinje_rate_baseline,
        "rho_gain": out.purkinje_rate_gain,
        "dcn_drive": out.dcn_rate_max
        * (1 + out.purkinje_rate_baseline / out.purkinje_rate_gain)
        / 2,
        "dcn_weight": float(out.dcn_rate_max / (2 * out.purkinje_rate_gain)),
    }
    step = "(timestep(t, dt) % window_steps)"
    window_end = {"window_end": f"{step} == end_step"}

    # Mossy fibres: pattern(t, i) in {0, 1} says whether fibre i is active in this window.
    if dyn.mode == "deterministic":
        mf_threshold = f"{step} == 0 and mf_pattern(t, i) > 0.5"
    else:
        mf_threshold = (
            f"{step} < n_input_steps and "
            "rand() < p_on * mf_pattern(t, i) + p_off * (1 - mf_pattern(t, i))"
        )
    injected = dyn.mossy_drive == "injected"
    if not injected:
        mossy = NeuronGroup(
            g.n_mossy_fibres,
            "spiked : 1",
            threshold=mf_threshold,
            reset="spiked = 1",
            name="mossy",
        )
        # The spike flag lives for one step: set by the reset, seen by the summed synapse in
        # the next step's "groups" slot, then cleared before that step's thresholds.
        mossy.run_regularly("spiked = 0", when="before_thresholds", name="mossy_flag_clear")

    granule_eqs = "count : 1\nmossy_input : 1\nbias : 1 (constant)\n"
    if g.inhibition == "top_k":
        granule_eqs += "golgi_level : 1 (linked)\npriority = count * n_neurons + bias : 1\n"
        granule_threshold = f"{step} == decision_step and priority >= golgi_level"
    else:
        granule_threshold = f"{step} == decision_step and count > theta"
    granule = NeuronGroup(
        g.n_neurons,
        granule_eqs,
        threshold=granule_threshold,
        reset="",
        events=dict(window_end),
        name="granule",
    )
    granule.run_on_event("window_end", "count = 0")
    if injected:
        # Fast path: the match count arrives at the step where the last synaptic volley would.
        integrate = f"count += granule_drive(t, i) * int({step} == n_input_steps)"
    else:
        integrate = "count += mossy_input"
    granule.run_regularly(integrate, when="before_thresholds", order=-1, name="granule_integrate")
    granule.bias = np.arange(g.n_neurons - 1, -1, -1, dtype=np.float64)

    golgi_eqs = "active_count : 1\n"
    if g.inhibition == "top_k":
        golgi_eqs += "n_above : 1\nlevel_lo : 1\nlevel_hi : 1\nlevel_mid : 1\n"
        golgi_events = {
            **window_end,
            "search": f"{step} > n_input_steps and {step} < decision_step",
        }
    else:
        golgi_events = window_end
    golgi = NeuronGroup(1, golgi_eqs, events=golgi_events, name="golgi")
    if g.inhibition == "top_k":
        restart = (
            "level_lo = 0\nlevel_hi = priority_limit\n"
            "level_mid = floor((level_lo + level_hi) / 2)\n"
        )
        golgi.run_on_event("window_end", "active_count = 0\n" + restart)
        golgi.run_on_event(
            "search",
            "level_lo = level_lo + int(n_above >= k_active) * (level_mid - level_lo)\n"
            "level_hi = level_hi + int(n_above < k_active) * (level_mid - level_hi)\n"
            "level_mid = floor((level_lo + level_hi) / 2)\n",
        )
        golgi.level_lo = 0
        golgi.level_hi = timing.priority_limit
        golgi.level_mid = timing.priority_limit // 2
        granule.golgi_level = brian2.linked_var(golgi, "level_lo", index=np.zeros(g.n_neurons, int))
    else:
        golgi.run_on_event("window_end", "active_count = 0")

    mli = NeuronGroup(1, "write_count_input : 1", events=dict(window_end), name="mli")
    mli.run_on_event("window_end", "write_count_input = 0")

    purkinje = NeuronGroup(
        n_channels,
        """
        pf_input : 1
        write_count_input : 1 (linked)
        active_count : 1 (linked)
        cf = cf_value(t, i) * plasticity_gate(t) : 1
        read : 1
        rate : Hz
        """,
        events=dict(window_end),
        name="purkinje",
    )
    # Read-out of the accumulated input, refreshed at the start of every step (before the
    # summed PC -> DCN synapse and the window-end monitors use it).
    purkinje.run_regularly(
        "read = int(write_count_input > 0) * (w0 * active_count + dw * write_count_input"
        " - pf_input) / (2 * dw * (write_count_input + int(write_count_input <= 0)))\n"
        "rate = rho0 + rho_gain * (1 - 2 * read)",
        when="start",
        name="purkinje_readout",
    )
    purkinje.write_count_input = brian2.linked_var(
        mli, "write_count_input", index=np.zeros(n_channels, int)
    )
    purkinje.active_count = brian2.linked_var(
        golgi, "active_count", index=np.zeros(n_channels, int)
    )
    purkinje.run_on_event("window_end", "pf_input = 0")

    dcn = NeuronGroup(
        n_values,
        "inhibition : Hz\nrate = dcn_drive - inhibition : Hz",
        events=dict(window_end),
        name="dcn",
    )

    groups: dict[str, Any] = {}
    if not injected:
        mossy_granule = Synapses(
            mossy, granule, "mossy_input_post = spiked_pre : 1 (summed)", name="mossy_granule"
        )
        fibre, cell = wiring.mossy_granule_synapses()
        mossy_granule.connect(i=fibre, j=cell)
        groups.update(mossy=mossy, mossy_granule=mossy_granule)

    golgi_model = ""
    if g.inhibition == "top_k":
        golgi_model = "n_above_post = int(priority_pre >= level_mid_post) : 1 (summed)"
    granule_golgi = Synapses(
        granule, golgi, golgi_model, on_pre="active_count_post += 1", name="granule_golgi"
    )
    granule_golgi.connect(i=np.arange(g.n_neurons), j=np.zeros(g.n_neurons, dtype=int))

    granule_mli = Synapses(
        granule,
        mli,
        "n_writes : 1",
        on_pre="write_count_input_post += n_writes\nn_writes += plasticity_gate(t)",
        name="granule_mli",
    )
    granule_mli.connect(i=np.arange(g.n_neurons), j=np.zeros(g.n_neurons, dtype=int))

    granule_purkinje = Synapses(
        granule,
        purkinje,
        "w : 1",
        on_pre="pf_input_post += w\nw += plasticity_gate(t) * dw * (1 - 2 * cf_post)",
        name="granule_purkinje",
    )
    granule_purkinje.connect(
        i=np.repeat(np.arange(g.n_neurons), n_channels),
        j=np.tile(np.arange(n_channels), g.n_neurons),
    )
    granule_purkinje.w = pl.pf_weight_initial

    purkinje_dcn = Synapses(
        purkinje,
        dcn,
        "inhibition_post = dcn_weight * rate_pre : Hz (summed)",
        name="purkinje_dcn",
    )
    purkinje_dcn.connect(i=np.arange(n_values), j=np.arange(n_values))

    monitors = {
        "granule_spikes": SpikeMonitor(granule, name="granule_spikes"),
        "purkinje": EventMonitor(
            purkinje, "window_end", variables=["pf_input", "read", "rate"], name="purkinje_mon"
        ),
        "dcn": EventMonitor(dcn, "window_end", variables=["rate"], name="dcn_mon"),
        "mli": EventMonitor(mli, "window_end", variables=["write_count_input"], name="mli_mon"),
        "golgi": EventMonitor(golgi, "window_end", variables=["active_count"], name="golgi_mon"),
    }
    groups.update(
        {
            "granule": granule,
            "golgi": golgi,
            "mli": mli,
            "purkinje": purkinje,
            "dcn": dcn,
            "granule_golgi": granule_golgi,
            "granule_mli": granule_mli,
            "granule_purkinje": granule_purkinje,
            "purkinje_dcn": purkinje_dcn,
        }
    )
    network = Network(*groups.values(), *monitors.values())
    return Circuit(
        params=params,
        wiring=wiring,
        n_values=n_values,
        n_pattern_channels=n_pattern_channels,
        timing=timing,
        network=network,
        groups=groups,
        monitors=monitors,
        constants=constants,
    )
