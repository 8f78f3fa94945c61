"""What leaves Brian2: plain numpy arrays in SI floats (docs/design.md section 2, "the seam is
numpy").

A :class:`Readout` holds, for each of ``q`` queries read from the circuit:

- ``queries`` (q, n) uint8 -- the addresses presented;
- ``active_granule`` (q, r) bool -- granule cells that spiked in the query's window;
- ``golgi_active_count`` (q,) -- number of granule spikes counted by the Golgi cell, ``A``;
- ``mli_write_count_input`` (q,) -- summed write counts of the active cells, ``C``;
- ``purkinje_input`` (q, c) -- summed PF -> Purkinje input ``I`` (dimensionless weights);
- ``purkinje_rate_hz`` (q, c) -- Purkinje rate ``rho0 + g (1 - 2 read)`` (Hz);
- ``dcn_rate_hz`` (q, n_values) -- deep-nuclear output (Hz), ``dcn_rate_max * read``;
- ``read`` (q, n_values) -- decoded read ``(w0 A + dw C - I) / (2 dw C)`` computed in Brian2;
- ``pattern_intersections`` (q, m) -- ``(w0 A + dw C - I_mu) / (2 dw)`` on the one-hot pattern
  channels (float64 holding integers);
- ``pattern_weights`` (q, m) -- the intersections normalised to sum 1 (0 rows if none);
- ``query_onset_s`` (q,) -- start time of each query's window (s).

``c = n_values + m`` Purkinje channels; ``m = 0`` when the circuit has no pattern channels.
Saved as ``.npz`` with ``schema_version`` (:data:`SCHEMA_VERSION`); :meth:`Readout.load`
refuses other versions.

What enters Brian2 crosses the same seam: :func:`as_numpy`, :func:`binary_matrix` and
:func:`value_matrix` turn numpy arrays, CPU torch tensors or nested lists into checked numpy
arrays (the protocol's addresses, queries and values).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["SCHEMA_VERSION", "Readout", "as_numpy", "binary_matrix", "value_matrix"]

SCHEMA_VERSION = 1

_FIELDS_2D = {
    "queries": 1,
    "active_granule": 1,
    "purkinje_input": 1,
    "purkinje_rate_hz": 1,
    "dcn_rate_hz": 1,
    "read": 1,
    "pattern_intersections": 1,
    "pattern_weights": 1,
}


def _npz_path(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


@dataclass(frozen=True, eq=False)
class Readout:
    """Per-query arrays read out of the circuit (see the module docstring for meanings).

    Parameters
    ----------
    queries : ndarray of shape (n_queries, n_dims), uint8
    active_granule : ndarray of shape (n_queries, n_neurons), bool
    golgi_active_count : ndarray of shape (n_queries,), float64
    mli_write_count_input : ndarray of shape (n_queries,), float64
    purkinje_input : ndarray of shape (n_queries, n_channels), float64
    purkinje_rate_hz : ndarray of shape (n_queries, n_channels), float64 (Hz)
    dcn_rate_hz : ndarray of shape (n_queries, n_values), float64 (Hz)
    read : ndarray of shape (n_queries, n_values), float64
    pattern_intersections : ndarray of shape (n_queries, n_patterns), float64
    pattern_weights : ndarray of shape (n_queries, n_patterns), float64
    query_onset_s : ndarray of shape (n_queries,), float64 (s)
    """

    queries: np.ndarray
    active_granule: np.ndarray
    golgi_active_count: np.ndarray
    mli_write_count_input: np.ndarray
    purkinje_input: np.ndarray
    purkinje_rate_hz: np.ndarray
    dcn_rate_hz: np.ndarray
    read: np.ndarray
    pattern_intersections: np.ndarray
    pattern_weights: np.ndarray
    query_onset_s: np.ndarray

    def __post_init__(self) -> None:
        n_queries = None
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, np.ndarray):
                raise TypeError(f"{item.name} must be a numpy ndarray; got {type(value).__name__}")
            expected_ndim = 2 if item.name in _FIELDS_2D else 1
            if value.ndim != expected_ndim:
                raise ValueError(
                    f"{item.name} must have {expected_ndim} dimensions; got shape {value.shape}"
                )
            if n_queries is None:
                n_queries = value.shape[0]
            elif value.shape[0] != n_queries:
                raise ValueError(
                    f"{item.name} must have {n_queries} rows (one per query); got {value.shape[0]}"
                )
        n_values, n_patterns = self.read.shape[1], self.pattern_intersections.shape[1]
        widths = {
            "dcn_rate_hz": n_values,
            "pattern_weights": n_patterns,
            "purkinje_input": n_values + n_patterns,
            "purkinje_rate_hz": n_values + n_patterns,
        }
        for name, width in widths.items():
            if getattr(self, name).shape[1] != width:
                raise ValueError(
                    f"{name} must have {width} columns (n_values={n_values}, "
                    f"n_patterns={n_patterns}); got {getattr(self, name).shape[1]}"
                )

    @property
    def n_queries(self) -> int:
        """Number of queries ``q``."""
        return int(self.queries.shape[0])

    def to_dict(self) -> dict[str, np.ndarray]:
        """All fields as a dict of arrays."""
        return {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}

    def save(self, path: str | os.PathLike) -> None:
        """Write an uncompressed ``.npz`` with ``schema_version``.

        Parameters
        ----------
        path : str or os.PathLike
            ``.npz`` is appended when missing (as :func:`numpy.savez` does), so ``load`` of the
            same path finds the file.
        """
        np.savez(_npz_path(path), schema_version=np.int64(SCHEMA_VERSION), **self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Readout:
        """Read a file written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        Readout
        """
        path = _npz_path(path)
        with np.load(path, allow_pickle=False) as archive:
            if "schema_version" not in archive:
                raise ValueError(f"{path} has no schema_version; not a Readout file")
            version = int(archive["schema_version"])
            if version != SCHEMA_VERSION:
                raise ValueError(
                    f"schema_version must be {SCHEMA_VERSION}; got {version} in {path}"
                )
            names = [item.name for item in dataclasses.fields(cls)]
            missing = [name for name in names if name not in archive]
            if missing:
                raise ValueError(f"{path} lacks fields {missing}")
            return cls(**{name: archive[name] for name in names})


def as_numpy(name: str, array) -> np.ndarray:
    """A numpy view of ``array`` (ndarray, CPU torch tensor, list or tuple).

    Parameters
    ----------
    name : str
        Argument name used in the message.
    array : ndarray, Tensor, list or tuple

    Returns
    -------
    ndarray

    Raises
    ------
    TypeError
        For anything else.
    """
    if type(array).__name__ == "Tensor" and hasattr(array, "detach"):  # torch, via models
        return array.detach().cpu().numpy()
    if isinstance(array, np.ndarray):
        return array
    if isinstance(array, list | tuple):
        return np.asarray(array)
    raise TypeError(f"{name} must be a numpy array or torch tensor; got {type(array).__name__}")


def binary_matrix(name: str, array, n_dims: int) -> np.ndarray:
    """Check a matrix of addresses or queries and return it as uint8.

    Parameters
    ----------
    name : str
        Argument name used in the message.
    array : ndarray or Tensor of shape (n_rows, n_dims), {0, 1} (bool or numeric)
    n_dims : int

    Returns
    -------
    ndarray of shape (n_rows, n_dims), uint8

    Raises
    ------
    TypeError
        For a non-numeric dtype.
    ValueError
        For the wrong shape or a value other than 0 and 1.
    """
    array = as_numpy(name, array)
    if array.ndim != 2 or array.shape[1] != n_dims:
        raise ValueError(f"{name} must have shape (n, {n_dims}); got {array.shape}")
    if array.dtype == np.bool_:
        return array.astype(np.uint8)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be numeric; got dtype {array.dtype}")
    if array.size and not np.isin(array, (0, 1)).all():
        bad = array[~np.isin(array, (0, 1))].ravel()[0]
        raise ValueError(f"{name} must be binary (0 or 1); got value {bad}")
    return array.astype(np.uint8)


def value_matrix(name: str, array, n_values: int, n_rows: int) -> np.ndarray:
    """Check a matrix of finite values and return it as float64.

    Parameters
    ----------
    name : str
        Argument name used in the message.
    array : ndarray or Tensor of shape (n_rows, n_values), numeric
    n_values, n_rows : int

    Returns
    -------
    ndarray of shape (n_rows, n_values), float64

    Raises
    ------
    TypeError
        For a non-numeric dtype.
    ValueError
        For the wrong shape or non-finite values.
    """
    array = as_numpy(name, array)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be numeric; got dtype {array.dtype}")
    if array.ndim != 2 or array.shape != (n_rows, n_values):
        raise ValueError(f"{name} must have shape ({n_rows}, {n_values}); got {array.shape}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    return array
