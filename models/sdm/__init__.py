"""Sparse Distributed Memory on torch tensors: a functional core and two memories.

Kanerva's SDM (Kanerva 1988) stores ``m`` patterns (address :math:`p_a^\\mu`, value
:math:`p_v^\\mu`) in ``r`` hard-location neurons with binary addresses
:math:`x_a^j \\in \\{0,1\\}^n`. A query :math:`\\xi` activates the set

.. math:: O_d(\\xi) = \\{\\, j : H(\\xi, x_a^j) \\le d \\,\\}

(``activation_radius`` d; H the Hamming distance), or the ``top_k`` nearest neurons, or — in
Jaeckel's selected-coordinate design (Jaeckel 1989) — every neuron whose ``n_inputs`` sampled
coordinates match the query. Writing adds :math:`p_v^\\mu` to the counters of every neuron in
:math:`O(p_a^\\mu)` and increments their write counts; reading sums the counters of the active
neurons and divides by the summed write counts,

.. math::

    \\hat v(\\xi) = \\frac{\\sum_{j \\in O(\\xi)} c_j}{\\sum_{j \\in O(\\xi)} n_j}
                 = \\sum_\\mu \\frac{|O(\\xi) \\cap O(p_a^\\mu)|}
                   {\\sum_\\nu |O(\\xi) \\cap O(p_a^\\nu)|}\\, p_v^\\mu ,

so the read is a weighted average of the stored values with weights proportional to the
*circle intersections* (Kanerva 1988, ch. 6; Bricken & Pehlevan 2021, eq. 2). With every one of
the :math:`2^n` addresses as a neuron the intersection is the exact count
:math:`N(n, d, t)` of :mod:`models.theory` at :math:`t = H(\\xi, p_a^\\mu)`; a random
population of ``r`` neurons gives approximately :math:`\\mathrm{Poisson}(r N / 2^n)` of them.

Modules
-------
:mod:`models.sdm.addresses`
    Neuron addresses: :func:`random_addresses`, :func:`selected_coordinate_addresses`,
    :class:`SelectedCoordinates`.
:mod:`models.sdm.kernels`
    The functional core: :func:`hamming_distances`, :func:`active_pairs`, :func:`activate`,
    :func:`activate_selected`, the dense :func:`write` / :func:`read` /
    :func:`intersections`, and the sparse (CSR) write and read that :class:`NeuronSDM` uses.
:mod:`models.sdm.neuron`
    :class:`NeuronSDM`, a finite population of neurons, thin over the kernels.
:mod:`models.sdm.pattern`
    :class:`PatternSDM`, all :math:`2^n` addresses as neurons, in closed form.

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Bricken, T. & Pehlevan, C. (2021). Attention approximates sparse distributed memory. NeurIPS.
"""

from models.sdm.addresses import (
    SelectedCoordinates,
    random_addresses,
    selected_coordinate_addresses,
)
from models.sdm.kernels import (
    activate,
    activate_selected,
    active_pairs,
    hamming_distances,
    intersections,
    read,
    write,
)
from models.sdm.neuron import NeuronSDM
from models.sdm.pattern import PatternSDM

__all__ = [
    "SelectedCoordinates",
    "random_addresses",
    "selected_coordinate_addresses",
    "hamming_distances",
    "activate",
    "activate_selected",
    "active_pairs",
    "intersections",
    "write",
    "read",
    "NeuronSDM",
    "PatternSDM",
]
