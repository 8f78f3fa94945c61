"""The functional core of the SDM: distances, activation, and the dense and sparse write/read.

Pure functions on tensors; :class:`~models.sdm.NeuronSDM` and :class:`~models.sdm.PatternSDM`
are thin modules over them.

Distances and activation
    :func:`hamming_distances` uses the exact identity :math:`H(q, a) = |q| + |a| - 2\\, q\\cdot a`
    with one matrix product per chunk of neurons (memory stays bounded): int8 x int8 with int32
    accumulation on CPU (``torch._int_mm``; the uint8 addresses are reinterpreted, not copied),
    float32 elsewhere (products of 0/1 and sums below :math:`2^{24}` are exact). A row of ones
    appended to the queries yields :math:`|a|` from the same product. :func:`active_pairs`
    turns the distances into the sparse set of active (query, neuron) pairs for a radius
    (:math:`H \\le d`) or top-k rule, or matches selected coordinates (Jaeckel 1989);
    :func:`activate` and :func:`activate_selected` are its dense masks.

Dense write / read (the textbook form)
    :func:`write` adds :math:`p_v^\\mu` to the counters :math:`c_j` of every active neuron and
    increments the write counts :math:`n_j`; :func:`read` returns
    :math:`\\sum_{j \\in O(\\xi)} c_j / \\sum_{j \\in O(\\xi)} n_j`; :func:`intersections`
    counts :math:`|O(\\xi) \\cap O(p_a^\\mu)|` from two masks.

Sparse write / read (what :class:`~models.sdm.NeuronSDM` stores)
    No dense counters: for every neuron the list of the patterns written to it, a CSR matrix
    (``neuron_ptr``, ``neuron_patterns``), plus the written values. :func:`sparse_write`
    appends the active (pattern, neuron) pairs of a write; :func:`sparse_intersections` counts
    the circle intersections by joining the active (query, neuron) pairs with the per-neuron
    pattern lists, so the read costs the number of active pairs, not ``n_neurons * n_values``;
    :func:`sparse_read` is then
    :math:`\\hat v(\\xi) = \\sum_\\mu |O(\\xi) \\cap O(p_a^\\mu)|\\, p_v^\\mu /
    \\sum_\\mu |O(\\xi) \\cap O(p_a^\\mu)|`, the same number as the dense read.
    :func:`sparse_counters` materialises the dense counters on demand.

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Bricken, T. & Pehlevan, C. (2021). Attention approximates sparse distributed memory. NeurIPS.
"""

from __future__ import annotations

import torch

from models.sdm.addresses import SelectedCoordinates
from models.validation import (
    as_tensor,
    check_binary,
    check_finite,
    check_int,
    check_matrix,
    check_rows_match,
)

__all__ = [
    "hamming_distances",
    "activate",
    "activate_selected",
    "active_pairs",
    "intersections",
    "write",
    "read",
    "sparse_write",
    "sparse_counters",
    "sparse_intersections",
    "sparse_read",
    "normalised_weights",
]

# Working-set budget (number of elements) for one chunk of a chunked computation.
_CHUNK_ELEMENTS = 1 << 23
# Float32 sums of 0/1 products are exact below 2**24.
_FLOAT32_EXACT = 1 << 24
# Use torch._int_mm (int8 x int8 -> int32) on CPU when this torch build supports it.
_INT_MATMUL = True


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
# Sparse write / read: the per-neuron pattern lists (CSR) that NeuronSDM stores
# --------------------------------------------------------------------------------------------


def sparse_write(
    neuron_ptr: torch.Tensor,
    neuron_patterns: torch.Tensor,
    pattern_idx: torch.Tensor,
    neuron_idx: torch.Tensor,
    *,
    n_old: int,
    n_new: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Append the active (pattern, neuron) pairs of a write to the per-neuron pattern lists.

    Parameters
    ----------
    neuron_ptr : Tensor of shape (n_neurons + 1,), int64
        CSR row pointers: the patterns written to neuron ``j`` are
        ``neuron_patterns[neuron_ptr[j]:neuron_ptr[j + 1]]``.
    neuron_patterns : Tensor of shape (n_pairs,), int64
        Pattern indices, sorted ascending within each neuron.
    pattern_idx, neuron_idx : Tensor of shape (n_active,), int64
        Active pairs of the new patterns (indices ``0..n_new-1`` in the write).
    n_old : int
        Patterns written before: the new ones get indices ``n_old..n_old+n_new-1``.
    n_new : int
        Patterns in this write.

    Returns
    -------
    neuron_ptr : Tensor of shape (n_neurons + 1,), int64
    neuron_patterns : Tensor of shape (n_pairs + n_active,), int64
        New tensors; each neuron's list still sorted ascending.
    """
    n_neurons = neuron_ptr.shape[0] - 1
    device = neuron_ptr.device
    n_total = n_old + n_new
    old_neurons = torch.repeat_interleave(torch.arange(n_neurons, device=device), neuron_ptr.diff())
    neurons = torch.cat([old_neurons, neuron_idx])
    patterns = torch.cat([neuron_patterns, pattern_idx + n_old])
    order = torch.argsort(neurons * max(n_total, 1) + patterns)
    counts = torch.bincount(neurons, minlength=n_neurons)
    return torch.cat([counts.new_zeros(1), counts.cumsum(0)]), patterns[order]


def sparse_counters(
    neuron_ptr: torch.Tensor, neuron_patterns: torch.Tensor, written_values: torch.Tensor
) -> torch.Tensor:
    """Dense counters ``c_j``: the sum of the values written to each neuron, in write order.

    Parameters
    ----------
    neuron_ptr : Tensor of shape (n_neurons + 1,), int64
    neuron_patterns : Tensor of shape (n_pairs,), int64
    written_values : Tensor of shape (n_patterns, n_values)

    Returns
    -------
    Tensor of shape (n_neurons, n_values), dtype of ``written_values``
    """
    n_neurons, n_values = neuron_ptr.shape[0] - 1, written_values.shape[1]
    device = neuron_ptr.device
    counters = torch.zeros((n_neurons, n_values), dtype=written_values.dtype, device=device)
    neurons = torch.repeat_interleave(torch.arange(n_neurons, device=device), neuron_ptr.diff())
    step = max(1, _CHUNK_ELEMENTS // n_values)
    for start in range(0, neurons.shape[0], step):
        patterns = neuron_patterns[start : start + step]
        counters.index_add_(0, neurons[start : start + step], written_values[patterns])
    return counters


def sparse_intersections(
    query_idx: torch.Tensor,
    neuron_idx: torch.Tensor,
    neuron_ptr: torch.Tensor,
    neuron_patterns: torch.Tensor,
    *,
    n_queries: int,
    n_patterns: int,
) -> torch.Tensor:
    """Circle intersections ``|O(xi) ∩ O(p_mu)|`` from active pairs and the pattern lists.

    Joins every active (query, neuron) pair with the neuron's pattern list and counts, in
    blocks of about ``_CHUNK_ELEMENTS`` expanded entries.

    Parameters
    ----------
    query_idx, neuron_idx : Tensor of shape (n_active,), int64
        Active pairs of the queries (:func:`active_pairs`).
    neuron_ptr : Tensor of shape (n_neurons + 1,), int64
    neuron_patterns : Tensor of shape (n_pairs,), int64
    n_queries : int
    n_patterns : int
        Patterns written so far.

    Returns
    -------
    Tensor of shape (n_queries, n_patterns), int64
        In write order.
    """
    device = neuron_ptr.device
    counts = torch.zeros(n_queries * n_patterns, dtype=torch.int64, device=device)
    if n_patterns == 0 or query_idx.numel() == 0:
        return counts.reshape(n_queries, n_patterns)
    starts = neuron_ptr[neuron_idx]
    lengths = neuron_ptr[neuron_idx + 1] - starts
    keep = lengths > 0
    query_idx, starts, lengths = query_idx[keep], starts[keep], lengths[keep]
    if lengths.numel() == 0:
        return counts.reshape(n_queries, n_patterns)
    ends = lengths.cumsum(0)
    total = int(ends[-1])
    marks = list(range(_CHUNK_ELEMENTS, total, _CHUNK_ELEMENTS))
    cuts = torch.searchsorted(ends, torch.tensor(marks, device=device)).tolist()
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
        positions = torch.arange(block_total, device=device) + shift
        rows = torch.repeat_interleave(query_idx[lo:hi], block_lengths, output_size=block_total)
        flat = rows * n_patterns + neuron_patterns[positions]
        counts += torch.bincount(flat, minlength=n_queries * n_patterns)
    return counts.reshape(n_queries, n_patterns)


def normalised_weights(counts: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Pattern weights ``counts / counts.sum(1)``; all-zero rows stay zero.

    Parameters
    ----------
    counts : Tensor of shape (n_queries, n_patterns)
        Non-negative intersection counts.
    dtype : torch.dtype
        Floating dtype of the result.

    Returns
    -------
    Tensor of shape (n_queries, n_patterns), ``dtype``
        Rows sum to 1, or are zero.
    """
    counts = counts.to(dtype)
    total = counts.sum(dim=1, keepdim=True)
    return torch.where(total > 0, counts / torch.where(total > 0, total, 1.0), 0.0)


def sparse_read(
    counts: torch.Tensor, written_values: torch.Tensor, *, binary_threshold: bool = False
) -> torch.Tensor:
    """SDM read from the circle intersections: ``counts @ values / counts.sum(1)``.

    Equal to the dense :func:`read` of the counters, because ``sum_j c_j`` over the active
    neurons is ``sum_mu |O(xi) ∩ O(p_mu)| p_v^mu`` and ``sum_j n_j`` is ``sum_mu |O(xi) ∩
    O(p_mu)|``.

    Parameters
    ----------
    counts : Tensor of shape (n_queries, n_patterns), int64
        :func:`sparse_intersections`.
    written_values : Tensor of shape (n_patterns, n_values), floating
    binary_threshold : bool
        If true return ``(mean > 1/2)`` as floats.

    Returns
    -------
    Tensor of shape (n_queries, n_values), dtype of ``written_values``
        Zero where no active neuron was written.
    """
    dtype = written_values.dtype
    numerator = counts.to(dtype) @ written_values
    return _normalise_read(numerator, counts.sum(dim=1).to(dtype), binary_threshold)
