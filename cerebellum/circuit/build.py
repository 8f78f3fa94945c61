"""Compose the populations into one network: :func:`build_circuit` and :class:`Circuit`."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import brian2
import numpy as np
from brian2 import DimensionMismatchError, Network, prefs

from cerebellum.circuit.base import (
    BuildContext,
    Population,
    WindowTiming,
    builder_for,
    window_timing,
)
from cerebellum.params import POPULATIONS, CircuitParams
from cerebellum.wiring import Wiring
from models.validation import check_int, check_rng

__all__ = ["Circuit", "build_circuit"]


@dataclass
class Circuit:
    """A built (not yet run) cerebellar network and the handles the protocol needs.

    Attributes
    ----------
    params : CircuitParams
    wiring : Wiring
    n_values : int
        Value channels (Purkinje cells read out as the SDM read).
    n_pattern_channels : int
        Extra one-hot Purkinje channels whose input gives each pattern's intersection count.
    timing : WindowTiming
    network : brian2.Network
    groups : dict of str to Brian2 objects
        ``mossy``, ``granule``, ``golgi``, ``mli``, ``purkinje``, ``dcn`` and the synapses
        ``mossy_granule``, ``granule_golgi``, ``granule_mli``, ``granule_purkinje``,
        ``purkinje_dcn`` (no ``mossy`` / ``mossy_granule`` on the injected fast path).
    monitors : dict of str to Brian2 monitors
        ``granule_spikes`` and window-end ``EventMonitor`` s of ``purkinje``, ``dcn``,
        ``mli``, ``golgi``.
    constants : dict
        The namespace of constants (TimedArrays are added per run by the protocol).
    """

    params: CircuitParams
    wiring: Wiring
    n_values: int
    n_pattern_channels: int
    timing: WindowTiming
    network: Network
    groups: dict[str, Any]
    monitors: dict[str, Any]
    constants: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        """Purkinje cells: ``n_values + n_pattern_channels``."""
        return self.n_values + self.n_pattern_channels

    @property
    def window_duration(self) -> brian2.Quantity:
        """Duration of one presentation window, ``K dt``."""
        return self.timing.n_steps * self.params.dynamics.dt

    @property
    def standalone(self) -> bool:
        """True when built for ``cpp_standalone``."""
        return self.params.device.device == "cpp_standalone"


def _select_device(params: CircuitParams) -> None:
    dev = params.device
    if dev.device == "cpp_standalone":
        directory = dev.build_directory or tempfile.mkdtemp(prefix="cerebellum_standalone_")
        os.makedirs(directory, exist_ok=True)
        brian2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        if dev.fast_compile:
            prefs.codegen.cpp.extra_compile_args_gcc = ["-w", "-O0", "-std=c++11"]
    else:
        brian2.set_device("runtime")
        prefs.codegen.target = dev.codegen_target
    brian2.defaultclock.dt = params.dynamics.dt


def _same_constant(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(np.all(a == b))
    except (TypeError, ValueError, DimensionMismatchError):
        return False


def _merge_constants(into: dict[str, Any], population: str, constants: dict[str, Any]) -> None:
    """Add a population's namespace constants; a name used twice must keep its value."""
    for name, value in constants.items():
        if name in into and not _same_constant(into[name], value):
            raise ValueError(
                f"cells.{population}: constant {name!r} = {value!r} conflicts with "
                f"{into[name]!r} from another population"
            )
        into[name] = value


def build_circuit(
    params: CircuitParams,
    wiring: Wiring,
    *,
    n_values: int,
    n_pattern_channels: int = 0,
    rng: np.random.Generator,
) -> Circuit:
    """Build the network of :mod:`cerebellum.circuit` (no run).

    Selects the Brian2 device (``params.device``), seeds Brian2's random number generator
    from ``rng`` -- the only call of ``brian2.seed`` in the project -- and calls, for each
    population in :data:`cerebellum.params.POPULATIONS` order, the builder registered for its
    cell model (``params.cells``).

    Parameters
    ----------
    params : CircuitParams
    wiring : Wiring
        Must have been sampled for ``params.granule``.
    n_values : int
        Value channels, >= 1.
    n_pattern_channels : int
        One-hot pattern channels (>= the number of patterns to be written, or 0 for none).
    rng : numpy.random.Generator
        Source of the Brian2 seed (Poisson spikes).

    Returns
    -------
    Circuit
    """
    if not isinstance(params, CircuitParams):
        raise TypeError(f"params must be a CircuitParams; got {type(params).__name__}")
    if not isinstance(wiring, Wiring):
        raise TypeError(f"wiring must be a Wiring; got {type(wiring).__name__}")
    if wiring.granule != params.granule:
        raise ValueError("wiring.granule must equal params.granule (sample it for these params)")
    n_values = check_int(n_values, "n_values", low=1)
    n_pattern_channels = check_int(n_pattern_channels, "n_pattern_channels", low=0)
    check_rng(rng)
    builders = {
        population: builder_for(population, getattr(params.cells, population))
        for population in POPULATIONS
    }

    _select_device(params)
    brian2.seed(int(rng.integers(0, 2**31 - 1)))

    timing = window_timing(params)
    ctx = BuildContext(
        params=params,
        wiring=wiring,
        timing=timing,
        n_values=n_values,
        n_channels=n_values + n_pattern_channels,
    )
    constants: dict[str, Any] = {
        "window_steps": timing.n_steps,
        "n_input_steps": timing.n_input_steps,
        "decision_step": timing.decision_step,
        "end_step": timing.n_steps - 1,
    }
    groups: dict[str, Any] = {}
    synapses: dict[str, Any] = {}
    monitors: dict[str, Any] = {}
    for population, builder in builders.items():
        built = builder(getattr(params.cells, population), ctx)
        if not isinstance(built, Population):
            raise TypeError(
                f"the {population} builder must return a Population; got {type(built).__name__}"
            )
        ctx.populations[population] = built
        groups.update(built.groups)
        synapses.update(built.synapses)
        monitors.update(built.monitors)
        _merge_constants(constants, population, built.constants)
    groups.update(synapses)
    network = Network(*groups.values(), *monitors.values())
    return Circuit(
        params=params,
        wiring=wiring,
        n_values=n_values,
        n_pattern_channels=n_pattern_channels,
        timing=timing,
        network=network,
        groups=groups,
        monitors=monitors,
        constants=constants,
    )
