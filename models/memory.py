"""The shared interface of every associative memory in :mod:`models`, and input validation.

Every memory stores ``m`` (address, value) pairs and answers a query ``xi`` with normalised
pattern weights ``w(xi)`` (shape ``(n_patterns,)``, summing to 1 or all zero) and a read-out,
which for the SDM family and attention is the weighted average of the stored values

.. math:: \\hat v(\\xi) = \\sum_\\mu w_\\mu(\\xi)\\, p_v^\\mu

(Kanerva 1988; Bricken & Pehlevan 2021). Concrete memories subclass :class:`Memory` and keep
their state in registered buffers so that ``state_dict`` round-trips and ``.to(device)`` works.

The ``check_*`` helpers validate arguments at the door and raise ``ValueError`` (or
``TypeError`` for a wrong type) whose message names the argument, what was expected and what
was given.
"""

from __future__ import annotations

import abc
import math
from numbers import Integral, Real

import numpy as np
import torch

__all__ = [
    "Memory",
    "as_tensor",
    "check_binary",
    "check_finite",
    "check_matrix",
    "check_int",
    "check_rows_match",
]


class Memory(torch.nn.Module, abc.ABC):
    """Abstract associative memory: ``write`` pairs, ``read`` values, inspect ``weights``.

    Subclasses store their state in buffers (``register_buffer``) so that ``state_dict`` and
    ``.to(device)`` work. ``forward`` is ``read``.
    """

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


def as_tensor(array, name: str, *, device: torch.device | str | None = None) -> torch.Tensor:
    """Return ``array`` as a tensor (numpy arrays are converted without copying).

    Parameters
    ----------
    array : Tensor or ndarray
    name : str
        Argument name used in the error message.
    device : torch.device or str, optional
        Move the result to this device.

    Returns
    -------
    Tensor

    Raises
    ------
    TypeError
        If ``array`` is neither a tensor nor a numpy array.
    """
    if isinstance(array, np.ndarray):
        array = torch.from_numpy(np.ascontiguousarray(array))
    elif not isinstance(array, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray; got {type(array).__name__}"
        )
    if device is not None:
        array = array.to(device)
    return array


def check_matrix(
    array, name: str, *, n_cols: int | None = None, cols_name: str = "n_dims"
) -> torch.Tensor:
    """Check that ``array`` is a 2-D tensor, optionally with ``n_cols`` columns.

    Parameters
    ----------
    array : Tensor or ndarray of shape (n_rows, n_cols)
    name : str
        Argument name used in the error message.
    n_cols : int, optional
        Required number of columns.
    cols_name : str
        What the columns are called in the message (``"n_dims"``, ``"n_values"``).

    Returns
    -------
    Tensor of shape (n_rows, n_cols)

    Raises
    ------
    ValueError
        If the tensor is not 2-D or has the wrong number of columns.
    """
    tensor = as_tensor(array, name)
    if tensor.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D tensor of shape (n, {cols_name}); "
            f"got shape {tuple(tensor.shape)}"
        )
    if n_cols is not None and tensor.shape[1] != n_cols:
        raise ValueError(
            f"{name} must have {cols_name}={n_cols} columns; got shape {tuple(tensor.shape)}"
        )
    return tensor


def check_finite(array, name: str) -> torch.Tensor:
    """Check that a tensor has no NaN or infinite entries.

    Parameters
    ----------
    array : Tensor or ndarray
    name : str
        Argument name used in the error message.

    Returns
    -------
    Tensor
        The same tensor.

    Raises
    ------
    ValueError
        If any entry is NaN or infinite.
    """
    tensor = as_tensor(array, name)
    if tensor.is_floating_point() or tensor.is_complex():
        bad = ~torch.isfinite(tensor)
        if bool(bad.any()):
            n_nan = int(torch.isnan(tensor).sum())
            raise ValueError(
                f"{name} must be finite; got {n_nan} NaN and {int(bad.sum()) - n_nan} "
                "infinite entries"
            )
    return tensor


def check_binary(
    array, name: str, *, n_dims: int | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Check a 2-D binary matrix and return it as ``uint8`` with values {0, 1}.

    Bool, integer and floating tensors (and numpy arrays) are accepted when every entry is
    exactly 0 or 1.

    Parameters
    ----------
    array : Tensor or ndarray of shape (n, n_dims)
    name : str
        Argument name used in the error message.
    n_dims : int, optional
        Required number of columns.
    device : torch.device or str, optional
        Move the result to this device.

    Returns
    -------
    Tensor of shape (n, n_dims), dtype uint8

    Raises
    ------
    TypeError
        If ``array`` is not a tensor or numpy array.
    ValueError
        If it is not 2-D, has the wrong number of columns, contains NaN or a value other
        than 0 and 1.
    """
    tensor = check_matrix(array, name, n_cols=n_dims)
    if tensor.dtype == torch.bool:
        tensor = tensor.to(torch.uint8)
    elif tensor.dtype != torch.uint8:
        if tensor.is_complex():
            raise TypeError(f"{name} must be a real binary tensor; got dtype {tensor.dtype}")
        check_finite(tensor, name)
        non_binary = (tensor != 0) & (tensor != 1)
        if bool(non_binary.any()):
            example = tensor[non_binary][0].item()
            raise ValueError(
                f"{name} must be binary with values in {{0, 1}}; got {int(non_binary.sum())} "
                f"other entries, e.g. {example}"
            )
        tensor = tensor.to(torch.uint8)
    else:
        if tensor.numel() and int(tensor.max()) > 1:
            raise ValueError(
                f"{name} must be binary with values in {{0, 1}}; got maximum {int(tensor.max())}"
            )
    if device is not None:
        tensor = tensor.to(device)
    return tensor


def check_int(
    value, name: str, *, low: int | None = None, high: int | None = None, context: str = ""
) -> int:
    """Check that ``value`` is an integer in ``[low, high]`` and return it as ``int``.

    Parameters
    ----------
    value : int
    name : str
        Argument name used in the error message.
    low, high : int, optional
        Inclusive bounds.
    context : str
        Appended to the message, e.g. ``"for n_dims=64"``.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (bools are rejected; integral floats are accepted).
    ValueError
        If it lies outside ``[low, high]``.
    """
    if isinstance(value, bool | np.bool_):
        # bool is an Integral (and a Real), so it must be refused before the numeric checks.
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if not isinstance(value, Integral):
        if isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        suffix = f" {context}" if context else ""
        raise ValueError(f"{name} must be in [{lo}, {hi}]; got {value}{suffix}")
    return value


def check_rows_match(a: torch.Tensor, a_name: str, b: torch.Tensor, b_name: str) -> None:
    """Check that two matrices have the same number of rows.

    Parameters
    ----------
    a, b : Tensor of shape (n, ...)
    a_name, b_name : str
        Argument names used in the error message.

    Raises
    ------
    ValueError
        If ``a.shape[0] != b.shape[0]``.
    """
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{a_name} and {b_name} must have the same number of rows; "
            f"got {a.shape[0]} and {b.shape[0]}"
        )
