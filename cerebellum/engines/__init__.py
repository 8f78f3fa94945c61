"""Engines: what runs a circuit, behind one interface, and the result every engine fills.

- :mod:`~cerebellum.engines.base`: :class:`~cerebellum.engines.base.Engine` (prepare / run /
  collect), :class:`~cerebellum.engines.base.Schedule`,
  :class:`~cerebellum.engines.base.CircuitRun` and the registry;
- :mod:`~cerebellum.engines.algorithmic` and :mod:`~cerebellum.engines.algorithmic_run`: the
  exact SDM event network, its protocol and its engine;
- :mod:`~cerebellum.engines.biophysical`, :mod:`~cerebellum.engines.biophysical_run` and
  :mod:`~cerebellum.engines.biophysical_collect`: the conductance-based circuit, its protocol,
  engine and collection;
- :mod:`~cerebellum.engines.spiking_analysis`: decoding, literature rates, beta from spikes;
- :mod:`~cerebellum.engines.estimates`: memory and wall time of a compare run, per engine;
- :mod:`~cerebellum.engines.readout`: :class:`~cerebellum.engines.readout.Readout`, the
  per-query arrays (no Brian2).

:func:`simulate` picks the engine registered for ``params.dynamics.mode``. Importing this
package does not import Brian2; :func:`simulate` and :func:`engine_for` load the engines.
"""

from __future__ import annotations

import importlib

import numpy as np

from cerebellum.engines.base import (
    PRESENTATION_KINDS,
    CircuitRun,
    Engine,
    Schedule,
    engine_class,
    engine_names,
    register_engine,
)

__all__ = [
    "PRESENTATION_KINDS",
    "CircuitRun",
    "Engine",
    "Schedule",
    "engine_class",
    "engine_for",
    "engine_names",
    "register_engine",
    "simulate",
]

#: Modules whose import registers the project's engines.
ENGINE_MODULES = ("cerebellum.engines.algorithmic_run", "cerebellum.engines.biophysical_run")


def engine_for(params) -> type[Engine]:
    """The engine class registered for ``params.dynamics.mode``.

    Parameters
    ----------
    params : CircuitParams

    Returns
    -------
    type of Engine
    """
    for module in ENGINE_MODULES:
        importlib.import_module(module)
    return engine_class(params.dynamics.mode)


def simulate(
    params, wiring, schedule: Schedule, *, rng: np.random.Generator, report=None, **options
) -> CircuitRun:
    """Run ``schedule`` on the circuit of ``params`` and ``wiring`` with its engine.

    Parameters
    ----------
    params : CircuitParams
    wiring : Wiring
        Sampled for ``params.granule``.
    schedule : Schedule
    rng : numpy.random.Generator
        The engine's random stream.
    report : callable, optional
        Brian2's progress callback for every simulation run at runtime.
    **options
        The engine's own options (e.g. the biophysical engine's ``inhibition_scale``).

    Returns
    -------
    CircuitRun
    """
    engine = engine_for(params)(params, wiring, rng=rng, report=report, **options)
    return engine.simulate(schedule)
