"""Unit-declared Quantity fields, their checks and their JSON codec, and the base of every
cell model's parameters (:class:`CellModelParams`); the module docstring of
:mod:`cerebellum.params` gives the JSON form of a Quantity."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

from brian2 import Quantity
from brian2.equations.equations import dimensions_and_type_from_string
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

from models.validation import check_quantity, check_real

__all__ = ["CellModelParams", "check_unit_fields", "quantity_field", "unit_name"]


def quantity_field(
    default: Quantity,
    *,
    unit: Quantity,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> Any:
    """A dataclass field holding a scalar Brian2 Quantity of the dimension of ``unit``.

    The unit (and bounds) are declared once, in the field's metadata; :func:`check_unit_fields`
    validates them and :class:`CircuitParams` serialises them from it.

    Parameters
    ----------
    default : brian2.Quantity
        Default value (checked here, at declaration).
    unit : brian2.Unit
        Any unit of the expected dimension; declare it in SI (``siemens / metre ** 2`` rather
        than ``nS / um ** 2``) so Brian2 knows that name when writing JSON.
    low, high, low_open, high_open
        Bounds in multiples of ``unit`` (:func:`models.validation.check_quantity`).

    Returns
    -------
    dataclasses.Field
    """
    bounds = {"low": low, "high": high, "low_open": low_open, "high_open": high_open}
    check_quantity(default, "default", unit, **bounds)
    return field(
        default_factory=lambda: Quantity(default, copy=True),
        metadata={"unit": unit, "bounds": bounds},
    )


def check_unit_fields(section: Any) -> None:
    """Validate every :func:`quantity_field` of a dataclass instance by its dimension.

    Parameters
    ----------
    section : dataclass instance

    Raises
    ------
    TypeError
        A field is not a Quantity of its declared dimension (message: field, expected, given).
    ValueError
        A field is not a scalar or lies outside its bounds.
    """
    for item in dataclasses.fields(section):
        if "unit" in item.metadata:
            check_quantity(
                getattr(section, item.name),
                item.name,
                item.metadata["unit"],
                **item.metadata["bounds"],
            )


def unit_name(quantity: Quantity) -> str:
    """SI unit of ``quantity`` as Brian2 writes it (``"siemens / (metre ** 2)"``; ``"1"``)."""
    if quantity.dim is DIMENSIONLESS:
        return "1"
    return repr(get_unit(quantity.dim))


def _encode(value: Any) -> Any:
    if isinstance(value, Quantity):
        return {"value": float(value), "unit": unit_name(value)}
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _section_to_dict(section: Any) -> dict[str, Any]:
    return {item.name: _encode(getattr(section, item.name)) for item in dataclasses.fields(section)}


def _decode_quantity(value: Any, where: str, unit: Quantity) -> Any:
    """``{"value", "unit"}`` -> Quantity, checking the dimension against the field's ``unit``."""
    if not (isinstance(value, dict) and set(value) == {"value", "unit"}):
        return value  # the dataclass check names the field and the expected dimension
    text = value["unit"]
    if not isinstance(text, str):
        raise TypeError(f"{where}.unit must be a unit string; got {text!r}")
    try:
        dim, _ = dimensions_and_type_from_string(text)
    except (ValueError, SyntaxError) as error:
        raise ValueError(f"{where}.unit must be a Brian2 unit; got {text!r} ({error})") from None
    if dim != unit.dim:
        raise TypeError(
            f"{where} must have the dimension of {unit!r} ({unit.dim or '1'}); "
            f"got unit {text!r} ({dim or '1'})"
        )
    magnitude = check_real(value["value"], f"{where}.value", finite=False)
    return Quantity(magnitude, dim=dim)


def _section_from_dict(cls: type, values: Any, where: str) -> Any:
    if not isinstance(values, dict):
        raise TypeError(f"{where} must be a dict; got {type(values).__name__}")
    fields_by_name = {item.name: item for item in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields_by_name))
    if unknown:
        raise ValueError(f"{where} has unknown fields {unknown}; expected {sorted(fields_by_name)}")
    kwargs = {}
    for key, value in values.items():
        unit = fields_by_name[key].metadata.get("unit")
        kwargs[key] = value if unit is None else _decode_quantity(value, f"{where}.{key}", unit)
    return cls(**kwargs)


def _set(section: Any, name: str, value: Any) -> None:
    """Store a normalised value in a frozen dataclass (inside ``__post_init__`` only)."""
    object.__setattr__(section, name, value)


@dataclass(frozen=True, kw_only=True)
class CellModelParams:
    """Base of the parameter dataclass of one population's neuron model.

    A subclass is a frozen keyword-only dataclass that sets the class attribute ``model`` (the
    name tag written to ``params.json``) and declares its physical fields with
    :func:`quantity_field`; the inherited ``__post_init__`` validates them (a subclass that
    adds its own checks calls ``super().__post_init__()``). Its builder is registered with
    :func:`cerebellum.circuit.register_model`, which also registers the class with
    :func:`~cerebellum.params.register_cell_params`.
    """

    model: ClassVar[str] = ""

    def __post_init__(self) -> None:
        check_unit_fields(self)
