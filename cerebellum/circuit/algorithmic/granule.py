"""Granule cells: the hard locations; their mossy-fibre synapses are the neuron addresses.

The counter model (:class:`~cerebellum.params.CounterGranuleParams`, the default) is the exact
SDM neuron. Each mossy-fibre spike adds 1 to the cell's input count ``x_j``, a perfect
integrator over the window cleared by the window-end event (the Golgi cell's periodic
inhibition), through the mossy-fibre -> granule synapses (one per address bit, from
:meth:`cerebellum.wiring.Wiring.mossy_granule_synapses`). In compiled code (``cpp_standalone``,
the cython target) a spike is an ``on_pre`` increment ``count_post += 1`` in the step it is
fired: work proportional to the spikes (``n r / 2`` events per window in the algorithmic mode,
where fibres fire on one step of ``K``). With the numpy target the synapses are a summed
variable instead, delivering each step how many of the cell's fibres spiked in the previous
step (added to ``count`` before the thresholds): numpy's ``bincount`` over all synapses is
faster than ``add.at`` over the spiking ones even evaluated on every step (measured at
r = 10^5, 20 windows: 5.0 s summed vs 6.2 s ``on_pre``; r = 10^4: 6 ms vs 47 ms per volley).
Either way every volley has reached ``count`` by the decision step, and the counts are the same
integers (:func:`cerebellum.circuit.algorithmic.mossy.summed_transmission` picks the form).

- Radius and selected rules, decision step ``s = K_in``: the cell fires iff ``x_j > theta``,
  ``theta = (N_syn - d - 1/2) lam_on + (d + 1/2) lam_off`` with ``lam = K_in p`` the mean count
  of one fibre and ``N_syn`` the synapses per cell. Deterministic (``lam_on = 1,
  lam_off = 0``): ``x_j = n - H(q, x_a^j)`` and ``x_j > n - d - 1/2  <=>  H <= d``, exactly.
  The selected-coordinate and hyperplane rules use ``d = 0`` over their ``n_inputs``
  synapses (all must match).
- Top-k: the cell's priority ``P_j = x_j r + (r - 1 - j)`` (distinct integers, larger for more
  matches and, among equal matches, for lower indices -- the mirror's tie rule) is compared,
  at the decision step, with the level the Golgi cell found by bisection
  (:mod:`cerebellum.circuit.algorithmic.golgi`), linked in as ``golgi_level``.

Fast path (injected drive): no synapses; the protocol's ``granule_drive(t, i)`` (the match
count, :meth:`cerebellum.wiring.Wiring.match_counts`) is added at step ``K_in``, the step at
which the synaptic volley would have arrived.
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, SpikeMonitor, Synapses

from cerebellum.circuit.algorithmic.mossy import summed_transmission
from cerebellum.circuit.base import (
    WINDOW_STEP,
    BuildContext,
    Population,
    register_model,
    window_end_event,
    window_sum,
)
from cerebellum.params import CounterGranuleParams
from models.activation import ActivationRule

__all__ = ["build_counter_granule", "mossy_granule_synapses"]

#: The summed mossy-fibre input of this step (numpy target only).
SUMMED_INPUT_EQUATIONS = Equations("mossy_input : 1")

#: The tie-breaking bias ``r - 1 - j``.
BIAS_EQUATIONS = Equations("bias : 1 (constant)")

#: The Golgi level a top-k cell compares its priority with, and that priority.
TOP_K_EQUATIONS = Equations(
    """
    golgi_level : 1 (linked)
    priority = count * n_neurons + bias : 1
    """
)


def mossy_granule_synapses(ctx: BuildContext, granule: NeuronGroup, model, **kwargs) -> Synapses:
    """The mossy-fibre -> granule synapses ``mossy_granule`` on the sampled wiring.

    Parameters
    ----------
    ctx : BuildContext
        The mossy fibres must have been built.
    granule : NeuronGroup
    model : str or Equations
        Synapse model (``Synapses(model=...)``); ``kwargs`` go to ``Synapses`` too
        (``on_pre=...``).

    Returns
    -------
    Synapses
    """
    synapses = Synapses(ctx.group("mossy"), granule, model, name="mossy_granule", **kwargs)
    fibre, cell = ctx.wiring.mossy_granule_synapses()
    synapses.connect(i=fibre, j=cell)
    return synapses


def _threshold_count(ctx: BuildContext) -> float:
    """``theta`` of the module docstring (0 for top-k, which uses the Golgi level)."""
    g, dyn = ctx.params.granule, ctx.params.dynamics
    if g.activation is ActivationRule.TOP_K:
        return 0.0
    lam_on = ctx.timing.n_input_steps * dyn.spike_probability_on
    lam_off = ctx.timing.n_input_steps * dyn.spike_probability_off
    radius = 0 if g.activation.selected else g.activation_radius
    return (g.n_synapses_per_cell - radius - 0.5) * lam_on + (radius + 0.5) * lam_off


@register_model("granule", CounterGranuleParams)
def build_counter_granule(cell: CounterGranuleParams, ctx: BuildContext) -> Population:
    """Granule group ``granule``, its mossy-fibre synapses and its spike monitor.

    Parameters
    ----------
    cell : CounterGranuleParams
    ctx : BuildContext

    Returns
    -------
    Population
        Groups ``{"granule"}`` (namespace: the window constants, ``theta``, ``n_neurons``),
        synapses ``{"mossy_granule"}`` (none when injected), monitor ``granule_spikes``.
    """
    top_k = ctx.params.granule.activation is ActivationRule.TOP_K
    summed = not ctx.injected and summed_transmission(ctx.params)
    equations = window_sum("count") + BIAS_EQUATIONS
    if summed:
        equations += SUMMED_INPUT_EQUATIONS
    if top_k:
        equations += TOP_K_EQUATIONS
        threshold = f"{WINDOW_STEP} == decision_step and priority >= golgi_level"
    else:
        threshold = f"{WINDOW_STEP} == decision_step and count > theta"
    granule = NeuronGroup(
        ctx.n_neurons,
        equations,
        threshold=threshold,
        reset="",
        events=window_end_event(),
        namespace=ctx.namespace(theta=_threshold_count(ctx), n_neurons=ctx.n_neurons),
        name="granule",
    )
    granule.run_on_event("window_end", "count = 0")
    if ctx.injected:
        # Fast path: the match count arrives at the step where the last synaptic volley would.
        integrate = f"count += granule_drive(t, i) * int({WINDOW_STEP} == n_input_steps)"
        granule.run_regularly(
            integrate, when="before_thresholds", order=-1, name="granule_integrate"
        )
    elif summed:
        granule.run_regularly(
            "count += mossy_input", when="before_thresholds", order=-1, name="granule_integrate"
        )
    granule.bias = np.arange(ctx.n_neurons - 1, -1, -1, dtype=np.float64)
    synapses = {}
    if summed:
        synapses["mossy_granule"] = mossy_granule_synapses(
            ctx, granule, "mossy_input_post = spiked_pre : 1 (summed)"
        )
    elif not ctx.injected:
        synapses["mossy_granule"] = mossy_granule_synapses(
            ctx, granule, Equations(""), on_pre="count_post += 1"
        )
    return Population(
        groups={"granule": granule},
        synapses=synapses,
        monitors={"granule_spikes": SpikeMonitor(granule, name="granule_spikes")},
    )
