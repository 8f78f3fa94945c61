"""Stage 1 of the compare job: the configuration, its checks and the random streams."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from cerebellum.circuit.transfer import equivalent_radius
from cerebellum.params import CircuitParams, DeviceParams, GranuleLayerParams
from cerebellum.presets import (
    check_mode_activation,
    check_mode_device,
    mode_dynamics,
    preset,
    preset_and_mode,
)
from models import theory
from models.activation import ActivationRule
from models.validation import check_choice, check_int, check_real

__all__ = [
    "BETA_METHODS",
    "CompareConfig",
    "DEVICES",
    "EXACT_TOLERANCE",
    "Generators",
    "OPTIMAL_CRITERIA",
    "OUTPUT_METRICS",
    "Progress",
    "ResolvedConfig",
    "TORCH_DEVICES",
    "WEIGHT_METRICS",
    "build_circuit_params",
    "configure",
]


BETA_METHODS = ("ols", "reference", "softmax")
DEVICES = ("runtime", "cpp_standalone")
TORCH_DEVICES = ("cpu", "cuda")
EXACT_TOLERANCE = 1e-9
WEIGHT_METRICS = ("weight_kl", "weight_tv", "weight_cosine", "weight_spearman")
OUTPUT_METRICS = ("output_cosine", "output_max_abs_error")
OPTIMAL_CRITERIA = ("snr", "memory", "critical_distance")

Progress = Callable[[str], None]


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, kw_only=True)
class CompareConfig:
    """What the comparison runs. ``None`` fields take the preset's value.

    Fields are validated and normalised at construction (:mod:`models.validation`): counts
    become ``int``, ``activation`` an :class:`~models.activation.ActivationRule`, the noise
    levels and sweep factors tuples.

    Parameters
    ----------
    preset : str
        Circuit preset (:data:`cerebellum.presets.PRESET_NAMES`).
    seed : int
        The one integer seed; split with :class:`numpy.random.SeedSequence`.
    mode : {"algorithmic", "poisson", "biophysical"} or None
        Circuit dynamics: ``"algorithmic"`` (alias ``"deterministic"``) is the exact SDM as a
        Brian2 event network, ``"poisson"`` the same network with Bernoulli mossy-fibre spikes,
        ``"biophysical"`` the conductance-based spiking circuit
        (:mod:`cerebellum.circuit.biophysical`). None takes the preset's: ``"biophysical"``
        for the biophysical presets, ``"algorithmic"`` otherwise. In the biophysical mode the
        presets ``default`` and ``tiny`` stand for ``biophysical`` and ``biophysical-tiny``
        (the same models' sizes; the config records the preset that ran); the other
        algorithmic presets have no biophysical counterpart and are refused.
    activation : ActivationRule or str or None
        Granule activation rule (``"radius"``, ``"top-k"``, ``"selected-coordinate"``,
        ``"hyperplane"``); None keeps the preset's.
    n_dims : int or None
        Address length n (bits).
    radius : int or None
        Activation radius d (radius mode).
    top_k : int or None
        k for top-k mode; None picks ``round(r * P[Binomial(n, 1/2) <= d])``.
    n_neurons : int or None
        Granule cells r.
    n_patterns : int
        Stored patterns m. The default 16 keeps the d = 24 memory of the ``default`` preset
        below its capacity for attention (beta ~ 3 is flat: at m = 64 attention's recall fails
        even for noise-free queries), so the recall curves change within the noise range.
    noise_levels : tuple of int or None
        Bits flipped from the stored pattern; None is 7 levels from 0 to the (equivalent)
        radius.
    n_queries : int
        Queries per noise level.
    recall_steps : int
        Largest number of iterated reads in autoassociative recall.
    neuron_sweep : tuple of float
        Factors of r for the mirror-only sweep of NeuronSDM's gap to PatternSDM.
    device : {"runtime", "cpp_standalone"}
        Brian2 device.
    torch_device : {"cpu", "cuda"}
        Torch device of the mirror.
    """

    preset: str = "default"
    seed: int = 0
    mode: str | None = None
    activation: ActivationRule | None = None
    n_dims: int | None = None
    radius: int | None = None
    top_k: int | None = None
    n_neurons: int | None = None
    n_patterns: int = 16
    noise_levels: tuple[int, ...] | None = None
    n_queries: int = 16
    recall_steps: int = 6
    neuron_sweep: tuple[float, ...] = (0.25, 1.0, 4.0, 16.0)
    device: str = "runtime"
    torch_device: str = "cpu"

    def __post_init__(self) -> None:
        def normalise(name: str, value) -> None:
            object.__setattr__(self, name, value)

        preset_name, mode = preset_and_mode(self.preset, self.mode)
        normalise("preset", preset_name)
        normalise("mode", mode)
        normalise("seed", check_int(self.seed, "seed", low=0))
        if self.activation is not None:
            normalise("activation", check_choice(self.activation, "activation", ActivationRule))
        for name, low in (("n_dims", 1), ("n_neurons", 1), ("top_k", 1), ("radius", 0)):
            if getattr(self, name) is not None:
                normalise(name, check_int(getattr(self, name), name, low=low))
        normalise("n_patterns", check_int(self.n_patterns, "n_patterns", low=2))
        normalise("n_queries", check_int(self.n_queries, "n_queries", low=2))
        normalise("recall_steps", check_int(self.recall_steps, "recall_steps", low=1))
        if self.noise_levels is not None:
            levels = tuple(check_int(level, "noise_levels", low=0) for level in self.noise_levels)
            if not levels:
                raise ValueError("noise_levels must hold at least one level; got none")
            if len(set(levels)) != len(levels):
                raise ValueError(f"noise_levels must be distinct; got {list(levels)}")
            normalise("noise_levels", levels)
        factors = tuple(
            check_real(factor, "neuron_sweep", low=0.0, low_open=True)
            for factor in self.neuron_sweep
        )
        if not factors:
            raise ValueError("neuron_sweep must hold at least one factor of r; got none")
        normalise("neuron_sweep", factors)
        normalise("device", check_choice(self.device, "device", DEVICES))
        check_mode_device(self.mode, self.device)
        normalise("torch_device", check_choice(self.torch_device, "torch_device", TORCH_DEVICES))
        if self.torch_device == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "torch_device 'cuda' was requested but torch.cuda.is_available() is False on "
                "this machine; use --torch-device cpu"
            )

    def to_dict(self) -> dict:
        """The config as JSON-ready values (the activation by its word, tuples as lists)."""
        out = asdict(self)
        out["activation"] = None if self.activation is None else self.activation.value
        out["noise_levels"] = None if self.noise_levels is None else list(self.noise_levels)
        out["neuron_sweep"] = list(self.neuron_sweep)
        return out


@dataclass(frozen=True)
class Generators:
    """The random streams of one run, split from the one seed (docs/design.md: randomness is an
    argument). Each stage draws only from its own stream, so stages can change without
    changing another stage's numbers.

    Attributes
    ----------
    wiring, patterns, queries, sweep : torch.Generator
        Granule addresses; stored patterns; query targets and flipped bits; the r sweep's
        fresh populations.
    brian : numpy.random.Generator
        Seeds the Brian2 circuit.
    bootstrap : numpy.random.Generator
        The resamples of the circuit beta's interval. Last, so that adding it left the
        other streams (spawned children 0..4 of the seed) as they were.
    """

    wiring: torch.Generator
    patterns: torch.Generator
    queries: torch.Generator
    brian: np.random.Generator
    sweep: torch.Generator
    bootstrap: np.random.Generator

    @classmethod
    def from_seed(cls, seed: int) -> Generators:
        """Split ``seed`` with :class:`numpy.random.SeedSequence`, one child per stream.

        Parameters
        ----------
        seed : int

        Returns
        -------
        Generators
        """
        names = [f.name for f in dataclasses.fields(cls)]
        children = dict(zip(names, np.random.SeedSequence(seed).spawn(len(names)), strict=True))
        streams = {
            name: np.random.default_rng(child)
            if name in ("brian", "bootstrap")
            else torch.Generator().manual_seed(int(child.generate_state(1)[0]))
            for name, child in children.items()
        }
        return cls(**streams)


@dataclass(frozen=True, kw_only=True)
class ResolvedConfig:
    """A :class:`CompareConfig` checked against its preset: everything derived from it, once.

    The generators are consumed by one run; :func:`configure` again to repeat it.

    Attributes
    ----------
    config : CompareConfig
    params : CircuitParams
        The preset with the config's overrides.
    noise_levels : tuple of int
        Sorted; the config's, or 7 levels from 0 to the equivalent radius.
    equivalent_radius : int
        d for PatternSDM and the beta fits (:func:`equivalent_radius`).
    generators : Generators
    """

    config: CompareConfig
    params: CircuitParams
    noise_levels: tuple[int, ...]
    equivalent_radius: int
    generators: Generators

    @property
    def granule(self) -> GranuleLayerParams:
        """The granule layer of :attr:`params`."""
        return self.params.granule


def build_circuit_params(config: CompareConfig) -> CircuitParams:
    """The preset with the config's overrides applied (validated by the parameter classes).

    A flag that does not apply to the chosen activation rule is an error, never silently
    ignored: ``radius`` belongs to ``radius`` (and to ``top-k`` when ``top_k`` is not given, to
    derive k), ``top_k`` to ``top-k``; ``selected-coordinate`` and ``hyperplane`` take neither
    (they keep the preset's ``n_inputs``, or 4).

    Parameters
    ----------
    config : CompareConfig

    Returns
    -------
    CircuitParams
    """
    base = preset(config.preset)
    g = base.granule
    n_dims = config.n_dims if config.n_dims is not None else g.n_dims
    n_neurons = config.n_neurons if config.n_neurons is not None else g.n_neurons
    activation = config.activation if config.activation is not None else g.activation
    if config.top_k is not None and activation is not ActivationRule.TOP_K:
        raise ValueError(
            f"top_k applies only to activation 'top-k'; got activation {activation.value!r}"
        )
    explicit_top_k = activation is ActivationRule.TOP_K and config.top_k is not None
    if config.radius is not None and (activation.selected or explicit_top_k):
        raise ValueError(
            f"radius does not apply to activation {activation.value!r}"
            + (" with an explicit top_k" if explicit_top_k else "")
            + f"; got radius {config.radius}"
        )

    def radius() -> int:
        if config.radius is not None:
            return check_int(
                config.radius, "radius", low=0, high=n_dims, context=f"for n_dims={n_dims}"
            )
        if g.activation_radius is None:  # a selected-coordinate preset asked for a Hamming rule
            return theory.nearest_radius(n_dims, 2.0 ** -(g.n_inputs or 4))
        if g.activation_radius > n_dims:
            raise ValueError(
                f"the preset's activation radius {g.activation_radius} exceeds n_dims={n_dims}; "
                "give a radius"
            )
        return g.activation_radius

    layer = {"n_dims": n_dims, "n_neurons": n_neurons, "activation": activation}
    if activation is ActivationRule.RADIUS:
        granule = GranuleLayerParams(**layer, activation_radius=radius())
    elif activation is ActivationRule.TOP_K:
        top_k = config.top_k
        if top_k is None:
            expected = n_neurons * float(theory.activation_probability(n_dims, radius()))
            top_k = max(1, min(n_neurons, round(expected)))
        granule = GranuleLayerParams(**layer, top_k=top_k)
    else:
        granule = GranuleLayerParams(**layer, n_inputs=g.n_inputs or 4)
    check_mode_activation(config.mode, activation)
    dynamics = mode_dynamics(config.mode, base.dynamics)
    device = DeviceParams(device=config.device, codegen_target=base.device.codegen_target)
    return base.replace(granule=granule, dynamics=dynamics, device=device)


def configure(config: CompareConfig) -> ResolvedConfig:
    """Stage 1: validate a config against its preset before any work and derive what it fixes.

    Parameters
    ----------
    config : CompareConfig

    Returns
    -------
    ResolvedConfig
    """
    if not isinstance(config, CompareConfig):
        raise TypeError(f"config must be a CompareConfig; got {type(config).__name__}")
    params = build_circuit_params(config)
    n = params.granule.n_dims
    d_eff = equivalent_radius(params.granule)
    if d_eff < 2:
        raise ValueError(
            "the (equivalent) activation radius must be >= 2, since the beta fits use distances "
            f"t = 0..d-1; got {d_eff} for activation {params.granule.activation.value!r}"
        )
    levels = config.noise_levels
    if levels is None:
        levels = tuple(sorted({round(x) for x in np.linspace(0, d_eff, 7)}))
    if max(levels) > n:
        raise ValueError(f"noise_levels must be in [0, n_dims={n}]; got {max(levels)}")
    return ResolvedConfig(
        config=config,
        params=params,
        noise_levels=tuple(sorted(int(level) for level in levels)),
        equivalent_radius=d_eff,
        generators=Generators.from_seed(config.seed),
    )


def _silent(label: str) -> None:
    """A progress callback that shows nothing."""
