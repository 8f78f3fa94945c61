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

Implementation notes
--------------------
* Distances use the exact identity :math:`H(q, a) = |q| + |a| - 2\\, q\\cdot a` with one matrix
  product per chunk of neurons (memory stays bounded): int8 x int8 with int32 accumulation on
  CPU (``torch._int_mm``; the uint8 addresses are reinterpreted, not copied), float32
  elsewhere (products of 0/1 and sums below :math:`2^{24}` are exact). A row of ones appended
  to the queries yields :math:`|a|` from the same product.
* :class:`NeuronSDM` never stores dense counters: it keeps, for every neuron, the list of the
  patterns written to it (a CSR matrix) plus the written values. The read uses the identity
  above — the intersections are counted by joining the active (query, neuron) pairs with the
  per-neuron pattern lists — so its cost scales with the number of active pairs, not with
  ``n_neurons * n_values``. ``counters`` and ``write_counts`` are materialised on demand.

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Bricken, T. & Pehlevan, C. (2021). Attention approximates sparse distributed memory. NeurIPS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from models import theory
from models.memory import (
    Memory,
    as_tensor,
    check_binary,
    check_finite,
    check_int,
    check_matrix,
    check_rows_match,
)

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

# Working-set budget (number of elements) for one chunk of a chunked computation.
_CHUNK_ELEMENTS = 1 << 23
# Float32 sums of 0/1 products are exact below 2**24.
_FLOAT32_EXACT = 1 << 24
# Use torch._int_mm (int8 x int8 -> int32) on CPU when this torch build supports it.
_INT_MATMUL = True


# --------------------------------------------------------------------------------------------
# Address sampling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectedCoordinates:
    """Selected-coordinate neuron addresses (Jaeckel 1989).

    Neuron ``j`` fires for a query ``xi`` when ``xi[coordinates[j, i]] == values[j, i]`` for
    every ``i``.

    Parameters
    ----------
    coordinates : Tensor of shape (n_neurons, n_inputs), int64
        The sampled coordinates of each neuron, distinct and sorted ascending per row.
    values : Tensor of shape (n_neurons, n_inputs), uint8
        The bit each coordinate must take (all 1 in the hyperplane design).
    n_dims : int
        Address length ``n``.
    """

    coordinates: torch.Tensor
    values: torch.Tensor
    n_dims: int

    def __post_init__(self) -> None:
        n_dims = check_int(self.n_dims, "n_dims", low=1)
        object.__setattr__(self, "n_dims", n_dims)
        coordinates = check_matrix(self.coordinates, "coordinates", cols_name="n_inputs")
        if coordinates.dtype != torch.int64:
            if coordinates.is_floating_point() or coordinates.dtype == torch.bool:
                raise TypeError(f"coordinates must be an integer tensor; got {coordinates.dtype}")
            coordinates = coordinates.to(torch.int64)
        values = check_binary(self.values, "values")
        if values.shape != coordinates.shape:
            raise ValueError(
                "values must have the shape of coordinates "
                f"{tuple(coordinates.shape)}; got {tuple(values.shape)}"
            )
        if coordinates.numel():
            low, high = int(coordinates.min()), int(coordinates.max())
            if low < 0 or high >= n_dims:
                raise ValueError(
                    f"coordinates must be in [0, {n_dims - 1}] for n_dims={n_dims}; "
                    f"got range [{low}, {high}]"
                )
            if coordinates.shape[1] > 1 and bool((coordinates.diff(dim=1) <= 0).any()):
                raise ValueError("coordinates must be distinct and sorted ascending in each row")
        object.__setattr__(self, "coordinates", coordinates)
        object.__setattr__(self, "values", values.to(coordinates.device))

    @property
    def n_neurons(self) -> int:
        """Number of neurons ``r``."""
        return int(self.coordinates.shape[0])

    @property
    def n_inputs(self) -> int:
        """Number of sampled coordinates per neuron (granule-cell fan-in)."""
        return int(self.coordinates.shape[1])

    def to(self, device: torch.device | str) -> SelectedCoordinates:
        """Return a copy on ``device``.

        Parameters
        ----------
        device : torch.device or str

        Returns
        -------
        SelectedCoordinates
        """
        return SelectedCoordinates(self.coordinates.to(device), self.values.to(device), self.n_dims)


def _check_generator(generator) -> torch.Generator:
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator; got {type(generator).__name__}")
    return generator


def random_addresses(n_neurons: int, n_dims: int, *, generator: torch.Generator) -> torch.Tensor:
    """Sample uniform random binary neuron addresses (Kanerva 1988).

    Parameters
    ----------
    n_neurons : int
        Number of neurons ``r``.
    n_dims : int
        Address length ``n``.
    generator : torch.Generator
        Source of randomness; the result lies on its device.

    Returns
    -------
    Tensor of shape (n_neurons, n_dims), uint8
        Independent fair bits.
    """
    n_neurons = check_int(n_neurons, "n_neurons", low=0)
    n_dims = check_int(n_dims, "n_dims", low=1)
    generator = _check_generator(generator)
    return torch.randint(
        0, 2, (n_neurons, n_dims), dtype=torch.uint8, generator=generator, device=generator.device
    )


def selected_coordinate_addresses(
    n_neurons: int,
    n_dims: int,
    n_inputs: int,
    *,
    generator: torch.Generator,
    hyperplane: bool = False,
) -> SelectedCoordinates:
    """Sample selected-coordinate neuron addresses (Jaeckel 1989).

    Each neuron samples ``n_inputs`` distinct coordinates uniformly and, for each, a uniform
    random bit it must match (or bit 1 for all of them in the *hyperplane* design). A neuron
    fires with probability ``2**-n_inputs`` for a uniform random query.

    Parameters
    ----------
    n_neurons : int
        Number of neurons ``r``.
    n_dims : int
        Address length ``n``.
    n_inputs : int
        Coordinates per neuron, in ``[1, n_dims]`` (about 4 for a cerebellar granule cell).
    generator : torch.Generator
        Source of randomness; the result lies on its device.
    hyperplane : bool
        If true every selected coordinate must be 1.

    Returns
    -------
    SelectedCoordinates
    """
    n_neurons = check_int(n_neurons, "n_neurons", low=0)
    n_dims = check_int(n_dims, "n_dims", low=1)
    n_inputs = check_int(n_inputs, "n_inputs", low=1, high=n_dims, context=f"for n_dims={n_dims}")
    generator = _check_generator(generator)
    device = generator.device
    chunk = max(1, _CHUNK_ELEMENTS // n_dims)
    parts = []
    for start in range(0, n_neurons, chunk):
        rows = min(chunk, n_neurons - start)
        keys = torch.rand((rows, n_dims), generator=generator, device=device)
        parts.append(keys.topk(n_inputs, dim=1).indices.sort(dim=1).values)
    coordinates = (
        torch.cat(parts) if parts else torch.empty((0, n_inputs), dtype=torch.int64, device=device)
    )
    if hyperplane:
        values = torch.ones((n_neurons, n_inputs), dtype=torch.uint8, device=device)
    else:
        values = torch.randint(
            0, 2, (n_neurons, n_inputs), dtype=torch.uint8, generator=generator, device=device
        )
    return SelectedCoordinates(coordinates, values, n_dims)


# --------------------------------------------------------------------------------------------
# Distances and activation
# --------------------------------------------------------------------------------------------


def _neuron_chunk(n_queries: int, width: int, chunk_size: int | None) -> int:
    if chunk_size is not None:
        return check_int(chunk_size, "chunk_size", low=1)
    return max(256, _CHUNK_ELEMENTS // (max(n_queries, 1) + width))


def _int8_dots(left: torch.Tensor, block: torch.Tensor, out: torch.Tensor) -> bool:
    """``out = left @ block.T`` with int8 inputs and exact int32 sums; False if unsupported."""
    global _INT_MATMUL
    # n_dims >= 8: torch 2.13's CPU _int_mm returns wrong sums for an inner dimension of 1
    # (a (1, n) transposed view); tiny n_dims gain nothing from it anyway.
    if not _INT_MATMUL or left.device.type != "cpu" or left.shape[1] < 8:
        return False
    if not hasattr(torch, "_int_mm"):  # pragma: no cover - older torch
        return False
    try:
        torch._int_mm(left, block.view(torch.int8).T, out=out)
    except RuntimeError:  # pragma: no cover - depends on the torch build
        _INT_MATMUL = False
        return False
    return True


def _distance_chunks(queries: torch.Tensor, addresses: torch.Tensor, chunk_size: int | None):
    """Yield ``(start, distances)`` for consecutive neuron chunks; distances int32.

    ``H(q, a) = |q| + |a| - 2 q.a``: one matrix product of the queries, plus a row of ones
    (which yields ``|a|``), with every address chunk — int8 x int8 -> int32 on CPU, float32
    (exact below 2**24) elsewhere. The yielded tensor is a view of one buffer reused for every
    chunk (no allocator churn, so the resident peak stays flat): consume it before advancing.
    """
    n_queries, n_dims = queries.shape
    n_neurons = addresses.shape[0]
    stacked = torch.cat([queries, queries.new_ones((1, n_dims))])
    query_norm = queries.sum(dim=1, dtype=torch.int32)[:, None]
    float_dtype = torch.float32 if n_dims < _FLOAT32_EXACT else torch.float64
    left_int = stacked.view(torch.int8)
    left_float = None
    chunk = _neuron_chunk(n_queries, n_dims, chunk_size)
    buffer = torch.empty(
        (n_queries + 1) * min(chunk, n_neurons), dtype=torch.int32, device=addresses.device
    )
    for start in range(0, n_neurons, chunk):
        block = addresses[start : start + chunk].contiguous()
        dots = buffer[: (n_queries + 1) * block.shape[0]].view(n_queries + 1, block.shape[0])
        if not _int8_dots(left_int, block, dots):
            if left_float is None:
                left_float = stacked.to(float_dtype)
            dots.copy_(left_float @ block.to(float_dtype).T)
        distances = dots[:n_queries]
        distances.mul_(-2).add_(dots[n_queries:]).add_(query_norm)
        yield start, distances


def _check_pair(queries, addresses) -> tuple[torch.Tensor, torch.Tensor]:
    addresses = check_binary(addresses, "addresses")
    queries = check_binary(queries, "queries", n_dims=addresses.shape[1], device=addresses.device)
    return queries, addresses


def hamming_distances(
    queries: torch.Tensor, addresses: torch.Tensor, *, chunk_size: int | None = None
) -> torch.Tensor:
    """Exact Hamming distances between every query and every address.

    Computed as ``|q| + |a| - 2 q.a`` with an integer matrix product on CPU (int8 inputs,
    int32 sums) or a float32 one on other devices (exact for ``n_dims < 2**24``; float64
    beyond), chunked over addresses.

    Parameters
    ----------
    queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}
    addresses : Tensor of shape (n_neurons, n_dims), uint8 {0, 1}
    chunk_size : int, optional
        Addresses per chunk (default: chosen to bound the working set).

    Returns
    -------
    Tensor of shape (n_queries, n_neurons), int32
        Number of differing bits.
    """
    queries, addresses = _check_pair(queries, addresses)
    out = torch.empty(
        (queries.shape[0], addresses.shape[0]), dtype=torch.int32, device=addresses.device
    )
    for start, block in _distance_chunks(queries, addresses, chunk_size):
        out[:, start : start + block.shape[1]] = block
    return out


def _check_rule(activation_radius, top_k, n_dims: int, n_neurons: int):
    if (activation_radius is None) == (top_k is None):
        raise ValueError(
            "exactly one of activation_radius and top_k must be given; "
            f"got activation_radius={activation_radius!r}, top_k={top_k!r}"
        )
    if activation_radius is not None:
        activation_radius = check_int(
            activation_radius,
            "activation_radius",
            low=0,
            high=n_dims,
            context=f"for n_dims={n_dims}",
        )
    if top_k is not None:
        top_k = check_int(
            top_k, "top_k", low=1, high=n_neurons, context=f"for n_neurons={n_neurons}"
        )
    return activation_radius, top_k


def _radius_pairs(queries, addresses, radius: int, chunk_size):
    query_idx, neuron_idx = [], []
    mask_buffer = None
    for start, block in _distance_chunks(queries, addresses, chunk_size):
        if mask_buffer is None:
            mask_buffer = torch.empty(block.numel(), dtype=torch.bool, device=block.device)
        mask = mask_buffer[: block.numel()].view(block.shape)
        q, j = torch.le(block, radius, out=mask).nonzero(as_tuple=True)
        query_idx.append(q)
        neuron_idx.append(j.add_(start))
    return query_idx, neuron_idx


def _top_k_pairs(queries, addresses, top_k: int, chunk_size):
    # Unique integer keys distance * r + index make the tie rule (lower index wins) exact.
    # Buffers are allocated once: keys = [best so far | this chunk].
    n_queries, n_neurons = queries.shape[0], addresses.shape[0]
    device = addresses.device
    keys = best = best_index = None
    n_best = 0
    for start, block in _distance_chunks(queries, addresses, chunk_size):
        width = block.shape[1]
        if keys is None:
            keys = torch.empty((n_queries, top_k + width), dtype=torch.int64, device=device)
            best = torch.empty((n_queries, top_k), dtype=torch.int64, device=device)
            best_index = torch.empty((n_queries, top_k), dtype=torch.int64, device=device)
        keys[:, :n_best] = best[:, :n_best]
        chunk_keys = keys[:, n_best : n_best + width]
        chunk_keys.copy_(block).mul_(n_neurons)
        chunk_keys.add_(torch.arange(start, start + width, device=device))
        k = min(top_k, n_best + width)
        torch.topk(
            keys[:, : n_best + width],
            k,
            dim=1,
            largest=False,
            sorted=False,
            out=(best[:, :k], best_index[:, :k]),
        )
        n_best = k
    if best is None:
        empty = torch.empty(0, dtype=torch.int64, device=device)
        return [empty], [empty]
    neuron_idx = (best[:, :n_best] % n_neurons).reshape(-1)
    query_idx = torch.arange(n_queries, device=device).repeat_interleave(n_best)
    return [query_idx], [neuron_idx]


def _selected_pairs(queries, selected: SelectedCoordinates, chunk_size):
    query_idx, neuron_idx = [], []
    if chunk_size is not None:
        chunk = check_int(chunk_size, "chunk_size", low=1)
    else:
        chunk = max(64, _CHUNK_ELEMENTS // max(queries.shape[0] * selected.n_inputs, 1))
    for start in range(0, selected.n_neurons, chunk):
        coords = selected.coordinates[start : start + chunk]
        match = (queries[:, coords] == selected.values[start : start + chunk][None]).all(dim=2)
        q, j = match.nonzero(as_tuple=True)
        query_idx.append(q)
        neuron_idx.append(j + start)
    return query_idx, neuron_idx


def active_pairs(
    queries: torch.Tensor,
    addresses: torch.Tensor | SelectedCoordinates,
    *,
    activation_radius: int | None = None,
    top_k: int | None = None,
    chunk_size: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sparse form of :func:`activate`: the (query, neuron) index pairs that are active.

    Parameters
    ----------
    queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}
    addresses : Tensor of shape (n_neurons, n_dims), uint8, or SelectedCoordinates
    activation_radius : int, optional
        Radius ``d`` in ``[0, n_dims]``: a neuron is active when its distance is ``<= d``.
    top_k : int, optional
        The ``k`` nearest neurons are active, ``1 <= k <= n_neurons``; among neurons at equal
        distance the lower index wins, so exactly ``k`` are active.
    chunk_size : int, optional
        Neurons per chunk.

    Returns
    -------
    query_index, neuron_index : Tensor of shape (n_active,), int64
        Sorted by neuron, then by query.
    """
    if isinstance(addresses, SelectedCoordinates):
        if activation_radius is not None or top_k is not None:
            raise ValueError(
                "activation_radius and top_k must be None for SelectedCoordinates addresses; "
                f"got activation_radius={activation_radius!r}, top_k={top_k!r}"
            )
        queries = check_binary(
            queries, "queries", n_dims=addresses.n_dims, device=addresses.coordinates.device
        )
    else:
        queries, addresses = _check_pair(queries, addresses)
        activation_radius, top_k = _check_rule(
            activation_radius, top_k, addresses.shape[1], addresses.shape[0]
        )
    return _pairs_unchecked(queries, addresses, activation_radius, top_k, chunk_size)


def _pairs_unchecked(queries, addresses, activation_radius, top_k, chunk_size):
    """:func:`active_pairs` on validated arguments (uint8 queries on the addresses' device)."""
    if isinstance(addresses, SelectedCoordinates):
        device = addresses.coordinates.device
        query_parts, neuron_parts = _selected_pairs(queries, addresses, chunk_size)
    elif activation_radius is not None:
        device = addresses.device
        query_parts, neuron_parts = _radius_pairs(queries, addresses, activation_radius, chunk_size)
    else:
        device = addresses.device
        query_parts, neuron_parts = _top_k_pairs(queries, addresses, top_k, chunk_size)
    empty = torch.empty(0, dtype=torch.int64, device=device)
    query_idx = torch.cat(query_parts) if query_parts else empty
    neuron_idx = torch.cat(neuron_parts) if neuron_parts else empty
    order = torch.argsort(neuron_idx * max(queries.shape[0], 1) + query_idx)
    return query_idx[order], neuron_idx[order]


def _dense_mask(query_idx, neuron_idx, n_queries: int, n_neurons: int, device) -> torch.Tensor:
    mask = torch.zeros((n_queries, n_neurons), dtype=torch.bool, device=device)
    mask[query_idx, neuron_idx] = True
    return mask


def activate(
    queries: torch.Tensor,
    addresses: torch.Tensor,
    *,
    activation_radius: int | None = None,
    top_k: int | None = None,
    chunk_size: int | None = None,
) -> torch.Tensor:
    """Which neurons each query activates, by radius or top-k.

    Parameters
    ----------
    queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}
    addresses : Tensor of shape (n_neurons, n_dims), uint8 {0, 1}
    activation_radius : int, optional
        Radius ``d`` in ``[0, n_dims]`` (Kanerva 1988): active when distance ``<= d``.
    top_k : int, optional
        The ``k`` nearest neurons, ``1 <= k <= n_neurons``. Tie rule: among neurons at equal
        distance the lower neuron index wins, so exactly ``k`` neurons are active.
    chunk_size : int, optional
        Neurons per chunk.

    Returns
    -------
    Tensor of shape (n_queries, n_neurons), bool

    Raises
    ------
    TypeError
        If ``addresses`` is a :class:`SelectedCoordinates` (checked before any work): use
        :func:`activate_selected` for selected-coordinate neurons, which have no radius or
        top-k rule.
    """
    if isinstance(addresses, SelectedCoordinates):
        raise TypeError(
            "activate takes binary addresses (a uint8 tensor); got SelectedCoordinates: "
            "use activate_selected(queries, selected) for selected-coordinate neurons"
        )
    query_idx, neuron_idx = active_pairs(
        queries, addresses, activation_radius=activation_radius, top_k=top_k, chunk_size=chunk_size
    )
    addresses = as_tensor(addresses, "addresses")
    return _dense_mask(
        query_idx,
        neuron_idx,
        as_tensor(queries, "queries").shape[0],
        addresses.shape[0],
        query_idx.device,
    )


def activate_selected(queries: torch.Tensor, selected: SelectedCoordinates) -> torch.Tensor:
    """Which selected-coordinate neurons each query activates (Jaeckel 1989).

    Parameters
    ----------
    queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}
    selected : SelectedCoordinates
        ``n_neurons`` neurons, each with ``n_inputs`` coordinates and required bits.

    Returns
    -------
    Tensor of shape (n_queries, n_neurons), bool
        True where the query matches every selected coordinate of the neuron.
    """
    if not isinstance(selected, SelectedCoordinates):
        raise TypeError(f"selected must be SelectedCoordinates; got {type(selected).__name__}")
    query_idx, neuron_idx = active_pairs(queries, selected)
    n_queries = as_tensor(queries, "queries").shape[0]
    return _dense_mask(
        query_idx, neuron_idx, n_queries, selected.n_neurons, selected.coordinates.device
    )


# --------------------------------------------------------------------------------------------
# Dense functional write / read (the textbook form, used as a reference and for small memories)
# --------------------------------------------------------------------------------------------


def _check_mask(active, name: str, n_neurons: int | None = None) -> torch.Tensor:
    active = check_matrix(active, name, n_cols=n_neurons, cols_name="n_neurons")
    if active.dtype != torch.bool:
        active = check_binary(active, name).to(torch.bool)
    return active


def intersections(query_active: torch.Tensor, pattern_active: torch.Tensor) -> torch.Tensor:
    """Circle intersections ``|O(xi) ∩ O(p_mu)|`` from dense activation masks.

    Parameters
    ----------
    query_active : Tensor of shape (n_queries, n_neurons), bool
    pattern_active : Tensor of shape (n_patterns, n_neurons), bool

    Returns
    -------
    Tensor of shape (n_queries, n_patterns), int64
    """
    query_active = _check_mask(query_active, "query_active")
    pattern_active = _check_mask(pattern_active, "pattern_active", query_active.shape[1])
    return (query_active.to(torch.float64) @ pattern_active.to(torch.float64).T).round().long()


def _check_write_counts(write_counts, counters: torch.Tensor) -> torch.Tensor:
    write_counts = as_tensor(write_counts, "write_counts")
    n_neurons = counters.shape[0]
    if tuple(write_counts.shape) != (n_neurons,):
        raise ValueError(
            f"write_counts must have shape ({n_neurons},) (n_neurons of counters); "
            f"got {tuple(write_counts.shape)}"
        )
    return write_counts.to(counters.device)


def write(
    counters: torch.Tensor,
    write_counts: torch.Tensor,
    active: torch.Tensor,
    values: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense SDM write: add each value to the counters of the neurons its address activates.

    Parameters
    ----------
    counters : Tensor of shape (n_neurons, n_values), floating
        Current counters ``c_j``. Must be floating: integer counters would truncate real
        values (0.7 -> 0) while the write counts still grow.
    write_counts : Tensor of shape (n_neurons,), int64
        Current write counts ``n_j``.
    active : Tensor of shape (n_patterns, n_neurons), bool
        Activation of the written addresses.
    values : Tensor of shape (n_patterns, n_values)

    Returns
    -------
    counters : Tensor of shape (n_neurons, n_values)
        ``counters + active.T @ values`` (a new tensor).
    write_counts : Tensor of shape (n_neurons,), int64
        ``write_counts + active.sum(0)``.
    """
    counters = check_matrix(counters, "counters", cols_name="n_values")
    if not counters.is_floating_point():
        raise TypeError(f"counters must be a floating tensor; got {counters.dtype}")
    write_counts = _check_write_counts(write_counts, counters)
    active = _check_mask(active, "active", counters.shape[0])
    values = check_finite(check_matrix(values, "values", n_cols=counters.shape[1]), "values")
    check_rows_match(active, "active", values, "values")
    new_counters = counters + active.to(counters.dtype).T @ values.to(counters.dtype)
    return new_counters, write_counts + active.sum(dim=0)


def read(
    counters: torch.Tensor,
    write_counts: torch.Tensor,
    active: torch.Tensor,
    *,
    binary_threshold: bool = False,
) -> torch.Tensor:
    """Dense SDM read: summed counters of the active neurons over their summed write counts.

    Parameters
    ----------
    counters : Tensor of shape (n_neurons, n_values)
    write_counts : Tensor of shape (n_neurons,), int64
    active : Tensor of shape (n_queries, n_neurons), bool
    binary_threshold : bool
        If true return ``(mean > 1/2)`` as floats (binary values, Kanerva 1988).

    Returns
    -------
    Tensor of shape (n_queries, n_values)
        Zero where no active neuron was written.
    """
    counters = check_matrix(counters, "counters", cols_name="n_values")
    write_counts = _check_write_counts(write_counts, counters)
    active = _check_mask(active, "active", counters.shape[0]).to(counters.dtype)
    numerator = active @ counters
    denominator = active @ write_counts.to(counters.dtype)
    return _normalise_read(numerator, denominator, binary_threshold)


def _normalise_read(numerator, denominator, binary_threshold: bool) -> torch.Tensor:
    safe = torch.where(denominator > 0, denominator, torch.ones_like(denominator))
    out = torch.where(denominator[:, None] > 0, numerator / safe[:, None], 0.0)
    if binary_threshold:
        out = (out > 0.5).to(out.dtype)
    return out


# --------------------------------------------------------------------------------------------
# Memories
# --------------------------------------------------------------------------------------------


def _check_dtype(dtype) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")
    return dtype


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
    counters : Tensor of shape (n_neurons, n_values)
        Sum of the values written to each neuron.
    write_counts : Tensor of shape (n_neurons,), int64
        Number of writes each neuron received.
    """

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
        dtype = _check_dtype(dtype)
        self.binary_threshold = bool(binary_threshold)
        if isinstance(addresses, SelectedCoordinates):
            if activation_radius is not None or top_k is not None:
                raise ValueError(
                    "activation_radius and top_k must be None for SelectedCoordinates "
                    f"addresses; got activation_radius={activation_radius!r}, top_k={top_k!r}"
                )
            self.selected = True
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

    _GROWING = ("neuron_patterns", "written_values")

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The pattern store grows with every write: resize before the copy.
        for name in self._GROWING:
            key = prefix + name
            if key in state_dict:
                current = self._buffers[name]
                self._buffers[name] = torch.empty(
                    state_dict[key].shape, dtype=current.dtype, device=current.device
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    # -- sizes --------------------------------------------------------------------------------

    @property
    def n_neurons(self) -> int:
        """Number of neurons ``r``."""
        return int(self.neuron_ptr.shape[0] - 1)

    @property
    def n_patterns(self) -> int:
        """Number of patterns written so far."""
        return int(self.written_values.shape[0])

    @property
    def device(self) -> torch.device:
        """Device of the stored state."""
        return self.neuron_ptr.device

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the stored values and the read-out (follows ``.to(dtype)``)."""
        return self.written_values.dtype

    def selected_coordinates(self) -> SelectedCoordinates:
        """The selected-coordinate addresses (only for a selected-coordinate memory)."""
        if not self.selected:
            raise ValueError("this NeuronSDM has binary addresses, not SelectedCoordinates")
        return SelectedCoordinates(self.coordinates, self.coordinate_values, self.n_dims)

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
        n_old = self.n_patterns
        n_total = n_old + values.shape[0]
        old_neurons = torch.repeat_interleave(
            torch.arange(self.n_neurons, device=self.device), self.neuron_ptr.diff()
        )
        neurons = torch.cat([old_neurons, neuron_idx])
        patterns = torch.cat([self.neuron_patterns, pattern_idx + n_old])
        order = torch.argsort(neurons * max(n_total, 1) + patterns)
        counts = torch.bincount(neurons, minlength=self.n_neurons)
        self.neuron_ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])
        self.neuron_patterns = patterns[order]
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
        counters = torch.zeros(
            (self.n_neurons, self.n_values), dtype=self.dtype, device=self.device
        )
        neurons = torch.repeat_interleave(
            torch.arange(self.n_neurons, device=self.device), self.write_counts
        )
        step = max(1, _CHUNK_ELEMENTS // self.n_values)
        for start in range(0, neurons.shape[0], step):
            patterns = self.neuron_patterns[start : start + step]
            counters.index_add_(0, neurons[start : start + step], self.written_values[patterns])
        return counters

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
        n_queries = len(queries)
        n_patterns = self.n_patterns
        counts = torch.zeros(n_queries * n_patterns, dtype=torch.int64, device=self.device)
        if n_patterns == 0 or query_idx.numel() == 0:
            return counts.reshape(n_queries, n_patterns)
        starts = self.neuron_ptr[neuron_idx]
        lengths = self.neuron_ptr[neuron_idx + 1] - starts
        keep = lengths > 0
        query_idx, starts, lengths = query_idx[keep], starts[keep], lengths[keep]
        if lengths.numel() == 0:
            return counts.reshape(n_queries, n_patterns)
        # Join the active (query, neuron) pairs with each neuron's pattern list, in blocks of
        # about _CHUNK_ELEMENTS expanded entries.
        ends = lengths.cumsum(0)
        total = int(ends[-1])
        marks = list(range(_CHUNK_ELEMENTS, total, _CHUNK_ELEMENTS))
        cuts = torch.searchsorted(ends, torch.tensor(marks, device=self.device)).tolist()
        bounds = [0, *[c + 1 for c in cuts], lengths.numel()]
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if lo >= hi:
                continue
            block_lengths = lengths[lo:hi]
            block_total = int(block_lengths.sum())
            block_offsets = block_lengths.cumsum(0) - block_lengths
            shift = torch.repeat_interleave(
                starts[lo:hi] - block_offsets, block_lengths, output_size=block_total
            )
            positions = torch.arange(block_total, device=self.device) + shift
            rows = torch.repeat_interleave(query_idx[lo:hi], block_lengths, output_size=block_total)
            flat = rows * n_patterns + self.neuron_patterns[positions]
            counts += torch.bincount(flat, minlength=n_queries * n_patterns)
        return counts.reshape(n_queries, n_patterns)

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
        counts = self.intersections(queries).to(self.dtype)
        total = counts.sum(dim=1, keepdim=True)
        return torch.where(total > 0, counts / torch.where(total > 0, total, 1.0), 0.0)

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
        counts = self.intersections(queries)
        numerator = counts.to(self.dtype) @ self.written_values
        return _normalise_read(numerator, counts.sum(dim=1).to(self.dtype), self.binary_threshold)

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


def _log_intersection_table(n_dims: int, activation_radius: int) -> torch.Tensor:
    """``ln N(n, d, t)`` for ``t = 0..n`` from :mod:`models.theory` (``-inf`` where 0)."""
    distances = np.arange(n_dims + 1)
    table = theory.log_circle_intersection(n_dims, activation_radius, distances)
    return torch.as_tensor(np.asarray(table, dtype=np.float64))


class PatternSDM(Memory):
    """SDM whose neurons are all ``2**n`` addresses, in closed form (Kanerva 1988).

    The weight of pattern ``mu`` for query ``xi`` is the exact circle intersection
    ``N(n, d, t_mu)``, ``t_mu = H(xi, p_a^mu)``, normalised over the patterns — computed in log
    space as ``softmax_mu(ln N(n, d, t_mu))``. With ``n_neurons=r`` a finite random population
    is simulated instead: the intersection counts are drawn as
    ``Poisson(r / 2**n * N(n, d, t_mu))`` (independently for every query and pattern, at every
    call) and normalised. ``read = weights @ values``.

    Parameters
    ----------
    n_dims : int
        Address length ``n``.
    activation_radius : int
        Radius ``d`` in ``[0, n_dims]``.
    n_neurons : int, optional
        Finite population size ``r`` (``1 <= r``); None means every address is a neuron.
    generator : torch.Generator, optional
        Required with ``n_neurons``; its state is saved in ``state_dict``.
    binary_threshold : bool
        If true ``read`` returns ``(weights @ values > 1/2)`` as floats.
    dtype : torch.dtype
        Floating dtype of the stored values, weights and read-out. The table of
        ``ln N(n, d, t)`` stays float64 under any ``.to(dtype)``; only the final weights are
        cast to ``dtype``.
    """

    def __init__(
        self,
        n_dims: int,
        activation_radius: int,
        *,
        n_neurons: int | None = None,
        generator: torch.Generator | None = None,
        binary_threshold: bool = False,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.n_dims = check_int(n_dims, "n_dims", low=1)
        self.activation_radius = check_int(
            activation_radius,
            "activation_radius",
            low=0,
            high=self.n_dims,
            context=f"for n_dims={self.n_dims}",
        )
        if n_neurons is not None:
            n_neurons = check_int(n_neurons, "n_neurons", low=1)
            if generator is None:
                raise ValueError("generator is required when n_neurons is given; got None")
        if generator is not None:
            generator = _check_generator(generator)
        self.n_neurons = n_neurons
        self.generator = generator
        self.binary_threshold = bool(binary_threshold)
        dtype = _check_dtype(dtype)
        self.register_buffer(
            "log_intersection_table", _log_intersection_table(self.n_dims, self.activation_radius)
        )
        self.register_buffer("pattern_addresses", torch.zeros((0, self.n_dims), dtype=torch.uint8))
        self.register_buffer("written_values", torch.zeros((0, 0), dtype=dtype))

    _GROWING = ("pattern_addresses", "written_values")

    def _apply(self, fn, recurse=True):
        # ``.to(dtype)``/``.float()`` must not round the log-intersection table: at n = 10,000
        # ln N reaches ~6930, and float32 would put ~4e-4 relative errors into the weights.
        # The table follows the device only and stays float64; the weights are cast to
        # ``self.dtype`` at the end.
        table = self.log_intersection_table
        out = super()._apply(fn, recurse)
        self.log_intersection_table = table.to(device=self.log_intersection_table.device)
        return out

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The pattern store grows with every write: resize before the copy.
        for name in self._GROWING:
            key = prefix + name
            if key in state_dict:
                current = self._buffers[name]
                self._buffers[name] = torch.empty(
                    state_dict[key].shape, dtype=current.dtype, device=current.device
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def get_extra_state(self) -> dict:
        """The generator state, so that a reloaded memory continues the same draws."""
        state = None if self.generator is None else self.generator.get_state()
        return {"generator_state": state}

    def set_extra_state(self, state: dict) -> None:
        """Restore the generator state saved by :meth:`get_extra_state`.

        Parameters
        ----------
        state : dict
            ``{"generator_state": ByteTensor or None}`` as returned by :meth:`get_extra_state`.
        """
        saved = state.get("generator_state") if isinstance(state, dict) else None
        if saved is None:
            return
        if self.generator is None:
            self.generator = torch.Generator()
        self.generator.set_state(saved)

    @property
    def n_patterns(self) -> int:
        """Number of patterns written so far."""
        return int(self.pattern_addresses.shape[0])

    @property
    def device(self) -> torch.device:
        """Device of the stored state."""
        return self.log_intersection_table.device

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the stored values and the read-out (follows ``.to(dtype)``)."""
        return self.written_values.dtype

    def write(self, addresses: torch.Tensor, values: torch.Tensor) -> None:
        """Store patterns.

        Parameters
        ----------
        addresses : Tensor of shape (n_patterns, n_dims), uint8 {0, 1}
        values : Tensor of shape (n_patterns, n_values)
            Finite; ``n_values`` is fixed by the first write.
        """
        addresses = check_binary(addresses, "addresses", n_dims=self.n_dims, device=self.device)
        n_values = self.written_values.shape[1] if self.n_patterns else None
        values = check_finite(
            check_matrix(values, "values", n_cols=n_values, cols_name="n_values"), "values"
        )
        check_rows_match(addresses, "addresses", values, "values")
        values = values.to(device=self.device, dtype=self.dtype)
        stored = self.written_values if self.n_patterns else values[:0]
        self.pattern_addresses = torch.cat([self.pattern_addresses, addresses])
        self.written_values = torch.cat([stored, values])

    def log_intersections(self, queries: torch.Tensor) -> torch.Tensor:
        """Exact ``ln N(n, d, H(xi, p_a^mu))`` for every query and pattern.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns), float64
            ``-inf`` where the balls do not intersect.
        """
        queries = check_binary(queries, "queries", n_dims=self.n_dims, device=self.device)
        distances = hamming_distances(queries, self.pattern_addresses)
        return self.log_intersection_table[distances.long()]

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Normalised intersections (exact, or Poisson-sampled with ``n_neurons``).

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Rows sum to 1, or are zero when no pattern is within reach.
        """
        log_counts = self.log_intersections(queries)
        if self.n_neurons is None:
            peak = log_counts.max(dim=1, keepdim=True).values if self.n_patterns else None
            if peak is None:
                return log_counts.to(self.dtype)
            reached = torch.isfinite(peak)
            shifted = torch.where(reached, log_counts - torch.where(reached, peak, 0.0), -math.inf)
            expd = shifted.exp()
            total = expd.sum(dim=1, keepdim=True)
            out = torch.where(reached, expd / torch.where(reached, total, 1.0), 0.0)
            return out.to(self.dtype)
        log_rate = math.log(self.n_neurons) - self.n_dims * math.log(2.0) + log_counts
        rate = log_rate.exp().to(self.generator.device)
        counts = torch.poisson(rate, generator=self.generator).to(self.device)
        total = counts.sum(dim=1, keepdim=True)
        return torch.where(total > 0, counts / torch.where(total > 0, total, 1.0), 0.0).to(
            self.dtype
        )

    def read(self, queries: torch.Tensor) -> torch.Tensor:
        """Weighted average of the stored values, ``weights(queries) @ values``.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), uint8 {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_values)
            Zero rows where no pattern is within reach; thresholded at 1/2 if
            ``binary_threshold``.
        """
        out = self.weights(queries) @ self.written_values
        if self.binary_threshold:
            out = (out > 0.5).to(out.dtype)
        return out

    def extra_repr(self) -> str:
        return (
            f"n_dims={self.n_dims}, activation_radius={self.activation_radius}, "
            f"n_neurons={self.n_neurons}, n_patterns={self.n_patterns}"
        )
