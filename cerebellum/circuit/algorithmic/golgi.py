"""The Golgi cell: sets which granule cells fire (the activation radius, or the top k).

It counts the granule cells that fire in a window (``active_count``, ``A``, through the
granule -> Golgi synapses) for the read-out. In the radius and selected rules its inhibition is
the fixed threshold ``theta`` of :mod:`cerebellum.circuit.algorithmic.granule`; in top-k it is
a feedback loop that finds, by bisection, the level that admits exactly ``k`` cells.

Top-k bisection: with priorities ``P_j`` below ``H = (x_max + 1) r``, during the
``B = ceil(log2 H)`` search steps (``K_in + 1 .. K_in + B``) the Golgi cell sums
``N(mid) = #{j : P_j >= mid}`` over its granule-cell synapses and keeps the invariant
``N(lo) >= k > N(hi)``; after ``B`` halvings ``hi = lo + 1``, so exactly ``k`` cells have
``P_j >= lo``, and at the decision step ``s = K_in + B + 1`` those cells fire. This is exact
and costs ``B`` steps (20 for n = 64, r = 10^4), not ``r``.
"""

from __future__ import annotations

import brian2
import numpy as np
from brian2 import Equations, NeuronGroup, Synapses

from cerebellum.circuit.base import (
    WINDOW_STEP,
    BuildContext,
    Population,
    register_model,
    window_end_event,
    window_end_monitor,
    window_sum,
)
from cerebellum.params import BisectionGolgiParams
from models.activation import ActivationRule

__all__ = ["build_bisection_golgi"]

#: The bisection state: granule cells above ``level_mid`` and the bracket ``[lo, hi)``.
BISECTION_EQUATIONS = Equations(
    """
    n_above : 1
    level_lo : 1
    level_hi : 1
    level_mid : 1
    """
)

_RESTART = "level_lo = 0\nlevel_hi = priority_limit\nlevel_mid = floor((level_lo + level_hi) / 2)\n"
_HALVE = (
    "level_lo = level_lo + int(n_above >= k_active) * (level_mid - level_lo)\n"
    "level_hi = level_hi + int(n_above < k_active) * (level_mid - level_hi)\n"
    "level_mid = floor((level_lo + level_hi) / 2)\n"
)


@register_model("golgi", BisectionGolgiParams)
def build_bisection_golgi(cell: BisectionGolgiParams, ctx: BuildContext) -> Population:
    """Golgi group ``golgi``, the granule -> Golgi synapses and the window-end monitor.

    In top-k it links the granule cells' ``golgi_level`` to its ``level_lo``.

    Parameters
    ----------
    cell : BisectionGolgiParams
    ctx : BuildContext
        The granule cells must have been built.

    Returns
    -------
    Population
        Groups ``{"golgi"}`` (namespace: the window constants, ``k_active``,
        ``priority_limit``), synapses ``{"granule_golgi"}`` (in the granule cells' namespace:
        it sums their ``priority``), monitor ``golgi`` (window-end ``active_count``).
    """
    granule = ctx.group("granule")
    top_k = ctx.params.granule.activation is ActivationRule.TOP_K
    limit = ctx.timing.priority_limit
    equations = window_sum("active_count")
    events = window_end_event()
    if top_k:
        if not {"priority", "golgi_level"} <= set(granule.equations.names):
            raise ValueError(
                "cells.granule: top-k needs a granule model with 'priority' and 'golgi_level' "
                f"(the counter model); got {type(ctx.params.cells.granule).__name__}"
            )
        equations += BISECTION_EQUATIONS
        events["search"] = f"{WINDOW_STEP} > n_input_steps and {WINDOW_STEP} < decision_step"
    namespace = ctx.namespace(k_active=ctx.params.granule.top_k or 0, priority_limit=limit)
    golgi = NeuronGroup(1, equations, events=events, namespace=namespace, name="golgi")
    if top_k:
        golgi.run_on_event("window_end", "active_count = 0\n" + _RESTART)
        golgi.run_on_event("search", _HALVE)
        golgi.level_lo = 0
        golgi.level_hi = limit
        golgi.level_mid = limit // 2
        granule.golgi_level = brian2.linked_var(
            golgi, "level_lo", index=np.zeros(ctx.n_neurons, int)
        )
        model = Equations("n_above_post = int(priority_pre >= level_mid_post) : 1 (summed)")
    else:
        golgi.run_on_event("window_end", "active_count = 0")
        model = Equations("")
    granule_golgi = Synapses(
        granule,
        golgi,
        model,
        on_pre="active_count_post += 1",
        namespace=dict(granule.namespace),
        name="granule_golgi",
    )
    granule_golgi.connect(i=np.arange(ctx.n_neurons), j=np.zeros(ctx.n_neurons, dtype=int))
    return Population(
        groups={"golgi": golgi},
        synapses={"granule_golgi": granule_golgi},
        monitors={"golgi": window_end_monitor(golgi, ["active_count"], "golgi_mon")},
    )
