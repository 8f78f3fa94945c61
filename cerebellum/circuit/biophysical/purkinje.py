"""Biophysical Purkinje cells: spontaneous simple spikes; a microzone per channel.

``c * n_per_channel`` LIF cells (:class:`~cerebellum.biophysical_params.LIFPurkinjeParams`),
channel-major (cell ``k`` belongs to channel ``k // n_per_channel``),
``C dv/dt = g_L (E_L - v) + (g_pf + g_cf)(E_exc - v) + g_i (E_GABA - v) + I_e``: parallel
fibres from all granule cells (plastic weight ``w``, the rule of
:mod:`cerebellum.circuit.biophysical.climbing`), ``n_mli_inputs`` random interneurons, the
channel's climbing fibre (whose spike sets the custom event ``complex_spike``) and unmodelled
background parallel fibres.
"""

from __future__ import annotations

import numpy as np
from brian2 import EventMonitor, PoissonInput, SpikeMonitor, Synapses

from cerebellum.biophysical_params import LIFPurkinjeParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import (
    connectivity_rng,
    distinct_sources,
    lif_equations,
    lif_group,
    lif_namespace,
    n_total_channels,
    parallel_fibre_scale,
    traces,
)

__all__ = ["build_lif_purkinje"]

#: Currents and conductances of the Purkinje membrane (``cf_arrived`` flags a complex spike).
PURKINJE_CURRENTS = "(g_pf + g_cf) * (e_exc - v) + g_inh * (e_gaba - v)"
PURKINJE_CONDUCTANCES = (
    "dg_pf/dt = -g_pf / tau_parallel : siemens\n"
    "dg_cf/dt = -g_cf / tau_climbing : siemens\n"
    "dg_inh/dt = -g_inh / tau_mli : siemens\n"
    "cf_arrived : 1\n"
    "channel : integer (constant)"
)


def _purkinje_namespace(cell: LIFPurkinjeParams) -> dict:
    return lif_namespace(
        cell,
        g_background=cell.g_background,
        e_exc=cell.e_exc,
        tau_parallel=cell.tau_parallel,
        tau_mli=cell.tau_mli,
        e_gaba=cell.e_gaba,
        tau_climbing=cell.tau_climbing,
    )


def _afferents(cell: LIFPurkinjeParams, ctx: BuildContext, purkinje, rng) -> dict:
    """The PF (plastic), MLI and CF synapses onto ``purkinje`` and its background input."""
    climbing = ctx.populations["climbing"].provides
    n_cells = len(purkinje)
    granule_purkinje = Synapses(
        ctx.group("granule"),
        purkinje,
        climbing["pf_synapse"],
        on_pre=climbing["pf_on_pre"],
        on_post=climbing["pf_on_complex_spike"],
        on_event={"pre": "spike", "post": "complex_spike"},
        namespace={"g_parallel": cell.g_parallel * parallel_fibre_scale(ctx)}
        | climbing["pf_namespace"],
        name="granule_purkinje",
    )
    granule_purkinje.connect(
        i=np.repeat(np.arange(ctx.n_neurons), n_cells),
        j=np.tile(np.arange(n_cells), ctx.n_neurons),
    )
    granule_purkinje.w = climbing["w_initial"]
    mli = ctx.group("mli")
    mli_purkinje = Synapses(
        mli,
        purkinje,
        on_pre="g_inh_post += g_mli",
        namespace={"g_mli": cell.g_mli},
        name="mli_purkinje",
    )
    k_mli = min(cell.n_mli_inputs, len(mli))
    mli_sources = distinct_sources(rng, n_cells, len(mli), k_mli)
    mli_purkinje.connect(i=mli_sources.ravel(), j=np.repeat(np.arange(n_cells), k_mli))
    climbing_purkinje = Synapses(
        ctx.group("climbing"),
        purkinje,
        on_pre="g_cf_post += g_climbing\ncf_arrived_post = 1",
        namespace={"g_climbing": cell.g_climbing},
        name="climbing_purkinje",
    )
    climbing_purkinje.connect(j=np.arange(n_cells), i=np.arange(n_cells) // cell.n_per_channel)
    synapses = {
        "granule_purkinje": granule_purkinje,
        "mli_purkinje": mli_purkinje,
        "climbing_purkinje": climbing_purkinje,
    }
    if cell.n_background and float(cell.background_rate) > 0:
        synapses["purkinje_background"] = PoissonInput(
            purkinje, "g_pf", cell.n_background, cell.background_rate, weight="g_background"
        )
    return synapses


@register_model("purkinje", LIFPurkinjeParams)
def build_lif_purkinje(cell: LIFPurkinjeParams, ctx: BuildContext) -> Population:
    """Purkinje group ``purkinje`` (channel-major), PF, MLI and CF synapses, monitors.

    Cell ``k`` belongs to channel ``k // n_per_channel``.

    Returns
    -------
    Population
        Groups ``{"purkinje"}``, synapses ``granule_purkinje`` (weights ``w``; namespace
        ``g_parallel`` and the climbing fibre's ``pf_namespace``), ``mli_purkinje``
        (``g_mli``), ``climbing_purkinje`` (``g_climbing``) and the ``PoissonInput``
        ``purkinje_background``, monitors ``purkinje_spikes``, ``complex_spikes`` (the
        ``complex_spike`` events), ``purkinje_traces``; provides ``n_per_channel``.
    """
    if "pf_synapse" not in ctx.populations["climbing"].provides:
        raise ValueError(
            "cells.purkinje: the 'lif' Purkinje model needs a climbing-fibre model that "
            "provides the timing-window rule (TimingWindowClimbingParams)"
        )
    rng = connectivity_rng(ctx, 3)
    n_channels = n_total_channels(ctx)
    purkinje = lif_group(
        n_channels * cell.n_per_channel,
        lif_equations(PURKINJE_CURRENTS, PURKINJE_CONDUCTANCES),
        cell,
        "purkinje",
        rng,
        _purkinje_namespace(cell),
        events={"complex_spike": "cf_arrived > 0.5"},
    )
    purkinje.run_on_event("complex_spike", "cf_arrived = 0")
    purkinje.channel = np.repeat(np.arange(n_channels), cell.n_per_channel)
    return Population(
        groups={"purkinje": purkinje},
        synapses=_afferents(cell, ctx, purkinje, rng),
        monitors={
            "purkinje_spikes": SpikeMonitor(purkinje, name="purkinje_spikes"),
            "complex_spikes": EventMonitor(purkinje, "complex_spike", name="complex_spikes"),
            "purkinje_traces": traces(purkinje, "purkinje_traces"),
        },
        provides={"n_per_channel": cell.n_per_channel},
    )
