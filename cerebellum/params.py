"""Parameters of the spiking cerebellum: frozen keyword-only dataclasses with Brian2 units.

One dataclass per concern (DESIGN.md section 3):

- :class:`GranuleLayerParams` -- the SDM proper: ``n_dims`` (Kanerva's address length n),
  ``n_neurons`` (Kanerva's number of hard locations r = granule cells) and the ``activation``
  rule (:class:`models.activation.ActivationRule`): a Hamming ball of radius d set by a fixed
  Golgi threshold, the top k cells admitted by Golgi feedback, or Jaeckel's selected-coordinate
  (or hyperplane) design with ``n_inputs`` dendrites per granule cell.
- :class:`DynamicsParams` -- time step, presentation window and mossy-fibre rates.
- :class:`PlasticityParams` -- the parallel-fibre -> Purkinje bipolar counter
  (weight ``w = w0 + dw * (c - 2 s)`` after ``c`` writes whose values sum to ``s``).
- :class:`OutputParams` -- Purkinje and deep-nuclear rate read-out.
- :class:`DeviceParams` -- Brian2 device (runtime or ``cpp_standalone``) and code target.
- :class:`CellModels` -- which neuron model each population uses (one
  :class:`CellModelParams` subclass per model, chosen by its type; see
  :mod:`cerebellum.circuit` for how to add one).
- :class:`CircuitParams` -- all of the above plus a name; round-trips through JSON.

Units are declared once per field with :func:`quantity_field` (``dt: Quantity =
quantity_field(0.1 * ms, unit=second, low=0, low_open=True)``). Every such field is checked
against the *dimension* of its unit (:func:`models.validation.check_quantity`): a wrong unit
raises ``TypeError`` and an impossible value ``ValueError``, both naming the field, the expected
dimension and the value given. Counts and flags are normalised on construction (``n_dims=64.0``
or ``np.int64(64)`` is stored as the ``int`` 64).

In JSON a Quantity is its SI value next to its SI unit,
``{"value": 0.0001, "unit": "second"}``, the unit written as ``repr(get_unit(dimension))``
(``"volt"``, ``"siemens"``, ``"farad"``, ``"amp"``, ``"second"``, ``"hertz"``,
``"siemens / (metre ** 2)"``) and read back with Brian2's own unit parser
(:func:`brian2.equations.equations.dimensions_and_type_from_string`); the dimension read must
match the field's, and ``Quantity(value, dim=dimension)`` restores the value exactly.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from brian2 import Hz, Quantity, ms, second
from brian2.equations.equations import dimensions_and_type_from_string
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit

from models.activation import ActivationRule
from models.validation import check_bool, check_choice, check_int, check_quantity, check_real

__all__ = [
    "POPULATIONS",
    "BipolarClimbingParams",
    "BisectionGolgiParams",
    "CellModelParams",
    "CellModels",
    "CircuitParams",
    "CounterGranuleParams",
    "DYNAMICS_MODES",
    "DeviceParams",
    "DynamicsParams",
    "GranuleLayerParams",
    "LinearRateDCNParams",
    "LinearRatePurkinjeParams",
    "OutputParams",
    "PlasticityParams",
    "PushPullMossyParams",
    "WriteCountMLIParams",
    "check_unit_fields",
    "quantity_field",
    "register_cell_params",
    "registered_cell_params",
    "unit_name",
]


# -- unit-declared Quantity fields ------------------------------------------------------------


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


# -- the SDM layer ------------------------------------------------------------------------------


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
    activation : ActivationRule or str
        ``"radius"``: each granule cell contacts the ``n_dims`` fibres of its address, so a
        volley gives it ``n_dims - hamming(query, address)`` inputs and a fixed Golgi threshold
        admits the Hamming ball of radius d (Kanerva 1988).
        ``"top-k"``: the same wiring, and a Golgi feedback loop lets exactly ``top_k`` cells
        fire. ``"selected-coordinate"``: each granule cell contacts ``n_inputs`` fibres at
        selected coordinates (Jaeckel 1989; ~4 granule-cell dendrites, Eccles, Ito &
        Szentagothai 1967) and fires iff all of them are active; ``"hyperplane"``: the same
        with every selected value 1 (Jaeckel's hyperplane design).
    activation_radius : int or None
        d in Kanerva 1988, in ``[0, n_dims]``; required for ``"radius"``, None otherwise.
    top_k : int or None
        k, in ``[1, n_neurons]``; required for ``"top-k"``, None otherwise.
    n_inputs : int or None
        Dendrites per granule cell, K in Jaeckel 1989, in ``[1, n_dims]``; required for the
        selected-coordinate and hyperplane rules, None otherwise.
    """

    n_dims: int
    n_neurons: int
    activation: ActivationRule = ActivationRule.RADIUS
    activation_radius: int | None = None
    top_k: int | None = None
    n_inputs: int | None = None

    def __post_init__(self) -> None:
        n_dims = check_int(self.n_dims, "n_dims", low=1)
        n_neurons = check_int(self.n_neurons, "n_neurons", low=1)
        rule = check_choice(self.activation, "activation", ActivationRule)
        _set(self, "n_dims", n_dims)
        _set(self, "n_neurons", n_neurons)
        _set(self, "activation", rule)
        rule_fields = (
            ("activation_radius", rule is ActivationRule.RADIUS, 0, n_dims, "n_dims"),
            ("top_k", rule is ActivationRule.TOP_K, 1, n_neurons, "n_neurons"),
            ("n_inputs", rule.selected, 1, n_dims, "n_dims"),
        )
        for name, applies, low, high, bound in rule_fields:
            value = getattr(self, name)
            if not applies:
                if value is not None:
                    raise ValueError(
                        f"{name} must be None for activation={rule.value!r}; got {value!r}"
                    )
                continue
            if value is None:
                raise ValueError(f"{name} is required for activation={rule.value!r}")
            _set(
                self,
                name,
                check_int(value, name, low=low, high=high, context=f"for {bound}={high}"),
            )

    @property
    def n_synapses_per_cell(self) -> int:
        """Mossy-fibre synapses per granule cell (``n_dims``, or ``n_inputs`` when selected)."""
        return int(self.n_inputs) if self.activation.selected else self.n_dims

    @property
    def n_mossy_fibres(self) -> int:
        """Number of mossy fibres, ``2 * n_dims`` (one push-pull pair per bit)."""
        return 2 * self.n_dims


# -- dynamics, plasticity, output, device ------------------------------------------------------

#: The dynamics modes (:class:`DynamicsParams`).
DYNAMICS_MODES = ("algorithmic", "poisson", "biophysical")

#: Old mode names still accepted (``params.json`` files written before the rename).
_MODE_ALIASES = {"deterministic": "algorithmic"}


@dataclass(frozen=True, kw_only=True)
class DynamicsParams:
    """Time course of one presentation (a write or a read of one address).

    Parameters
    ----------
    mode : {"algorithmic", "poisson", "biophysical"}
        ``"algorithmic"`` (alias ``"deterministic"``, the name of earlier ``params.json`` files,
        normalised to ``"algorithmic"``): an exact SDM expressed as a Brian2 event network, not
        a neuronal model -- each active mossy fibre fires one synchronous spike per
        presentation (``presentation`` must then equal ``dt``) and the read equals the mirror.
        ``"poisson"``: the same event network with active fibres firing at ``mf_rate_on`` and
        inactive ones at ``mf_rate_off`` (a Bernoulli spike per step with probability
        ``rate * dt``) for ``presentation``.
        ``"biophysical"``: membrane equations and conductances
        (:mod:`cerebellum.circuit.biophysical`) in continuous time, driven by
        :mod:`cerebellum.engines.biophysical`: mossy-fibre trains for ``presentation``, then ``gap``
        without input while the state decays; needs ``dt <= 0.1 ms`` and
        ``0 < mf_rate_off < mf_rate_on``.
    dt : Quantity (time)
        Simulation time step, > 0.
    presentation : Quantity (time)
        Duration of mossy-fibre input per presentation; an integer multiple of ``dt``.
    mf_rate_on, mf_rate_off : Quantity (frequency)
        Poisson rates of active and inactive mossy fibres; ``rate * dt <= 1`` and
        ``mf_rate_on > mf_rate_off >= 0``. Ignored by the algorithmic mode.
    mossy_drive : {"synapses", "injected"}
        ``"synapses"`` (default): explicit mossy-fibre group and mossy-fibre -> granule
        synapses. ``"injected"`` (algorithmic mode only): the fast path -- each granule
        cell's input count (matching address bits) is computed outside Brian2 by an exact
        integer matrix product and injected at the same step, skipping the mossy-fibre group,
        its spikes and the ``n r`` mossy synapses; granule spikes are identical.
    gap : Quantity (time)
        Biophysical mode: time without input after every presentation (mossy fibres at
        ``mf_rate_off``), an integer multiple of ``dt``, >= 0; must be 0 otherwise.
    """

    mode: str = "algorithmic"
    dt: Quantity = quantity_field(0.1 * ms, unit=second, low=0, low_open=True)
    presentation: Quantity = quantity_field(0.1 * ms, unit=second, low=0, low_open=True)
    mf_rate_on: Quantity = quantity_field(500.0 * Hz, unit=Hz, low=0)
    mf_rate_off: Quantity = quantity_field(5.0 * Hz, unit=Hz, low=0)
    mossy_drive: str = "synapses"
    gap: Quantity = quantity_field(0.0 * ms, unit=second, low=0)

    def __post_init__(self) -> None:
        mode = check_choice(self.mode, "mode", (*DYNAMICS_MODES, *_MODE_ALIASES))
        _set(self, "mode", _MODE_ALIASES.get(mode, mode))
        check_choice(self.mossy_drive, "mossy_drive", ("synapses", "injected"))
        if self.mossy_drive == "injected" and self.mode != "algorithmic":
            raise ValueError(
                f"mossy_drive='injected' needs mode='algorithmic'; got mode={self.mode!r}"
            )
        check_unit_fields(self)
        gap_steps = float(self.gap / self.dt)
        if abs(gap_steps - round(gap_steps)) > 1e-9 * max(1.0, gap_steps):
            raise ValueError(
                f"gap must be an integer multiple of dt; got {self.gap!r} for dt={self.dt!r}"
            )
        if self.mode != "biophysical" and float(self.gap) != 0.0:
            raise ValueError(f"gap must be 0 s unless mode='biophysical'; got {self.gap!r}")
        if self.mode == "biophysical":
            if float(self.dt) > 1e-4 * (1 + 1e-9):
                raise ValueError(
                    f"dt must be <= 0.1 ms in mode='biophysical' (membrane equations); "
                    f"got {self.dt!r}"
                )
            if not float(self.mf_rate_off) > 0:
                raise ValueError(
                    f"mf_rate_off must be > 0 Hz in mode='biophysical' (background mossy-fibre "
                    f"firing); got {self.mf_rate_off!r}"
                )
        steps = float(self.presentation / self.dt)
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps) or round(steps) < 1:
            raise ValueError(
                f"presentation must be a positive integer multiple of dt; got "
                f"{self.presentation!r} for dt={self.dt!r}"
            )
        if self.mode == "algorithmic" and round(steps) != 1:
            raise ValueError(
                f"presentation must equal dt in algorithmic mode (one volley); got "
                f"{self.presentation!r} for dt={self.dt!r}"
            )
        for name in ("mf_rate_on", "mf_rate_off"):
            probability = float(getattr(self, name) * self.dt)
            if probability > 1.0:
                raise ValueError(
                    f"{name} * dt must be <= 1 (one spike per step at most); got {probability}"
                )
        if self.mode != "algorithmic" and not self.mf_rate_on > self.mf_rate_off:
            raise ValueError(
                f"mf_rate_on must exceed mf_rate_off; got {self.mf_rate_on!r} <= "
                f"{self.mf_rate_off!r}"
            )

    @property
    def n_input_steps(self) -> int:
        """Presentation length in time steps."""
        return round(float(self.presentation / self.dt))

    @property
    def n_gap_steps(self) -> int:
        """Gap after each presentation in time steps (0 unless biophysical)."""
        return round(float(self.gap / self.dt))

    @property
    def spike_probability_on(self) -> float:
        """Per-step spike probability of an active fibre (1 in algorithmic mode)."""
        return 1.0 if self.mode == "algorithmic" else float(self.mf_rate_on * self.dt)

    @property
    def spike_probability_off(self) -> float:
        """Per-step spike probability of an inactive fibre (0 in algorithmic mode)."""
        return 0.0 if self.mode == "algorithmic" else float(self.mf_rate_off * self.dt)


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
        _set(self, "pf_weight_initial", check_real(self.pf_weight_initial, "pf_weight_initial"))
        _set(
            self,
            "pf_weight_step",
            check_real(self.pf_weight_step, "pf_weight_step", low=0.0, low_open=True),
        )


@dataclass(frozen=True, kw_only=True)
class OutputParams:
    """Linear rate read-out of Purkinje cells and deep cerebellar nuclei (DCN).

    With ``u = (I - w0 A) / (dw C)`` (in [-1, 1] for values in [0, 1]) the Purkinje rate is
    ``purkinje_rate_baseline + purkinje_rate_gain * u``; the DCN is inhibited by its Purkinje
    cell and fires ``dcn_rate_max * (1 - u) / 2 = dcn_rate_max * read``.

    Parameters
    ----------
    purkinje_rate_baseline : Quantity (frequency)
        Simple-spike baseline (~50 Hz), >= 0.
    purkinje_rate_gain : Quantity (frequency)
        Its modulation depth, > 0.
    dcn_rate_max : Quantity (frequency)
        The DCN rate for read = 1, > 0.
    """

    purkinje_rate_baseline: Quantity = quantity_field(50.0 * Hz, unit=Hz, low=0)
    purkinje_rate_gain: Quantity = quantity_field(40.0 * Hz, unit=Hz, low=0, low_open=True)
    dcn_rate_max: Quantity = quantity_field(100.0 * Hz, unit=Hz, low=0, low_open=True)

    def __post_init__(self) -> None:
        check_unit_fields(self)


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
        check_choice(self.device, "device", ("runtime", "cpp_standalone"))
        check_choice(self.codegen_target, "codegen_target", ("numpy", "cython"))
        if self.build_directory is not None and not isinstance(self.build_directory, str):
            raise TypeError(f"build_directory must be a str or None; got {self.build_directory!r}")
        _set(self, "fast_compile", check_bool(self.fast_compile, "fast_compile"))


# -- cell models -------------------------------------------------------------------------------

#: The populations of the circuit, in the order :func:`cerebellum.circuit.build_circuit`
#: builds them (each builder may use the ones before it).
POPULATIONS = ("mossy", "granule", "golgi", "mli", "climbing", "purkinje", "dcn")

_CELL_PARAMS: dict[str, dict[str, type]] = {population: {} for population in POPULATIONS}


@dataclass(frozen=True, kw_only=True)
class CellModelParams:
    """Base of the parameter dataclass of one population's neuron model.

    A subclass is a frozen keyword-only dataclass that sets the class attribute ``model`` (the
    name tag written to ``params.json``) and declares its physical fields with
    :func:`quantity_field`; the inherited ``__post_init__`` validates them (a subclass that
    adds its own checks calls ``super().__post_init__()``). Its builder is registered with
    :func:`cerebellum.circuit.register_model`, which also registers the class here.
    """

    model: ClassVar[str] = ""

    def __post_init__(self) -> None:
        check_unit_fields(self)


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


# -- all of it -----------------------------------------------------------------------------------

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
