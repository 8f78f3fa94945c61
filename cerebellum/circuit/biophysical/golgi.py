"""Biophysical Golgi cells: LIF cells that inhibit the granule cells they are excited by.

``C dv/dt = g_L (E_L - v) + g_e (E_exc - v) + I_e``
(:class:`~cerebellum.biophysical_params.LIFGolgiParams`, ``r / granule_per_golgi`` cells):
feed-forward mossy-fibre and feedback granule-cell excitation raise ``g_e``; each Golgi spike
raises the GABA_A conductance of the granule cells it contacts by the per-synapse runtime
variable ``w_inhibition``, so the calibration
(:func:`cerebellum.engines.biophysical.calibrate_golgi`) changes it without a rebuild.
"""

from __future__ import annotations

import numpy as np
from brian2 import SpikeMonitor, Synapses

from cerebellum.biophysical_params import LIFGolgiParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import (
    connectivity_rng,
    distinct_sources,
    lif_equations,
    lif_group,
    lif_namespace,
    traces,
)

__all__ = ["build_lif_golgi", "n_golgi_cells"]


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
        Groups ``{"golgi"}``, synapses ``mossy_golgi`` (namespace ``g_mossy``),
        ``granule_golgi`` (``g_granule``), ``golgi_granule`` (per-synapse ``w_inhibition``,
        set by the calibration), monitors ``golgi_spikes`` and ``golgi_traces``.
    """
    rng = connectivity_rng(ctx, 1)
    n_golgi = n_golgi_cells(cell, ctx.n_neurons)
    golgi = lif_group(
        n_golgi,
        lif_equations("g_exc * (e_exc - v)", "dg_exc/dt = -g_exc / tau_exc : siemens"),
        cell,
        "golgi",
        rng,
        lif_namespace(cell, e_exc=cell.e_exc, tau_exc=cell.tau_exc),
    )
    mossy = ctx.group("mossy")
    n_mf = len(mossy)
    k_mf = min(cell.n_mossy_inputs, n_mf)
    mf_pre = np.concatenate([rng.choice(n_mf, k_mf, replace=False) for _ in range(n_golgi)])
    mossy_golgi = Synapses(
        mossy,
        golgi,
        on_pre="g_exc_post += g_mossy",
        namespace={"g_mossy": cell.g_mossy},
        name="mossy_golgi",
    )
    mossy_golgi.connect(i=mf_pre, j=np.repeat(np.arange(n_golgi), k_mf))
    granule = ctx.group("granule")
    k_gc = min(cell.n_granule_inputs, ctx.n_neurons)
    gc_pre = np.concatenate(
        [rng.choice(ctx.n_neurons, k_gc, replace=False) for _ in range(n_golgi)]
    )
    granule_golgi = Synapses(
        granule,
        golgi,
        on_pre="g_exc_post += g_granule",
        namespace={"g_granule": cell.g_granule},
        name="granule_golgi",
    )
    granule_golgi.connect(i=gc_pre, j=np.repeat(np.arange(n_golgi), k_gc))
    k_in = min(cell.n_golgi_per_granule, n_golgi)
    sources = distinct_sources(rng, ctx.n_neurons, n_golgi, k_in)
    golgi_granule = Synapses(
        golgi,
        granule,
        "w_inhibition : siemens",
        on_pre="g_golgi_post += w_inhibition",
        name="golgi_granule",
    )
    golgi_granule.connect(i=sources.ravel(), j=np.repeat(np.arange(ctx.n_neurons), k_in))
    golgi_granule.w_inhibition = cell.g_inhibition * cell.inhibition_scale
    return Population(
        groups={"golgi": golgi},
        synapses={
            "mossy_golgi": mossy_golgi,
            "granule_golgi": granule_golgi,
            "golgi_granule": golgi_granule,
        },
        monitors={
            "golgi_spikes": SpikeMonitor(golgi, name="golgi_spikes"),
            "golgi_traces": traces(golgi, "golgi_traces"),
        },
    )
