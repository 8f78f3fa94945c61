"""Molecular-layer interneurons (basket / stellate): the feed-forward normaliser.

Each parallel-fibre -> MLI synapse stores the write count of its granule cell, ``n_writes[j]``
(incremented by every write in which cell ``j`` fires, i.e. while the climbing-fibre
plasticity gate is open). In a read window the MLI sums them over the active cells,
``C = sum_j n_writes_j``, the denominator of the SDM read (Kanerva 1988: divide by the number
of writes summed). The Purkinje cells read ``C`` through a link.
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
    window_sum,
)
from cerebellum.params import WriteCountMLIParams

__all__ = ["build_write_count_mli"]

#: The write count a parallel-fibre -> MLI synapse holds.
WRITE_COUNT_SYNAPSE = Equations("n_writes : 1")


@register_model("mli", WriteCountMLIParams)
def build_write_count_mli(cell: WriteCountMLIParams, ctx: BuildContext) -> Population:
    """MLI group ``mli``, the granule -> MLI synapses and the window-end monitor.

    Parameters
    ----------
    cell : WriteCountMLIParams
    ctx : BuildContext
        The granule cells must have been built.

    Returns
    -------
    Population
        Groups ``{"mli"}`` (namespace: the window constants), synapses ``{"granule_mli"}``,
        monitor ``mli`` (window-end ``write_count_input``).
    """
    mli = NeuronGroup(
        1,
        window_sum("write_count_input"),
        events=window_end_event(),
        namespace=ctx.namespace(),
        name="mli",
    )
    mli.run_on_event("window_end", "write_count_input = 0")
    granule_mli = Synapses(
        ctx.group("granule"),
        mli,
        WRITE_COUNT_SYNAPSE,
        on_pre="write_count_input_post += n_writes\nn_writes += plasticity_gate(t)",
        name="granule_mli",
    )
    granule_mli.connect(i=np.arange(ctx.n_neurons), j=np.zeros(ctx.n_neurons, dtype=int))
    return Population(
        groups={"mli": mli},
        synapses={"granule_mli": granule_mli},
        monitors={"mli": window_end_monitor(mli, ["write_count_input"], "mli_mon")},
    )
