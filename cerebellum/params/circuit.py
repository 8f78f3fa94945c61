"""Every parameter of one circuit: :class:`CircuitParams`, its sections and its JSON form."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from cerebellum.params.base import _section_from_dict, _section_to_dict
from cerebellum.params.cells import CellModels
from cerebellum.params.sections import (
    DeviceParams,
    DynamicsParams,
    GranuleLayerParams,
    OutputParams,
    PlasticityParams,
)

__all__ = ["CircuitParams"]


_SECTIONS = {
    "granule": GranuleLayerParams,
    "dynamics": DynamicsParams,
    "plasticity": PlasticityParams,
    "output": OutputParams,
    "device": DeviceParams,
    "cells": CellModels,
}


@dataclass(frozen=True, kw_only=True)
class CircuitParams:
    """Every parameter of one circuit; round-trips through :meth:`to_json`/:meth:`from_json`.

    Parameters
    ----------
    name : str
        Preset or experiment name.
    granule : GranuleLayerParams
    dynamics : DynamicsParams
    plasticity : PlasticityParams
    output : OutputParams
    device : DeviceParams
    cells : CellModels
        The neuron model of each population (the algorithmic models by default).
    """

    name: str = "custom"
    granule: GranuleLayerParams
    dynamics: DynamicsParams = field(default_factory=DynamicsParams)
    plasticity: PlasticityParams = field(default_factory=PlasticityParams)
    output: OutputParams = field(default_factory=OutputParams)
    device: DeviceParams = field(default_factory=DeviceParams)
    cells: CellModels = field(default_factory=CellModels)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str; got {self.name!r}")
        for section, cls in _SECTIONS.items():
            value = getattr(self, section)
            if not isinstance(value, cls):
                raise TypeError(f"{section} must be a {cls.__name__}; got {type(value).__name__}")

    def replace(self, **sections: Any) -> CircuitParams:
        """Return a copy with whole sections or fields of sections replaced.

        ``params.replace(granule={"n_neurons": 100})`` replaces one field of a section;
        ``params.replace(cells={"granule": MyGranuleParams()})`` one population's model;
        ``params.replace(name="x")`` a top-level field.

        Parameters
        ----------
        **sections
            A section name (``granule``, ``dynamics``, ``plasticity``, ``output``, ``device``,
            ``cells``) with a new section object or a dict of field changes, or a top-level
            field.

        Returns
        -------
        CircuitParams
            Validated again by the dataclasses' ``__post_init__``.
        """
        changes: dict[str, Any] = {}
        for key, value in sections.items():
            if key in _SECTIONS and isinstance(value, dict):
                changes[key] = dataclasses.replace(getattr(self, key), **value)
            else:
                changes[key] = value
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dictionary; Quantities become ``{"value": SI float, "unit": SI unit}``."""
        out: dict[str, Any] = {"name": self.name}
        for section in _SECTIONS:
            if section == "cells":
                out[section] = self.cells.to_dict()
            else:
                out[section] = _section_to_dict(getattr(self, section))
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CircuitParams:
        """Inverse of :meth:`to_dict` (validates every field; ``cells`` may be absent)."""
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict; got {type(values).__name__}")
        unknown = set(values) - set(_SECTIONS) - {"name"}
        if unknown:
            raise ValueError(f"unknown parameter sections {sorted(unknown)}")
        kwargs: dict[str, Any] = {"name": values.get("name", "custom")}
        for section, section_cls in _SECTIONS.items():
            if section not in values:
                continue
            if section == "cells":
                kwargs[section] = CellModels.from_dict(values[section])
            else:
                kwargs[section] = _section_from_dict(section_cls, values[section], section)
        return cls(**kwargs)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CircuitParams:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
