r"""Attention, continuous SDM and the classical Hopfield network as associative memories.

Input convention (``inputs``, the same rule as every memory's, :mod:`models.memory`)
    ``AttentionMemory`` and ``ContinuousSDM`` take an explicit ``inputs`` argument; nothing is
    guessed from the dtype.

    - ``inputs="bits"`` (the default): addresses and queries are binary codes, every entry
      exactly 0 or 1, of any dtype (``bool``, ``uint8``, ``int64``, ``float64``...), mapped to
      :math:`s = 2x - 1 \in \{-1, +1\}^n`. The same bits give the same weights in every dtype;
      any other entry raises ``ValueError``.
    - ``inputs="vectors"``: real vectors, a floating matrix used as given. Bool and integer
      matrices raise ``TypeError`` (convert with ``.double()`` to use codes as 0/1 vectors).

    Either way the rows are then L2-normalised, :math:`\hat x = s / \lVert s\rVert_2` (a zero
    vector, possible only under ``"vectors"``, is refused). For bits at Hamming distance
    :math:`t` this gives :math:`\cos(\hat x, \hat y) = 1 - 2t/n` (Bricken & Pehlevan 2021);
    the same bits read as 0/1 *vectors* would have the cosine of the raw 0/1 vectors instead,
    a different kernel, which is why the convention is chosen, never inferred.
    ``HopfieldMemory`` reads bits only (``inputs == "bits"``).

``AttentionMemory`` (Vaswani et al. 2017; Bricken & Pehlevan 2021)
    Keys are the written addresses, queries are normalised the same way, and

    .. math:: w_\mu(\xi) = \operatorname{softmax}_\mu\big(\beta \cos(\hat p_a^\mu, \hat\xi)\big),
              \qquad \hat v(\xi) = \sum_\mu w_\mu(\xi)\, p_v^\mu .

    This is ``torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=beta)`` on the
    normalised queries and keys. ``beta`` is given, or fitted to the SDM circle intersection of
    ``(n_dims, activation_radius)`` by :func:`models.theory.fit_beta` (log-linear regression of the
    intersection on the cosine; Bricken & Pehlevan 2021).

``ContinuousSDM`` (the continuous SDM of Bricken & Pehlevan 2021)
    Neurons and patterns live on the unit sphere; a neuron is active for a query when it lies in
    the spherical cap of the activation radius around it. Pattern :math:`\mu` is weighted by the
    (expected number of neurons in the) intersection of the two caps, a function of the cosine
    only; with :math:`L_\mu = \ln I(\cos(\hat p_a^\mu, \hat \xi))` from
    :func:`models.theory.log_cap_intersection`,

    .. math:: w_\mu = \exp\big(L_\mu - \operatorname{logsumexp}_\nu L_\nu\big),

    normalised in log space so that tiny intersections do not underflow; a row in which every
    intersection is empty (all :math:`L = -\infty`) is all zero and reads as zero.

``HopfieldMemory`` (Hopfield 1982)
    States are :math:`s \in \{-1,+1\}^n` (binary {0, 1} inputs are mapped by :math:`s = 2x - 1`
    and outputs mapped back by :math:`x = (s + 1)/2`). Hebbian outer-product couplings with zero
    diagonal, :math:`T_{ij} = \sum_\mu s_i^\mu s_j^\mu` for :math:`i \ne j`, :math:`T_{ii} = 0`,
    stored as exact integers (the customary :math:`1/n` factor does not change a sign). One read
    is one synchronous update

    .. math:: s_i' = \operatorname{sign}(h_i), \quad h = T s, \qquad s_i' = s_i \text{ if } h_i = 0,

    i.e. a unit whose field is exactly zero keeps its state (the tie rule). The network is
    autoassociative, so ``values`` must equal ``addresses``. Its ``weights`` are the normalised
    absolute overlaps :math:`|m_\mu| / \sum_\nu |m_\nu|` with :math:`m_\mu = s^\mu\cdot s / n`:
    the field is :math:`h = n\sum_\mu m_\mu s^\mu - m\,s`, a signed combination of the patterns,
    and a negative overlap pulls towards the mirror state :math:`-s^\mu`, which is as much an
    attractor as :math:`s^\mu`; the absolute value is each pattern's share of the field's pattern
    part (a row of zero overlaps is all zero).
"""

from __future__ import annotations

import numpy as np
import torch

from models import theory
from models.memory import INPUT_CONVENTIONS, Memory
from models.validation import (
    check_binary,
    check_choice,
    check_device,
    check_dtype,
    check_finite,
    check_int,
    check_matrix,
    check_real,
    check_rows_match,
)

__all__ = ["AttentionMemory", "ContinuousSDM", "HopfieldMemory", "normalize_inputs"]


def normalize_inputs(
    array: torch.Tensor,
    name: str,
    *,
    inputs: str,
    n_dims: int | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """L2-normalise rows under an explicit input convention (see the module docstring).

    Parameters
    ----------
    array : Tensor or ndarray of shape (n, n_dims)
        The addresses or queries.
    name : str
        Argument name for error messages.
    inputs : {"bits", "vectors"}
        ``"bits"``: every entry exactly 0 or 1 (any dtype), mapped to ``2 x - 1``.
        ``"vectors"``: a floating matrix of real vectors, used as given.
    n_dims : int, optional
        Required number of columns.
    dtype : torch.dtype
        Floating dtype of the result.
    device : torch.device or str, optional
        Device of the result.

    Returns
    -------
    Tensor of shape (n, n_dims), ``dtype``
        Unit rows.

    Raises
    ------
    TypeError
        Complex input; bool or integer input under ``inputs="vectors"``.
    ValueError
        Wrong shape, NaN/inf, an entry other than 0 and 1 under ``inputs="bits"``, or a zero
        row (no direction) under ``inputs="vectors"``.
    """
    inputs = check_choice(inputs, "inputs", INPUT_CONVENTIONS)
    matrix = check_matrix(array, name, n_cols=n_dims)
    if matrix.is_complex():
        raise TypeError(f"{name} must be real; got dtype {matrix.dtype}")
    if inputs == "bits":
        check_finite(matrix, name)
        try:
            bits = check_binary(matrix, name, device=device)
        except ValueError as error:
            raise ValueError(
                f"{error} (this memory reads inputs='bits'; build it with inputs='vectors' to "
                "use real vectors as given)"
            ) from None
        vectors = 2.0 * bits.to(dtype) - 1.0
    else:
        if not matrix.is_floating_point():
            raise TypeError(
                f"{name} must be a floating tensor of real vectors under inputs='vectors'; got "
                f"dtype {matrix.dtype} (binary codes need inputs='bits'; to use these entries "
                "as real vectors, convert them first, e.g. with .double())"
            )
        check_finite(matrix, name)
        device = None if device is None else check_device(device)
        vectors = matrix.to(device=device, dtype=dtype)
    norms = torch.linalg.vector_norm(vectors, dim=1, keepdim=True)
    if bool((norms == 0).any()):
        raise ValueError(
            f"{name} must have non-zero rows (a cosine needs a direction); got "
            f"{int((norms == 0).sum())} zero row(s)"
        )
    return vectors / norms


_PAIRWISE_ELEMENTS = 1 << 22  # products held at once by ContinuousSDM.cosines (32 MiB float64)


class _PatternStore(Memory):
    """Shared state of the pattern-based memories: unit keys and values, grown by writes."""

    _growing_buffers = ("keys", "values")
    _patterns_buffer = "keys"
    _state_buffer = "keys"

    def __init__(self, n_dims: int | None, dtype: torch.dtype, inputs: str) -> None:
        super().__init__()
        dtype = check_dtype(dtype)
        self._inputs = check_choice(inputs, "inputs", INPUT_CONVENTIONS)
        n_dims = None if n_dims is None else check_int(n_dims, "n_dims", low=1)
        self.register_buffer("keys", torch.zeros((0, n_dims or 0), dtype=dtype))
        self.register_buffer("values", torch.zeros((0, 0), dtype=dtype))

    @property
    def n_dims(self) -> int | None:
        """Length ``n`` of the keys; None until fixed by the constructor or the first write."""
        return int(self.keys.shape[1]) or None

    def write(self, addresses: torch.Tensor, values: torch.Tensor) -> None:
        """Store patterns; may be called repeatedly (patterns are kept in write order).

        Parameters
        ----------
        addresses : Tensor of shape (n_patterns, n_dims)
            Keys under :attr:`inputs`: {0, 1} in any dtype (``"bits"``) or finite floats with
            non-zero rows (``"vectors"``).
        values : Tensor of shape (n_patterns, n_values)
            Finite values; ``n_values`` is fixed by the first write.
        """
        keys = normalize_inputs(
            addresses,
            "addresses",
            inputs=self.inputs,
            n_dims=self.n_dims,
            dtype=self.dtype,
            device=self.device,
        )
        n_values = self.values.shape[1] if self.n_patterns else None
        values = check_matrix(values, "values", n_cols=n_values, cols_name="n_values")
        if values.is_complex():
            raise TypeError(f"values must be real; got dtype {values.dtype}")
        check_finite(values, "values")
        check_rows_match(keys, "addresses", values, "values")
        values = values.to(device=self.device, dtype=self.dtype)
        previous = self.values if self.n_patterns else self.values.new_zeros((0, values.shape[1]))
        self.keys = torch.cat([self.keys.reshape(-1, keys.shape[1]), keys])
        self.values = torch.cat([previous, values])

    def _unit_queries(self, queries: torch.Tensor) -> torch.Tensor:
        return normalize_inputs(
            queries,
            "queries",
            inputs=self.inputs,
            n_dims=self.n_dims,
            dtype=self.dtype,
            device=self.device,
        )

    def cosines(self, queries: torch.Tensor) -> torch.Tensor:
        """Cosine between every query and every stored key.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)
            Under the memory's :attr:`inputs` convention, as the keys.

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Values in [-1, 1], in write order; ``(n_queries, 0)`` before any write.
        """
        unit = self._unit_queries(queries)  # validated before the first write too
        if self.n_dims is None:  # nothing written yet and no size fixed: no pattern to weigh
            return unit.new_zeros((unit.shape[0], 0))
        return (unit @ self.keys.T).clamp(-1.0, 1.0)

    def read(self, queries: torch.Tensor) -> torch.Tensor:
        """Weighted average of the stored values.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_values)
            ``weights(queries) @ values``; zero rows where all weights are zero (and
            ``n_values = 0`` before the first write).
        """
        return self.weights(queries) @ self.values


class AttentionMemory(_PatternStore):
    """Softmax attention over the stored patterns: ``softmax(beta cos(key, query)) @ values``.

    Parameters
    ----------
    beta : float, optional
        Inverse temperature (the ``scale`` of scaled dot-product attention), finite and >= 0.
        If omitted it is fitted: ``models.theory.fit_beta(n_dims, activation_radius,
        method=method).beta``.
    n_dims : int, optional
        Address length ``n``; required to fit beta, and then enforced on every write and read.
    activation_radius : int, optional
        SDM radius ``d`` (Kanerva 1988) whose circle intersection beta is fitted to.
    method : {"ols", "reference", "softmax"}
        Fit method passed to ``fit_beta``.
    inputs : {"bits", "vectors"}
        Input convention of addresses and queries (module docstring): ``"bits"`` (default)
        maps {0, 1} entries of any dtype to +-1 and refuses anything else; ``"vectors"`` uses
        floating real vectors as given and refuses bool/integer input.
    dtype : torch.dtype
        Floating dtype of keys, values and outputs; default float64.

    Attributes
    ----------
    beta : float
        The inverse temperature used (a buffer ``beta_tensor`` holds it for ``state_dict``).
    beta_fit : object or None
        The ``fit_beta`` result when beta was fitted.
    """

    def __init__(
        self,
        beta: float | None = None,
        *,
        n_dims: int | None = None,
        activation_radius: int | None = None,
        method: str = "ols",
        inputs: str = "bits",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__(n_dims, dtype, inputs)
        self.beta_fit = None
        if beta is None:
            if n_dims is None or activation_radius is None:
                raise ValueError(
                    "beta must be given, or n_dims and activation_radius to fit it; got "
                    f"beta=None, n_dims={n_dims!r}, activation_radius={activation_radius!r}"
                )
            self.beta_fit = theory.fit_beta(self.n_dims, activation_radius, method=method)
            beta = self.beta_fit.beta
        elif activation_radius is not None:
            raise ValueError(
                f"give either beta or activation_radius, not both; got beta={beta!r} and "
                f"activation_radius={activation_radius!r}"
            )
        beta = check_real(beta, "beta", low=0.0)
        self.register_buffer("beta_tensor", torch.tensor(beta, dtype=torch.float64))

    @property
    def beta(self) -> float:
        """Inverse temperature beta (dimensionless)."""
        return float(self.beta_tensor)

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Softmax attention weights.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            ``softmax(beta * cos)`` over the patterns; rows sum to 1.
        """
        beta = self.beta_tensor.to(dtype=self.dtype)
        return torch.softmax(beta * self.cosines(queries), dim=1)

    def extra_repr(self) -> str:
        return (
            f"beta={self.beta:.6g}, n_dims={self.n_dims}, inputs={self.inputs!r}, "
            f"n_patterns={self.n_patterns}"
        )


class ContinuousSDM(_PatternStore):
    """SDM on the unit sphere: pattern weights are spherical-cap intersections.

    Parameters
    ----------
    n_dims : int
        Dimension ``n`` of the vectors.
    activation_radius : int
        Binary activation radius ``d`` (Kanerva 1988) in ``[0, n_dims]``; the caps have angular
        radius ``arccos(1 - 2 d / n_dims)`` (:func:`models.theory.log_cap_intersection`).
    n_neurons : int, optional
        Number of neurons ``r`` passed to ``log_cap_intersection`` (a constant factor of every
        intersection, so it cancels in the normalised weights).
    inputs : {"bits", "vectors"}
        Input convention, as for :class:`AttentionMemory`; default ``"bits"``.
    dtype : torch.dtype
        Floating dtype of keys, values and outputs; default float64.
    """

    def __init__(
        self,
        n_dims: int,
        activation_radius: int,
        *,
        n_neurons: int | None = None,
        inputs: str = "bits",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        n_dims = check_int(n_dims, "n_dims", low=1)
        super().__init__(n_dims, dtype, inputs)
        # Validate the pair once, at construction, with the theory's own checks.
        theory.log_cap_intersection(n_dims, activation_radius, np.ones(1), n_neurons=n_neurons)
        self.activation_radius = check_int(activation_radius, "activation_radius")
        self.n_neurons = n_neurons

    def cosines(self, queries: torch.Tensor) -> torch.Tensor:
        """Cosine between every query and every stored key, independent of the batch.

        The cap intersection is a numerical integral whose value can move by ~1e-9 (relative)
        when its cosine moves by one ulp, so the cosines are summed element-wise in a fixed
        order (not by a blocked matrix product, whose rounding depends on the batch shape): a
        query gives bit-identical weights alone or in a batch.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Values in [-1, 1], in write order.
        """
        unit = self._unit_queries(queries)
        n_queries, n_patterns = unit.shape[0], self.n_patterns
        out = unit.new_empty((n_queries, n_patterns))
        rows = max(1, _PAIRWISE_ELEMENTS // max(1, n_patterns * self.n_dims))
        for start in range(0, n_queries, rows):
            block = unit[start : start + rows, None, :] * self.keys[None, :, :]
            out[start : start + rows] = block.sum(dim=2)
        return out.clamp(-1.0, 1.0)

    def log_intersections(self, queries: torch.Tensor) -> torch.Tensor:
        """Natural log of the cap intersection with every stored pattern.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_patterns), float64
            ``ln I(cos)``; ``-inf`` where the caps do not intersect.
        """
        cosines = self.cosines(queries).to(torch.float64).cpu().numpy()
        # Each distinct cosine is one 1-D integral: evaluate each once (binary inputs have at
        # most n_dims + 1 distinct cosines).
        distinct, inverse = np.unique(cosines, return_inverse=True)
        logs = theory.log_cap_intersection(
            self.n_dims, self.activation_radius, distinct, n_neurons=self.n_neurons
        )
        logs = np.asarray(logs, dtype=np.float64)[inverse].reshape(cosines.shape)
        return torch.from_numpy(logs).to(self.device)

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Cap intersections normalised in log space.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Rows sum to 1, or are all zero when no cap intersects the query's.
        """
        logs = self.log_intersections(queries)
        total = torch.logsumexp(logs, dim=1, keepdim=True)
        reached = torch.isfinite(total)
        weights = torch.where(reached, torch.exp(logs - torch.where(reached, total, 0.0)), 0.0)
        # exp(L - logsumexp L) carries a relative error ~ eps * |L| from the log-space shift;
        # one division by the row sum brings the sum back to 1 within n_patterns * eps.
        sums = weights.sum(dim=1, keepdim=True)
        weights = torch.where(reached, weights / torch.where(reached, sums, 1.0), 0.0)
        return weights.to(self.dtype)

    def extra_repr(self) -> str:
        return (
            f"n_dims={self.n_dims}, activation_radius={self.activation_radius}, "
            f"n_neurons={self.n_neurons}, inputs={self.inputs!r}, n_patterns={self.n_patterns}"
        )


class HopfieldMemory(Memory):
    """Classical binary Hopfield network (Hopfield 1982) with synchronous updates.

    States are bits (``inputs == "bits"``): {0, 1} in any dtype. Before any write every field
    is zero, so a read returns its queries unchanged (the tie rule) and ``weights`` has no
    columns.

    Parameters
    ----------
    n_dims : int, optional
        Number of units ``n``; fixed by the first write when omitted.
    dtype : torch.dtype
        Floating dtype of the couplings and of the read-out (integer-valued; exact in float64
        while ``n_patterns * n_dims < 2**53``, in float32 below ``2**24``).

    Attributes
    ----------
    couplings : Tensor of shape (n_dims, n_dims)
        Hebbian ``T = sum_mu s^mu (s^mu)^T`` with zero diagonal.
    patterns : Tensor of shape (n_patterns, n_dims), uint8
        The stored binary patterns, in write order.
    """

    _growing_buffers = ("patterns", "couplings")
    _patterns_buffer = "patterns"
    _state_buffer = "couplings"

    def __init__(self, n_dims: int | None = None, *, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        dtype = check_dtype(dtype)
        size = 0 if n_dims is None else check_int(n_dims, "n_dims", low=1)
        self.register_buffer("patterns", torch.zeros((0, size), dtype=torch.uint8))
        self.register_buffer("couplings", torch.zeros((size, size), dtype=dtype))

    @property
    def n_dims(self) -> int | None:
        """Number of units ``n``; None until fixed by the constructor or the first write."""
        return int(self.patterns.shape[1]) or None

    def _spins(self, bits: torch.Tensor) -> torch.Tensor:
        return 2.0 * bits.to(self.dtype) - 1.0

    def write(self, addresses: torch.Tensor, values: torch.Tensor) -> None:
        """Store patterns by the Hebbian outer-product rule.

        Parameters
        ----------
        addresses : Tensor of shape (n_patterns, n_dims), binary {0, 1}
            Patterns to store.
        values : Tensor of shape (n_patterns, n_dims)
            Must equal ``addresses`` (the network is autoassociative).
        """
        bits = check_binary(addresses, "addresses", n_dims=self.n_dims, device=self.device)
        given = check_matrix(values, "values", n_cols=bits.shape[1], cols_name="n_dims")
        check_finite(given, "values")
        check_rows_match(bits, "addresses", given, "values")
        mismatch = given.to(device=self.device, dtype=torch.float64) != bits.to(torch.float64)
        if bool(mismatch.any()):
            raise ValueError(
                "values must equal addresses for the autoassociative HopfieldMemory; got "
                f"{int(mismatch.sum())} differing entries"
            )
        n_dims = int(bits.shape[1])
        if self.n_dims is None or self.couplings.shape != (n_dims, n_dims):
            self.couplings = torch.zeros((n_dims, n_dims), dtype=self.dtype, device=self.device)
            self.patterns = self.patterns.reshape(0, n_dims)
        spins = self._spins(bits)
        hebb = spins.T @ spins
        hebb.fill_diagonal_(0.0)
        self.couplings = self.couplings + hebb
        self.patterns = torch.cat([self.patterns, bits])

    def _query_spins(self, queries: torch.Tensor) -> torch.Tensor:
        bits = check_binary(queries, "queries", n_dims=self.n_dims, device=self.device)
        return self._spins(bits)

    def fields(self, queries: torch.Tensor) -> torch.Tensor:
        """Local fields ``h = T s`` of every unit.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), binary {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_dims)
        """
        return self._fields_of(self._query_spins(queries))

    def _fields_of(self, spins: torch.Tensor) -> torch.Tensor:
        if self.n_dims is None:  # nothing stored and no size fixed: T = 0
            return torch.zeros_like(spins)
        return spins @ self.couplings  # T is symmetric

    def read(self, queries: torch.Tensor) -> torch.Tensor:
        """One synchronous update; a unit with zero field keeps its state.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), binary {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_dims), ``dtype``, values in {0, 1}
        """
        spins = self._query_spins(queries)
        fields = self._fields_of(spins)
        updated = torch.where(fields == 0, spins, torch.sign(fields))
        return (updated + 1.0) / 2.0

    def overlaps(self, queries: torch.Tensor) -> torch.Tensor:
        """Overlaps ``m_mu = s^mu . s / n`` with every stored pattern.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), binary {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns), values in [-1, 1]
        """
        spins = self._query_spins(queries)
        if self.n_dims is None:
            return spins.new_zeros((spins.shape[0], 0))
        return spins @ self._spins(self.patterns).T / self.n_dims

    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Normalised absolute overlaps ``|m_mu| / sum_nu |m_nu|`` (see the module docstring).

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims), binary {0, 1}

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Rows sum to 1, or are zero when the query is orthogonal to every pattern.
        """
        size = self.overlaps(queries).abs()
        total = size.sum(dim=1, keepdim=True)
        return torch.where(total > 0, size / torch.where(total > 0, total, 1.0), 0.0)

    def extra_repr(self) -> str:
        return f"n_dims={self.n_dims}, n_patterns={self.n_patterns}"
