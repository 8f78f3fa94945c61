"""The shared interface of every associative memory in :mod:`models`, and input validation.

Every memory stores ``m`` (address, value) pairs and answers a query ``xi`` with normalised
pattern weights ``w(xi)`` (shape ``(n_patterns,)``, summing to 1 or all zero) and a read-out,
which for the SDM family and attention is the weighted average of the stored values

.. math:: \\hat v(\\xi) = \\sum_\\mu w_\\mu(\\xi)\\, p_v^\\mu

(Kanerva 1988; Bricken & Pehlevan 2021). Concrete memories subclass :class:`Memory` and keep
their state in registered buffers so that ``state_dict`` round-trips and ``.to(device)`` works.

Anything with a ``read(queries)`` method is a :class:`ReadableMemory` (a structural
``typing.Protocol``): :func:`models.recall.recall` iterates any of them, a :class:`Memory` or,
for instance, the Brian2 circuit's read-out, which returns numpy arrays.

:class:`Memory` also carries the state plumbing shared by every memory: the buffers that grow
with each write (``_growing_buffers``) are resized before ``load_state_dict`` copies into them,
and ``n_patterns``, ``device`` and ``dtype`` are read off the buffers the subclass names.

The ``check_*`` helpers and :func:`as_tensor` re-exported here live in
:mod:`models.validation`, the one module of argument checks.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np
import torch

from models.validation import (
    as_tensor,
    check_binary,
    check_finite,
    check_int,
    check_matrix,
    check_rows_match,
)

__all__ = [
    "Memory",
    "ReadableMemory",
    # Re-exported from models.validation for compatibility.
    "as_tensor",
    "check_binary",
    "check_finite",
    "check_int",
    "check_matrix",
    "check_rows_match",
]


@runtime_checkable
class ReadableMemory(Protocol):
    """Anything that answers queries: the read-only side of a memory.

    Every :class:`Memory` is one; so is any object with a ``read`` method, such as the Brian2
    circuit's read-out in :mod:`cerebellum`. :func:`models.recall.recall` accepts any of them.
    """

    def read(self, queries: torch.Tensor) -> torch.Tensor | np.ndarray:
        """Read the memory.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor or ndarray of shape (n_queries, n_values)
        """


class Memory(torch.nn.Module, abc.ABC):
    """Abstract associative memory: ``write`` pairs, ``read`` values, inspect ``weights``.

    Subclasses store their state in buffers (``register_buffer``) so that ``state_dict`` and
    ``.to(device)`` work. ``forward`` is ``read``.

    Subclasses declare, as class attributes, the buffers the shared plumbing reads:

    ``_growing_buffers``
        Buffers whose shape changes with every write: ``load_state_dict`` resizes them to the
        saved shape before copying (keeping their dtype and device).
    ``_patterns_buffer``
        A buffer with one row per stored pattern, for :attr:`n_patterns`.
    ``_state_buffer``
        The floating buffer whose dtype and device are the memory's, for :attr:`dtype` and
        :attr:`device`.
    """

    _growing_buffers: ClassVar[tuple[str, ...]] = ()
    _patterns_buffer: ClassVar[str | None] = None
    _state_buffer: ClassVar[str | None] = None

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The growing buffers have the shape of the patterns written so far: resize them to the
        # saved shape before the copy (torch only copies into equal shapes).
        for name in self._growing_buffers:
            key = prefix + name
            if key in state_dict:
                current = self._buffers[name]
                self._buffers[name] = torch.empty(
                    state_dict[key].shape, dtype=current.dtype, device=current.device
                )
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def _declared_buffer(self, attribute: str) -> torch.Tensor:
        name = getattr(type(self), attribute)
        if name is None:
            raise AttributeError(f"{type(self).__name__} declares no {attribute}")
        return self._buffers[name]

    @property
    def n_patterns(self) -> int:
        """Number of patterns written so far."""
        return int(self._declared_buffer("_patterns_buffer").shape[0])

    @property
    def device(self) -> torch.device:
        """Device of the stored state (follows ``.to(device)``)."""
        return self._declared_buffer("_state_buffer").device

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the stored state and of the read-out (follows ``.to(dtype)``)."""
        return self._declared_buffer("_state_buffer").dtype

    @abc.abstractmethod
    def write(self, addresses: torch.Tensor, values: torch.Tensor) -> None:
        """Store ``m`` patterns.

        Parameters
        ----------
        addresses : Tensor of shape (n_patterns, n_dims)
            Pattern addresses (keys); binary ``uint8`` for the binary memories.
        values : Tensor of shape (n_patterns, n_values)
            Pattern values, finite floats.
        """

    @abc.abstractmethod
    def read(self, queries: torch.Tensor) -> torch.Tensor:
        """Read the memory.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_values)
        """

    @abc.abstractmethod
    def weights(self, queries: torch.Tensor) -> torch.Tensor:
        """Normalised weight of every stored pattern for every query.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_patterns)
            Each row sums to 1, or is all zero when no pattern is reached.
        """

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`read`.

        Parameters
        ----------
        queries : Tensor of shape (n_queries, n_dims)

        Returns
        -------
        Tensor of shape (n_queries, n_values)
        """
        return self.read(queries)
