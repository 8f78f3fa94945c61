"""Deep cerebellar nuclei: the output of the read, inhibited by their Purkinje cells.

DCN cell ``c`` is inhibited by Purkinje cell ``c`` through a summed synapse and fires

``rate_max (1 + rho0/g) / 2 - rate_max / (2 g) rho_PC = rate_max * read``,

a linear rate read-out of the SDM read (:class:`~cerebellum.params.OutputParams`).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, Synapses

from cerebellum.circuit.base import (
    BuildContext,
    Population,
    register_model,
    window_end_event,
    window_end_monitor,
)
from cerebellum.params import LinearRateDCNParams

__all__ = ["build_linear_rate_dcn"]

#: Purkinje inhibition and the resulting rate.
DCN_EQUATIONS = Equations(
    """
    inhibition : Hz
    rate = dcn_drive - inhibition : Hz
    """
)

#: The summed Purkinje -> DCN inhibition.
PURKINJE_DCN_SYNAPSE = Equations("inhibition_post = dcn_weight * rate_pre : Hz (summed)")


@register_model("dcn", LinearRateDCNParams)
def build_linear_rate_dcn(cell: LinearRateDCNParams, ctx: BuildContext) -> Population:
    """DCN group ``dcn``, the Purkinje -> DCN synapses and the window-end monitor.

    Parameters
    ----------
    cell : LinearRateDCNParams
    ctx : BuildContext
        The Purkinje cells must have been built.

    Returns
    -------
    Population
        Groups ``{"dcn"}`` (namespace: the window constants, ``dcn_drive``), synapses
        ``{"purkinje_dcn"}`` (``dcn_weight``), monitor ``dcn`` (window-end ``rate``).
    """
    out = ctx.params.output
    drive = out.dcn_rate_max * (1 + out.purkinje_rate_baseline / out.purkinje_rate_gain) / 2
    dcn = NeuronGroup(
        ctx.n_values,
        DCN_EQUATIONS,
        events=window_end_event(),
        namespace=ctx.namespace(dcn_drive=drive),
        name="dcn",
    )
    purkinje_dcn = Synapses(
        ctx.group("purkinje"),
        dcn,
        PURKINJE_DCN_SYNAPSE,
        namespace={"dcn_weight": float(out.dcn_rate_max / (2 * out.purkinje_rate_gain))},
        name="purkinje_dcn",
    )
    purkinje_dcn.connect(i=np.arange(ctx.n_values), j=np.arange(ctx.n_values))
    return Population(
        groups={"dcn": dcn},
        synapses={"purkinje_dcn": purkinje_dcn},
        monitors={"dcn": window_end_monitor(dcn, ["rate"], "dcn_mon")},
    )
