"""Purkinje cells: one per value channel (plus one-hot pattern channels); PF synapses = counters.

Purkinje channel ``c`` sums the weights of the parallel fibres that fire in a window,
``I_c = sum_j w[j, c]`` over the active granule cells, and reads the Golgi cell's count ``A``
and the MLI's summed write counts ``C`` through links. The decoded read is

``read_c = (w0 A + dw C - I_c) / (2 dw C)`` (0 if ``C = 0``),

which equals ``sum_j S_jc / sum_j n_writes_j`` over the active cells -- NeuronSDM's read. With
one-hot values on ``m`` extra channels, ``(w0 A + dw C - I_mu) / (2 dw)`` is the intersection
count of pattern mu. The simple-spike rate is ``rho0 + g (1 - 2 read)``
(:class:`~cerebellum.params.OutputParams`). The PF -> Purkinje weights learn by the climbing
fibre's rule (:mod:`cerebellum.circuit.algorithmic.climbing`).
"""

from __future__ import annotations

import brian2
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
from cerebellum.params import LinearRatePurkinjeParams

__all__ = ["build_linear_rate_purkinje"]

#: The decoded read and the simple-spike rate (refreshed every step by ``purkinje_readout``).
READOUT_EQUATIONS = Equations(
    """
    read : 1
    rate : Hz
    """
)

#: The parallel-fibre weight (a bipolar counter).
PF_SYNAPSE = Equations("w : 1")

_READOUT = (
    "read = int(write_count_input > 0) * (w0 * active_count + dw * write_count_input"
    " - pf_input) / (2 * dw * (write_count_input + int(write_count_input <= 0)))\n"
    "rate = rho0 + rho_gain * (1 - 2 * read)"
)


@register_model("purkinje", LinearRatePurkinjeParams)
def build_linear_rate_purkinje(cell: LinearRatePurkinjeParams, ctx: BuildContext) -> Population:
    """Purkinje group ``purkinje``, the PF -> Purkinje synapses and the window-end monitor.

    Parameters
    ----------
    cell : LinearRatePurkinjeParams
    ctx : BuildContext
        Granule, Golgi, MLI and climbing fibre must have been built.

    Returns
    -------
    Population
        Groups ``{"purkinje"}`` (namespace: the window constants, ``w0``, ``dw``, ``rho0``,
        ``rho_gain``), synapses ``{"granule_purkinje"}`` (the climbing fibre's
        ``pf_namespace``), monitor ``purkinje`` (window-end ``pf_input``, ``read``, ``rate``).
    """
    climbing = ctx.populations["climbing"].provides
    n_channels = ctx.n_channels
    plasticity, output = ctx.params.plasticity, ctx.params.output
    equations = (
        window_sum("pf_input")
        + window_sum("write_count_input", linked=True)
        + window_sum("active_count", linked=True)
        + climbing["teaching"]
        + READOUT_EQUATIONS
    )
    namespace = ctx.namespace(
        w0=plasticity.pf_weight_initial,
        dw=plasticity.pf_weight_step,
        rho0=output.purkinje_rate_baseline,
        rho_gain=output.purkinje_rate_gain,
    )
    purkinje = NeuronGroup(
        n_channels, equations, events=window_end_event(), namespace=namespace, name="purkinje"
    )
    # Read-out of the accumulated input, refreshed at the start of every step (before the
    # summed PC -> DCN synapse and the window-end monitors use it).
    purkinje.run_regularly(_READOUT, when="start", name="purkinje_readout")
    purkinje.write_count_input = brian2.linked_var(
        ctx.group("mli"), "write_count_input", index=np.zeros(n_channels, int)
    )
    purkinje.active_count = brian2.linked_var(
        ctx.group("golgi"), "active_count", index=np.zeros(n_channels, int)
    )
    purkinje.run_on_event("window_end", "pf_input = 0")
    granule_purkinje = Synapses(
        ctx.group("granule"),
        purkinje,
        PF_SYNAPSE,
        on_pre="pf_input_post += w\n" + climbing["pf_plasticity"],
        namespace=dict(climbing["pf_namespace"]),
        name="granule_purkinje",
    )
    granule_purkinje.connect(
        i=np.repeat(np.arange(ctx.n_neurons), n_channels),
        j=np.tile(np.arange(n_channels), ctx.n_neurons),
    )
    granule_purkinje.w = plasticity.pf_weight_initial
    return Population(
        groups={"purkinje": purkinje},
        synapses={"granule_purkinje": granule_purkinje},
        monitors={
            "purkinje": window_end_monitor(purkinje, ["pf_input", "read", "rate"], "purkinje_mon")
        },
    )
