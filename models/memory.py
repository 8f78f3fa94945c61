r"""The shared interface of every associative memory in :mod:`models`, and input validation.

Every memory stores ``m`` (address, value) pairs and answers a query ``xi`` with normalised
pattern weights ``w(xi)`` (shape ``(n_patterns,)``, summing to 1 or all zero) and a read-out,
which for the SDM family and attention is the weighted average of the stored values

.. math:: \\hat v(\\xi) = \\sum_\\mu w_\\mu(\\xi)\\, p_v^\\mu

(Kanerva 1988; Bricken & Pehlevan 2021). Concrete memories subclass :class:`Memory` and keep
their state in registered buffers so that ``state_dict`` round-trips and ``.to(device)`` works.

Input conventions (``Memory.inputs``)
    Every memory states how it reads its addresses and queries; nothing is guessed from the
    dtype.

    ``"bits"``
        Binary codes: a matrix whose entries are all exactly 0 or 1, of any dtype (``bool``,
        ``uint8`` or any integer, ``float32``/``float64``); the same bits give the same numbers
        in every dtype. Anything else (a 0.5, a 3, NaN) is refused with a ``ValueError`` naming
        the argument. The Hamming-ball memories (:class:`~models.sdm.NeuronSDM`,
        :class:`~models.sdm.PatternSDM`) and :class:`~models.attention.HopfieldMemory` read bits
        only; :class:`~models.attention.AttentionMemory` and
        :class:`~models.attention.ContinuousSDM` map them to :math:`2x - 1 \in \{-1, +1\}^n`.
    ``"vectors"``
        Real vectors, used as given: a floating matrix of finite entries. Bool and integer
        matrices are refused with a ``TypeError`` (they are almost always codes; convert with
        ``.double()`` to use them as vectors). Only the cosine-based memories,
        ``AttentionMemory(..., inputs="vectors")`` and ``ContinuousSDM(..., inputs="vectors")``,
        take vectors.

    ``"bits"`` is the default everywhere, so binary callers never name it; a memory of real
    vectors is built with ``inputs="vectors"``. The convention is fixed at construction and
    applies to ``write`` addresses and to every query.

Reads before any write
    A memory with no pattern stored has no pattern to weigh: ``weights(queries)`` has shape
    ``(n_queries, 0)``, and ``read(queries)`` has shape ``(n_queries, n_values)``, where
    ``n_values`` is the value length when the constructor fixes it (``NeuronSDM(addresses,
    n_values)`` reads zeros; :class:`~models.attention.HopfieldMemory`, whose values are its
    states, returns the queries unchanged, every field being zero) and 0 when only the first
    write fixes it (``PatternSDM``, ``AttentionMemory``, ``ContinuousSDM``). Queries are
    validated under the memory's input convention before and after the first write alike.

Devices
    ``Memory.to(...)`` and ``Memory.cuda()`` check the requested device first
    (:func:`models.validation.check_device`): asking for CUDA on a machine without it raises
    ``RuntimeError("CUDA is not available on this machine; ...")`` and leaves the memory where
    it was, instead of torch's internal "Torch not compiled with CUDA enabled".

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
    check_device,
    check_finite,
    check_int,
    check_matrix,
    check_rows_match,
)

__all__ = [
    "INPUT_CONVENTIONS",
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

#: The input conventions a memory can declare (see the module docstring).
INPUT_CONVENTIONS = ("bits", "vectors")


def _requested_device(args: tuple, kwargs: dict):
    """The device named in the arguments of ``nn.Module.to`` (None when only a dtype is)."""
    if "device" in kwargs:
        return kwargs["device"]
    if args and not isinstance(args[0], torch.dtype | torch.Tensor):
        return args[0]  # .to(device[, dtype]); .to(dtype) and .to(tensor) name none
    return None


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
    ``.to(device)`` work. ``forward`` is ``read``. :attr:`inputs` is the input convention
    (``"bits"`` unless a subclass lets the constructor choose ``"vectors"``); before any write
    ``weights`` has no columns and ``read`` has ``n_values`` of them (0 while unknown), as the
    module docstring states.

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
    # The input convention; a subclass whose constructor takes ``inputs`` sets it per instance.
    _inputs: str = "bits"

    @property
    def inputs(self) -> str:
        """Input convention of the addresses and queries: ``"bits"`` or ``"vectors"``."""
        return self._inputs

    def to(self, *args, **kwargs):
        """``torch.nn.Module.to``, with the device checked first.

        Parameters
        ----------
        *args, **kwargs
            As for ``torch.nn.Module.to``: a device, a dtype, both, or a tensor.

        Returns
        -------
        Memory
            ``self``, moved or cast.

        Raises
        ------
        RuntimeError
            If a CUDA device is requested and CUDA is not available on this machine; the
            memory is left unchanged.
        """
        device = _requested_device(args, kwargs)
        if device is not None:
            check_device(device)
        return super().to(*args, **kwargs)

    def cuda(self, device=None):
        """``torch.nn.Module.cuda``, with the device checked first (see :meth:`to`).

        Parameters
        ----------
        device : int or torch.device, optional
            CUDA device; the current one when omitted.

        Returns
        -------
        Memory
        """
        if device is None:
            check_device("cuda")
        elif isinstance(device, int) and not isinstance(device, bool):
            check_device(f"cuda:{device}")
        else:
            check_device(device)
        return super().cuda(device)

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
            Pattern addresses (keys), under the memory's :attr:`inputs` convention: {0, 1} in
            any dtype for ``"bits"``, finite floats for ``"vectors"``.
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
            Before any write: ``n_values`` as fixed by the constructor, else 0 columns.
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
            Each row sums to 1, or is all zero when no pattern is reached; shape
            ``(n_queries, 0)`` before any write.
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
