"""Mossy fibres: ``2 n`` push-pull fibres carrying the address or query bits.

Fibre ``f = 2 i + b`` is active in a window when bit ``i`` of the presented address equals
``b``; the protocol says which through the ``TimedArray`` ``mf_pattern(t, f)``. In the
algorithmic mode every active fibre fires once, at step ``s = 0`` of the window; in the
Poisson mode every fibre fires a Bernoulli spike per step for the ``K_in`` input steps, with
probability ``p_on = mf_rate_on dt`` when active and ``p_off = mf_rate_off dt`` otherwise.

How a spike reaches the granule cells depends on the engine (:func:`summed_transmission`):
compiled code (``cpp_standalone``, the cython target) transmits it event by event, work
proportional to the spikes (``on_pre``); the numpy target instead sums a one-step flag
``spiked`` over all synapses every step (set by the reset, seen by the summed mossy-fibre ->
granule synapse in the next step's ``groups`` slot, then cleared before that step's
thresholds), because numpy's ``bincount`` over every synapse beats ``add.at`` over the spiking
ones (see :mod:`cerebellum.circuit.algorithmic.granule`). On the injected fast path
(``DynamicsParams(mossy_drive="injected")``) there is no mossy-fibre group at all.
"""

from __future__ import annotations

from brian2 import Equations, NeuronGroup, SpikeMonitor

from cerebellum.circuit.base import WINDOW_STEP, BuildContext, Population, register_model
from cerebellum.params import CircuitParams, PushPullMossyParams

__all__ = ["build_push_pull_mossy", "summed_transmission"]

#: The one-step spike flag of a fibre (summed transmission).
MOSSY_EQUATIONS = Equations("spiked : 1")


def summed_transmission(params: CircuitParams) -> bool:
    """True when mossy-fibre spikes reach the granule cells through a summed flag.

    That is the runtime device with the numpy target, where one ``bincount`` over all
    synapses per step is faster than ``add.at`` over the spiking ones; compiled code
    (``cpp_standalone``, cython) transmits spike by spike (``on_pre``). Both deliver the same
    integer counts by the decision step, so the circuit is exact either way.
    """
    dev = params.device
    return dev.device == "runtime" and dev.codegen_target == "numpy"


@register_model("mossy", PushPullMossyParams)
def build_push_pull_mossy(cell: PushPullMossyParams, ctx: BuildContext) -> Population:
    """Mossy-fibre group ``mossy`` (none on the injected fast path).

    Parameters
    ----------
    cell : PushPullMossyParams
    ctx : BuildContext

    Returns
    -------
    Population
        Groups ``{"mossy"}`` (namespace: the window constants, ``p_on``, ``p_off``), monitor
        ``mossy_spikes``.
    """
    dyn = ctx.params.dynamics
    if ctx.injected:
        return Population()
    namespace = ctx.namespace(p_on=dyn.spike_probability_on, p_off=dyn.spike_probability_off)
    if dyn.mode == "algorithmic":
        threshold = f"{WINDOW_STEP} == 0 and mf_pattern(t, i) > 0.5"
    else:
        threshold = (
            f"{WINDOW_STEP} < n_input_steps and "
            "rand() < p_on * mf_pattern(t, i) + p_off * (1 - mf_pattern(t, i))"
        )
    if not summed_transmission(ctx.params):
        mossy = NeuronGroup(
            ctx.params.granule.n_mossy_fibres,
            Equations(""),
            threshold=threshold,
            reset="",  # stateless fibres: nothing to reset (and no Brian2 warning)
            namespace=namespace,
            name="mossy",
        )
        return Population(groups={"mossy": mossy}, monitors=_monitor(mossy))
    mossy = NeuronGroup(
        ctx.params.granule.n_mossy_fibres,
        MOSSY_EQUATIONS,
        threshold=threshold,
        reset="spiked = 1",
        namespace=namespace,
        name="mossy",
    )
    mossy.run_regularly("spiked = 0", when="before_thresholds", name="mossy_flag_clear")
    return Population(groups={"mossy": mossy}, monitors=_monitor(mossy))


def _monitor(mossy) -> dict:
    """``mossy_spikes``: the fibres' spikes (rasters, NWB); n_dims spikes per window."""
    return {"mossy_spikes": SpikeMonitor(mossy, name="mossy_spikes")}
