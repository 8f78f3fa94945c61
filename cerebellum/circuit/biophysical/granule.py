"""Biophysical granule cells: conductance-based LIF with AMPA, NMDA and GABA_A inputs.

The cell of Billings et al. (2014)
(:class:`~cerebellum.biophysical_params.ConductanceGranuleParams`)::

    C dv/dt = g_L (E_L - v) + g_t (E_GABA - v) + (g_d + g_s)(E_AMPA - v)
              + g_N B(v) (E_NMDA - v) + g_G (E_GABA - v)

with direct and spillover AMPA and NMDA from its mossy fibres (the sampled wiring:
``n_inputs`` selected coordinates, the anatomical default, or all ``n`` bits -- the canonical
SDM wiring, not anatomical, with every synaptic conductance scaled by ``4 / n`` so the total
drive matches four inputs), tonic GABA and phasic GABA_A from its Golgi cells
(:mod:`cerebellum.circuit.biophysical.golgi`). The NMDA Mg2+ block ``B(v)`` (Jahr & Stevens
1990) makes the voltage equation non-linear, so it is a variable refreshed from ``v`` at the
start of every step (one step, <= 0.1 ms, of lag against a ~1 ms block time course), which
keeps the equation conditionally linear for ``exponential_euler``.
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, SpikeMonitor, Synapses

from cerebellum.biophysical_params import ConductanceGranuleParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import traces

__all__ = ["GRANULE_EQUATIONS", "MG_BLOCK", "build_conductance_granule"]

GRANULE_EQUATIONS = Equations(
    """
    dv/dt = (g_leak * (e_leak - v) + g_tonic * (e_gaba - v)
             + (g_direct + g_spill) * (e_ampa - v) + g_nmda * mg_block * (e_nmda - v)
             + g_golgi * (e_gaba - v)) / c_m : volt (unless refractory)
    dg_direct/dt = -g_direct / tau_ampa_direct : siemens
    dg_spill/dt = -g_spill / tau_ampa_spillover : siemens
    dg_nmda/dt = (x_nmda - g_nmda) / tau_nmda_decay : siemens
    dx_nmda/dt = -x_nmda / tau_nmda_rise : siemens
    dg_golgi/dt = -g_golgi / tau_gaba : siemens
    mg_block : 1
    """
)

#: Jahr & Stevens (1990) Mg2+ block, refreshed from v at the start of every step.
MG_BLOCK = "mg_block = 1 / (1 + exp(-0.062 * v / mV) * mg_concentration_mm / 3.57)"

#: A mossy-fibre spike: direct and spillover AMPA, and the NMDA rise variable.
MOSSY_ON_PRE = (
    "g_direct_post += g_ampa_direct\n"
    "g_spill_post += g_ampa_spillover\n"
    "x_nmda_post += g_nmda_peak * nmda_norm"
)


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


def _granule_namespace(cell: ConductanceGranuleParams) -> dict:
    """The constants of the granule cells' membrane and conductance equations."""
    return {
        "c_m": cell.c_m,
        "g_leak": cell.g_leak,
        "e_leak": cell.e_leak,
        "g_tonic": cell.g_tonic,
        "e_gaba": cell.e_gaba,
        "v_threshold": cell.v_threshold,
        "v_reset": cell.v_reset,
        "e_ampa": cell.e_ampa,
        "e_nmda": cell.e_nmda,
        "tau_ampa_direct": cell.tau_ampa_direct,
        "tau_ampa_spillover": cell.tau_ampa_spillover,
        "tau_nmda_rise": cell.tau_nmda_rise,
        "tau_nmda_decay": cell.tau_nmda_decay,
        "mg_concentration_mm": cell.mg_concentration_mm,
        "tau_gaba": cell.tau_gaba,
    }


@register_model("granule", ConductanceGranuleParams)
def build_conductance_granule(cell: ConductanceGranuleParams, ctx: BuildContext) -> Population:
    """Granule group ``granule``, its mossy-fibre synapses, spike and membrane monitors.

    Returns
    -------
    Population
        Groups ``{"granule"}``, synapses ``{"mossy_granule"}`` (namespace: the per-spike peaks
        ``g_ampa_direct``, ``g_ampa_spillover``, ``g_nmda_peak``, each scaled by ``min(1, 4 /
        N_syn)``, and ``nmda_norm``), monitors ``granule_spikes`` and ``granule_traces``.
    """
    if ctx.params.dynamics.mode != "biophysical":
        raise ValueError(
            f"cells.granule: the {cell.model!r} granule model needs dynamics.mode='biophysical'; "
            f"got {ctx.params.dynamics.mode!r}"
        )
    granule = NeuronGroup(
        ctx.n_neurons,
        GRANULE_EQUATIONS,
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=cell.refractory,
        method="exponential_euler",
        namespace=_granule_namespace(cell),
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
        on_pre=MOSSY_ON_PRE,
        namespace={
            "g_ampa_direct": cell.g_ampa_direct * scale,
            "g_ampa_spillover": cell.g_ampa_spillover * scale,
            "g_nmda_peak": cell.g_nmda * scale,
            "nmda_norm": _nmda_peak_factor(float(cell.tau_nmda_rise), float(cell.tau_nmda_decay)),
        },
        name="mossy_granule",
    )
    mossy_granule.connect(i=fibre, j=post)
    return Population(
        groups={"granule": granule},
        synapses={"mossy_granule": mossy_granule},
        monitors={
            "granule_spikes": SpikeMonitor(granule, name="granule_spikes"),
            "granule_traces": traces(granule, "granule_traces"),
        },
    )
