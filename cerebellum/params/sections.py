"""The sections of :class:`~cerebellum.params.CircuitParams` besides the cell models: the
granule layer as an SDM, the dynamics of a presentation, the plasticity rule, the rate
read-out and the Brian2 device."""

from __future__ import annotations

from dataclasses import dataclass

from brian2 import Hz, Quantity, ms, second

from cerebellum.params.base import _set, check_unit_fields, quantity_field
from models.activation import ActivationRule
from models.validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "DYNAMICS_MODES",
    "DeviceParams",
    "DynamicsParams",
    "GranuleLayerParams",
    "OutputParams",
    "PlasticityParams",
]


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
