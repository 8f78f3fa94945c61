"""One engine interface: a schedule in, a :class:`CircuitRun` out.

An *engine* runs a circuit: it builds it from a wiring and parameters, takes a
:class:`Schedule` of presentations and returns one result type, :class:`CircuitRun`, of plain
numpy arrays that every consumer (the compare job, the report, ``results.json``, NWB, the
figures) reads without asking which engine made it. The shape follows the Brain Scaffold
Builder's simulation adapters (bsb-core; De Schepper et al. 2022): each backend prepares,
runs and collects, and fills one result type:

========================  ===================================================
step                      what it does
========================  ===================================================
:meth:`Engine.prepare`    build the network for the schedule (no simulation)
:meth:`Engine.run`        simulate every presentation
:meth:`Engine.collect`    hand everything over as a :class:`CircuitRun`
========================  ===================================================

:meth:`Engine.simulate` does the three in order. A new engine (a NEST model, a GPU device)
is one module: a subclass of :class:`Engine` registered with :func:`register_engine`.

Presentations, in time order (:meth:`Schedule.presentations`): ``background`` (no address:
spontaneous activity), then for every pattern ``n_rest`` ``rest`` presentations (no address,
no plasticity) and its ``write`` (address on the mossy fibres, value on the climbing fibres,
plasticity on), then every query set's ``read`` s (plasticity off). An engine whose time has
no spontaneous state (the algorithmic circuit's windows start from zero) may skip
``background`` and ``rest``, and says so in :attr:`CircuitRun.epochs`.

References
----------
De Schepper, R. et al. (2022). Model simulation and reconstruction of the cerebellar cortex
with the Brain Scaffold Builder. Communications Biology 5, 1240.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from cerebellum.engines.readout import Readout, binary_matrix, value_matrix
from models.validation import check_int

__all__ = [
    "PRESENTATION_KINDS",
    "CircuitRun",
    "Engine",
    "Schedule",
    "engine_class",
    "engine_names",
    "register_engine",
]

#: Kinds of presentation, in the order they first appear in a schedule.
PRESENTATION_KINDS = ("background", "calibration", "rest", "write", "read")


@dataclass(frozen=True, eq=False, kw_only=True)
class Schedule:
    """What an engine is asked to present: the writes, then the reads of every query set.

    Attributes
    ----------
    addresses : ndarray of shape (n_patterns, n_dims), uint8
        Written in order.
    values : ndarray of shape (n_patterns, n_values), float64
        The value of each write (climbing-fibre signal).
    query_sets : tuple of ndarray of shape (n_queries, n_dims), uint8
        Each set is read from the written state (reads never change a weight).
    n_background : int
        ``background`` presentations before the first write, >= 0.
    n_rest : int
        ``rest`` presentations before each write, >= 0.
    pattern_channels : bool
        Add one one-hot Purkinje channel per pattern (each pattern's weight in the readouts).
    recall_steps : int
        Iterate reads of the first query set this many times from the written state
        (autoassociative recall; 0 for none). Engines that cannot return ``recall=None``.
    """

    addresses: np.ndarray
    values: np.ndarray
    query_sets: tuple
    n_background: int = 0
    n_rest: int = 0
    pattern_channels: bool = True
    recall_steps: int = 0

    @classmethod
    def experiment(cls, addresses, values, query_sets, **options: Any) -> Schedule:
        """Check and convert the inputs (numpy, torch or lists) into a schedule.

        Parameters
        ----------
        addresses : array-like of shape (n_patterns, n_dims), {0, 1}
        values : array-like of shape (n_patterns, n_values)
        query_sets : list of array-like of shape (n_queries, n_dims), {0, 1}
        **options
            ``n_background``, ``n_rest``, ``pattern_channels``, ``recall_steps``.

        Returns
        -------
        Schedule
        """
        bits = binary_matrix("addresses", addresses, _n_dims(addresses))
        values = np.asarray(value_matrix("values", values, _n_cols(values), bits.shape[0]))
        if not isinstance(query_sets, list | tuple) or not query_sets:
            raise TypeError("query_sets must be a non-empty list of (n_queries, n_dims) arrays")
        queries = tuple(
            binary_matrix(f"query_sets[{k}]", q, bits.shape[1]) for k, q in enumerate(query_sets)
        )
        return cls(addresses=bits, values=values.astype(np.float64), query_sets=queries, **options)

    def __post_init__(self) -> None:
        check_int(self.n_background, "n_background", low=0)
        check_int(self.n_rest, "n_rest", low=0)
        check_int(self.recall_steps, "recall_steps", low=0)
        if not isinstance(self.pattern_channels, bool):
            raise TypeError(
                f"pattern_channels must be a bool; got {type(self.pattern_channels).__name__}"
            )

    @property
    def n_patterns(self) -> int:
        """Writes in the schedule."""
        return int(self.addresses.shape[0])

    @property
    def n_dims(self) -> int:
        """Address bits, ``n``."""
        return int(self.addresses.shape[1])

    def presentations(self) -> list[tuple[str, int]]:
        """Every presentation in time order as ``(kind, index)``.

        ``index`` is the pattern number of a write, ``(set, query)`` flattened to the query's
        position in its set for a read, and the running count of the kind otherwise.
        """
        out = [("background", k) for k in range(self.n_background)]
        for mu in range(self.n_patterns):
            out += [("rest", mu * self.n_rest + k) for k in range(self.n_rest)]
            out.append(("write", mu))
        for queries in self.query_sets:
            out += [("read", k) for k in range(queries.shape[0])]
        return out


def _n_dims(addresses) -> int:
    shape = np.shape(addresses)
    if len(shape) != 2:
        raise ValueError(f"addresses must have shape (n_patterns, n_dims); got {shape}")
    return int(shape[1])


def _n_cols(values) -> int:
    shape = np.shape(values)
    if len(shape) != 2:
        raise ValueError(f"values must have shape (n_patterns, n_values); got {shape}")
    return int(shape[1])


@dataclass(frozen=True, eq=False, kw_only=True)
class CircuitRun:
    """What one engine run measured, as plain numpy arrays (SI units in the names).

    Every engine fills every field it can; what it cannot measure is empty (``{}``) or None,
    never absent, so consumers read fields, not engine names.

    Attributes
    ----------
    engine : str
        The registered name of the engine that made it.
    readouts : list of Readout
        One per query set of the schedule.
    recall : RecallResult or None
        Iterated reads of the first query set (``Schedule.recall_steps``), or None.
    spikes : dict of str to dict
        ``{population: {"times_s", "cells", "n_cells", "observed_s"}}``: the spikes of every
        recorded population over the span ``observed_s`` (what :func:`cerebellum.io.nwb.write_nwb`
        takes).
    rates : dict of str to dict
        ``{population: {"times_s", "rate_hz", "description"}}``: rate time series.
    weights : dict of str to ndarray
        PF -> Purkinje weight snapshots of shape (n_neurons, n_channels): ``before`` (the
        writes), ``after`` (the reads); an engine may add others (the algorithmic engine:
        ``write_counts`` of shape (n_neurons,) and the decoded ``counters``).
    epochs : dict of str to ndarray
        One row per presentation simulated: ``start_s``, ``stop_s``, ``kind``, ``index``.
    timings_s : dict of str to float
        Wall-clock seconds of the engine's steps (``build``, ``write``, ``read``, ... and
        ``total``).
    counts : dict
        Resource counts: ``simulated_s``, ``n_spikes`` (per population), ``n_cells`` (per
        population), ``n_synaptic_events``.
    figures : dict
        Plain arrays the engine offers for figures: ``window`` (spikes and rates of the last
        write and first read window) and/or ``populations`` (rasters, membrane traces,
        presentation onsets, PF weights with channel names).
    activation : dict
        The engine's own activation rule for the beta prediction: ``label`` (str), ``curve``
        (:class:`models.soft_activation.ActivationCurve`) and ``closed_form`` (the rule's
        closed-form transfer curve, or None when it has none to check against spikes).
    exact_sdm : bool
        True when the engine claims to equal NeuronSDM exactly (the compare job then checks it
        to 1e-9).
    details : Any
        Engine-specific measurements for its own analysis module (e.g. the biophysical
        decoding's references and probes); consumers other than that module ignore it.
    """

    engine: str
    readouts: list[Readout]
    recall: Any = None
    spikes: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    epochs: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    activation: dict = field(default_factory=dict)
    exact_sdm: bool = False
    details: Any = None


class Engine(abc.ABC):
    """Runs a circuit: ``prepare(schedule)``, ``run()``, ``collect() -> CircuitRun``.

    Parameters
    ----------
    params : CircuitParams
    wiring : Wiring
        Sampled for ``params.granule``.
    rng : numpy.random.Generator
        The engine's random stream (simulator seed, calibration queries...).
    report : callable, optional
        Brian2-style progress callback ``report(elapsed, completed, start, duration)``.
    """

    #: The registry name (:func:`register_engine`).
    name: ClassVar[str] = ""

    def __init__(self, params, wiring, *, rng: np.random.Generator, report=None) -> None:
        self.params = params
        self.wiring = wiring
        self.rng = rng
        self.report = report

    @abc.abstractmethod
    def prepare(self, schedule: Schedule) -> None:
        """Build the circuit for ``schedule`` (no simulation)."""

    @abc.abstractmethod
    def run(self) -> None:
        """Simulate every presentation of the prepared schedule."""

    @abc.abstractmethod
    def collect(self) -> CircuitRun:
        """Everything measured, as a :class:`CircuitRun`."""

    def simulate(self, schedule: Schedule) -> CircuitRun:
        """``prepare``, ``run`` and ``collect`` in order.

        Parameters
        ----------
        schedule : Schedule

        Returns
        -------
        CircuitRun
        """
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be a Schedule; got {type(schedule).__name__}")
        self.prepare(schedule)
        self.run()
        return self.collect()

    @classmethod
    def summarise(
        cls, run: CircuitRun, *, params, wiring, patterns, values, noise, rng
    ) -> dict | None:
        """The engine's own measurements against the mirror (``results["biophysical"]`` ...).

        None by default: an engine without measurements of its own adds no section.
        """
        return None


_ENGINES: dict[str, type[Engine]] = {}
_FOR_MODE: dict[str, str] = {}


def register_engine(*modes: str) -> Callable[[type[Engine]], type[Engine]]:
    """Class decorator: file an engine under its ``name`` and the dynamics modes it runs."""

    def decorate(cls: type[Engine]) -> type[Engine]:
        if not (isinstance(cls, type) and issubclass(cls, Engine)) or not cls.name:
            raise TypeError("register_engine takes an Engine subclass with a non-empty name")
        _ENGINES[cls.name] = cls
        for mode in modes:
            _FOR_MODE[mode] = cls.name
        return cls

    return decorate


def engine_names() -> list[str]:
    """Registered engine names."""
    return sorted(_ENGINES)


def engine_class(mode: str) -> type[Engine]:
    """The engine registered for a dynamics mode (``params.dynamics.mode``) or engine name."""
    name = _FOR_MODE.get(mode, mode)
    if name not in _ENGINES:
        known = sorted(set(_ENGINES) | set(_FOR_MODE))
        raise ValueError(f"mode must name a registered engine {known}; got {mode!r}")
    return _ENGINES[name]
