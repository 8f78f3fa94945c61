"""Parameters of the spiking cerebellum: frozen keyword-only dataclasses with Brian2 units.

One dataclass per concern (DESIGN.md section 3):

- :class:`GranuleLayerParams` -- the SDM proper: ``n_dims`` (Kanerva's address length n),
  ``n_neurons`` (Kanerva's number of hard locations r = granule cells), how granule cells sample
  the mossy fibres (``wiring``: Kanerva's canonical push-pull wiring of all n bits, or Jaeckel's
  selected-coordinate design with ``n_inputs`` dendrites) and how Golgi inhibition sets the
  activation (``inhibition``: a fixed threshold = activation radius d, or feedback = top k).
- :class:`DynamicsParams` -- time step, presentation window and mossy-fibre rates.
- :class:`PlasticityParams` -- the parallel-fibre -> Purkinje bipolar counter
  (weight ``w = w0 + dw * (c - 2 s)`` after ``c`` writes whose values sum to ``s``).
- :class:`OutputParams` -- Purkinje and deep-nuclear rate read-out.
- :class:`DeviceParams` -- Brian2 device (runtime or ``cpp_standalone``) and code target.
- :class:`CircuitParams` -- all of the above plus a name; round-trips through JSON.

Every physical field is a Brian2 ``Quantity``; a wrong unit raises ``TypeError`` and an
impossible value ``ValueError``, both naming the field. Quantities are written to JSON as their
SI value next to the SI unit (``{"value": 0.0001, "unit": "second"}``) and read back by
multiplying the SI float with the SI unit, which is exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from typing import Any

from brian2 import Hz, Quantity, ms, second
from brian2.units.fundamentalunits import get_dimensions, have_same_dimensions

__all__ = [
    "CircuitParams",
    "DeviceParams",
    "DynamicsParams",
    "GranuleLayerParams",
    "OutputParams",
    "PlasticityParams",
]

_UNIT_NAMES = {"second": second, "hertz": Hz}


def _check_int(name: str, value: Any, *, minimum: int, maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {value!r} of type {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "inf" if maximum is None else str(maximum)
        raise ValueError(f"{name} must be in [{minimum}, {upper}]; got {value}")


def _check_quantity(name: str, value: Any, unit: Quantity, *, allow_zero: bool) -> None:
    unit_name = "second" if unit is second else "hertz"
    if not isinstance(value, Quantity) or not have_same_dimensions(value, unit):
        dims = get_dimensions(value) if isinstance(value, Quantity) else "no unit"
        raise TypeError(f"{name} must be a Brian2 Quantity in {unit_name}; got {value!r} ({dims})")
    if value.shape != ():
        raise ValueError(f"{name} must be a scalar Quantity; got shape {value.shape}")
    magnitude = float(value / unit)
    if not math.isfinite(magnitude) or magnitude < 0 or (magnitude == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound} {unit_name}; got {value!r}")


def _check_float(name: str, value: Any, *, positive: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a float; got {value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}; got {value!r}")


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")


@dataclass(frozen=True, kw_only=True)
class GranuleLayerParams:
    """The granule layer as an SDM: which hard locations exist and which fire.

    Parameters
    ----------
    n_dims : int
        Address length n (Kanerva 1988). The mossy-fibre layer has ``2 * n_dims`` fibres, one
        push-pull pair per bit (fibre ``2 i + b`` is active when bit ``i`` equals ``b``).
    n_neurons : int
        Number of granule cells = hard locations, r in Kanerva 1988.
    wiring : {"canonical", "selected"}
        ``"canonical"``: each granule cell contacts the ``n_dims`` fibres of its address, so a
        volley gives it ``n_dims - hamming(query, address)`` inputs (Kanerva 1988).
        ``"selected"``: each granule cell contacts ``n_inputs`` fibres at selected coordinates
        (Jaeckel 1989's selected-coordinate design; ~4 granule-cell dendrites, Eccles, Ito &
        Szentagothai 1967) and, in radius mode, fires iff all of them are active.
    inhibition : {"radius", "top_k"}
        How Golgi inhibition sets the activation: ``"radius"`` a fixed threshold (Hamming ball of
        radius d); ``"top_k"`` a Golgi feedback loop that lets exactly ``top_k`` cells fire.
    activation_radius : int or None
        d in Kanerva 1988; required for canonical wiring with radius inhibition, in
        ``[0, n_dims]``. Must be None otherwise.
    top_k : int or None
        k, required for ``inhibition="top_k"``, in ``[1, n_neurons]``.
    n_inputs : int or None
        Dendrites per granule cell for selected wiring, in ``[1, n_dims]``.
    hyperplane : bool
        Selected wiring only: all selected values are 1 (Jaeckel's hyperplane design).
    """

    n_dims: int
    n_neurons: int
    wiring: str = "canonical"
    inhibition: str = "radius"
    activation_radius: int | None = None
    top_k: int | None = None
    n_inputs: int | None = None
    hyperplane: bool = False

    def __post_init__(self) -> None:
        _check_int("n_dims", self.n_dims, minimum=1)
        _check_int("n_neurons", self.n_neurons, minimum=1)
        _check_choice("wiring", self.wiring, ("canonical", "selected"))
        _check_choice("inhibition", self.inhibition, ("radius", "top_k"))
        if not isinstance(self.hyperplane, bool):
            raise TypeError(f"hyperplane must be a bool; got {self.hyperplane!r}")
        if self.wiring == "canonical" and self.inhibition == "radius":
            if self.activation_radius is None:
                raise ValueError("activation_radius is required for canonical radius mode")
            _check_int("activation_radius", self.activation_radius, minimum=0)
            if self.activation_radius > self.n_dims:
                raise ValueError(
                    f"activation_radius must be in [0, n_dims]; got {self.activation_radius} "
                    f"for n_dims={self.n_dims}"
                )
        elif self.activation_radius is not None:
            raise ValueError(
                "activation_radius must be None unless wiring='canonical' and "
                f"inhibition='radius'; got {self.activation_radius}"
            )
        if self.inhibition == "top_k":
            if self.top_k is None:
                raise ValueError("top_k is required when inhibition='top_k'")
            _check_int("top_k", self.top_k, minimum=1)
            if self.top_k > self.n_neurons:
                raise ValueError(
                    f"top_k must be in [1, n_neurons]; got {self.top_k} "
                    f"for n_neurons={self.n_neurons}"
                )
        elif self.top_k is not None:
            raise ValueError(f"top_k must be None unless inhibition='top_k'; got {self.top_k}")
        if self.wiring == "selected":
            if self.inhibition == "top_k":
                raise ValueError(
                    "inhibition must be 'radius' when wiring='selected' (a selected-coordinate "
                    "cell fires iff all its inputs match); got 'top_k'"
                )
            if self.n_inputs is None:
                raise ValueError("n_inputs is required when wiring='selected'")
            _check_int("n_inputs", self.n_inputs, minimum=1)
            if self.n_inputs > self.n_dims:
                raise ValueError(
                    f"n_inputs must be in [1, n_dims]; got {self.n_inputs} for n_dims={self.n_dims}"
                )
        else:
            if self.n_inputs is not None:
                raise ValueError(
                    f"n_inputs must be None unless wiring='selected'; got {self.n_inputs}"
                )
            if self.hyperplane:
                raise ValueError("hyperplane=True requires wiring='selected'")

    @property
    def n_synapses_per_cell(self) -> int:
        """Mossy-fibre synapses per granule cell (n_dims, or n_inputs when selected)."""
        return self.n_dims if self.wiring == "canonical" else int(self.n_inputs)

    @property
    def n_mossy_fibres(self) -> int:
        """Number of mossy fibres, ``2 * n_dims`` (one push-pull pair per bit)."""
        return 2 * self.n_dims


@dataclass(frozen=True, kw_only=True)
class DynamicsParams:
    """Time course of one presentation (a write or a read of one address).

    Parameters
    ----------
    mode : {"deterministic", "poisson"}
        ``"deterministic"``: each active mossy fibre fires one synchronous spike per
        presentation (``presentation`` must then equal ``dt``); the read is exact.
        ``"poisson"``: active fibres fire at ``mf_rate_on`` and inactive ones at ``mf_rate_off``
        (a Bernoulli spike per step with probability ``rate * dt``) for ``presentation``.
    dt : Quantity (time)
        Simulation time step.
    presentation : Quantity (time)
        Duration of mossy-fibre input per presentation; an integer multiple of ``dt``.
    mf_rate_on, mf_rate_off : Quantity (frequency)
        Poisson rates of active and inactive mossy fibres; ``rate * dt <= 1`` and
        ``mf_rate_on > mf_rate_off >= 0``. Ignored by the deterministic mode.
    mossy_drive : {"synapses", "injected"}
        ``"synapses"`` (default): explicit mossy-fibre group and mossy-fibre -> granule
        synapses. ``"injected"`` (deterministic mode only): the fast path -- each granule
        cell's input count (matching address bits) is computed outside Brian2 by an exact
        integer matrix product and injected at the same step, skipping the mossy-fibre group,
        its spikes and the ``n r`` mossy synapses; granule spikes are identical.
    """

    mode: str = "deterministic"
    dt: Quantity = field(default_factory=lambda: 0.1 * ms)
    presentation: Quantity = field(default_factory=lambda: 0.1 * ms)
    mf_rate_on: Quantity = field(default_factory=lambda: 500.0 * Hz)
    mf_rate_off: Quantity = field(default_factory=lambda: 5.0 * Hz)
    mossy_drive: str = "synapses"

    def __post_init__(self) -> None:
        _check_choice("mode", self.mode, ("deterministic", "poisson"))
        _check_choice("mossy_drive", self.mossy_drive, ("synapses", "injected"))
        if self.mossy_drive == "injected" and self.mode != "deterministic":
            raise ValueError(
                f"mossy_drive='injected' needs mode='deterministic'; got mode={self.mode!r}"
            )
        _check_quantity("dt", self.dt, second, allow_zero=False)
        _check_quantity("presentation", self.presentation, second, allow_zero=False)
        _check_quantity("mf_rate_on", self.mf_rate_on, Hz, allow_zero=True)
        _check_quantity("mf_rate_off", self.mf_rate_off, Hz, allow_zero=True)
        steps = float(self.presentation / self.dt)
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise ValueError(
                f"presentation must be a positive integer multiple of dt; got "
                f"{self.presentation!r} for dt={self.dt!r}"
            )
        if self.mode == "deterministic" and round(steps) != 1:
            raise ValueError(
                f"presentation must equal dt in deterministic mode (one volley); got "
                f"{self.presentation!r} for dt={self.dt!r}"
            )
        for name in ("mf_rate_on", "mf_rate_off"):
            probability = float(getattr(self, name) * self.dt)
            if probability > 1.0:
                raise ValueError(
                    f"{name} * dt must be <= 1 (one spike per step at most); got {probability}"
                )
        if self.mode == "poisson" and not self.mf_rate_on > self.mf_rate_off:
            raise ValueError(
                f"mf_rate_on must exceed mf_rate_off; got {self.mf_rate_on!r} <= "
                f"{self.mf_rate_off!r}"
            )

    @property
    def n_input_steps(self) -> int:
        """Presentation length in time steps."""
        return round(float(self.presentation / self.dt))

    @property
    def spike_probability_on(self) -> float:
        """Per-step spike probability of an active fibre (1 in deterministic mode)."""
        return 1.0 if self.mode == "deterministic" else float(self.mf_rate_on * self.dt)

    @property
    def spike_probability_off(self) -> float:
        """Per-step spike probability of an inactive fibre (0 in deterministic mode)."""
        return 0.0 if self.mode == "deterministic" else float(self.mf_rate_off * self.dt)


@dataclass(frozen=True, kw_only=True)
class PlasticityParams:
    """Parallel-fibre -> Purkinje bipolar counter (climbing-fibre gated).

    At every parallel-fibre spike during a write, with climbing-fibre signal ``v`` (the value
    being written on that Purkinje channel), the weight changes by ``dw * (1 - 2 v)``: PF alone
    (``v = 0``) is LTP ``+dw``, PF + CF (``v = 1``) is LTD ``-dw`` (Ito 2001's PF+CF LTD; Albus
    1971's sign). After ``c`` writes whose values sum to the mirror's counter ``s``,
    ``w = w0 + dw * (c - 2 s)``, so ``s = (w0 + dw * c - w) / (2 dw)``.

    Parameters
    ----------
    pf_weight_initial : float
        w0, dimensionless initial synaptic weight.
    pf_weight_step : float
        dw > 0; the default 0.5 keeps every weight a multiple of 1/2 so binary values give
        exactly representable floats.
    """

    pf_weight_initial: float = 1.0
    pf_weight_step: float = 0.5

    def __post_init__(self) -> None:
        _check_float("pf_weight_initial", self.pf_weight_initial)
        _check_float("pf_weight_step", self.pf_weight_step, positive=True)


@dataclass(frozen=True, kw_only=True)
class OutputParams:
    """Linear rate read-out of Purkinje cells and deep cerebellar nuclei (DCN).

    With ``u = (I - w0 A) / (dw C)`` (in [-1, 1] for values in [0, 1]) the Purkinje rate is
    ``purkinje_rate_baseline + purkinje_rate_gain * u``; the DCN is inhibited by its Purkinje
    cell and fires ``dcn_rate_max * (1 - u) / 2 = dcn_rate_max * read``.

    Parameters
    ----------
    purkinje_rate_baseline, purkinje_rate_gain, dcn_rate_max : Quantity (frequency)
        Simple-spike baseline (~50 Hz), its modulation depth and the DCN rate for read = 1.
    """

    purkinje_rate_baseline: Quantity = field(default_factory=lambda: 50.0 * Hz)
    purkinje_rate_gain: Quantity = field(default_factory=lambda: 40.0 * Hz)
    dcn_rate_max: Quantity = field(default_factory=lambda: 100.0 * Hz)

    def __post_init__(self) -> None:
        _check_quantity("purkinje_rate_baseline", self.purkinje_rate_baseline, Hz, allow_zero=True)
        _check_quantity("purkinje_rate_gain", self.purkinje_rate_gain, Hz, allow_zero=False)
        _check_quantity("dcn_rate_max", self.dcn_rate_max, Hz, allow_zero=False)


@dataclass(frozen=True, kw_only=True)
class DeviceParams:
    """Where Brian2 runs.

    Parameters
    ----------
    device : {"runtime", "cpp_standalone"}
        Runtime (Python-driven, ``store``/``restore`` available) or C++ standalone (one build
        per protocol).
    codegen_target : {"numpy", "cython"}
        Runtime code target; numpy needs no compilation (tests), cython is faster for large
        networks after a one-off compile.
    build_directory : str or None
        Standalone project directory (a temporary directory when None).
    fast_compile : bool
        Standalone only: compile with ``-O0`` instead of Brian2's ``-O3 -ffast-math`` (faster
        to build, slower to run; for small test networks).
    """

    device: str = "runtime"
    codegen_target: str = "numpy"
    build_directory: str | None = None
    fast_compile: bool = False

    def __post_init__(self) -> None:
        _check_choice("device", self.device, ("runtime", "cpp_standalone"))
        _check_choice("codegen_target", self.codegen_target, ("numpy", "cython"))
        if self.build_directory is not None and not isinstance(self.build_directory, str):
            raise TypeError(f"build_directory must be a str or None; got {self.build_directory!r}")
        if not isinstance(self.fast_compile, bool):
            raise TypeError(f"fast_compile must be a bool; got {self.fast_compile!r}")


_SECTIONS = {
    "granule": GranuleLayerParams,
    "dynamics": DynamicsParams,
    "plasticity": PlasticityParams,
    "output": OutputParams,
    "device": DeviceParams,
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
    """

    name: str = "custom"
    granule: GranuleLayerParams
    dynamics: DynamicsParams = field(default_factory=DynamicsParams)
    plasticity: PlasticityParams = field(default_factory=PlasticityParams)
    output: OutputParams = field(default_factory=OutputParams)
    device: DeviceParams = field(default_factory=DeviceParams)

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
        ``params.replace(name="x")`` a top-level field.

        Parameters
        ----------
        **sections
            A section name (``granule``, ``dynamics``, ``plasticity``, ``output``, ``device``)
            with a new section object or a dict of field changes, or a top-level field.

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
        """Plain-JSON dictionary; Quantities become ``{"value": SI float, "unit": SI name}``."""
        out: dict[str, Any] = {"name": self.name}
        for section in _SECTIONS:
            values: dict[str, Any] = {}
            for item in dataclasses.fields(getattr(self, section)):
                value = getattr(getattr(self, section), item.name)
                if isinstance(value, Quantity):
                    unit = "second" if have_same_dimensions(value, second) else "hertz"
                    value = {"value": float(value), "unit": unit}
                values[item.name] = value
            out[section] = values
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> CircuitParams:
        """Inverse of :meth:`to_dict` (validates every field)."""
        if not isinstance(values, dict):
            raise TypeError(f"values must be a dict; got {type(values).__name__}")
        unknown = set(values) - set(_SECTIONS) - {"name"}
        if unknown:
            raise ValueError(f"unknown parameter sections {sorted(unknown)}")
        kwargs: dict[str, Any] = {"name": values.get("name", "custom")}
        for section, section_cls in _SECTIONS.items():
            if section not in values:
                continue
            fields: dict[str, Any] = {}
            for key, value in values[section].items():
                if isinstance(value, dict) and set(value) == {"value", "unit"}:
                    if value["unit"] not in _UNIT_NAMES:
                        raise ValueError(
                            f"{section}.{key}.unit must be one of {sorted(_UNIT_NAMES)}; "
                            f"got {value['unit']!r}"
                        )
                    value = float(value["value"]) * _UNIT_NAMES[value["unit"]]
                fields[key] = value
            kwargs[section] = section_cls(**fields)
        return cls(**kwargs)

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CircuitParams:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))
