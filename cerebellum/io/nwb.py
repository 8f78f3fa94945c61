"""A run's spikes, rates, PF -> Purkinje weights and presentations in NWB (Neurodata Without
Borders).

:func:`write_nwb` takes plain numpy arrays (docs/design.md section 2: the seam is numpy) and writes
one NWB 2 file with pynwb (Rübel et al. 2022; the ``nwb`` extra:
``pip install 'cerebellar-sdm[nwb]'``). :func:`run_content` takes them from any engine's
:class:`~cerebellum.engines.base.CircuitRun`; this module imports no engine.

The file's layout:

====================================================  =========================================
NWB object                                            contents
====================================================  =========================================
``units`` (:class:`pynwb.misc.Units`)                 one row per cell of every population:
                                                      ``population`` (str), ``cell`` (index in
                                                      its population), ``spike_times`` (s,
                                                      ascending), ``obs_intervals`` (when
                                                      given: the span recorded)
``processing["rates"][population]``                   a ``TimeSeries`` in Hz with explicit
                                                      timestamps, data ``(n_times,)`` or
                                                      ``(n_times, n_cells)``
``processing["plasticity"]["pf_purkinje_weights"]``   a ``DynamicTable``, one row per snapshot:
                                                      ``snapshot`` (``before``, ``after``) and
                                                      ``weight`` ``(n_granule, n_channels)``
``epochs``                                            one row per presentation:
                                                      ``start_time``, ``stop_time`` (s),
                                                      ``kind`` (``write``, ``read``, ...), the
                                                      kind again as the row's ``tags``, and
                                                      ``index`` when given
====================================================  =========================================

One ``Units`` table for all populations, with a ``population`` column, rather than one table
per population: an NWB file has one standard ``units`` table, which is where tools that read
NWB spike trains (Neo's ``NWBIO``, hence Elephant) look for them; a population is a selection
of its rows. Every cell of a population gets a row, silent ones included (an empty spike
train), when its ``n_cells`` is given; otherwise cells ``0 .. max(cells)``.

The file is written atomically: to a temporary file in the target's directory, then
:func:`os.replace`; if anything fails, the temporary file is removed and a file already at the
path is left as it was.

What a run exports: the algorithmic engine, the spikes its monitors hold right after the reads
(the granule layer, and the mossy fibres where simulated), the window-end Purkinje and DCN
rates and one epoch per write and read window; the biophysical engine, every spike of every
population over the whole run, the Purkinje and DCN rates of every read presentation (per
channel, in the decoding window) and every presentation (background, calibration, rest,
write, read). Both export the PF -> Purkinje weights before the writes and after the reads.

References
----------
Rübel, O. et al. (2022). The Neurodata Without Borders ecosystem for neurophysiological data
science. eLife 11, e78362.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.validation import check_int

__all__ = ["run_content", "write_nwb"]

#: ``NWBFile`` fields that ``metadata`` may set: text fields, then lists of text.
_TEXT_METADATA = (
    "experiment_description",
    "notes",
    "lab",
    "institution",
    "protocol",
    "source_script",
    "data_collection",
    "pharmacology",
)
_LIST_METADATA = ("experimenter", "keywords", "related_publications")
_METADATA_KEYS = ("session_start_time", *_TEXT_METADATA, *_LIST_METADATA)


# -- checks at the door -------------------------------------------------------------------------


def _mapping(value: Any, name: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict; got {type(value).__name__}")
    for key in value:
        if not isinstance(key, str) or not key:
            raise TypeError(f"{name} keys must be non-empty strings; got {key!r}")
    return value


def _keys(value: Mapping, name: str, required: tuple, optional: tuple = ()) -> None:
    missing = [key for key in required if key not in value]
    if missing:
        raise ValueError(f"{name} lacks {missing}; expected keys {list(required)}")
    unknown = [key for key in value if key not in required + optional]
    if unknown:
        raise ValueError(
            f"{name} has unknown keys {unknown}; expected {list(required)}"
            + (f" and optionally {list(optional)}" if optional else "")
        )


def _array(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, np.ndarray | list | tuple):
        raise TypeError(f"{name} must be a numpy array; got {type(value).__name__}")
    return np.asarray(value)


def _times(value: Any, name: str, *, ascending: bool = False) -> np.ndarray:
    """A 1-D array of finite, non-negative float seconds."""
    array = _array(value, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (k,); got {array.shape}")
    if array.size and not (
        np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
    ):
        raise TypeError(f"{name} must be numeric (seconds); got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} must be finite")
    if array.size and array.min() < 0:
        raise ValueError(f"{name} must be >= 0 s; got {array.min()}")
    if ascending and np.any(np.diff(array) < 0):
        raise ValueError(f"{name} must be in ascending order (NWB timestamps)")
    return array


def _indices(value: Any, name: str) -> np.ndarray:
    """A 1-D array of non-negative integers (integral floats accepted, bools refused)."""
    array = _array(value, name)
    if array.ndim != 1:
        raise ValueError(f"{name} must have shape (k,); got {array.shape}")
    if array.dtype == np.bool_:
        raise TypeError(f"{name} must hold integers; got dtype bool")
    if array.size == 0:
        return array.astype(np.int64)
    if np.issubdtype(array.dtype, np.floating):
        if not (np.isfinite(array).all() and np.all(array == np.round(array))):
            raise TypeError(f"{name} must hold integers; got non-integral values")
    elif not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integers; got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.min() < 0:
        raise ValueError(f"{name} must be >= 0; got {array.min()}")
    return array


def _float_array(value: Any, name: str, *, allow_nan: bool) -> np.ndarray:
    array = _array(value, name)
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must be real numbers; got dtype {array.dtype}")
    array = array.astype(np.float64)
    bad = np.isinf(array) if allow_nan else ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must be finite" + (" (NaN allowed)" if allow_nan else ""))
    return array


def _check_spikes(spikes: Any) -> list[tuple[str, np.ndarray, np.ndarray, int, Any]]:
    """``[(population, times_s, cells, n_cells, observed_s or None)]``."""
    spikes = _mapping(spikes, "spikes")
    checked = []
    for population, entry in spikes.items():
        name = f"spikes[{population!r}]"
        entry = _mapping(entry, name)
        _keys(entry, name, ("times_s", "cells"), ("n_cells", "observed_s"))
        times = _times(entry["times_s"], f"{name}['times_s']")
        cells = _indices(entry["cells"], f"{name}['cells']")
        if cells.shape != times.shape:
            raise ValueError(
                f"{name}['cells'] must have the shape of {name}['times_s'] {times.shape}; "
                f"got {cells.shape}"
            )
        n_seen = int(cells.max()) + 1 if cells.size else 0
        if "n_cells" in entry:
            n_cells = check_int(entry["n_cells"], f"{name}['n_cells']", low=n_seen)
        else:
            n_cells = n_seen
        observed = None
        if "observed_s" in entry:
            observed = _times(entry["observed_s"], f"{name}['observed_s']")
            if observed.shape != (2,) or observed[1] < observed[0]:
                raise ValueError(
                    f"{name}['observed_s'] must be (start_s, stop_s) with stop_s >= start_s; "
                    f"got {observed.tolist()}"
                )
            outside = (times < observed[0]) | (times > observed[1])
            if outside.any():
                raise ValueError(
                    f"{name}['times_s'] must lie inside observed_s {observed.tolist()}; got "
                    f"{times[outside][0]}"
                )
        checked.append((population, times, cells, n_cells, observed))
    return checked


def _check_rates(rates: Any) -> list[tuple[str, np.ndarray, np.ndarray, str]]:
    rates = _mapping(rates, "rates")
    checked = []
    for population, entry in rates.items():
        name = f"rates[{population!r}]"
        entry = _mapping(entry, name)
        _keys(entry, name, ("times_s", "rate_hz"), ("description",))
        times = _times(entry["times_s"], f"{name}['times_s']", ascending=True)
        rate = _float_array(entry["rate_hz"], f"{name}['rate_hz']", allow_nan=True)
        if rate.ndim not in (1, 2) or rate.shape[0] != times.shape[0]:
            raise ValueError(
                f"{name}['rate_hz'] must have shape ({times.shape[0]},) or ({times.shape[0]}, "
                f"n_cells) (one row per time in times_s); got {rate.shape}"
            )
        description = entry.get("description", f"firing rate of the {population} cells (Hz)")
        if not isinstance(description, str):
            raise TypeError(
                f"{name}['description'] must be a str; got {type(description).__name__}"
            )
        checked.append((population, times, rate, description))
    return checked


def _check_weights(weights: Any) -> tuple[list[str], np.ndarray]:
    weights = _mapping(weights, "weights")
    if not weights:
        raise ValueError("weights must hold at least one snapshot, e.g. {'before': w, 'after': w}")
    names, arrays = [], []
    for snapshot, value in weights.items():
        array = _float_array(value, f"weights[{snapshot!r}]", allow_nan=False)
        if array.ndim != 2:
            raise ValueError(
                f"weights[{snapshot!r}] must have shape (n_granule, n_channels); got {array.shape}"
            )
        if arrays and array.shape != arrays[0].shape:
            raise ValueError(
                f"weights[{snapshot!r}] must have the shape of weights[{names[0]!r}] "
                f"{arrays[0].shape}; got {array.shape}"
            )
        names.append(snapshot)
        arrays.append(array)
    return names, np.stack(arrays)


def _check_epochs(epochs: Any) -> dict[str, np.ndarray]:
    epochs = _mapping(epochs, "epochs")
    _keys(epochs, "epochs", ("start_s", "stop_s", "kind"), ("index",))
    start = _times(epochs["start_s"], "epochs['start_s']")
    stop = _times(epochs["stop_s"], "epochs['stop_s']")
    kind = _array(epochs["kind"], "epochs['kind']")
    checked = {"start_s": start, "stop_s": stop}
    if "index" in epochs:
        checked["index"] = _indices(epochs["index"], "epochs['index']")
    for key in ("stop_s", "kind", "index"):
        value = {"stop_s": stop, "kind": kind}.get(key, checked.get(key))
        if value is not None and value.shape != start.shape:
            raise ValueError(
                f"epochs[{key!r}] must have the shape of epochs['start_s'] {start.shape}; got "
                f"{value.shape}"
            )
    if np.any(stop < start):
        row = int(np.nonzero(stop < start)[0][0])
        raise ValueError(
            f"epochs['stop_s'] must be >= epochs['start_s']; got {stop[row]} < {start[row]} in "
            f"row {row}"
        )
    for row, label in enumerate(kind.tolist()):
        if not isinstance(label, str) or not label:
            raise TypeError(
                f"epochs['kind'] must hold non-empty strings ('write', 'read', ...); got "
                f"{label!r} in row {row}"
            )
    checked["kind"] = np.asarray(kind.tolist(), dtype=object)
    return checked


def _check_metadata(metadata: Any) -> dict[str, Any]:
    metadata = _mapping(metadata, "metadata")
    unknown = [key for key in metadata if key not in _METADATA_KEYS]
    if unknown:
        raise ValueError(f"metadata has unknown keys {unknown}; expected some of {_METADATA_KEYS}")
    checked: dict[str, Any] = {}
    for key, value in metadata.items():
        name = f"metadata[{key!r}]"
        if key == "session_start_time":
            if not isinstance(value, datetime.datetime) or value.tzinfo is None:
                raise TypeError(f"{name} must be a timezone-aware datetime; got {value!r}")
        elif key in _TEXT_METADATA:
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str; got {type(value).__name__}")
        else:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise TypeError(f"{name} must be a str or a list of str; got {value!r}")
            value = list(value)
        checked[key] = value
    return checked


def _check_path(path: Any) -> Path:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    path = Path(os.fspath(path))
    if path.is_dir():
        raise ValueError(f"path must name a file; got the directory {str(path)!r}")
    if not path.parent.is_dir():
        raise ValueError(f"path: the directory {str(path.parent)!r} does not exist")
    return path


# -- building the file --------------------------------------------------------------------------


def _units(spikes, units_cls, vector_data, vector_index, element_identifiers):
    """The ``units`` table, built column by column (one call, fast for 10^5 cells)."""
    populations, cells_column, trains, ends, intervals = [], [], [], [], []
    n_total = 0
    for population, times, cells, n_cells, observed in spikes:
        order = np.lexsort((times, cells))
        times, cells = times[order], cells[order]
        trains.append(times)
        ends.append(n_total + np.searchsorted(cells, np.arange(n_cells), side="right"))
        n_total += times.size
        populations += [population] * n_cells
        cells_column.append(np.arange(n_cells, dtype=np.int64))
        intervals.append(None if observed is None else np.tile(observed, (n_cells, 1)))
    n_units = len(populations)
    spike_times = vector_data(
        name="spike_times",
        description="spike times of each cell (s, ascending)",
        data=np.concatenate(trains) if trains else np.zeros(0),
    )
    columns = [
        spike_times,
        vector_index(
            name="spike_times_index",
            data=np.concatenate(ends).astype(np.int64) if ends else np.zeros(0, np.int64),
            target=spike_times,
        ),
        vector_data(
            name="population",
            description="population of the cell (granule, purkinje, ...)",
            data=np.asarray(populations, dtype=object),
        ),
        vector_data(
            name="cell",
            description="index of the cell within its population (the Brian2 neuron index)",
            data=np.concatenate(cells_column) if cells_column else np.zeros(0, np.int64),
        ),
    ]
    if intervals and intervals[0] is not None:  # write_nwb checked: all or none
        observed = vector_data(
            name="obs_intervals",
            description="the interval over which each cell's spikes were recorded (s)",
            data=np.concatenate(intervals),
        )
        columns += [
            observed,
            vector_index(
                name="obs_intervals_index", data=np.arange(1, n_units + 1), target=observed
            ),
        ]
    return units_cls(
        name="units",
        description="every cell of every population; spike_times in s",
        id=element_identifiers(name="id", data=np.arange(n_units)),
        columns=columns,
    )


def _epochs(epochs, time_intervals, vector_data, vector_index, element_identifiers):
    n_rows = epochs["start_s"].size
    tags = vector_data(name="tags", description="the kind of the presentation", data=epochs["kind"])
    columns = [
        vector_data(name="start_time", description="onset (s)", data=epochs["start_s"]),
        vector_data(name="stop_time", description="offset (s)", data=epochs["stop_s"]),
        tags,
        vector_index(name="tags_index", data=np.arange(1, n_rows + 1), target=tags),
        vector_data(
            name="kind",
            description="kind of presentation: write, read, background, calibration, rest",
            data=epochs["kind"],
        ),
    ]
    if "index" in epochs:
        columns.append(
            vector_data(
                name="index",
                description="number of the presentation within its kind (pattern or query)",
                data=epochs["index"],
            )
        )
    return time_intervals(
        name="epochs",
        description="one row per presentation window",
        id=element_identifiers(name="id", data=np.arange(n_rows)),
        columns=columns,
    )


def _check_inputs(path, spikes, rates, weights, epochs, metadata, description, identifier):
    """Every argument of :func:`write_nwb`, checked in order, before anything is written.

    Returns ``{"target", "spikes", "rates", "weights", "epochs", "fields"}`` (``rates`` empty
    and ``weights``, ``epochs`` None when not given; ``fields``: the ``NWBFile`` metadata).
    """
    checked = {
        "target": _check_path(path),
        "spikes": _check_spikes(spikes),
        "rates": _check_rates(rates) if rates is not None else [],
        "weights": _check_weights(weights) if weights is not None else None,
        "epochs": _check_epochs(epochs) if epochs is not None else None,
    }
    if not isinstance(description, str) or not description.strip():
        raise ValueError(f"session_description must be a non-empty str; got {description!r}")
    if identifier is not None and (not isinstance(identifier, str) or not identifier):
        raise ValueError(f"identifier must be a non-empty str or None; got {identifier!r}")
    checked["fields"] = _check_metadata(metadata) if metadata is not None else {}
    observed = [item[4] is None for item in checked["spikes"]]
    if any(observed) and not all(observed):
        raise ValueError(
            "spikes: give observed_s for every population or for none (one units table)"
        )
    return checked


def _build_nwbfile(checked: dict[str, Any], session_description: str, identifier: str | None):
    """The in-memory ``NWBFile`` of the inputs :func:`_check_inputs` checked."""
    try:
        from hdmf.common import DynamicTable, ElementIdentifiers, VectorData, VectorIndex
        from pynwb import NWBFile, TimeSeries
        from pynwb.epoch import TimeIntervals
        from pynwb.misc import Units
    except ImportError as error:  # pragma: no cover - the nwb extra is installed by make test
        raise ImportError("write_nwb needs pynwb: pip install 'cerebellar-sdm[nwb]'") from error
    fields = checked["fields"]
    fields.setdefault("session_start_time", datetime.datetime.now(datetime.UTC))
    nwbfile = NWBFile(
        session_description=session_description,
        identifier=identifier or str(uuid.uuid4()),
        **fields,
    )
    nwbfile.units = _units(checked["spikes"], Units, VectorData, VectorIndex, ElementIdentifiers)
    if checked["rates"]:
        module = nwbfile.create_processing_module("rates", "firing rates per population (Hz)")
        for population, times, rate, description in checked["rates"]:
            module.add(
                TimeSeries(
                    name=population, data=rate, unit="Hz", timestamps=times, description=description
                )
            )
    if checked["weights"] is not None:
        names, stacked = checked["weights"]
        module = nwbfile.create_processing_module(
            "plasticity", "parallel fibre -> Purkinje synaptic weights"
        )
        module.add(
            DynamicTable(
                name="pf_purkinje_weights",
                description="PF -> Purkinje weight snapshots, one row each (dimensionless)",
                id=ElementIdentifiers(name="id", data=np.arange(len(names))),
                columns=[
                    VectorData(
                        name="snapshot",
                        description="when the snapshot was taken",
                        data=np.asarray(names, dtype=object),
                    ),
                    VectorData(
                        name="weight",
                        description="w[granule cell, Purkinje channel]",
                        data=stacked,
                    ),
                ],
            )
        )
    if checked["epochs"] is not None:
        nwbfile.epochs = _epochs(
            checked["epochs"], TimeIntervals, VectorData, VectorIndex, ElementIdentifiers
        )
    return nwbfile


def _write_atomically(nwbfile, target: Path) -> Path:
    """Write to a hidden ``.partial.nwb`` file beside ``target``, then move it onto ``target``.

    A hidden name in the same directory (:func:`os.replace` is atomic within one file system)
    that ends in .nwb, as pynwb recommends. If anything fails, the temporary file is removed
    and a file already at ``target`` is left as it was.
    """
    from pynwb import NWBHDF5IO

    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial.nwb", dir=target.parent
    )
    os.close(descriptor)
    try:
        with NWBHDF5IO(temporary, mode="w") as io:
            io.write(nwbfile)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return target


def write_nwb(
    path: str | os.PathLike,
    *,
    spikes: Mapping,
    rates: Mapping | None = None,
    weights: Mapping | None = None,
    epochs: Mapping | None = None,
    session_description: str,
    identifier: str | None = None,
    metadata: Mapping | None = None,
) -> Path:
    """Write spikes, rates, weight snapshots and presentations to one NWB file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (conventionally ``.nwb``); its directory must exist. A file already
        there is replaced only once the new one is complete.
    spikes : dict of str to dict
        ``spikes[population] = {"times_s": ndarray of shape (k,) (s), "cells": ndarray of
        shape (k,), int}`` with optional ``"n_cells"`` (int: rows for every cell, silent ones
        included) and ``"observed_s"`` ((start_s, stop_s): the span the spikes were recorded
        over, stored as each unit's ``obs_intervals``; give it for every population or none).
        Goes to the ``units`` table (module docstring).
    rates : dict of str to dict, optional
        ``rates[population] = {"times_s": ndarray of shape (n_times,) (s, ascending),
        "rate_hz": ndarray of shape (n_times,) or (n_times, n_cells) (Hz, NaN allowed)}`` with
        an optional ``"description"``; one ``TimeSeries`` each in ``processing["rates"]``.
    weights : dict of str to ndarray of shape (n_granule, n_channels), optional
        PF -> Purkinje weight snapshots, e.g. ``{"before": w0, "after": w}``; one row each, in
        order, of ``processing["plasticity"]["pf_purkinje_weights"]``.
    epochs : dict, optional
        ``{"start_s": (k,), "stop_s": (k,), "kind": (k,) of str}`` with an optional
        ``"index"`` (k,) int; the presentations, in the ``epochs`` table.
    session_description : str
        What was run (NWB's required description).
    identifier : str, optional
        The file's unique identifier; default a fresh UUID4.
    metadata : dict, optional
        ``NWBFile`` fields: ``session_start_time`` (timezone-aware datetime, default now in
        UTC), text fields ``experiment_description``, ``notes``, ``lab``, ``institution``,
        ``protocol``, ``source_script``, ``data_collection``, ``pharmacology``, and lists of
        str ``experimenter``, ``keywords``, ``related_publications``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TypeError, ValueError
        For bad input, naming the field, before anything is written.
    ImportError
        Without pynwb (the ``nwb`` extra).
    """
    checked = _check_inputs(
        path, spikes, rates, weights, epochs, metadata, session_description, identifier
    )
    nwbfile = _build_nwbfile(checked, session_description, identifier)
    return _write_atomically(nwbfile, checked["target"])


# -- the engines' result -------------------------------------------------------------------------


def run_content(run) -> dict[str, Any]:
    """``spikes``, ``rates``, ``weights``, ``epochs`` of a circuit run, for :func:`write_nwb`.

    Every engine fills these fields of its :class:`~cerebellum.engines.base.CircuitRun` in
    the form :func:`write_nwb` takes; the weight snapshots exported are ``before`` (the
    writes; absent where the engine took none) and ``after`` (the reads).

    Parameters
    ----------
    run : CircuitRun

    Returns
    -------
    dict
        Keyword arguments of :func:`write_nwb`:
        ``write_nwb(path, **run_content(run), session_description=...)``.
    """
    for name in ("spikes", "rates", "weights", "epochs"):
        if not isinstance(getattr(run, name, None), Mapping):
            raise TypeError(
                f"run must be a CircuitRun (a mapping in .{name}); got {type(run).__name__}"
            )
    weights = {key: run.weights[key] for key in ("before", "after") if key in run.weights}
    content = {"spikes": dict(run.spikes), "rates": dict(run.rates), "weights": weights}
    if run.epochs:  # an engine that logged no presentations (cpp_standalone) writes no epochs
        content["epochs"] = dict(run.epochs)
    return content
