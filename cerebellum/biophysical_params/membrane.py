"""The shared LIF membrane of the biophysical cell models and the field helpers of the package.

:class:`LIFParams` declares once the seven membrane fields that the Golgi, MLI, Purkinje and
DCN models share (PyNN's one ``IF_cond_exp`` for many populations: Davison et al. 2009); each
model gives its own defaults as class keywords (:mod:`cerebellum.biophysical_params`).

References
----------
Davison, A. P. et al. (2009). PyNN: a common interface for neuronal network simulators.
Front. Neuroinform. 2, 11.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from brian2 import Quantity, amp, farad, ms, mV, pA, pF, second, volt

from cerebellum.params import CellModelParams
from cerebellum.params import quantity_field as _q

__all__ = ["LIF_MEMBRANE_FIELDS", "LIFParams", "membrane"]

_POS = {"low": 0, "low_open": True}


def _volt(default: Quantity) -> object:
    return _q(default, unit=volt)


def _check_order(section, low_name: str, high_name: str) -> None:
    low, high = getattr(section, low_name), getattr(section, high_name)
    if not low < high:
        raise ValueError(f"{low_name} must be below {high_name}; got {low!r} >= {high!r}")


#: The membrane fields of :class:`LIFParams`, in their JSON order.
LIF_MEMBRANE_FIELDS = ("c_m", "tau_m", "e_leak", "v_threshold", "v_reset", "refractory", "i_e")


def membrane(
    c_m_pf: float,
    tau_m_ms: float,
    e_leak_mv: float,
    v_threshold_mv: float,
    v_reset_mv: float,
    refractory_ms: float,
    i_e_pa: float,
) -> dict[str, Quantity]:
    """One population's membrane defaults, a row of numbers in the units of the names.

    Returns the class keywords of a :class:`LIFParams` subclass, in the order of
    :data:`LIF_MEMBRANE_FIELDS`: ``class LIFGolgiParams(LIFParams, **membrane(145.0, ...))``.
    """
    values = (
        c_m_pf * pF,
        tau_m_ms * ms,
        e_leak_mv * mV,
        v_threshold_mv * mV,
        v_reset_mv * mV,
        refractory_ms * ms,
        i_e_pa * pA,
    )
    return dict(zip(LIF_MEMBRANE_FIELDS, values, strict=True))


def _membrane(unit: Quantity, **bounds: object) -> object:
    """A membrane field of :class:`LIFParams`: unit and bounds declared, default per model."""
    bounds = {"low": None, "high": None, "low_open": False, "high_open": False} | bounds
    return field(metadata={"unit": unit, "bounds": bounds})


@dataclass(frozen=True, kw_only=True)
class LIFParams(CellModelParams):
    """Conductance-based leaky integrate-and-fire membrane, one model for many populations.

    ``C dv/dt = g_L (E_L - v) + I_syn + I_e`` with ``g_L = C / tau_m``; a spike when ``v``
    exceeds ``v_threshold``, then ``v = v_reset`` held for ``refractory`` -- PyNN's one
    ``IF_cond_exp`` for every population (Davison et al. 2009). The Golgi, MLI, Purkinje and
    DCN models add their synaptic currents ``I_syn``; the membrane fields are declared here
    once (unit, bounds, the ``v_reset < v_threshold`` check) and each model gives its own
    defaults (with their sources) as class keywords::

        @dataclass(frozen=True, kw_only=True)
        class LIFGolgiParams(LIFParams, **membrane(145.0, 44.0, -62.0, -55.0, -75.0, 2.0, 32.0)):

    (:func:`membrane`: ``C`` pF, ``tau_m`` ms, ``E_L``, ``V_th``, ``V_reset`` mV, refractory
    ms, ``I_e`` pA).

    A keyword left out leaves that field without a default (required at construction).

    Parameters
    ----------
    c_m : Quantity (capacitance)
        ``C``, > 0.
    tau_m : Quantity (time)
        Membrane time constant ``C / g_L``, > 0.
    e_leak : Quantity (voltage)
        Leak reversal (resting) potential ``E_L``.
    v_threshold, v_reset : Quantity (voltage)
        Spike threshold and reset, ``v_reset < v_threshold``.
    refractory : Quantity (time)
        Absolute refractory period, >= 0.
    i_e : Quantity (current)
        Constant injected current ``I_e``.
    """

    c_m: Quantity = _membrane(farad, **_POS)
    tau_m: Quantity = _membrane(second, **_POS)
    e_leak: Quantity = _membrane(volt)
    v_threshold: Quantity = _membrane(volt)
    v_reset: Quantity = _membrane(volt)
    refractory: Quantity = _membrane(second, low=0)
    i_e: Quantity = _membrane(amp)

    def __init_subclass__(cls, **defaults: Quantity) -> None:
        """Give the membrane fields of subclass ``cls`` the ``defaults`` (class keywords)."""
        super().__init_subclass__()
        unknown = sorted(set(defaults) - set(LIF_MEMBRANE_FIELDS))
        if unknown:
            raise TypeError(
                f"{cls.__name__}: unknown membrane defaults {unknown}; "
                f"expected some of {list(LIF_MEMBRANE_FIELDS)}"
            )
        annotations = cls.__dict__.get("__annotations__")
        if annotations is None:
            annotations = {}
            cls.__annotations__ = annotations
        for name, default in defaults.items():
            metadata = LIFParams.__dataclass_fields__[name].metadata
            # Redeclared in the subclass: the dataclass keeps the field's place (JSON order).
            annotations[name] = "Quantity"
            setattr(cls, name, _q(default, unit=metadata["unit"], **metadata["bounds"]))

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
