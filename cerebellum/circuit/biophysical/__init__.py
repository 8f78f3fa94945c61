"""The biophysical cerebellum: conductance-based spiking cells whose dynamics compute the read.

One builder per population, registered for the parameter classes of
:mod:`cerebellum.biophysical_params` and selected through ``CircuitParams.cells``
(``DynamicsParams(mode="biophysical")``). Nothing here computes a threshold, a sparseness or
a read by formula or through a linked variable: every cell (granule, Golgi, MLI, Purkinje,
DCN) is a membrane equation with a spike threshold, integrated by Brian2's
``exponential_euler`` at ``dt <= 0.1 ms``, and all state decays on its own between
presentations (no clock event resets it). The granule cell's NMDA Mg2+ block makes its
voltage equation non-linear, so the block ``B(v)`` is a variable refreshed from ``v`` at the
start of every step (one step, <= 0.1 ms, of lag against a ~1 ms block time course), which
keeps the equation conditionally linear for ``exponential_euler``.

Circuit (``n`` address bits, ``r`` granule cells, ``c`` channels = ``n_values`` value bits +
``n_pattern_channels`` one-hot probes + ``2 k`` decoding references, ``k =
LIFPurkinjeParams.n_reference_per_kind`` of each kind):

- ``mossy`` (``2 n`` fibres): dead-time Poisson trains, rate ``mf_rate_off + (mf_rate_on -
  mf_rate_off) mf_pattern(t, f)`` (push-pull coding; ``mf_pattern`` is a protocol
  ``TimedArray``, 0 in the gaps).
- ``granule`` (``r``): conductance LIF (Billings et al. 2014), AMPA direct + spillover and NMDA
  with Mg2+ block from its mossy fibres (the sampled wiring: ``n_inputs`` selected coordinates,
  the anatomical default, or all ``n`` bits -- the canonical SDM wiring, not anatomical, with
  every synaptic conductance scaled by ``4 / n`` so the total drive matches four inputs),
  tonic GABA and phasic GABA_A from ``n_golgi_per_granule`` Golgi cells.
- ``golgi`` (``r / granule_per_golgi``): LIF with feed-forward mossy-fibre and feedback
  granule-cell excitation; inhibits the granule cells. Its per-synapse peak conductance
  ``w_inhibition`` is a runtime variable, so the calibration changes it without a rebuild.
- ``mli`` (``n_cells``): LIF driven by a random fraction of the parallel fibres; each Purkinje
  cell receives ``n_mli_inputs`` of them at random (feed-forward inhibition growing with the
  number of active parallel fibres; a channel's cells share few interneurons).
- ``climbing`` (``c`` inferior-olive fibres): a ``SpikeGeneratorGroup`` playing the bursts the
  protocol sets during writes (a spike source, as the mossy fibres are; its cells' dynamics are
  not modelled).
- ``purkinje`` (``c * n_per_channel``): LIF with spontaneous simple spikes; PF (all granule
  cells, weight ``w``), MLI and CF conductances; the CF spike sets the custom event
  ``complex_spike``, the post-synaptic event of the PF -> PC rule (LTD through two
  event-driven PF traces; LTP at every PF spike; hard bounds; ``plasticity_gate(t)`` = 0 during
  reads).
- ``dcn`` (``c * n_per_channel``): LIF pacemakers inhibited by their channel's Purkinje cells.

The read is decoded afterwards from the spike counts of the DCN (and Purkinje) cells of each
channel against the two kinds of reference channel, measured in the same run
(:mod:`cerebellum.engines.biophysical`).
"""

from __future__ import annotations

import numpy as np
from brian2 import (
    Equations,
    EventMonitor,
    NeuronGroup,
    PoissonInput,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    ms,
)

from cerebellum.biophysical_params import (
    ConductanceGranuleParams,
    LIFDCNParams,
    LIFGolgiParams,
    LIFMLIParams,
    LIFPurkinjeParams,
    PoissonTrainMossyParams,
    TimingWindowClimbingParams,
)
from cerebellum.circuit.base import BuildContext, Population, register_model

__all__ = [
    "REFERENCE_ONE",
    "REFERENCE_ZERO",
    "build_conductance_granule",
    "build_lif_dcn",
    "build_lif_golgi",
    "build_lif_mli",
    "build_lif_purkinje",
    "build_poisson_train_mossy",
    "build_timing_window_climbing",
    "n_reference_per_kind",
    "n_total_channels",
    "reference_channels",
]

#: The two kinds of decoding reference, after the value and probe channels: the climbing fibre
#: of a ``REFERENCE_ZERO`` channel never fires (every write is a 0), that of a
#: ``REFERENCE_ONE`` channel fires on every write (every write is a 1). ``k`` channels of each
#: kind, zeros first (:func:`reference_channels`).
REFERENCE_ZERO, REFERENCE_ONE = 0, 1

#: Sampling step of the membrane-trace monitors (our choice: 0.2 ms resolves spikes' resets).
TRACE_DT = 0.2 * ms

#: Cells per population whose membrane potential is recorded.
N_TRACED = 3


def n_reference_per_kind(params) -> int:
    """Reference channels of each kind, ``k``, for ``CircuitParams`` ``params`` (1 by default)."""
    return int(getattr(params.cells.purkinje, "n_reference_per_kind", 1))


def reference_channels(n_channels: int, per_kind: int, kind: int) -> np.ndarray:
    """Indices of the ``per_kind`` reference channels of ``kind`` after ``n_channels``."""
    return n_channels + kind * per_kind + np.arange(per_kind)


def n_total_channels(ctx: BuildContext) -> int:
    """Value + probe channels plus the ``2 k`` decoding references."""
    return ctx.n_channels + 2 * n_reference_per_kind(ctx.params)


def _rng(ctx: BuildContext, salt: int) -> np.random.Generator:
    """Connectivity randomness, fixed by the wiring (so one wiring gives one circuit)."""
    coordinates, bits = ctx.wiring.address_arrays()
    seed = int(np.asarray(coordinates[:64]).sum() * 7919 + np.asarray(bits[:64]).sum() + salt)
    return np.random.default_rng([seed, ctx.n_neurons, salt])


def _traces(group, name: str) -> StateMonitor:
    return StateMonitor(
        group, "v", record=list(range(min(N_TRACED, len(group)))), dt=TRACE_DT, name=name
    )


def _lif_equations(suffix: str, currents: str, conductances: str) -> Equations:
    """``C dv/dt = g_L (E_L - v) + currents + I_e`` with exponentially decaying conductances."""
    return Equations(
        f"dv/dt = (g_leak_{suffix} * (e_leak_{suffix} - v) + {currents} + i_e_{suffix})"
        f" / c_m_{suffix} : volt (unless refractory)\n" + conductances
    )


def _lif_constants(suffix: str, cell) -> dict:
    return {
        f"c_m_{suffix}": cell.c_m,
        f"g_leak_{suffix}": cell.c_m / cell.tau_m,
        f"e_leak_{suffix}": cell.e_leak,
        f"v_th_{suffix}": cell.v_threshold,
        f"v_reset_{suffix}": cell.v_reset,
        f"i_e_{suffix}": cell.i_e,
    }


def _lif_group(n: int, equations: Equations, suffix: str, cell, name: str, rng) -> NeuronGroup:
    group = NeuronGroup(
        n,
        equations,
        threshold=f"v > v_th_{suffix}",
        reset=f"v = v_reset_{suffix}",
        refractory=cell.refractory,
        method="exponential_euler",
        name=name,
    )
    # Random initial phase between reset and threshold (pacemakers do not start in synchrony).
    span = float(cell.v_threshold - cell.v_reset)
    group.v_ = float(cell.v_reset) + span * rng.random(n)
    return group


# -- mossy fibres --------------------------------------------------------------------------------


@register_model("mossy", PoissonTrainMossyParams)
def build_poisson_train_mossy(cell: PoissonTrainMossyParams, ctx: BuildContext) -> Population:
    """Mossy-fibre group ``mossy``: push-pull Poisson trains (``mf_pattern`` from the protocol).

    Returns
    -------
    Population
        Groups ``{"mossy"}``, monitor ``mossy_spikes``; constants ``mf_rate_on``,
        ``mf_rate_off``.
    """
    dyn = ctx.params.dynamics
    if not float(dyn.mf_rate_on * cell.dead_time) < 1.0:
        raise ValueError(
            f"cells.mossy.dead_time * dynamics.mf_rate_on must be < 1; got "
            f"{cell.dead_time!r} * {dyn.mf_rate_on!r}"
        )
    mossy = NeuronGroup(
        ctx.params.granule.n_mossy_fibres,
        "rate = mf_rate_off + (mf_rate_on - mf_rate_off) * mf_pattern(t, i) : Hz",
        threshold="rand() < rate / (1 - rate * mf_dead_time) * dt",
        refractory=cell.dead_time,
        name="mossy",
    )
    return Population(
        groups={"mossy": mossy},
        monitors={"mossy_spikes": SpikeMonitor(mossy, name="mossy_spikes")},
        constants={
            "mf_rate_on": dyn.mf_rate_on,
            "mf_rate_off": dyn.mf_rate_off,
            "mf_dead_time": cell.dead_time,
        },
    )


# -- granule cells -------------------------------------------------------------------------------

GRANULE_EQUATIONS = Equations(
    """
    dv/dt = (g_leak_gc * (e_leak_gc - v) + g_tonic_gc * (e_gaba_gc - v)
             + (g_direct + g_spill) * (e_ampa_gc - v) + g_nmda * mg_block * (e_nmda_gc - v)
             + g_golgi * (e_gaba_gc - v)) / c_m_gc : volt (unless refractory)
    dg_direct/dt = -g_direct / tau_direct_gc : siemens
    dg_spill/dt = -g_spill / tau_spill_gc : siemens
    dg_nmda/dt = (x_nmda - g_nmda) / tau_nmda_decay_gc : siemens
    dx_nmda/dt = -x_nmda / tau_nmda_rise_gc : siemens
    dg_golgi/dt = -g_golgi / tau_gaba_gc : siemens
    mg_block : 1
    """
)

#: Jahr & Stevens (1990) Mg2+ block, refreshed from v at the start of every step.
MG_BLOCK = "mg_block = 1 / (1 + exp(-0.062 * v / mV) * mg_mm_gc / 3.57)"


def _nmda_peak_factor(tau_rise: float, tau_decay: float) -> float:
    """Jump of ``x`` for a unit peak of ``g``: ``dg/dt = (x - g)/tau_d``, ``dx/dt = -x/tau_r``.

    ``g(t) = x0 tau_d / (tau_d - tau_r) (e^{-t/tau_d} - e^{-t/tau_r})``; its maximum, at
    ``t* = ln(tau_d/tau_r) tau_r tau_d / (tau_d - tau_r)``, is set to 1.
    """
    peak = np.log(tau_decay / tau_rise) * tau_rise * tau_decay / (tau_decay - tau_rise)
    shape = (
        tau_decay / (tau_decay - tau_rise) * (np.exp(-peak / tau_decay) - np.exp(-peak / tau_rise))
    )
    return float(1.0 / shape)


@register_model("granule", ConductanceGranuleParams)
def build_conductance_granule(cell: ConductanceGranuleParams, ctx: BuildContext) -> Population:
    """Granule group ``granule``, its mossy-fibre synapses, spike and membrane monitors.

    Returns
    -------
    Population
        Groups ``{"granule"}``, synapses ``{"mossy_granule"}``, monitors ``granule_spikes`` and
        ``granule_traces``.
    """
    if ctx.params.dynamics.mode != "biophysical":
        raise ValueError(
            f"cells.granule: the {cell.model!r} granule model needs dynamics.mode='biophysical'; "
            f"got {ctx.params.dynamics.mode!r}"
        )
    granule = NeuronGroup(
        ctx.n_neurons,
        GRANULE_EQUATIONS,
        threshold="v > v_th_gc",
        reset="v = v_reset_gc",
        refractory=cell.refractory,
        method="exponential_euler",
        name="granule",
    )
    rest = (cell.g_leak * cell.e_leak + cell.g_tonic * cell.e_gaba) / (cell.g_leak + cell.g_tonic)
    granule.v = rest
    granule.run_regularly(MG_BLOCK, when="start", name="granule_mg_block")
    fibre, post = ctx.wiring.mossy_granule_synapses()
    # Canonical all-n-bits wiring (not anatomical): scale every synapse to four inputs' drive.
    scale = min(1.0, 4.0 / ctx.params.granule.n_synapses_per_cell)
    mossy_granule = Synapses(
        ctx.group("mossy"),
        granule,
        on_pre=(
            "g_direct_post += g_direct_gc\n"
            "g_spill_post += g_spill_gc\n"
            "x_nmda_post += g_nmda_gc * nmda_norm_gc"
        ),
        name="mossy_granule",
    )
    mossy_granule.connect(i=fibre, j=post)
    constants = {
        "c_m_gc": cell.c_m,
        "g_leak_gc": cell.g_leak,
        "e_leak_gc": cell.e_leak,
        "g_tonic_gc": cell.g_tonic,
        "e_gaba_gc": cell.e_gaba,
        "v_th_gc": cell.v_threshold,
        "v_reset_gc": cell.v_reset,
        "e_ampa_gc": cell.e_ampa,
        "e_nmda_gc": cell.e_nmda,
        "g_direct_gc": cell.g_ampa_direct * scale,
        "tau_direct_gc": cell.tau_ampa_direct,
        "g_spill_gc": cell.g_ampa_spillover * scale,
        "tau_spill_gc": cell.tau_ampa_spillover,
        "g_nmda_gc": cell.g_nmda * scale,
        "tau_nmda_rise_gc": cell.tau_nmda_rise,
        "tau_nmda_decay_gc": cell.tau_nmda_decay,
        "nmda_norm_gc": _nmda_peak_factor(float(cell.tau_nmda_rise), float(cell.tau_nmda_decay)),
        "mg_mm_gc": cell.mg_concentration_mm,
        "tau_gaba_gc": cell.tau_gaba,
    }
    return Population(
        groups={"granule": granule},
        synapses={"mossy_granule": mossy_granule},
        monitors={
            "granule_spikes": SpikeMonitor(granule, name="granule_spikes"),
            "granule_traces": _traces(granule, "granule_traces"),
        },
        constants=constants,
    )


# -- Golgi cells ---------------------------------------------------------------------------------


def _distinct_sources(rng, n_rows: int, n_sources: int, k: int) -> np.ndarray:
    """``k`` distinct random sources in ``[0, n_sources)`` for each of ``n_rows`` targets."""
    if k >= n_sources:
        return np.tile(np.arange(n_sources), (n_rows, 1))
    out = rng.integers(0, n_sources, size=(n_rows, k))
    while True:
        ordered = np.sort(out, axis=1)
        bad = np.nonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))[0]
        if bad.size == 0:
            return out
        out[bad] = rng.integers(0, n_sources, size=(bad.size, k))


def n_golgi_cells(cell: LIFGolgiParams, n_granule: int) -> int:
    """Golgi cells for ``n_granule`` granule cells: ``max(1, round(r / granule_per_golgi))``."""
    return max(1, round(n_granule / cell.granule_per_golgi))


@register_model("golgi", LIFGolgiParams)
def build_lif_golgi(cell: LIFGolgiParams, ctx: BuildContext) -> Population:
    """Golgi group ``golgi`` with its afferents and its granule-cell inhibition (efferent).

    The Golgi cell closes a loop with the granule cells, so this builder makes both the
    feedback excitation (``granule_golgi``) and the inhibition (``golgi_granule``).

    Returns
    -------
    Population
        Groups ``{"golgi"}``, synapses ``mossy_golgi``, ``granule_golgi``, ``golgi_granule``
        (per-synapse ``w_inhibition``, set by the calibration), monitors ``golgi_spikes`` and
        ``golgi_traces``.
    """
    rng = _rng(ctx, 1)
    n_golgi = n_golgi_cells(cell, ctx.n_neurons)
    golgi = _lif_group(
        n_golgi,
        _lif_equations(
            "goc", "g_exc * (e_exc_goc - v)", "dg_exc/dt = -g_exc / tau_exc_goc : siemens"
        ),
        "goc",
        cell,
        "golgi",
        rng,
    )
    mossy = ctx.group("mossy")
    n_mf = len(mossy)
    k_mf = min(cell.n_mossy_inputs, n_mf)
    mf_pre = np.concatenate([rng.choice(n_mf, k_mf, replace=False) for _ in range(n_golgi)])
    mossy_golgi = Synapses(mossy, golgi, on_pre="g_exc_post += g_mossy_goc", name="mossy_golgi")
    mossy_golgi.connect(i=mf_pre, j=np.repeat(np.arange(n_golgi), k_mf))
    granule = ctx.group("granule")
    k_gc = min(cell.n_granule_inputs, ctx.n_neurons)
    gc_pre = np.concatenate(
        [rng.choice(ctx.n_neurons, k_gc, replace=False) for _ in range(n_golgi)]
    )
    granule_golgi = Synapses(
        granule, golgi, on_pre="g_exc_post += g_granule_goc", name="granule_golgi"
    )
    granule_golgi.connect(i=gc_pre, j=np.repeat(np.arange(n_golgi), k_gc))
    k_in = min(cell.n_golgi_per_granule, n_golgi)
    sources = _distinct_sources(rng, ctx.n_neurons, n_golgi, k_in)
    golgi_granule = Synapses(
        golgi,
        granule,
        "w_inhibition : siemens",
        on_pre="g_golgi_post += w_inhibition",
        name="golgi_granule",
    )
    golgi_granule.connect(i=sources.ravel(), j=np.repeat(np.arange(ctx.n_neurons), k_in))
    golgi_granule.w_inhibition = cell.g_inhibition * cell.inhibition_scale
    constants = _lif_constants("goc", cell) | {
        "e_exc_goc": cell.e_exc,
        "tau_exc_goc": cell.tau_exc,
        "g_mossy_goc": cell.g_mossy,
        "g_granule_goc": cell.g_granule,
    }
    return Population(
        groups={"golgi": golgi},
        synapses={
            "mossy_golgi": mossy_golgi,
            "granule_golgi": granule_golgi,
            "golgi_granule": golgi_granule,
        },
        monitors={
            "golgi_spikes": SpikeMonitor(golgi, name="golgi_spikes"),
            "golgi_traces": _traces(golgi, "golgi_traces"),
        },
        constants=constants,
    )


# -- molecular-layer interneurons ----------------------------------------------------------------

#: Granule-cell count at which the parallel-fibre conductances are given (the default preset).
REFERENCE_GRANULE_CELLS = 20_000


def parallel_fibre_scale(ctx: BuildContext) -> float:
    """``REFERENCE_GRANULE_CELLS / r``: the per-PF conductance of an MLI or PC scales as ``1/r``.

    A real Purkinje cell receives ~1.75e5 parallel fibres whatever the size of our model
    (Napper & Harvey 1988); our ``r`` granule cells stand for them, so the summed PF
    conductance -- and with it the cells' operating point -- is kept independent of ``r``
    (our choice).
    """
    return REFERENCE_GRANULE_CELLS / ctx.n_neurons


@register_model("mli", LIFMLIParams)
def build_lif_mli(cell: LIFMLIParams, ctx: BuildContext) -> Population:
    """MLI group ``mli`` and its parallel-fibre synapses ``granule_mli``.

    Returns
    -------
    Population
        Groups ``{"mli"}``, synapses ``{"granule_mli"}``, monitors ``mli_spikes``,
        ``mli_traces``.
    """
    rng = _rng(ctx, 2)
    mli = _lif_group(
        cell.n_cells,
        _lif_equations(
            "mli", "g_exc * (e_exc_mli - v)", "dg_exc/dt = -g_exc / tau_exc_mli : siemens"
        ),
        "mli",
        cell,
        "mli",
        rng,
    )
    contact = rng.random((ctx.n_neurons, cell.n_cells)) < cell.connection_probability
    pre, post = np.nonzero(contact)
    granule_mli = Synapses(
        ctx.group("granule"), mli, on_pre="g_exc_post += g_pf_mli", name="granule_mli"
    )
    granule_mli.connect(i=pre, j=post)
    inputs = {}
    if cell.n_background and float(cell.background_rate) > 0 and float(cell.g_background) > 0:
        inputs["mli_background"] = PoissonInput(
            mli, "g_exc", cell.n_background, cell.background_rate, weight="g_bg_mli"
        )
    constants = _lif_constants("mli", cell) | {
        "e_exc_mli": cell.e_exc,
        "tau_exc_mli": cell.tau_exc,
        "g_pf_mli": cell.g_parallel * parallel_fibre_scale(ctx),
        "g_bg_mli": cell.g_background,
    }
    return Population(
        groups={"mli": mli},
        synapses={"granule_mli": granule_mli} | inputs,
        monitors={
            "mli_spikes": SpikeMonitor(mli, name="mli_spikes"),
            "mli_traces": _traces(mli, "mli_traces"),
        },
        constants=constants,
    )


# -- climbing fibres and the PF -> PC rule -------------------------------------------------------

#: PF -> PC synapse: weight and the two PF traces of the LTD kernel (updated at events only).
PF_SYNAPSE = Equations(
    """
    w : 1
    dtrace_fast/dt = -trace_fast / tau_ltd_fast : 1 (event-driven)
    dtrace_slow/dt = -trace_slow / tau_ltd_slow : 1 (event-driven)
    """
)

#: At a PF spike: conductance, LTP (gated), then the traces (a PF spike does not depress
#: itself: k(0) = 0).
PF_ON_PRE = (
    "g_pf_post += g_pf_pc * w\n"
    "w = clip(w + plasticity_gate(t) * ltp_step, 0, w_max)\n"
    "trace_fast += 1\n"
    "trace_slow += 1"
)

#: At a complex spike: LTD by the kernel-weighted PF history (gated).
PF_ON_COMPLEX_SPIKE = (
    "w = clip(w - plasticity_gate(t) * ltd_step * (trace_slow - trace_fast) / kernel_peak,"
    " 0, w_max)"
)


@register_model("climbing", TimingWindowClimbingParams)
def build_timing_window_climbing(cell: TimingWindowClimbingParams, ctx: BuildContext) -> Population:
    """Inferior-olive group ``climbing`` (one fibre per channel) and the PF -> PC rule.

    Returns
    -------
    Population
        Groups ``{"climbing"}`` (a ``SpikeGeneratorGroup``: the protocol sets its bursts),
        monitor ``climbing_spikes``; provides ``pf_synapse``, ``pf_on_pre``,
        ``pf_on_complex_spike``.
    """
    climbing = SpikeGeneratorGroup(
        n_total_channels(ctx), np.zeros(0, dtype=int), np.zeros(0) * ms, name="climbing"
    )
    return Population(
        groups={"climbing": climbing},
        monitors={"climbing_spikes": SpikeMonitor(climbing, name="climbing_spikes")},
        constants={
            "tau_ltd_fast": cell.tau_fast,
            "tau_ltd_slow": cell.tau_slow,
            "kernel_peak": cell.kernel_peak,
            "ltd_step": cell.ltd_step,
            "ltp_step": cell.ltp_step,
            "w_max": cell.w_max,
        },
        provides={
            "pf_synapse": PF_SYNAPSE,
            "pf_on_pre": PF_ON_PRE,
            "pf_on_complex_spike": PF_ON_COMPLEX_SPIKE,
            "w_initial": cell.w_initial,
        },
    )


# -- Purkinje cells ------------------------------------------------------------------------------


@register_model("purkinje", LIFPurkinjeParams)
def build_lif_purkinje(cell: LIFPurkinjeParams, ctx: BuildContext) -> Population:
    """Purkinje group ``purkinje`` (channel-major), PF, MLI and CF synapses, monitors.

    Cell ``k`` belongs to channel ``k // n_per_channel``.

    Returns
    -------
    Population
        Groups ``{"purkinje"}``, synapses ``granule_purkinje`` (weights ``w``),
        ``mli_purkinje``, ``climbing_purkinje``, monitors ``purkinje_spikes``,
        ``complex_spikes`` (the ``complex_spike`` events), ``purkinje_traces``.
    """
    climbing = ctx.populations["climbing"].provides
    if "pf_synapse" not in climbing:
        raise ValueError(
            "cells.purkinje: the 'lif' Purkinje model needs a climbing-fibre model that "
            "provides the timing-window rule (TimingWindowClimbingParams)"
        )
    rng = _rng(ctx, 3)
    n_channels = n_total_channels(ctx)
    n_cells = n_channels * cell.n_per_channel
    equations = _lif_equations(
        "pc",
        "(g_pf + g_cf) * (e_exc_pc - v) + g_inh * (e_gaba_pc - v)",
        "dg_pf/dt = -g_pf / tau_pf_pc : siemens\n"
        "dg_cf/dt = -g_cf / tau_cf_pc : siemens\n"
        "dg_inh/dt = -g_inh / tau_inh_pc : siemens\n"
        "cf_arrived : 1\n"
        "channel : integer (constant)",
    )
    purkinje = NeuronGroup(
        n_cells,
        equations,
        threshold="v > v_th_pc",
        reset="v = v_reset_pc",
        refractory=cell.refractory,
        events={"complex_spike": "cf_arrived > 0.5"},
        method="exponential_euler",
        name="purkinje",
    )
    purkinje.run_on_event("complex_spike", "cf_arrived = 0")
    purkinje.v_ = float(cell.v_reset) + float(cell.v_threshold - cell.v_reset) * rng.random(n_cells)
    purkinje.channel = np.repeat(np.arange(n_channels), cell.n_per_channel)
    granule_purkinje = Synapses(
        ctx.group("granule"),
        purkinje,
        climbing["pf_synapse"],
        on_pre=climbing["pf_on_pre"],
        on_post=climbing["pf_on_complex_spike"],
        on_event={"pre": "spike", "post": "complex_spike"},
        name="granule_purkinje",
    )
    granule_purkinje.connect(
        i=np.repeat(np.arange(ctx.n_neurons), n_cells),
        j=np.tile(np.arange(n_cells), ctx.n_neurons),
    )
    granule_purkinje.w = climbing["w_initial"]
    mli = ctx.group("mli")
    mli_purkinje = Synapses(mli, purkinje, on_pre="g_inh_post += g_mli_pc", name="mli_purkinje")
    k_mli = min(cell.n_mli_inputs, len(mli))
    mli_sources = _distinct_sources(rng, n_cells, len(mli), k_mli)
    mli_purkinje.connect(i=mli_sources.ravel(), j=np.repeat(np.arange(n_cells), k_mli))
    climbing_purkinje = Synapses(
        ctx.group("climbing"),
        purkinje,
        on_pre="g_cf_post += g_cf_pc\ncf_arrived_post = 1",
        name="climbing_purkinje",
    )
    climbing_purkinje.connect(j=np.arange(n_cells), i=np.arange(n_cells) // cell.n_per_channel)
    inputs = {}
    if cell.n_background and float(cell.background_rate) > 0:
        inputs["purkinje_background"] = PoissonInput(
            purkinje, "g_pf", cell.n_background, cell.background_rate, weight="g_bg_pc"
        )
    constants = _lif_constants("pc", cell) | {
        "g_bg_pc": cell.g_background,
        "e_exc_pc": cell.e_exc,
        "g_pf_pc": cell.g_parallel * parallel_fibre_scale(ctx),
        "tau_pf_pc": cell.tau_parallel,
        "g_mli_pc": cell.g_mli,
        "tau_inh_pc": cell.tau_mli,
        "e_gaba_pc": cell.e_gaba,
        "g_cf_pc": cell.g_climbing,
        "tau_cf_pc": cell.tau_climbing,
    }
    return Population(
        groups={"purkinje": purkinje},
        synapses={
            "granule_purkinje": granule_purkinje,
            "mli_purkinje": mli_purkinje,
            "climbing_purkinje": climbing_purkinje,
        }
        | inputs,
        monitors={
            "purkinje_spikes": SpikeMonitor(purkinje, name="purkinje_spikes"),
            "complex_spikes": EventMonitor(purkinje, "complex_spike", name="complex_spikes"),
            "purkinje_traces": _traces(purkinje, "purkinje_traces"),
        },
        constants=constants,
        provides={"n_per_channel": cell.n_per_channel},
    )


# -- deep cerebellar nuclei ----------------------------------------------------------------------


@register_model("dcn", LIFDCNParams)
def build_lif_dcn(cell: LIFDCNParams, ctx: BuildContext) -> Population:
    """DCN group ``dcn`` (channel-major) inhibited by its channel's Purkinje cells.

    Returns
    -------
    Population
        Groups ``{"dcn"}``, synapses ``{"purkinje_dcn"}``, monitors ``dcn_spikes``,
        ``dcn_traces``.
    """
    rng = _rng(ctx, 4)
    n_channels = n_total_channels(ctx)
    n_cells = n_channels * cell.n_per_channel
    dcn = _lif_group(
        n_cells,
        _lif_equations(
            "dcn",
            "g_inh * (e_gaba_dcn - v) - g_exc * v",
            "dg_inh/dt = -g_inh / tau_inh_dcn : siemens\n"
            "dg_exc/dt = -g_exc / tau_inh_dcn : siemens",
        ),
        "dcn",
        cell,
        "dcn",
        rng,
    )
    per_pc = ctx.populations["purkinje"].provides["n_per_channel"]
    pc_channel = np.arange(n_channels * per_pc) // per_pc
    dcn_channel = np.arange(n_cells) // cell.n_per_channel
    pre, post = np.nonzero(pc_channel[:, None] == dcn_channel[None, :])
    purkinje_dcn = Synapses(
        ctx.group("purkinje"), dcn, on_pre="g_inh_post += g_pc_dcn", name="purkinje_dcn"
    )
    purkinje_dcn.connect(i=pre, j=post)
    inputs = {}
    if cell.n_background and float(cell.background_rate) > 0:
        inputs["dcn_background"] = PoissonInput(
            dcn, "g_exc", cell.n_background, cell.background_rate, weight="g_bg_dcn"
        )
    constants = _lif_constants("dcn", cell) | {
        "g_pc_dcn": cell.g_purkinje,
        "g_bg_dcn": cell.g_background,
        "tau_inh_dcn": cell.tau_purkinje,
        "e_gaba_dcn": cell.e_gaba,
    }
    return Population(
        groups={"dcn": dcn},
        synapses={"purkinje_dcn": purkinje_dcn} | inputs,
        monitors={
            "dcn_spikes": SpikeMonitor(dcn, name="dcn_spikes"),
            "dcn_traces": _traces(dcn, "dcn_traces"),
        },
        constants=constants,
        provides={"n_per_channel": cell.n_per_channel},
    )
