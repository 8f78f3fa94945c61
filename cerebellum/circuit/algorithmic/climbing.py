"""Climbing fibres from the inferior olive: the teacher that writes the value.

During writes (``plasticity_gate(t) = 1``, a protocol ``TimedArray``) the climbing fibre of
Purkinje channel ``c`` carries the value being written, ``v_c = cf_value(t, c)``; during reads
the gate is 0 and nothing is learnt. Every parallel-fibre spike onto Purkinje channel ``c``
changes its weight by ``dw (1 - 2 v_c)``: PF alone (``v = 0``) is LTP ``+dw``, PF + CF
(``v = 1``) is LTD ``-dw`` (Ito 2001; Albus 1971's sign). Hence, after writes,
``w = w0 + dw (n_writes - 2 S)`` with ``S`` the mirror's counter (Kanerva 1988).

The climbing fibre has no group of its own: it *provides* the Purkinje cell's teaching signal
(``teaching``, an ``Equations`` the Purkinje builder adds to its own) and the PF -> Purkinje
plasticity rule (``pf_plasticity``, code appended to the synapse's ``on_pre``, with
``pf_namespace``, the namespace of its constant ``dw``).
"""

from __future__ import annotations

from brian2 import Equations

from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.params import BipolarClimbingParams

__all__ = ["build_bipolar_climbing"]

#: The climbing-fibre signal seen by a Purkinje cell: the written value, gated.
TEACHING_EQUATIONS = Equations("cf = cf_value(t, i) * plasticity_gate(t) : 1")

#: PF -> Purkinje plasticity at a parallel-fibre spike (``cf_post`` from the Purkinje cell).
PF_PLASTICITY = "w += plasticity_gate(t) * dw * (1 - 2 * cf_post)"


@register_model("climbing", BipolarClimbingParams)
def build_bipolar_climbing(cell: BipolarClimbingParams, ctx: BuildContext) -> Population:
    """The teaching signal and the climbing-fibre-gated bipolar PF -> Purkinje rule.

    Parameters
    ----------
    cell : BipolarClimbingParams
    ctx : BuildContext

    Returns
    -------
    Population
        No groups; provides ``teaching`` (Equations), ``pf_plasticity`` (code) and
        ``pf_namespace`` (its constant ``dw``).
    """
    return Population(
        provides={
            "teaching": TEACHING_EQUATIONS,
            "pf_plasticity": PF_PLASTICITY,
            "pf_namespace": {"dw": ctx.params.plasticity.pf_weight_step},
        },
    )
