"""The activation rules of an SDM: which hard locations a query turns on.

One vocabulary for the whole project -- the mirror (:mod:`models.sdm`), the circuit parameters
(:class:`cerebellum.params.GranuleLayerParams`), the CLI (``--activation``) and the report all
use :class:`ActivationRule`; its values are the words written to JSON and typed on the command
line.

=========================  ===================================================================
rule                       a neuron (granule cell) with address ``x_a`` fires for query ``xi``
=========================  ===================================================================
``radius``                 iff ``H(xi, x_a) <= d`` (Hamming ball, Kanerva 1988)
``top-k``                  iff it is among the ``k`` nearest neurons (lower index wins ties)
``selected-coordinate``    iff ``xi`` matches its ``K`` sampled bits (Jaeckel 1989)
``hyperplane``             iff ``xi`` is 1 at all its ``K`` sampled coordinates (Jaeckel 1989)
=========================  ===================================================================

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
"""

from __future__ import annotations

import enum

__all__ = ["ActivationRule"]


class ActivationRule(enum.StrEnum):
    """How a query selects the active neurons (see the module table).

    A ``str`` enum: ``ActivationRule("top-k") is ActivationRule.TOP_K`` and members compare
    equal to, and serialise as, their value.
    """

    RADIUS = "radius"
    TOP_K = "top-k"
    SELECTED_COORDINATE = "selected-coordinate"
    HYPERPLANE = "hyperplane"

    @property
    def selected(self) -> bool:
        """True for the selected-coordinate designs (each neuron samples ``K`` coordinates)."""
        return self in (ActivationRule.SELECTED_COORDINATE, ActivationRule.HYPERPLANE)

    @property
    def description(self) -> str:
        """The rule in words, for reports and figure legends."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ActivationRule.RADIUS: "Hamming ball of radius d",
    ActivationRule.TOP_K: "the k nearest neurons",
    ActivationRule.SELECTED_COORDINATE: "all K selected coordinates match",
    ActivationRule.HYPERPLANE: "all K selected coordinates are 1",
}
