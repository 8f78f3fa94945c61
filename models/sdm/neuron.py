"""The neuron-based SDM: an explicit finite population of hard locations (Kanerva 1988).

:class:`NeuronSDM` holds the neuron addresses and the sparse pattern store as buffers and
calls the functional core of :mod:`models.sdm.kernels` for everything else: activation
(:func:`~models.sdm.kernels.active_pairs`), the sparse write
(:func:`~models.sdm.kernels.sparse_write`), the circle intersections
(:func:`~models.sdm.kernels.sparse_intersections`) and the read
(:func:`~models.sdm.kernels.sparse_read`).

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
"""

from __future__ import annotations

import torch

from models.activation import ActivationRule
from models.memory import Memory
from models.sdm.addresses import SelectedCoordinates
from models.sdm.kernels import (
    _check_rule,
    _dense_mask,
    _pairs_unchecked,
    normalised_weights,
    sparse_counters,
    sparse_intersections,
    sparse_read,
    sparse_write,
)
from models.validation import (
    check_binary,
    check_bool,
    check_dtype,
    check_finite,
    check_int,
    check_matrix,
    check_rows_match,
)

__all__ = ["NeuronSDM"]


class NeuronSDM(Memory):
    """SDM with an explicit finite population of neurons (Kanerva 1988; Jaeckel 1989).

    Storage is sparse: for each neuron the list of the written patterns (CSR) plus the written
    values, so memory grows with the number of (pattern, neuron) activations, not with
    ``n_neurons * n_values``. ``counters`` and ``write_counts`` are computed on demand.

    Parameters
    ----------
    addresses : Tensor of shape (n_neurons, n_dims), uint8, or SelectedCoordinates
        Neuron addresses ``x_a``, kept as buffers without a copy (do not modify them in place
        afterwards).
    n_values : int
        Length of the stored values (number of Purkinje cells in the circuit).
    activation_radius : int, optional
        Radius ``d`` (Kanerva 1988) in ``[0, n_dims]``.
    top_k : int, optional
        Activate the ``k`` nearest neurons instead (lower index wins ties).
        Exactly one of ``activation_radius`` and ``top_k`` is required for binary addresses;
        both must be None for SelectedCoordinates.
    binary_threshold : bool
        If true ``read`` returns ``(mean > 1/2)`` as floats.
    dtype : torch.dtype
        Floating dtype of the stored values and of the read-out.

    Attributes
    ----------
    rule : ActivationRule
        How a query selects the active neurons.
    counters : Tensor of shape (n_neurons, n_values)
        Sum of the values written to each neuron.
    write_counts : Tensor of shape (n_neurons,), int64
        Number of writes each neuron received.
    """

    _growing_buffers = ("neuron_patterns", "written_values")
    _patterns_buffer = "written_values"
    _state_buffer = "written_values"

    def __init__(
        self,
        addresses: torch.Tensor | SelectedCoordinates,
        n_values: int,
        *,
        activation_radius: int | None = None,
        top_k: int | None = None,
        binary_threshold: bool = False,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.n_values = check_int(n_values, "n_values", low=1)
        dtype = check_dtype(dtype)
        self.binary_threshold = check_bool(binary_threshold, "binary_threshold")
        if isinstance(addresses, SelectedCoordinates):
            if activation_radius is not None or top_k is not None:
                raise ValueError(
                    "activation_radius and top_k must be None for SelectedCoordinates "
                    f"addresses; got activation_radius={activation_radius!r}, top_k={top_k!r}"
                )
            self.selected = True
            self._selected_rule = addresses.rule
            self.n_dims = addresses.n_dims
            self.register_buffer("coordinates", addresses.coordinates)
            self.register_buffer("coordinate_values", addresses.values)
            n_neurons = addresses.n_neurons
            device = addresses.coordinates.device
        else:
            self.selected = False
            addresses = check_binary(addresses, "addresses")
            self.n_dims = int(addresses.shape[1])
            n_neurons = int(addresses.shape[0])
            activation_radius, top_k = _check_rule(activation_radius, top_k, self.n_dims, n_neurons)
            # Kept without a copy (1 GB at r = 10**6, n = 1000): do not modify it in place.
            self.register_buffer("addresses", addresses)
            device = addresses.device
        self.activation_radius = activation_radius
        self.top_k = top_k
        self.register_buffer(
            "neuron_ptr", torch.zeros(n_neurons + 1, dtype=torch.int64, device=device)
        )
        self.register_buffer("neuron_patterns", torch.zeros(0, dtype=torch.int64, device=device))
        self.register_buffer(
            "written_values", torch.zeros((0, self.n_values), dtype=dtype, device=device)
        )

    # -- sizes and rule ------------------------------------------------------------------------

    @property
    def n_neurons(self) -> int:
        """Number of neurons ``r``."""
        return int(self.neuron_ptr.shape[0] - 1)

    @property
    def rule(self) -> ActivationRule:
        """The activation rule: ``RADIUS``, ``TOP_K``, ``SELECTED_COORDINATE`` or ``HYPERPLANE``."""
        if self.selected:
            return self._selected_rule
        return ActivationRule.RADIUS if self.activation_radius is not None else ActivationRule.TOP_K

    def selected_coordinates(self) -> SelectedCoordinates:
        """The selected-coordinate addresses (only for a selected-coordinate memory)."""
        if not self.selected:
            raise ValueError("this NeuronSDM has binary addresses, not SelectedCoordinates")
        return SelectedCoordinates(
            self.coordinates,
            self.coordinate_values,
            self.n_dims,
            hyperplane=self._selected_rule is ActivationRule.HYPERPLANE,
        )

    # -- activation ----------------------------------------------------------------------------

    def _pairs(self, queries: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        queries = check_binary(queries, name, n_dims=self.n_dims, device=self.device)
        addresses = self.selected_coordinates() if self.selected else self.addresses
        return _pairs_unchecked(queries, addresses, self.activation_radius, self.top_k, None)

    def active(self, queries: torch.Tensor) -> torch.Tensor:
        """Activation of the neurons by the queries.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_neurons), bool
        """
        query_idx, neuron_idx = self._pairs(queries, "queries")
        return _dense_mask(query_idx, neuron_idx, len(queries), self.n_neurons, self.device)

    # -- write ---------------------------------------------------------------------------------

    def write(self, addresses: torch.Tensor, values: torch.Tensor) -> None:
        """Write patterns: each value is added to the neurons its address activates.

        Parameters
        ----------
        addresses : Tensor of shape (n_patterns, n_dims), uint8 {0, 1}
            Pattern addresses ``p_a``.
        values : Tensor of shape (n_patterns, n_values)
            Pattern values ``p_v``, finite.
        """
        addresses = check_binary(addresses, "addresses", n_dims=self.n_dims, device=self.device)
        values = check_matrix(values, "values", n_cols=self.n_values, cols_name="n_values")
        values = check_finite(values, "values")
        check_rows_match(addresses, "addresses", values, "values")
        values = values.to(device=self.device, dtype=self.dtype)
        pattern_idx, neuron_idx = self._pairs(addresses, "addresses")
        self.neuron_ptr, self.neuron_patterns = sparse_write(
            self.neuron_ptr,
            self.neuron_patterns,
            pattern_idx,
            neuron_idx,
            n_old=self.n_patterns,
            n_new=values.shape[0],
        )
        self.written_values = torch.cat([self.written_values, values])

    # -- derived state -------------------------------------------------------------------------

    @property
    def write_counts(self) -> torch.Tensor:
        """Tensor of shape (n_neurons,), int64: number of writes each neuron received."""
        return self.neuron_ptr.diff()

    @property
    def counters(self) -> torch.Tensor:
        """Tensor of shape (n_neurons, n_values): sum of the values written to each neuron.

        Materialised on demand (``n_neurons * n_values`` entries), summed in write order.
        """
        return sparse_counters(self.neuron_ptr, self.neuron_patterns, self.written_values)

    # -- read ----------------------------------------------------------------------------------

    def intersections(self, queries: torch.Tensor) -> torch.Tensor:
        """Circle intersections with every written pattern.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns), int64
            ``|active(q) ∩ active(p_mu)|`` in write order.
        """
        query_idx, neuron_idx = self._pairs(queries, "queries")
        return sparse_intersections(
            query_idx,
            neuron_idx,
            self.neuron_ptr,
            self.neuron_patterns,
            n_queries=len(queries),
            n_patterns=self.n_patterns,
        )

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Normalised intersections: pattern weights of the read.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Rows sum to 1, or are zero when no written neuron is active.
        """
        return normalised_weights(self.intersections(queries), self.dtype)

    def read(self, queries: torch.Tensor) -> torch.Tensor:
        """Summed counters of the active neurons over their summed write counts.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_values)
            Zero where no active neuron was written; thresholded at 1/2 if
            ``binary_threshold``.
        """
        return sparse_read(
            self.intersections(queries), self.written_values, binary_threshold=self.binary_threshold
        )

    def extra_repr(self) -> str:
        rule = (
            "selected_coordinates"
            if self.selected
            else f"activation_radius={self.activation_radius}, top_k={self.top_k}"
        )
        return (
            f"n_neurons={self.n_neurons}, n_dims={self.n_dims}, n_values={self.n_values}, "
            f"{rule}, n_patterns={self.n_patterns}"
        )
