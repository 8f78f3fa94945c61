"""The spiking cerebellum (Brian2) that implements a Sparse Distributed Memory.

Marr (1969), Albus (1971) and Kanerva (1988, ch. 9): mossy fibres carry the address, granule
cells are the hard locations, Golgi cells set the activation threshold, parallel-fibre ->
Purkinje synapses are the counters written under climbing-fibre control, and the deep
cerebellar nuclei give the read. Data flow::

    preset/params -> sample_wiring -> Schedule -> simulate (an engine) -> CircuitRun

Public names are imported lazily so that ``cerebellum.cli`` commands that need no simulation
do not pay for importing Brian2.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "build_circuit",
    "BuildContext",
    "CellModelParams",
    "CellModels",
    "Circuit",
    "CircuitParams",
    "DeviceParams",
    "DynamicsParams",
    "FrozenReader",
    "GranuleLayerParams",
    "OutputParams",
    "PlasticityParams",
    "poisson_dynamics",
    "Population",
    "POPULATIONS",
    "preset",
    "PRESET_NAMES",
    "Protocol",
    "quantity_field",
    "Readout",
    "register_model",
    "simulate",
    "Schedule",
    "CircuitRun",
    "sample_wiring",
    "SCHEMA_VERSION",
    "window_timing",
    "WindowTiming",
    "Wiring",
]

_HOMES = {
    "BuildContext": "cerebellum.circuit",
    "Circuit": "cerebellum.circuit",
    "Population": "cerebellum.circuit",
    "WindowTiming": "cerebellum.circuit",
    "build_circuit": "cerebellum.circuit",
    "register_model": "cerebellum.circuit",
    "window_timing": "cerebellum.circuit",
    "CellModelParams": "cerebellum.params",
    "CellModels": "cerebellum.params",
    "CircuitParams": "cerebellum.params",
    "DeviceParams": "cerebellum.params",
    "DynamicsParams": "cerebellum.params",
    "GranuleLayerParams": "cerebellum.params",
    "OutputParams": "cerebellum.params",
    "PlasticityParams": "cerebellum.params",
    "POPULATIONS": "cerebellum.params",
    "quantity_field": "cerebellum.params",
    "PRESET_NAMES": "cerebellum.presets",
    "poisson_dynamics": "cerebellum.presets",
    "preset": "cerebellum.presets",
    "FrozenReader": "cerebellum.engines.algorithmic",
    "Protocol": "cerebellum.engines.algorithmic",
    "CircuitRun": "cerebellum.engines",
    "Schedule": "cerebellum.engines",
    "simulate": "cerebellum.engines",
    "Readout": "cerebellum.engines.readout",
    "SCHEMA_VERSION": "cerebellum.engines.readout",
    "Wiring": "cerebellum.wiring",
    "sample_wiring": "cerebellum.wiring",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'cerebellum' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
