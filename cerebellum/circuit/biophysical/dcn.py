"""Biophysical deep-cerebellar-nuclear cells: LIF pacemakers inhibited by their Purkinje cells.

``c * n_per_channel`` cells (:class:`~cerebellum.biophysical_params.LIFDCNParams`),
channel-major, ``C dv/dt = g_L (E_L - v) + g_i (E_GABA - v) - g_e v + I_e``: every Purkinje
cell of the channel inhibits every DCN cell of it, and unmodelled mossy-fibre collaterals
excite them. The read is decoded from the channels' spike counts against the reference
channels (:mod:`cerebellum.engines.biophysical`).
"""

from __future__ import annotations

import numpy as np
from brian2 import PoissonInput, SpikeMonitor, Synapses

from cerebellum.biophysical_params import LIFDCNParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import (
    connectivity_rng,
    lif_equations,
    lif_group,
    lif_namespace,
    n_total_channels,
    traces,
)

__all__ = ["build_lif_dcn"]


@register_model("dcn", LIFDCNParams)
def build_lif_dcn(cell: LIFDCNParams, ctx: BuildContext) -> Population:
    """DCN group ``dcn`` (channel-major) inhibited by its channel's Purkinje cells.

    Returns
    -------
    Population
        Groups ``{"dcn"}`` (namespace: the membrane, ``e_gaba``, ``tau_purkinje``,
        ``g_background``), synapses ``{"purkinje_dcn"}`` (``g_purkinje``) and the
        ``PoissonInput`` ``dcn_background``, monitors ``dcn_spikes``, ``dcn_traces``.
    """
    rng = connectivity_rng(ctx, 4)
    n_channels = n_total_channels(ctx)
    n_cells = n_channels * cell.n_per_channel
    dcn = lif_group(
        n_cells,
        lif_equations(
            "g_inh * (e_gaba - v) - g_exc * v",
            "dg_inh/dt = -g_inh / tau_purkinje : siemens\n"
            "dg_exc/dt = -g_exc / tau_purkinje : siemens",
        ),
        cell,
        "dcn",
        rng,
        lif_namespace(
            cell,
            g_background=cell.g_background,
            tau_purkinje=cell.tau_purkinje,
            e_gaba=cell.e_gaba,
        ),
    )
    per_pc = ctx.populations["purkinje"].provides["n_per_channel"]
    pc_channel = np.arange(n_channels * per_pc) // per_pc
    dcn_channel = np.arange(n_cells) // cell.n_per_channel
    pre, post = np.nonzero(pc_channel[:, None] == dcn_channel[None, :])
    purkinje_dcn = Synapses(
        ctx.group("purkinje"),
        dcn,
        on_pre="g_inh_post += g_purkinje",
        namespace={"g_purkinje": cell.g_purkinje},
        name="purkinje_dcn",
    )
    purkinje_dcn.connect(i=pre, j=post)
    inputs = {}
    if cell.n_background and float(cell.background_rate) > 0:
        inputs["dcn_background"] = PoissonInput(
            dcn, "g_exc", cell.n_background, cell.background_rate, weight="g_background"
        )
    return Population(
        groups={"dcn": dcn},
        synapses={"purkinje_dcn": purkinje_dcn} | inputs,
        monitors={
            "dcn_spikes": SpikeMonitor(dcn, name="dcn_spikes"),
            "dcn_traces": traces(dcn, "dcn_traces"),
        },
        provides={"n_per_channel": cell.n_per_channel},
    )
