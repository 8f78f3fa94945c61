"""Biophysical molecular-layer interneurons (stellate / basket): the feed-forward normaliser.

``n_cells`` LIF cells (:class:`~cerebellum.biophysical_params.LIFMLIParams`), ``C dv/dt =
g_L (E_L - v) + g_e (E_exc - v) + I_e``, each driven by a random fraction of the parallel
fibres and by unmodelled background fibres; each Purkinje cell receives ``n_mli_inputs`` of
them at random (:mod:`cerebellum.circuit.biophysical.purkinje`), so their inhibition grows with
the number of active parallel fibres while a channel's cells share few interneurons.
"""

from __future__ import annotations

import numpy as np
from brian2 import PoissonInput, SpikeMonitor, Synapses

from cerebellum.biophysical_params import LIFMLIParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import (
    connectivity_rng,
    lif_equations,
    lif_group,
    lif_namespace,
    parallel_fibre_scale,
    traces,
)

__all__ = ["build_lif_mli"]


@register_model("mli", LIFMLIParams)
def build_lif_mli(cell: LIFMLIParams, ctx: BuildContext) -> Population:
    """MLI group ``mli`` and its parallel-fibre synapses ``granule_mli``.

    Returns
    -------
    Population
        Groups ``{"mli"}`` (namespace: the membrane, ``e_exc``, ``tau_exc`` and the background
        ``g_background``), synapses ``{"granule_mli"}`` (``g_parallel``, scaled by
        :func:`~cerebellum.circuit.biophysical.common.parallel_fibre_scale`) and the
        ``PoissonInput`` ``mli_background``, monitors ``mli_spikes``, ``mli_traces``.
    """
    rng = connectivity_rng(ctx, 2)
    mli = lif_group(
        cell.n_cells,
        lif_equations("g_exc * (e_exc - v)", "dg_exc/dt = -g_exc / tau_exc : siemens"),
        cell,
        "mli",
        rng,
        lif_namespace(cell, e_exc=cell.e_exc, tau_exc=cell.tau_exc, g_background=cell.g_background),
    )
    contact = rng.random((ctx.n_neurons, cell.n_cells)) < cell.connection_probability
    pre, post = np.nonzero(contact)
    granule_mli = Synapses(
        ctx.group("granule"),
        mli,
        on_pre="g_exc_post += g_parallel",
        namespace={"g_parallel": cell.g_parallel * parallel_fibre_scale(ctx)},
        name="granule_mli",
    )
    granule_mli.connect(i=pre, j=post)
    inputs = {}
    if cell.n_background and float(cell.background_rate) > 0 and float(cell.g_background) > 0:
        inputs["mli_background"] = PoissonInput(
            mli, "g_exc", cell.n_background, cell.background_rate, weight="g_background"
        )
    return Population(
        groups={"mli": mli},
        synapses={"granule_mli": granule_mli} | inputs,
        monitors={
            "mli_spikes": SpikeMonitor(mli, name="mli_spikes"),
            "mli_traces": traces(mli, "mli_traces"),
        },
    )
