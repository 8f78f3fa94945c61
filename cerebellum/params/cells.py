"""The neuron model of each population: the registry of cell-model parameter classes, the
algorithmic (exact SDM) models, and :class:`CellModels`, one model per population."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cerebellum.params.base import CellModelParams, _section_from_dict, _section_to_dict
from models.validation import check_choice

__all__ = [
    "POPULATIONS",
    "BipolarClimbingParams",
    "BisectionGolgiParams",
    "CellModels",
    "CounterGranuleParams",
    "LinearRateDCNParams",
    "LinearRatePurkinjeParams",
    "PushPullMossyParams",
    "WriteCountMLIParams",
    "register_cell_params",
    "registered_cell_params",
]


#: The populations of the circuit, in the order :func:`cerebellum.circuit.build_circuit`
#: builds them (each builder may use the ones before it).
POPULATIONS = ("mossy", "granule", "golgi", "mli", "climbing", "purkinje", "dcn")


_CELL_PARAMS: dict[str, dict[str, type]] = {population: {} for population in POPULATIONS}


def register_cell_params(population: str, cls: type) -> type:
    """Make ``cls`` a model of ``population`` known to :class:`CellModels` (and to JSON).

    Parameters
    ----------
    population : str
        One of :data:`POPULATIONS`.
    cls : type
        A :class:`CellModelParams` dataclass with a non-empty ``model`` name.

    Returns
    -------
    type
        ``cls``.

    Raises
    ------
    ValueError
        If the population is unknown or another class already has that model name there.
    """
    check_choice(population, "population", POPULATIONS)
    if not (isinstance(cls, type) and issubclass(cls, CellModelParams)):
        raise TypeError(f"cls must be a CellModelParams subclass; got {cls!r}")
    if not dataclasses.is_dataclass(cls) or not isinstance(cls.model, str) or not cls.model:
        raise ValueError(f"{cls.__name__} must be a dataclass with a non-empty 'model' name")
    known = _CELL_PARAMS[population].get(cls.model)
    same = known is not None and (known.__module__, known.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    )
    if known is not None and not same:
        raise ValueError(
            f"model {cls.model!r} of population {population!r} is already {known.__name__}; "
            f"got {cls.__name__}"
        )
    _CELL_PARAMS[population][cls.model] = cls
    return cls


def registered_cell_params(population: str) -> dict[str, type]:
    """Model name -> parameter class for ``population`` (a copy)."""
    check_choice(population, "population", POPULATIONS)
    return dict(_CELL_PARAMS[population])


@dataclass(frozen=True, kw_only=True)
class PushPullMossyParams(CellModelParams):
    """Mossy fibres as push-pull pairs driven by :class:`DynamicsParams` (one volley or Poisson)."""

    model: ClassVar[str] = "push-pull"


@dataclass(frozen=True, kw_only=True)
class CounterGranuleParams(CellModelParams):
    """The exact granule cell: an integer counter of mossy-fibre spikes, fired by a threshold.

    Fires at the decision step iff its count exceeds the Golgi threshold ``theta`` (radius and
    selected rules) or its priority reaches the Golgi level (top-k).
    """

    model: ClassVar[str] = "counter"


@dataclass(frozen=True, kw_only=True)
class BisectionGolgiParams(CellModelParams):
    """The exact Golgi cell: counts active granule cells; bisects its level in top-k mode."""

    model: ClassVar[str] = "bisection"


@dataclass(frozen=True, kw_only=True)
class WriteCountMLIParams(CellModelParams):
    """The molecular-layer interneuron that sums the write counts of the active cells."""

    model: ClassVar[str] = "write-count"


@dataclass(frozen=True, kw_only=True)
class BipolarClimbingParams(CellModelParams):
    """Climbing fibre carrying the written value; gates the bipolar PF -> Purkinje rule."""

    model: ClassVar[str] = "bipolar"


@dataclass(frozen=True, kw_only=True)
class LinearRatePurkinjeParams(CellModelParams):
    """Purkinje cell decoding the read from its summed PF input; rate from :class:`OutputParams`."""

    model: ClassVar[str] = "linear-rate"


@dataclass(frozen=True, kw_only=True)
class LinearRateDCNParams(CellModelParams):
    """Deep-nuclear cell linearly inhibited by its Purkinje cell's rate."""

    model: ClassVar[str] = "linear-rate"


for _population, _cls in (
    ("mossy", PushPullMossyParams),
    ("granule", CounterGranuleParams),
    ("golgi", BisectionGolgiParams),
    ("mli", WriteCountMLIParams),
    ("climbing", BipolarClimbingParams),
    ("purkinje", LinearRatePurkinjeParams),
    ("dcn", LinearRateDCNParams),
):
    register_cell_params(_population, _cls)


@dataclass(frozen=True, kw_only=True)
class CellModels:
    """The neuron model of every population, chosen by the type of its parameter dataclass.

    Each field holds an instance of a :class:`CellModelParams` subclass registered for that
    population; the defaults are the algorithmic (exact SDM) models. In JSON each population
    is its fields plus a ``"model"`` name tag, restored through the registry.

    Parameters
    ----------
    mossy, granule, golgi, mli, climbing, purkinje, dcn : CellModelParams
    """

    mossy: CellModelParams = field(default_factory=PushPullMossyParams)
    granule: CellModelParams = field(default_factory=CounterGranuleParams)
    golgi: CellModelParams = field(default_factory=BisectionGolgiParams)
    mli: CellModelParams = field(default_factory=WriteCountMLIParams)
    climbing: CellModelParams = field(default_factory=BipolarClimbingParams)
    purkinje: CellModelParams = field(default_factory=LinearRatePurkinjeParams)
    dcn: CellModelParams = field(default_factory=LinearRateDCNParams)

    def __post_init__(self) -> None:
        for population in POPULATIONS:
            value = getattr(self, population)
            models = _CELL_PARAMS[population]
            if models.get(getattr(type(value), "model", None)) is not type(value):
                raise TypeError(
                    f"cells.{population} must be the parameters of a registered {population} "
                    f"model ({', '.join(cls.__name__ for cls in models.values())}, or a class "
                    "given to cerebellum.circuit.register_model); "
                    f"got {type(value).__name__}"
                )

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{population: {"model": name, field: value, ...}}`` in plain JSON types."""
        return {
            population: {"model": getattr(self, population).model}
            | _section_to_dict(getattr(self, population))
            for population in POPULATIONS
        }

    @classmethod
    def from_dict(cls, values: Any) -> CellModels:
        """Inverse of :meth:`to_dict`; a population left out keeps its default model."""
        if not isinstance(values, dict):
            raise TypeError(f"cells must be a dict; got {type(values).__name__}")
        unknown = sorted(set(values) - set(POPULATIONS))
        if unknown:
            raise ValueError(f"cells has unknown populations {unknown}; expected {POPULATIONS}")
        kwargs = {}
        for population, entry in values.items():
            where = f"cells.{population}"
            if not isinstance(entry, dict) or "model" not in entry:
                raise ValueError(f"{where} must be a dict with a 'model' name; got {entry!r}")
            entry = dict(entry)
            name = entry.pop("model")
            models = _CELL_PARAMS[population]
            if name not in models:
                raise ValueError(
                    f"{where}.model must be a registered model {sorted(models)} (import the "
                    f"module that registers it first); got {name!r}"
                )
            kwargs[population] = _section_from_dict(models[name], entry, where)
        return cls(**kwargs)
