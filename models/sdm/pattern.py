"""The pattern-based SDM: every one of the ``2**n`` addresses is a neuron, in closed form.

With all :math:`2^n` addresses as neurons the circle intersection of a query and a pattern at
distance :math:`t` is the exact count :math:`N(n, d, t)` of :mod:`models.theory`, so the read
needs no neurons at all (Kanerva 1988, ch. 6):

.. math:: w_\\mu(\\xi) = \\operatorname{softmax}_\\mu \\ln N(n, d, H(\\xi, p_a^\\mu)),
          \\qquad \\hat v(\\xi) = \\sum_\\mu w_\\mu(\\xi)\\, p_v^\\mu .

A random population of ``r`` neurons shares approximately
:math:`\\mathrm{Poisson}(r N / 2^n)` of them with both balls, which :class:`PatternSDM`
samples with ``n_neurons``.

References
----------
Kanerva, P. (1988). *Sparse Distributed Memory*. MIT Press.
Bricken, T. & Pehlevan, C. (2021). Attention approximates sparse distributed memory. NeurIPS.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from models import theory
from models.memory import Memory
from models.sdm.kernels import hamming_distances, normalised_weights
from models.validation import (
    check_binary,
    check_bool,
    check_dtype,
    check_finite,
    check_generator,
    check_int,
    check_matrix,
    check_rows_match,
)

__all__ = ["PatternSDM"]


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

    _growing_buffers = ("pattern_addresses", "written_values")
    _patterns_buffer = "pattern_addresses"
    _state_buffer = "written_values"

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
            generator = check_generator(generator)
        self.n_neurons = n_neurons
        self.generator = generator
        self.binary_threshold = check_bool(binary_threshold, "binary_threshold")
        dtype = check_dtype(dtype)
        self.register_buffer(
            "log_intersection_table", _log_intersection_table(self.n_dims, self.activation_radius)
        )
        self.register_buffer("pattern_addresses", torch.zeros((0, self.n_dims), dtype=torch.uint8))
        self.register_buffer("written_values", torch.zeros((0, 0), dtype=dtype))

    def _apply(self, fn, recurse=True):
        # ``.to(dtype)``/``.float()`` must not round the log-intersection table: at n = 10,000
        # ln N reaches ~6930, and float32 would put ~4e-4 relative errors into the weights.
        # The table follows the device only and stays float64; the weights are cast to
        # ``self.dtype`` at the end.
        table = self.log_intersection_table
        out = super()._apply(fn, recurse)
        self.log_intersection_table = table.to(device=self.log_intersection_table.device)
        return out

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
        # Normalised in float64, then cast to the memory's dtype.
        return normalised_weights(counts, counts.dtype).to(self.dtype)

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
