"""Biophysical mossy fibres: ``2 n`` push-pull dead-time Poisson trains.

Fibre ``f`` fires at ``rate = mf_rate_off + (mf_rate_on - mf_rate_off) mf_pattern(t, f)``
(``mf_pattern`` is the protocol's ``TimedArray``, 0 in the gaps), a renewal process with dead
time ``tau`` and hazard ``rate / (1 - rate tau)``
(:class:`~cerebellum.biophysical_params.PoissonTrainMossyParams`).
"""

from __future__ import annotations

from brian2 import NeuronGroup, SpikeMonitor

from cerebellum.biophysical_params import PoissonTrainMossyParams
from cerebellum.circuit.base import BuildContext, Population, register_model

__all__ = ["build_poisson_train_mossy"]


@register_model("mossy", PoissonTrainMossyParams)
def build_poisson_train_mossy(cell: PoissonTrainMossyParams, ctx: BuildContext) -> Population:
    """Mossy-fibre group ``mossy``: push-pull Poisson trains (``mf_pattern`` from the protocol).

    Returns
    -------
    Population
        Groups ``{"mossy"}`` (namespace ``mf_rate_on``, ``mf_rate_off``, ``dead_time``),
        monitor ``mossy_spikes``.
    """
    dyn = ctx.params.dynamics
    if not float(dyn.mf_rate_on * cell.dead_time) < 1.0:
        raise ValueError(
            f"cells.mossy.dead_time * dynamics.mf_rate_on must be < 1; got "
            f"{cell.dead_time!r} * {dyn.mf_rate_on!r}"
        )
    mossy = NeuronGroup(
        ctx.params.granule.n_mossy_fibres,
        "rate = mf_rate_off + (mf_rate_on - mf_rate_off) * mf_pattern(t, i) : Hz",
        threshold="rand() < rate / (1 - rate * dead_time) * dt",
        refractory=cell.dead_time,
        namespace={
            "mf_rate_on": dyn.mf_rate_on,
            "mf_rate_off": dyn.mf_rate_off,
            "dead_time": cell.dead_time,
        },
        name="mossy",
    )
    return Population(
        groups={"mossy": mossy},
        monitors={"mossy_spikes": SpikeMonitor(mossy, name="mossy_spikes")},
    )
