"""Argument checks shared by :mod:`models` and :mod:`cerebellum`: one semantics everywhere.

In the spirit of scikit-learn's ``check_scalar``, each check takes the value and the name of
the argument (or field) it came from, returns the value normalised (a Python ``int``, ``float``,
enum member, ...) and raises at the door with a message that names the argument, what was
expected and what was given:

- ``TypeError`` when the value has the wrong kind (a string for a count, a bool for a number, a
  non-integral float for an integer, a Quantity of the wrong dimension);
- ``ValueError`` when the kind is right but the value is impossible (out of range, NaN or
  infinite where a finite value is required, not one of the choices).
- ``RuntimeError`` when the value is fine but this machine cannot honour it: a CUDA device
  where CUDA is not available (:func:`check_device`, used by every ``device`` argument and by
  :meth:`models.memory.Memory.to`).

The rules, the same wherever a check is used:

========================  ===========  ===========  ==========================================
value                     check_int    check_real   note
========================  ===========  ===========  ==========================================
``3``, ``np.int64(3)``    3            3.0          numpy integers are integers
``2.0``                   2            2.0          an integral float is accepted as an integer
``2.5``                   TypeError    2.5          a non-integral float is not an integer
``True``                  TypeError    TypeError    bools are flags, never numbers
``nan``, ``inf``          TypeError    ValueError   (``finite=False`` lets ``inf`` through)
``-1`` with ``low=0``     ValueError   ValueError   out of range names the bounds
========================  ===========  ===========  ==========================================

:func:`check_quantity` validates Brian2 Quantities by their *dimension* (duck-typed on the
``dim`` attribute, so this module never imports Brian2): any unit -- volt, siemens, farad, amp,
second, hertz, siemens / metre ** 2 -- is checked against the expected one.

torch is imported by the checks that need it, on first use, so that the torch-free parts of
:mod:`models` (:mod:`models.theory`, :mod:`models.metrics`) stay free of it.

The array checks (:func:`as_tensor`, :func:`check_matrix`, :func:`check_finite`,
:func:`check_binary`, :func:`check_rows_match`) validate tensors (or numpy arrays, converted
without a copy) the same way: ``TypeError`` for the wrong container or dtype kind,
``ValueError`` for a wrong shape or impossible entries, the argument named in the message.
"""

from __future__ import annotations

import enum
import math
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "as_tensor",
    "check_binary",
    "check_bool",
    "check_choice",
    "check_device",
    "check_dtype",
    "check_finite",
    "check_generator",
    "check_int",
    "check_matrix",
    "check_probability",
    "check_quantity",
    "check_real",
    "check_rng",
    "check_rows_match",
]

E = TypeVar("E", bound=enum.Enum)


def _interval(low, high, low_open: bool = False, high_open: bool = False) -> str:
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    lo = "-inf" if low is None else f"{low:g}" if isinstance(low, float) else str(low)
    hi = "inf" if high is None else f"{high:g}" if isinstance(high, float) else str(high)
    return f"{left}{lo}, {hi}{right}"


def _suffix(context: str) -> str:
    return f" {context}" if context else ""


def _check_range(
    value: float, name, low, high, low_open, high_open, finite, shown, context, unit=None
) -> None:
    """Raise ``ValueError`` for NaN, infinity (when ``finite``) or a value outside the interval."""
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a finite number; got {shown}{_suffix(context)}")
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        interval = _interval(low, high, low_open, high_open)
        if unit is not None:
            interval += f" {unit!r}"
        raise ValueError(f"{name} must be in {interval}; got {shown}{_suffix(context)}")


def check_int(
    value: Any,
    name: str,
    *,
    low: int | None = None,
    high: int | None = None,
    context: str = "",
) -> int:
    """Check that ``value`` is an integer in ``[low, high]`` and return it as ``int``.

    Parameters
    ----------
    value : int
        Python and numpy integers are accepted, and floats with an integral value (``2.0``).
    name : str
        Argument or field name used in the message.
    low, high : int, optional
        Inclusive bounds.
    context : str
        Appended to a range error, e.g. ``"for n_dims=64"``.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        For bools, non-numbers, non-integral, NaN or infinite floats.
    ValueError
        If the integer lies outside ``[low, high]``.
    """
    if isinstance(value, bool | np.bool_):
        # bool is an Integral, so it must be refused before the numeric checks.
        raise TypeError(f"{name} must be an integer; got the bool {value!r}")
    if not isinstance(value, Integral):
        if isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(
                f"{name} must be an integer; got {value!r} of type {type(value).__name__}"
            )
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be in {_interval(low, high)}; got {value}{_suffix(context)}")
    return value


def check_real(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
    context: str = "",
) -> float:
    """Check that ``value`` is a real number in the given interval and return it as ``float``.

    Parameters
    ----------
    value : float
        Python and numpy integers and floats are accepted; bools are not.
    name : str
        Argument or field name used in the message.
    low, high : float, optional
        Bounds of the interval.
    low_open, high_open : bool
        Exclude the bound itself (``low_open=True, low=0`` means ``> 0``).
    finite : bool
        Reject infinite values (NaN is always rejected).
    context : str
        Appended to a range error.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        For bools and non-numbers.
    ValueError
        For NaN, infinite values when ``finite``, and values outside the interval.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    value = float(value)
    _check_range(value, name, low, high, low_open, high_open, finite, f"{value:g}", context)
    return value


def check_probability(
    value: Any, name: str, *, allow_zero: bool = True, allow_one: bool = True
) -> float:
    """Check that ``value`` is a probability in ``[0, 1]`` (ends optional); return a ``float``.

    Parameters
    ----------
    value : float
    name : str
    allow_zero, allow_one : bool
        Whether 0 and 1 themselves are allowed.

    Returns
    -------
    float
    """
    return check_real(
        value, name, low=0.0, high=1.0, low_open=not allow_zero, high_open=not allow_one
    )


def check_bool(value: Any, name: str) -> bool:
    """Check that ``value`` is a bool (Python or numpy); return a Python ``bool``.

    Raises
    ------
    TypeError
        For anything else, including the integers 0 and 1.
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a bool; got {value!r} of type {type(value).__name__}")
    return bool(value)


def check_choice(value: Any, name: str, choices):
    """Check that ``value`` is one of ``choices``; return it (an enum member for an enum).

    Parameters
    ----------
    value : object
        For an enum type, a member or its value (``"top-k"`` for ``ActivationRule.TOP_K``).
    name : str
    choices : tuple or Enum type

    Returns
    -------
    object

    Raises
    ------
    ValueError
        Naming the valid choices.
    """
    if isinstance(choices, type) and issubclass(choices, enum.Enum):
        if isinstance(value, choices):
            return value
        try:
            return choices(value)
        except (ValueError, TypeError):
            valid = ", ".join(repr(member.value) for member in choices)
            raise ValueError(f"{name} must be one of {valid}; got {value!r}") from None
    choices = tuple(choices)
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_generator(value: Any, name: str = "generator") -> torch.Generator:
    """Check that ``value`` is a ``torch.Generator`` (randomness is an explicit argument).

    Raises
    ------
    TypeError
    """
    import torch

    if not isinstance(value, torch.Generator):
        raise TypeError(f"{name} must be a torch.Generator; got {type(value).__name__}")
    return value


def check_rng(value: Any, name: str = "rng") -> np.random.Generator:
    """Check that ``value`` is a ``numpy.random.Generator``.

    Raises
    ------
    TypeError
    """
    if not isinstance(value, np.random.Generator):
        raise TypeError(f"{name} must be a numpy.random.Generator; got {type(value).__name__}")
    return value


def check_device(value: Any, name: str = "device") -> torch.device:
    """Check that ``value`` names a device this machine has; return it as ``torch.device``.

    Torch's own failure for a CUDA device on a machine without one is an internal message
    ("Torch not compiled with CUDA enabled", an ``AssertionError``) raised deep inside the
    first tensor move; this check says it at the door, in one sentence.

    Parameters
    ----------
    value : torch.device, str or int
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``, or a CUDA index.
    name : str
        Argument name used in the message.

    Returns
    -------
    torch.device

    Raises
    ------
    TypeError
        If ``value`` is a bool or not a device specification at all.
    ValueError
        If ``value`` is a string or index torch cannot parse as a device.
    RuntimeError
        If it names a CUDA device and CUDA is not available on this machine, or a CUDA index
        the machine does not have.
    """
    import torch

    if isinstance(value, bool | np.bool_) or not isinstance(value, str | int | torch.device):
        raise TypeError(
            f"{name} must be a torch.device, a device string such as 'cpu' or 'cuda:0', or a "
            f"CUDA index; got {value!r} of type {type(value).__name__}"
        )
    try:
        device = torch.device(value)
    except (RuntimeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a torch.device, a device string such as 'cpu' or 'cuda:0', or a "
            f"CUDA index; got {value!r} ({error})"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"CUDA is not available on this machine; {name}={value!r} needs an NVIDIA GPU "
                f"and a CUDA build of torch (this is torch {torch.__version__}, and "
                "torch.cuda.is_available() is False). Use 'cpu' instead."
            )
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise RuntimeError(
                f"{name}={value!r} names CUDA device {device.index}, but this machine has "
                f"{count} CUDA device(s) (indices 0..{count - 1})"
            )
    return device


def check_dtype(value: Any, name: str = "dtype") -> torch.dtype:
    """Check that ``value`` is a floating ``torch.dtype``.

    Raises
    ------
    TypeError
    """
    import torch

    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise TypeError(f"{name} must be a floating torch.dtype; got {value!r}")
    return value


def check_quantity(
    value: Any,
    name: str,
    unit: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> Any:
    """Check a scalar Brian2 Quantity against the dimension of ``unit``; return it unchanged.

    Duck-typed on the ``dim`` attribute of Brian2 Quantities, so :mod:`models` stays free of
    Brian2. Bounds are in multiples of ``unit`` (``low=0, low_open=True`` means ``> 0``).

    Parameters
    ----------
    value : brian2.Quantity
    name : str
        Field name used in the message.
    unit : brian2.Unit
        Any unit of the expected dimension (``mV`` or ``volt``, ``nS / um**2``, ...).
    low, high, low_open, high_open, finite
        As in :func:`check_real`, for ``value / unit``.

    Returns
    -------
    brian2.Quantity

    Raises
    ------
    TypeError
        If ``value`` is not a Quantity of the dimension of ``unit``; the message names the
        field, the expected dimension and what was given.
    ValueError
        If it is not a scalar, or out of range.
    """
    expected = getattr(unit, "dim", None)
    if expected is None:
        raise TypeError(f"unit for {name} must be a Brian2 unit; got {unit!r}")
    given = getattr(value, "dim", None)
    if given is None or isinstance(value, bool) or given != expected:
        what = f"dimension {given}" if given is not None else "no unit"
        dimension = str(expected) or "1"
        raise TypeError(
            f"{name} must be a Brian2 Quantity with the dimension of {unit!r} ({dimension}); "
            f"got {value!r} ({what})"
        )
    if np.shape(value) != ():
        raise ValueError(f"{name} must be a scalar Quantity; got shape {np.shape(value)}")
    magnitude = float(np.asarray(value / unit))
    _check_range(magnitude, name, low, high, low_open, high_open, finite, repr(value), "", unit)
    return value


# ------------------------------------------------------------------------------ array checks


def as_tensor(array, name: str, *, device: torch.device | str | None = None) -> torch.Tensor:
    """Return ``array`` as a tensor (numpy arrays are converted without copying).

    Parameters
    ----------
    array : Tensor or ndarray
    name : str
        Argument name used in the error message.
    device : torch.device or str, optional
        Move the result to this device (checked by :func:`check_device`).

    Returns
    -------
    Tensor

    Raises
    ------
    TypeError
        If ``array`` is neither a tensor nor a numpy array.
    RuntimeError
        If ``device`` is a CUDA device and CUDA is not available (:func:`check_device`).
    """
    import torch

    if isinstance(array, np.ndarray):
        array = torch.from_numpy(np.ascontiguousarray(array))
    elif not isinstance(array, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray; got {type(array).__name__}"
        )
    if device is not None:
        array = array.to(check_device(device))
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
    import torch

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
    import torch

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
        tensor = tensor.to(check_device(device))
    return tensor


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
