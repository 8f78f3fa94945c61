"""What every population builder shares: the window clock, the build context, the registry.

A builder has the signature ``builder(cell: CellModelParams, ctx: BuildContext) ->
Population``: it creates its population's Brian2 groups and the synapses *onto* them (its
afferents, from populations built before it) and their monitors, and gives each group and
synapse the Brian2 ``namespace`` of the constants its code uses (groups on the window clock
take :meth:`BuildContext.namespace`, which adds the window constants; a run's input arrays
are the run namespace, :meth:`cerebellum.circuit.Circuit.run`). :func:`register_model` files
it under its population and parameter class, and :func:`cerebellum.circuit.build_circuit`
calls, for each population in :data:`cerebellum.params.POPULATIONS` order, the builder
registered for the type of ``params.cells.<population>``.

The window clock (see :mod:`cerebellum.circuit`): time is cut into windows of ``K`` steps, one
per presentation; :data:`WINDOW_STEP` is the step inside the window and ``window_end`` the
custom event of its last step, on which every accumulator is recorded and cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from brian2 import Equations, EventMonitor

from cerebellum.params import (
    POPULATIONS,
    CellModelParams,
    CircuitParams,
    register_cell_params,
)
from cerebellum.wiring import Wiring
from models.activation import ActivationRule
from models.validation import check_choice

__all__ = [
    "WINDOW_STEP",
    "BuildContext",
    "Population",
    "WindowTiming",
    "builder_for",
    "register_model",
    "window_end_event",
    "window_end_monitor",
    "window_sum",
    "window_timing",
]

#: The step inside the current presentation window, ``s = timestep(t, dt) mod K``.
WINDOW_STEP = "(timestep(t, dt) % window_steps)"

#: A dimensionless variable summed over one window (cleared on ``window_end``), and the same
#: variable read from another group through a link.
_ACCUMULATOR = Equations("total : 1")
_LINKED_ACCUMULATOR = Equations("total : 1 (linked)")


def window_sum(name: str, *, linked: bool = False) -> Equations:
    """The equation of the accumulator ``name : 1`` (``linked`` to another group's)."""
    return (_LINKED_ACCUMULATOR if linked else _ACCUMULATOR).substitute(total=name)


def window_end_event() -> dict[str, str]:
    """The ``events`` entry of the window-end event (the last step of every window)."""
    return {"window_end": f"{WINDOW_STEP} == end_step"}


def window_end_monitor(group: Any, variables: list[str], name: str) -> EventMonitor:
    """An ``EventMonitor`` recording ``variables`` of ``group`` at every window end.

    The monitor resolves names in ``group``'s namespace (as Brian2's ``StateMonitor`` does for
    its source), so a recorded subexpression may use the group's constants.
    """
    monitor = EventMonitor(group, "window_end", variables=variables, name=name)
    monitor.namespace = group.namespace
    return monitor


@dataclass(frozen=True)
class WindowTiming:
    """Step layout of one presentation window.

    Attributes
    ----------
    n_input_steps : int
        ``K_in``, steps during which mossy fibres may fire.
    n_search_steps : int
        ``B``, Golgi bisection steps (0 unless top-k).
    decision_step : int
        Step at which granule cells fire: ``K_in`` (radius, selected) or ``K_in + B + 1``
        (top-k).
    n_steps : int
        ``K``, steps per window; the last one ends the window.
    priority_limit : int
        ``H``: all priorities are below it (top-k; 0 otherwise).
    """

    n_input_steps: int
    n_search_steps: int
    decision_step: int
    n_steps: int
    priority_limit: int

    @property
    def constants(self) -> dict[str, int]:
        """The window constants of the equations: ``window_steps`` (``K``), ``n_input_steps``
        (``K_in``), ``decision_step`` and ``end_step`` (``K - 1``)."""
        return {
            "window_steps": self.n_steps,
            "n_input_steps": self.n_input_steps,
            "decision_step": self.decision_step,
            "end_step": self.n_steps - 1,
        }


def window_timing(params: CircuitParams) -> WindowTiming:
    """Window layout for ``params`` (see :mod:`cerebellum.circuit`).

    Parameters
    ----------
    params : CircuitParams

    Returns
    -------
    WindowTiming
    """
    g = params.granule
    k_in = params.dynamics.n_input_steps
    if g.activation is ActivationRule.TOP_K:
        max_count = g.n_synapses_per_cell * k_in
        limit = (max_count + 1) * g.n_neurons
        search = max(1, math.ceil(math.log2(limit)))
        # The last volley reaches the count in step K_in (before thresholds), after the
        # Golgi cell's summed input of that step was taken: the search starts one step later.
        decision = k_in + 1 + search
    else:
        limit, search = 0, 0
        decision = k_in
    return WindowTiming(k_in, search, decision, decision + 2, limit)


@dataclass
class Population:
    """What one builder returns.

    Attributes
    ----------
    groups : dict of str to NeuronGroup
        Keyed as in :attr:`cerebellum.circuit.Circuit.groups` (the Brian2 name, e.g.
        ``"granule"``); empty for a population without its own group (the climbing fibre).
    synapses : dict of str to Synapses
        Synapses onto this population (``"mossy_granule"``, ...).
    monitors : dict of str to monitors
        Keyed as in :attr:`cerebellum.circuit.Circuit.monitors`.
    provides : dict
        Equations, code strings and the namespace of their constants for later builders (the
        climbing fibre's ``teaching`` equations, ``pf_plasticity`` rule and ``pf_namespace``).

    Each group and synapse carries its own Brian2 ``namespace`` (the constants its code uses).
    """

    groups: dict[str, Any] = field(default_factory=dict)
    synapses: dict[str, Any] = field(default_factory=dict)
    monitors: dict[str, Any] = field(default_factory=dict)
    provides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildContext:
    """Everything a builder may read: the parameters and the populations built before it.

    Attributes
    ----------
    params : CircuitParams
    wiring : Wiring
    timing : WindowTiming
    n_values : int
        Value channels (Purkinje / DCN cells read out as the SDM read).
    n_channels : int
        Purkinje cells: ``n_values`` plus the one-hot pattern channels.
    connectivity : numpy.random.SeedSequence
        The circuit's connectivity stream, spawned from the run's random stream by
        :func:`cerebellum.circuit.build_circuit`; builders draw random synapses from its
        children (one per population,
        :func:`cerebellum.circuit.biophysical.common.connectivity_rng`).
    populations : dict of str to Population
        Filled by :func:`cerebellum.circuit.build_circuit` in build order.
    """

    params: CircuitParams
    wiring: Wiring
    timing: WindowTiming
    n_values: int
    n_channels: int
    connectivity: np.random.SeedSequence
    populations: dict[str, Population] = field(default_factory=dict)

    @property
    def n_neurons(self) -> int:
        """Granule cells (hard locations), ``r``."""
        return self.params.granule.n_neurons

    def namespace(self, **constants: Any) -> dict[str, Any]:
        """The namespace of a group on the window clock: the window constants
        (:attr:`WindowTiming.constants`) and ``constants``."""
        return self.timing.constants | constants

    @property
    def injected(self) -> bool:
        """True on the fast path without mossy-fibre group and synapses."""
        return self.params.dynamics.mossy_drive == "injected"

    def group(self, population: str, key: str | None = None) -> Any:
        """The group ``key`` (default: the population's name) of an already built population.

        Raises
        ------
        ValueError
            If that population has not been built (yet) or has no such group.
        """
        built = self.populations.get(population)
        key = population if key is None else key
        if built is None or key not in built.groups:
            raise ValueError(
                f"population {population!r} has no group {key!r} at this point of the build "
                f"(built: {sorted(self.populations)})"
            )
        return built.groups[key]


Builder = Callable[[CellModelParams, BuildContext], Population]

_BUILDERS: dict[str, dict[type, Builder]] = {population: {} for population in POPULATIONS}


def register_model(population: str, params_type: type) -> Callable[[Builder], Builder]:
    """Decorator: ``builder`` builds ``population`` when ``params.cells.<population>`` is a
    ``params_type``.

    Also registers ``params_type`` with :func:`cerebellum.params.register_cell_params`, so
    :class:`~cerebellum.params.CellModels` accepts it and JSON restores it by its ``model``
    name.

    Parameters
    ----------
    population : str
        One of :data:`cerebellum.params.POPULATIONS`.
    params_type : type
        A :class:`~cerebellum.params.CellModelParams` dataclass.

    Returns
    -------
    callable
        The decorator (returns the builder unchanged).
    """
    check_choice(population, "population", POPULATIONS)
    register_cell_params(population, params_type)

    def decorate(builder: Builder) -> Builder:
        if not callable(builder):
            raise TypeError(f"builder must be callable; got {builder!r}")
        _BUILDERS[population][params_type] = builder
        return builder

    return decorate


def builder_for(population: str, cell: CellModelParams) -> Builder:
    """The builder registered for ``population`` and the type of ``cell``.

    Raises
    ------
    ValueError
        If none is registered (naming the registered parameter classes).
    """
    builders = _BUILDERS[check_choice(population, "population", POPULATIONS)]
    builder = builders.get(type(cell))
    if builder is None:
        known = ", ".join(cls.__name__ for cls in builders) or "none"
        raise ValueError(
            f"cells.{population}: no builder registered for {type(cell).__name__} "
            f"(registered: {known}); decorate one with register_model({population!r}, ...)"
        )
    return builder
