r"""The comparison job: does the spiking cerebellum compute attention?

One wiring, two engines (DESIGN.md section 2). The granule-cell addresses are sampled once; the
same arrays build the Brian2 circuit and the :class:`models.sdm.NeuronSDM` mirror. The job
writes ``m`` random patterns autoassociatively (address = value = the pattern's bits, carried by
the climbing fibres), adds one one-hot Purkinje channel per pattern so the circuit exposes each
pattern's weight directly (heteroassociation with one-hot values), and reads queries made by
flipping exactly ``t`` bits of a stored pattern for every noise level ``t``. For every query it
collects the pattern weights and read outputs of

1. ``circuit`` -- the spiking circuit's decoded :class:`~cerebellum.engines.readout.Readout`;
2. ``neuron_sdm`` -- :class:`models.sdm.NeuronSDM` on the same neurons (the exact mirror);
3. ``pattern_sdm`` -- :class:`models.sdm.PatternSDM`, the expected (every-address) weights
   from the exact circle intersection;
4. ``attention_<method>`` -- :class:`models.attention.AttentionMemory` with beta from
   :func:`models.theory.fit_beta` for ``method`` in ``ols``, ``reference``, ``softmax``,

and, for every pair of engines and every noise level, the weight KL divergence, total variation,
cosine and Spearman correlation, the output cosine and the largest output difference. Outputs are
compared centred, ``2 read - 1`` (the read of {0, 1} bits mapped to [-1, 1]), so that a cosine
measures agreement on bits rather than the shared positive offset. It also iterates reads
(autoassociative recall, threshold 1/2) for every engine, the circuit included, and measures beta
from the circuit itself: a Poisson log-linear regression of the circuit's intersection counts on
:math:`\cos = 1 - 2t/n` over query-pattern pairs at distance ``t < d`` -- the same range
Bricken & Pehlevan (2021) fit theory over -- zeros kept, with a 95% interval from a bootstrap
that resamples whole queries (:func:`models.fitting.estimate_beta_counts`).

That beta is set against predictions made at the same pairs by the generalised intersection
:math:`r\,E[f(h_q) f(h_p)]` (:mod:`models.soft_activation`) for

- the circuit's *own* activation rule in closed form (:func:`cerebellum.circuit.transfer.closed_form_curve`:
  the hard ball or all-``K``-inputs step in the algorithmic mode, the Bernoulli-count curve in
  the Poisson mode; top-k has no per-cell curve and uses the equivalent-radius ball, labelled
  an approximation), and
- the transfer curve *measured* from the circuit's own granule spikes
  (:func:`cerebellum.circuit.transfer.measured_curve`), which is also compared with the closed form.

``pattern_sdm`` and the attention betas use the *equivalent radius*, the Hamming radius with the
same activation probability (:func:`models.theory.nearest_radius` at ``k / r`` or
``2**-n_inputs``) when the rule is not a canonical Hamming ball, and the report says so.

:func:`run_comparison` is five stages, each a function whose result is a small frozen dataclass:

=====================  ==========================  ===============================================
stage                  result                      what it holds
=====================  ==========================  ===============================================
:func:`configure`      :class:`ResolvedConfig`     circuit parameters, noise levels, equivalent
                                                   radius, generators (split from the one seed)
:func:`wire`           :class:`Wired`              wiring, patterns, values, queries, targets,
                                                   noise
:func:`run_engines`    :class:`EngineOutputs`      circuit Readout, raster and recall; the
                                                   mirror's memories, weights and outputs
:func:`analyse`        :class:`Analysis`           agreement, recall, betas, r sweep, exact check
:func:`assemble`       :class:`Comparison`         the ``results.json`` payload, figure arrays
=====================  ==========================  ===============================================

Only :func:`run_engines` touches Brian2, through :class:`~cerebellum.engines.algorithmic.Protocol` (or
:func:`~cerebellum.engines.algorithmic.run_protocol`); what comes back is plain arrays.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from cerebellum.circuit.transfer import closed_form_curve, measured_curve
from cerebellum.engines.readout import Readout
from cerebellum.io.results_schema import SCHEMA_VERSION as RESULTS_SCHEMA_VERSION
from cerebellum.params import CircuitParams, DeviceParams, GranuleLayerParams
from cerebellum.presets import PRESET_NAMES, poisson_dynamics, preset
from cerebellum.wiring import Wiring, sample_wiring
from models import metrics, theory
from models.activation import ActivationRule
from models.attention import AttentionMemory
from models.fitting import estimate_beta_counts
from models.memory import Memory
from models.recall import RecallResult, bits_wrong, flip_bits, recall
from models.reference import LearnedBetas, learned_qknorm_betas
from models.sdm import PatternSDM, hamming_distances, random_addresses
from models.soft_activation import ActivationCurve, log_curve_intersection
from models.validation import check_choice, check_int, check_real

__all__ = [
    "BETA_METHODS",
    "RESULTS_SCHEMA_VERSION",
    "Analysis",
    "CompareConfig",
    "Comparison",
    "EngineOutputs",
    "Generators",
    "ResolvedConfig",
    "Wired",
    "analyse",
    "assemble",
    "build_circuit_params",
    "configure",
    "equivalent_radius",
    "exact_check",
    "mirror_memories",
    "neuron_count_sweep",
    "run_comparison",
    "run_engines",
    "wire",
]

BETA_METHODS = ("ols", "reference", "softmax")
MODES = ("algorithmic", "poisson", "biophysical")
#: Earlier name of the algorithmic mode, still accepted (``--mode deterministic``).
MODE_ALIASES = {"deterministic": "algorithmic"}
#: The biophysical presets, and the one each general preset stands for in the biophysical mode.
BIOPHYSICAL_PRESETS = ("biophysical", "biophysical-tiny")
BIOPHYSICAL_COUNTERPARTS = {"default": "biophysical", "tiny": "biophysical-tiny"}
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

        normalise("preset", check_choice(self.preset, "preset", PRESET_NAMES))
        normalise("seed", check_int(self.seed, "seed", low=0))
        biophysical_preset = self.preset in BIOPHYSICAL_PRESETS
        if self.mode is None:
            normalise("mode", "biophysical" if biophysical_preset else "algorithmic")
        mode = check_choice(self.mode, "mode", (*MODES, *MODE_ALIASES))
        normalise("mode", MODE_ALIASES.get(mode, mode))
        if self.mode == "biophysical" and not biophysical_preset:
            if self.preset not in BIOPHYSICAL_COUNTERPARTS:
                raise ValueError(
                    f"mode 'biophysical' runs the presets {BIOPHYSICAL_PRESETS} (or 'default' / "
                    f"'tiny', which stand for them); got preset {self.preset!r}"
                )
            normalise("preset", BIOPHYSICAL_COUNTERPARTS[self.preset])
        elif self.mode != "biophysical" and biophysical_preset:
            raise ValueError(
                f"preset {self.preset!r} is the biophysical circuit and runs with mode "
                f"'biophysical'; got mode {self.mode!r}"
            )
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
        if self.mode == "biophysical" and self.device != "runtime":
            raise ValueError(
                "device must be 'runtime' with mode 'biophysical': the Golgi calibration adapts "
                "the inhibition between runs, which cpp_standalone cannot (benchmarks/"
                f"bench_circuit.py --biophysical times cpp_standalone at a calibrated scale); "
                f"got device {self.device!r}"
            )
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
    """The random streams of one run, split from the one seed (DESIGN.md: randomness is an
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
    if config.mode == "biophysical" and activation not in (
        ActivationRule.SELECTED_COORDINATE,
        ActivationRule.RADIUS,
    ):
        raise ValueError(
            "mode 'biophysical' wires granule cells to n_inputs selected coordinates (the "
            "anatomical default) or to all n bits (activation 'radius', canonical SDM wiring); "
            f"got activation {activation.value!r}"
        )
    dynamics = poisson_dynamics() if config.mode == "poisson" else base.dynamics
    device = DeviceParams(device=config.device, codegen_target=base.device.codegen_target)
    return base.replace(granule=granule, dynamics=dynamics, device=device)


def equivalent_radius(granule: GranuleLayerParams) -> int:
    """The Hamming radius d whose activation probability best matches the granule layer's.

    Parameters
    ----------
    granule : GranuleLayerParams

    Returns
    -------
    int
        ``activation_radius`` for the radius rule; otherwise the radius whose activation
        probability is closest, on a log scale, to ``k / r`` (top-k) or ``2**-n_inputs``
        (selected coordinates and hyperplanes, for a query with independent fair bits). It is
        an approximation for those rules: their weights follow other laws.
    """
    rule = granule.activation
    if rule is ActivationRule.RADIUS:
        return int(granule.activation_radius)
    if rule is ActivationRule.TOP_K:
        probability = granule.top_k / granule.n_neurons
    else:
        probability = 2.0**-granule.n_inputs
    return theory.nearest_radius(granule.n_dims, probability)


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


# --------------------------------------------------------------------------- wiring and queries


@dataclass(frozen=True, kw_only=True)
class Wired:
    """Stage 2: what both engines are given.

    Attributes
    ----------
    wiring : Wiring
        The granule-cell addresses, shared by the circuit and NeuronSDM.
    patterns : Tensor of shape (n_patterns, n_dims), uint8
        Stored addresses.
    values : Tensor of shape (n_patterns, n_dims), float64
        Stored values (the patterns themselves: autoassociative).
    queries : Tensor of shape (n_queries_total, n_dims), uint8
        Noisy copies of stored patterns, noise levels in order.
    targets : Tensor of shape (n_queries_total,), int64
        The pattern each query was made from.
    noise : ndarray of int, shape (n_queries_total,)
        Bits flipped in each query.
    """

    wiring: Wiring
    patterns: torch.Tensor
    values: torch.Tensor
    queries: torch.Tensor
    targets: torch.Tensor
    noise: np.ndarray


def wire(resolved: ResolvedConfig) -> Wired:
    """Stage 2: sample the wiring, the patterns and the noisy queries.

    Parameters
    ----------
    resolved : ResolvedConfig

    Returns
    -------
    Wired
    """
    g, gens = resolved.granule, resolved.generators
    wiring = sample_wiring(g, generator=gens.wiring)
    patterns = random_addresses(resolved.config.n_patterns, g.n_dims, generator=gens.patterns)
    queries, targets, noise = _noise_queries(
        patterns, resolved.noise_levels, resolved.config.n_queries, gens.queries
    )
    return Wired(
        wiring=wiring,
        patterns=patterns,
        values=patterns.double(),
        queries=queries,
        targets=targets,
        noise=noise.numpy(),
    )


def _noise_queries(patterns, levels, n_queries, generator):
    """Queries at exactly ``level`` flipped bits from randomly chosen stored patterns."""
    m = patterns.shape[0]
    targets, queries, noise = [], [], []
    for level in levels:
        index = torch.randint(m, (n_queries,), generator=generator)
        queries.append(flip_bits(patterns[index], int(level), generator=generator))
        targets.append(index)
        noise.append(torch.full((n_queries,), int(level)))
    return torch.cat(queries), torch.cat(targets), torch.cat(noise)


# --------------------------------------------------------------------------- engines


@dataclass(frozen=True, kw_only=True)
class EngineOutputs:
    """Stage 3: what every engine returned, as plain arrays (no Brian2 object).

    Attributes
    ----------
    readout : Readout
        The circuit's read of every query.
    raster : dict or None
        Granule spikes and Purkinje/DCN rates of the last write and first read window
        (:meth:`cerebellum.engines.algorithmic.Protocol.raster`); None with cpp_standalone.
    circuit_recall : RecallResult or None
        Iterated reads through the circuit; None with cpp_standalone (no snapshots).
    memories : dict of str to Memory
        The mirror's engines, written (:func:`mirror_memories`).
    weights, outputs : dict of str to ndarray
        Per engine, ``circuit`` first: pattern weights (n_queries_total, n_patterns) and reads
        (n_queries_total, n_dims), float64.
    biophysical : BiophysicalResult or None
        Everything the biophysical run measured (rates, rasters, traces, weights, the Golgi
        calibration); None in the other modes.
    nwb_content : dict or None
        Keyword arguments of :func:`cerebellum.io.nwb.write_nwb` (spikes, rates, weights,
        epochs), taken right after the reads; None unless asked for.
    """

    readout: Readout
    raster: dict | None
    circuit_recall: RecallResult | None
    memories: dict[str, Memory]
    weights: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    biophysical: object | None = None
    nwb_content: dict | None = None

    @property
    def engines(self) -> list[str]:
        """Engine names in order, ``circuit`` first."""
        return list(self.weights)


def run_engines(
    resolved: ResolvedConfig,
    wired: Wired,
    *,
    progress: Progress | None = None,
    nwb: bool = False,
    report=None,
) -> EngineOutputs:
    """Stage 3: write and read the circuit, then the mirror, on the same wiring and queries.

    Parameters
    ----------
    resolved : ResolvedConfig
    wired : Wired
    progress : callable, optional
        Called with a label as each step starts.
    nwb : bool
        Keep the run's spikes, rates, weights and epochs for an NWB file
        (:func:`cerebellum.io.nwb.write_nwb`): runtime device only.
    report : callable, optional
        Brian2's progress callback inside the simulation (:class:`cerebellum.engines.algorithmic.Protocol`).

    Returns
    -------
    EngineOutputs
    """
    step = progress or _silent
    if nwb and resolved.params.device.device != "runtime":
        raise ValueError(
            "nwb needs device 'runtime': cpp_standalone keeps no spike monitors; got device "
            f"{resolved.params.device.device!r}"
        )
    biophysical = None
    nwb_content = None
    if resolved.params.dynamics.mode == "biophysical":
        from cerebellum.engines.biophysical import run_biophysical

        step("biophysical circuit: Golgi calibration, writes, reads")
        biophysical = run_biophysical(
            resolved.params,
            wired.wiring,
            wired.patterns.numpy(),
            wired.values.numpy(),
            [wired.queries.numpy()],
            rng=resolved.generators.brian,
            report=report,
        )
        readout, raster, circuit_recall = biophysical.readouts[0], None, None
        if nwb:
            from cerebellum.io.nwb import biophysical_content

            nwb_content = biophysical_content(biophysical)
    else:
        step("simulating the circuit (write + read)")
        readout, raster, circuit_recall, nwb_content = _run_circuit(
            resolved, wired, step, nwb=nwb, report=report
        )
    step("mirror: NeuronSDM, PatternSDM, attention")
    device = resolved.config.torch_device
    memories = mirror_memories(
        wired.wiring, wired.patterns, wired.values, resolved.equivalent_radius, torch_device=device
    )
    weights, outputs = _mirror_weights_outputs(memories, wired.queries.to(device))
    return EngineOutputs(
        readout=readout,
        raster=raster,
        circuit_recall=circuit_recall,
        memories=memories,
        weights={"circuit": readout.pattern_weights, **weights},
        outputs={"circuit": readout.read, **outputs},
        biophysical=biophysical,
        nwb_content=nwb_content,
    )


def _run_circuit(
    resolved: ResolvedConfig, wired: Wired, step: Progress, *, nwb: bool = False, report=None
):
    """The circuit's Readout, raster, recall (the last two at runtime only) and NWB content."""
    from cerebellum.circuit import build_circuit
    from cerebellum.engines.algorithmic import Protocol, run_protocol

    params, config = resolved.params, resolved.config
    brian_rng = resolved.generators.brian
    if params.device.device != "runtime":
        result = run_protocol(
            params, wired.wiring, wired.patterns, wired.values, [wired.queries], rng=brian_rng
        )
        return result.readouts[0], None, None, None
    circuit = build_circuit(
        params,
        wired.wiring,
        n_values=wired.values.shape[1],
        n_pattern_channels=config.n_patterns,
        rng=brian_rng,
    )
    protocol = Protocol(circuit, report=report)
    weights_before = protocol.pf_weights() if nwb else None
    protocol.write(wired.patterns, wired.values)
    protocol.store("written")
    readout = protocol.read(wired.queries)
    raster = protocol.raster(config.n_patterns - 1, 2)  # the last write, the first read
    nwb_content = None
    if nwb:  # before recall, whose reads replace the read windows in the monitors
        from cerebellum.io.nwb import protocol_content

        nwb_content = protocol_content(protocol, [readout], pf_weights_before=weights_before)
    step("iterating reads through the circuit (recall)")
    circuit_recall = recall(
        protocol.frozen_reader("written"),
        wired.queries,
        max_steps=config.recall_steps,
        binarize=True,
    )
    return readout, raster, circuit_recall, nwb_content


def mirror_memories(wiring, patterns, values, d_eff: int, *, torch_device: str = "cpu"):
    """The mirror's engines, written with the patterns.

    Parameters
    ----------
    wiring : cerebellum.wiring.Wiring
        The circuit's wiring: ``neuron_sdm`` uses the same neuron addresses.
    patterns : Tensor of shape (n_patterns, n_dims), uint8
    values : Tensor of shape (n_patterns, n_values), float64
    d_eff : int
        Equivalent radius (:func:`equivalent_radius`) for PatternSDM and the beta fits.
    torch_device : str

    Returns
    -------
    dict of str to Memory
        ``neuron_sdm``, ``pattern_sdm`` and ``attention_<method>`` for each beta fit method.
    """
    n = patterns.shape[1]
    memories: dict[str, Memory] = {
        "neuron_sdm": wiring.mirror(values.shape[1]),
        "pattern_sdm": PatternSDM(n, d_eff),
    }
    for method in BETA_METHODS:
        memories[f"attention_{method}"] = AttentionMemory(
            n_dims=n, activation_radius=d_eff, method=method
        )
    for name, memory in memories.items():
        memories[name] = memory.to(torch_device)
        memories[name].write(patterns.to(torch_device), values.to(torch_device))
    return memories


def _mirror_weights_outputs(memories: dict[str, Memory], queries) -> tuple[dict, dict]:
    weights, outputs = {}, {}
    for name, memory in memories.items():
        weights[name] = memory.weights(queries).double().cpu().numpy()
        outputs[name] = memory.read(queries).double().cpu().numpy()
    return weights, outputs


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True, kw_only=True)
class Analysis:
    """Stage 4: every measurement, JSON-ready except ``distances`` and ``learned``.

    Attributes
    ----------
    agreement : dict
        ``{"<a>__vs__<b>": {metric: [summary per noise level]}}`` for every engine pair.
    recall : dict
        Per engine: ``exact_fraction``, ``bits_wrong``, ``converged_fraction`` per level.
    distances : ndarray of int, shape (n_queries_total, n_patterns)
        Hamming distance of every query to every pattern.
    circuit_beta : dict
        The circuit's Poisson log-linear beta with its query-bootstrap interval and the
        predictions it is set against (:func:`_circuit_beta`), or
        ``{"beta": None, "reason": ...}``.
    activation_curve : dict
        The granule transfer curve measured from spikes, the closed form of the circuit's rule
        and whether the closed form lies in the measured intervals (:func:`_curve_summary`).
    theory_betas : dict of str to float
        :func:`models.theory.fit_beta` at the equivalent radius, per method.
    optimal_radii : dict
        Per criterion: ``radius`` and its OLS ``beta_ols`` (None below d = 2).
    learned : LearnedBetas
        Learned betas of QK-normalised Transformers.
    neuron_sweep : list of dict
        :func:`neuron_count_sweep`.
    exact_check : dict
        :func:`exact_check` of the circuit against NeuronSDM.
    biophysical : dict or None
        The biophysical mode's own measurements (:func:`_biophysical_summary`); None otherwise.
    """

    agreement: dict
    recall: dict
    distances: np.ndarray
    circuit_beta: dict
    activation_curve: dict
    theory_betas: dict[str, float]
    optimal_radii: dict
    learned: LearnedBetas
    neuron_sweep: list[dict]
    exact_check: dict
    biophysical: dict | None = None


def analyse(
    resolved: ResolvedConfig,
    wired: Wired,
    engines: EngineOutputs,
    *,
    progress: Progress | None = None,
) -> Analysis:
    """Stage 4: agreement, recall, betas, the neuron-count sweep and the exact check.

    Parameters
    ----------
    resolved : ResolvedConfig
    wired : Wired
    engines : EngineOutputs
    progress : callable, optional
        Called with a label as each step starts.

    Returns
    -------
    Analysis
    """
    step = progress or _silent
    config, g = resolved.config, resolved.granule
    levels, d_eff = resolved.noise_levels, resolved.equivalent_radius
    device = config.torch_device
    queries_on_device = wired.queries.to(device)

    step("agreement metrics")
    agreement = _agreement(engines.weights, engines.outputs, wired.noise, levels)

    step("recall for every engine")
    outcomes = {
        name: recall(memory, queries_on_device, max_steps=config.recall_steps, binarize=True)
        for name, memory in engines.memories.items()
    }
    if engines.circuit_recall is not None:
        outcomes = {"circuit": engines.circuit_recall, **outcomes}
    target_bits = wired.patterns[wired.targets]
    recall_summary = {
        name: _recall_summary(outcome, target_bits, wired.noise, levels)
        for name, outcome in outcomes.items()
    }

    step("beta from the circuit")
    distances = hamming_distances(wired.queries, wired.patterns).numpy()
    theory_betas = {
        method: theory.fit_beta(g.n_dims, d_eff, method=method).beta for method in BETA_METHODS
    }
    biophysical_mode = resolved.params.dynamics.mode == "biophysical"
    closed_form = None if biophysical_mode else closed_form_curve(resolved.params)
    own_curve = closed_form
    if biophysical_mode:  # the spiking layer is calibrated to the mirror's rule's sparseness
        k = g.n_synapses_per_cell
        own_curve = ActivationCurve.hard_threshold(k, 0 if g.activation.selected else d_eff)
        own_label = (
            "the mirror's hard rule ("
            + (f"all K = {k} inputs match" if g.activation.selected else f"radius d = {d_eff}")
            + "), whose active fraction the Golgi calibration targets"
        )
    elif own_curve is None:  # top-k: a competition, not a per-cell curve
        own_curve = ActivationCurve.hard_threshold(g.n_dims, d_eff)
        own_label = (
            f"equivalent-radius Hamming ball d = {d_eff} (an approximation: top-k has no "
            "per-cell activation curve)"
        )
    elif resolved.params.dynamics.mode == "poisson":
        own_label = "Bernoulli-count closed form of the Poisson mode"
    elif g.activation is ActivationRule.RADIUS:
        own_label = f"Hamming ball of radius d = {g.activation_radius}"
    else:
        own_label = f"{g.activation.description} (K = {g.n_inputs})"
    measured = measured_curve(
        wired.wiring,
        wired.queries.numpy(),
        engines.readout.active_granule,
        rng=resolved.generators.bootstrap,
    )
    circuit_beta = _circuit_beta(
        engines.readout.pattern_intersections,
        distances,
        g.n_dims,
        d_eff,
        n_neurons=g.n_neurons,
        curves={
            "own_rule": (own_label, own_curve),
            "measured_curve": ("transfer curve measured from granule spikes", measured),
        },
        rng=resolved.generators.bootstrap,
    )
    activation_curve = _curve_summary(measured, closed_form)
    optimal = {}
    for criterion in OPTIMAL_CRITERIA:
        radius = int(
            theory.optimal_radius(
                g.n_dims, config.n_patterns, n_neurons=g.n_neurons, criterion=criterion
            )
        )
        beta = float(theory.fit_beta(g.n_dims, radius).beta) if radius >= 2 else None
        optimal[criterion] = {"radius": radius, "beta_ols": beta}
    learned = learned_qknorm_betas()

    step("neuron-count sweep (mirror)")
    sweep = neuron_count_sweep(
        g,
        wired.patterns,
        wired.queries,
        factors=config.neuron_sweep,
        d_eff=d_eff,
        generator=resolved.generators.sweep,
        torch_device=device,
    )

    exact = exact_check(
        engines.weights["circuit"],
        engines.weights["neuron_sdm"],
        engines.outputs["circuit"],
        engines.outputs["neuron_sdm"],
        engines.readout.active_granule,
        engines.memories["neuron_sdm"].active(queries_on_device).cpu().numpy(),
        applies=MODE_ALIASES.get(resolved.params.dynamics.mode, resolved.params.dynamics.mode)
        == "algorithmic",
    )
    biophysical = None
    if engines.biophysical is not None:
        step("biophysical measurements against the mirror")
        biophysical = _biophysical_summary(resolved, wired, engines.biophysical)
    return Analysis(
        biophysical=biophysical,
        agreement=agreement,
        recall=recall_summary,
        distances=distances,
        circuit_beta=circuit_beta,
        activation_curve=activation_curve,
        theory_betas=theory_betas,
        optimal_radii=optimal,
        learned=learned,
        neuron_sweep=sweep,
        exact_check=exact,
    )


#: The issue's acceptance targets for the biophysical read at noise 0 (against NeuronSDM).
BIOPHYSICAL_TARGETS = {"cosine_dcn": 0.9, "bit_agreement_dcn": 0.95}


def _biophysical_summary(resolved: ResolvedConfig, wired: Wired, result) -> dict:
    """The biophysical run measured against the mirror and against the literature.

    Oracles: NeuronSDM on the same wiring and patterns, attention at the beta measured from
    spikes and theory's beta for the measured transfer curve
    (:func:`cerebellum.engines.biophysical.compare_with_mirror`); published rate ranges
    (:data:`cerebellum.engines.biophysical.LITERATURE_RATES_HZ`); the protocol's own climbing-fibre
    schedule (bursts in writes only) and the rule's bounds.
    """
    from cerebellum.engines.biophysical import (
        PER_LEVEL_MEASURES,
        compare_with_mirror,
        rates_against_literature,
    )

    params = resolved.params
    measured = compare_with_mirror(
        result,
        wired.wiring,
        wired.patterns.numpy(),
        wired.values.numpy(),
        noise=wired.noise,
        rng=resolved.generators.bootstrap,
    )
    per_level = {"noise_levels": [int(v) for v in measured["noise_levels"]]}
    for key in PER_LEVEL_MEASURES:
        if key in measured:
            per_level[key] = _nan_to_none(measured[key])
    at_zero = {
        key: per_level[key][0] if per_level["noise_levels"][0] == 0 else None
        for key in BIOPHYSICAL_TARGETS
    }
    low, high = measured["beta_ci"]
    predicted = float(measured["beta_predicted"])
    cf = params.cells.climbing
    n_per_channel = params.cells.purkinje.n_per_channel
    write_bursts = int(result.complex_spike_counts.sum()) // n_per_channel
    weights_after = result.pf_weights_after
    timings = dict(result.timings_s)
    wall = timings.get("total", float("nan"))
    calibration = result.calibration
    return {
        "decoding": (
            "read_c = (x_c - x_zero) / (x_one - x_zero) from DCN spike counts x in "
            f"[onset + {result.decode_delay_s * 1e3:g} ms, onset + "
            f"{result.presentation_s * 1e3:g} ms) of each read, against the reference "
            "channels of the same read (x_zero, x_one: the mean count of the "
            f"{params.cells.purkinje.n_reference_per_kind} channels of each kind; zero: LTP "
            "only; one: LTD on every write)"
        ),
        "per_level": per_level,
        # reads whose two kinds of reference tied (no scale to decode against): NaN, counted
        # here and scored as a read of 0 by the per-level measures
        "n_undecoded_reads": int(np.isnan(result.readouts[0].read).any(axis=1).sum()),
        "targets": dict(BIOPHYSICAL_TARGETS),
        "at_noise_0": at_zero,
        "meets_targets_at_noise_0": all(
            value is not None and value >= BIOPHYSICAL_TARGETS[key]
            for key, value in at_zero.items()
        ),
        "beta_from_spikes": {
            "fit": "Poisson log-linear on spike-set intersections, query-cluster bootstrap",
            "fit_radius": int(measured["fit_radius"]),
            "beta": float(measured["beta_measured"]),
            "ci_low": float(low),
            "ci_high": float(high),
            "predicted": predicted,
            "predicted_label": "theory's fit_beta for the measured transfer curve",
            "inside_ci": bool(low <= predicted <= high),
        },
        "rates": rates_against_literature(result.rates_hz),
        "complex_spikes": {
            "burst_spikes": int(cf.n_burst_spikes),
            "bursts_in_writes": write_bursts,
            "climbing_spikes_outside_writes": int(result.n_spikes["climbing"]) - write_bursts,
        },
        "pf_weights": {
            "w_initial": float(cf.w_initial),
            "w_max": float(cf.w_max),
            "before_mean": float(np.mean(result.pf_weights_before)),
            "after_mean": float(np.mean(weights_after)),
            "after_min": float(np.min(weights_after)),
            "after_max": float(np.max(weights_after)),
        },
        "calibration": None
        if calibration is None
        else {
            "inhibition_scale": float(calibration.inhibition_scale),
            "target_fraction": float(calibration.target_fraction),
            "measured_fraction": float(calibration.measured_fraction),
            "fraction_sd": float(calibration.fraction_sd),
            "n_queries": int(calibration.fractions.size),
        },
        "performance": {
            "simulated_s": float(result.simulated_s),
            "wall_s": float(wall),
            "simulated_s_per_wall_s": float(result.simulated_s / wall) if wall > 0 else None,
            "n_synaptic_events": int(result.n_synaptic_events),
            "synaptic_events_per_wall_s": float(result.n_synaptic_events / wall)
            if wall > 0
            else None,
            "n_spikes": {pop: int(n) for pop, n in result.n_spikes.items()},
            "n_cells": {pop: int(np.size(r)) for pop, r in result.rates_hz["read"].items()},
            "timings_s": {key: float(value) for key, value in timings.items()},
        },
    }


def _agreement(weights: dict, outputs: dict, noise: np.ndarray, levels) -> dict:
    """Every metric for every engine pair, summarised per noise level."""
    agreement = {}
    for a, b in itertools.combinations(weights, 2):
        by_metric = _pair_metrics(weights[a], weights[b], outputs[a], outputs[b])
        agreement[f"{a}__vs__{b}"] = {
            metric: [_summary(per_query[noise == level]) for level in levels]
            for metric, per_query in by_metric.items()
        }
    return agreement


def _recall_summary(outcome: RecallResult, target_bits, noise: np.ndarray, levels) -> dict:
    wrong = bits_wrong(outcome.final.cpu(), target_bits).numpy()
    converged = outcome.converged.cpu().numpy()
    return {
        "exact_fraction": [float(np.mean(wrong[noise == level] == 0)) for level in levels],
        "bits_wrong": [_summary(wrong[noise == level]) for level in levels],
        "converged_fraction": [float(np.mean(converged[noise == level])) for level in levels],
    }


def _rowwise(metric, a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``metric`` on the rows where ``valid``; NaN elsewhere (e.g. a query that activated no
    neuron has no weight distribution)."""
    out = np.full(a.shape[0], np.nan)
    if valid.any():
        out[valid] = metric(a[valid], b[valid])
    return out


def _pair_metrics(weights_a, weights_b, out_a, out_b) -> dict[str, np.ndarray]:
    valid = (weights_a.sum(axis=1) > 0) & (weights_b.sum(axis=1) > 0)
    # A read that could not be decoded (the biophysical references tied: NaN) has no output
    # metric; it counts as non-finite in the summaries.
    decoded = np.isfinite(out_a).all(axis=1) & np.isfinite(out_b).all(axis=1)
    centred_a, centred_b = 2.0 * out_a - 1.0, 2.0 * out_b - 1.0
    return {
        "weight_kl": _rowwise(metrics.kl_divergence, weights_a, weights_b, valid),
        "weight_tv": _rowwise(metrics.total_variation, weights_a, weights_b, valid),
        "weight_cosine": _rowwise(metrics.cosine_similarity, weights_a, weights_b, valid),
        "weight_spearman": _rowwise(metrics.spearman_correlation, weights_a, weights_b, valid),
        "output_cosine": _rowwise(metrics.cosine_similarity, centred_a, centred_b, decoded),
        "output_max_abs_error": _rowwise(metrics.max_abs_error, out_a, out_b, decoded),
    }


def _summary(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    out = {"n": int(values.size), "n_finite": int(finite.size)}
    if finite.size == 0:
        return {**out, "mean": None, "ci_low": None, "ci_high": None}
    s = metrics.summarize(finite)
    return {**out, "mean": float(s.mean), "ci_low": float(s.low), "ci_high": float(s.high)}


def neuron_count_sweep(
    granule: GranuleLayerParams,
    patterns: torch.Tensor,
    queries: torch.Tensor,
    *,
    factors,
    d_eff: int,
    generator: torch.Generator,
    torch_device: str = "cpu",
) -> list[dict]:
    """Mirror only: NeuronSDM's gap to PatternSDM and its agreement with attention against r.

    For each factor f in ``factors`` a fresh population of ``round(f r)`` neurons is sampled
    from ``generator`` (top-k scales k by f too, so the activation fraction stays), the same
    patterns are written and the same queries read.

    Parameters
    ----------
    granule : GranuleLayerParams
        The circuit's granule layer (r and the activation rule).
    patterns : Tensor of shape (n_patterns, n_dims), uint8
    queries : Tensor of shape (n_queries, n_dims), uint8
    factors : sequence of float
        Multiples of r.
    d_eff : int
        Equivalent radius for PatternSDM and the attention beta.
    generator : torch.Generator
    torch_device : str

    Returns
    -------
    list of dict
        One row per distinct population size, ascending: ``n_neurons`` and summaries of
        ``weight_tv_to_pattern_sdm``, ``output_cosine_to_pattern_sdm`` and
        ``output_cosine_to_attention_ols``.
    """
    g, device = granule, torch_device
    values = patterns.double().to(device)
    reference = PatternSDM(g.n_dims, d_eff).to(device)
    reference.write(patterns.to(device), values)
    attention = AttentionMemory(n_dims=g.n_dims, activation_radius=d_eff, method="ols").to(device)
    attention.write(patterns.to(device), values)
    q = queries.to(device)
    w_ref = reference.weights(q).double().cpu().numpy()
    out_ref = reference.read(q).double().cpu().numpy()
    out_att = attention.read(q).double().cpu().numpy()
    rows = []
    sizes = sorted({max(1, round(g.n_neurons * factor)) for factor in factors})
    for n_neurons in sizes:
        changes = {"n_neurons": n_neurons}
        if g.activation is ActivationRule.TOP_K:  # keep the activation fraction k / r
            changes["top_k"] = max(1, min(n_neurons, round(g.top_k * n_neurons / g.n_neurons)))
        memory = sample_wiring(dataclasses.replace(g, **changes), generator=generator).mirror(
            g.n_dims
        )
        memory = memory.to(device)
        memory.write(patterns.to(device), values)
        w = memory.weights(q).double().cpu().numpy()
        out = memory.read(q).double().cpu().numpy()
        to_reference = _pair_metrics(w, w_ref, out, out_ref)
        to_attention = _pair_metrics(w, w_ref, out, out_att)
        rows.append(
            {
                "n_neurons": n_neurons,
                "weight_tv_to_pattern_sdm": _summary(to_reference["weight_tv"]),
                "output_cosine_to_pattern_sdm": _summary(to_reference["output_cosine"]),
                "output_cosine_to_attention_ols": _summary(to_attention["output_cosine"]),
            }
        )
    return rows


def _circuit_beta(
    counts: np.ndarray,
    distances: np.ndarray,
    n_dims: int,
    d_eff: int,
    *,
    n_neurons: int,
    curves: dict[str, tuple[str | None, ActivationCurve]],
    rng: np.random.Generator,
) -> dict:
    """The circuit's beta from its intersection counts, set against predictions for curves.

    Poisson log-linear fit of the counts at pairs with distance ``t < d`` on the cosine, zero
    counts kept (:func:`models.fitting.estimate_beta_counts`), with a 95% interval from 1000
    bootstrap resamples of whole queries (a query's pairs share one active set). Each curve's
    prediction is the same fit applied to its expected counts ``r E[f(h_q) f(h_p)]`` at exactly
    the same pairs, so prediction and measurement differ only by the counts' randomness; its
    ``theory_all_t_beta`` is the OLS fit over every t = 0..d-1 once (Bricken & Pehlevan's
    design), for reference.

    Parameters
    ----------
    counts : ndarray of shape (n_queries, n_patterns)
        The circuit's intersection counts (``Readout.pattern_intersections``).
    distances : ndarray of int, same shape
    n_dims, d_eff : int
    n_neurons : int
        ``r``, the granule cells.
    curves : dict of str to (label, ActivationCurve)
        Predictions to make, by name; a label of None uses the curve's own label. A measured
        curve is filled at unobserved ``h`` first (:meth:`ActivationCurve.filled`).
    rng : numpy.random.Generator
        The bootstrap's resamples.

    Returns
    -------
    dict
        The :class:`~models.fitting.CountBetaEstimate` fields, ``estimator``,
        ``distance_range`` and ``predictions`` (per name: ``label``, ``beta``, ``inside_ci``,
        ``theory_all_t_beta``, ``n_unobserved``), or ``{"beta": None, "reason": ...}``.
    """
    in_range = distances < max(d_eff, 1)
    cosines = 1.0 - 2.0 * distances[in_range] / n_dims
    clusters = np.broadcast_to(np.arange(distances.shape[0])[:, None], distances.shape)
    try:
        estimate = estimate_beta_counts(
            cosines, counts[in_range], clusters=clusters[in_range], n_resamples=1000, rng=rng
        )
    except ValueError as error:
        return {"beta": None, "reason": str(error)}
    out = {
        "estimator": "poisson_loglinear_query_bootstrap",
        **asdict(estimate),
        "distance_range": [0, int(max(d_eff, 1) - 1)],
    }
    predictions = {}
    for name, (label, curve) in curves.items():
        n_unobserved = curve.n_unobserved
        if n_unobserved == curve.probabilities.size:
            predictions[name] = {"label": label or curve.label, "beta": None}
            continue
        curve = curve.filled()
        log_shared = log_curve_intersection(n_dims, curve, distances[in_range])
        expected = n_neurons * np.exp(np.asarray(log_shared))
        try:
            beta = estimate_beta_counts(cosines, expected).beta
        except ValueError:  # the curve predicts no shared cell at any fitted pair
            beta = None
        try:
            all_t = theory.fit_beta(n_dims, curve, fit_radius=max(d_eff, 2)).beta
        except ValueError:
            all_t = None
        predictions[name] = {
            "label": label or curve.label,
            "beta": beta,
            "inside_ci": None if beta is None else estimate.contains(beta),
            "theory_all_t_beta": all_t,
            "n_unobserved": n_unobserved,
        }
    out["predictions"] = predictions
    return out


def _nan_to_none(values) -> list:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _curve_summary(measured: ActivationCurve, closed_form: ActivationCurve | None) -> dict:
    """The measured transfer curve and, where the rule has one, its closed form.

    ``closed_form_check`` counts the observed ``h`` whose closed-form value lies inside the
    measured Clopper-Pearson interval.
    """
    observed = measured.n_observations > 0
    out = {
        "n_inputs": measured.n_inputs,
        "confidence": measured.confidence,
        "measured": _nan_to_none(measured.probabilities),
        "ci_low": _nan_to_none(measured.ci_low),
        "ci_high": _nan_to_none(measured.ci_high),
        "n_observations": [int(v) for v in measured.n_observations],
        "closed_form": None,
        "closed_form_label": None,
        "closed_form_check": None,
    }
    if closed_form is not None:
        f = closed_form.probabilities
        inside = (f >= measured.ci_low - 1e-12) & (f <= measured.ci_high + 1e-12)
        outside = np.flatnonzero(observed & ~inside)
        out["closed_form"] = [float(v) for v in f]
        out["closed_form_label"] = closed_form.label
        out["closed_form_check"] = {
            "n_observed": int(observed.sum()),
            "n_inside": int((observed & inside).sum()),
            "outside_h": [int(h) for h in outside],
        }
    return out


def exact_check(
    circuit_weights: np.ndarray,
    mirror_weights: np.ndarray,
    circuit_outputs: np.ndarray,
    mirror_outputs: np.ndarray,
    circuit_active: np.ndarray,
    mirror_active: np.ndarray,
    *,
    applies: bool,
    tolerance: float = EXACT_TOLERANCE,
) -> dict:
    """Whether the algorithmic circuit equals its exact mirror (DESIGN.md: any gap is a bug).

    Parameters
    ----------
    circuit_weights, mirror_weights : ndarray of shape (n_queries, n_patterns)
    circuit_outputs, mirror_outputs : ndarray of shape (n_queries, n_values)
    circuit_active, mirror_active : ndarray of bool, shape (n_queries, n_neurons)
        Active granule cells / active mirror neurons.
    applies : bool
        True in the algorithmic mode; the Poisson mode agrees only statistically.
    tolerance : float
        Largest allowed absolute weight gap and relative output gap.

    Returns
    -------
    dict
        ``applies``, ``tolerance``, ``max_weight_abs_gap``, ``max_output_relative_gap``
        (relative to ``max(|mirror output|, 1)``: absolute for reads of {0, 1} values, relative
        for large values; over the finite outputs), ``non_finite_outputs`` (outputs that are NaN
        or infinite: a biophysical read that could not be decoded; a failure where the check
        applies), ``active_set_mismatches`` and ``passed``.
    """
    weight_gap = float(np.abs(circuit_weights - mirror_weights).max(initial=0.0))
    scale = np.maximum(np.abs(mirror_outputs), 1.0)
    relative = np.abs(circuit_outputs - mirror_outputs) / scale
    finite = np.isfinite(relative)
    output_gap = float(relative[finite].max(initial=0.0))
    mismatches = int((np.asarray(circuit_active) != np.asarray(mirror_active)).sum())
    undecoded = int((~finite).sum())
    return {
        "applies": bool(applies),
        "tolerance": float(tolerance),
        "max_weight_abs_gap": weight_gap,
        "max_output_relative_gap": output_gap,
        "non_finite_outputs": undecoded,
        "active_set_mismatches": mismatches,
        "passed": bool(
            weight_gap <= tolerance
            and output_gap <= tolerance
            and mismatches == 0
            and undecoded == 0
        ),
    }


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Comparison:
    """Everything the comparison measured.

    Attributes
    ----------
    config : CompareConfig
    params : CircuitParams
    results : dict
        The ``results.json`` payload (schema in ``docs/results_schema.md``).
    readout : Readout
        The circuit's read of every query (noise levels in order).
    figure_data : dict
        Plain arrays for the figures.
    wall_time_s : float
    """

    config: CompareConfig
    params: CircuitParams
    results: dict
    readout: Readout
    figure_data: dict
    wall_time_s: float
    nwb_content: dict | None = None

    @property
    def exact_agreement_failed(self) -> bool:
        """Deterministic mode only: the circuit and NeuronSDM differ by more than 1e-9."""
        check = self.results["exact_check"]
        return check["applies"] and not check["passed"]


def assemble(
    resolved: ResolvedConfig,
    engines: EngineOutputs,
    analysis: Analysis,
    *,
    wall_time_s: float = 0.0,
) -> Comparison:
    """Stage 5: the ``results.json`` payload and the figures' arrays.

    Parameters
    ----------
    resolved : ResolvedConfig
    engines : EngineOutputs
    analysis : Analysis
    wall_time_s : float
        Duration of the run so far.

    Returns
    -------
    Comparison
    """
    return Comparison(
        config=resolved.config,
        params=resolved.params,
        results=_results_payload(resolved, engines, analysis),
        readout=engines.readout,
        figure_data=_figure_data(engines, analysis),
        wall_time_s=wall_time_s,
        nwb_content=engines.nwb_content,
    )


def _results_payload(resolved: ResolvedConfig, engines: EngineOutputs, analysis: Analysis) -> dict:
    params, g, config = resolved.params, resolved.granule, resolved.config
    active_counts = engines.readout.active_granule.sum(axis=1)
    learned = analysis.learned
    return {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "config": config.to_dict(),
        "circuit": {
            "preset": params.name,
            "n_dims": g.n_dims,
            "n_neurons": g.n_neurons,
            "n_patterns": config.n_patterns,
            "activation": g.activation.value,
            "activation_radius": g.activation_radius,
            "equivalent_radius": resolved.equivalent_radius,
            "top_k": g.top_k,
            "n_inputs": g.n_inputs,
            "mode": params.dynamics.mode,
            "device": params.device.device,
            "active_granule_fraction": _summary(active_counts / g.n_neurons),
        },
        "noise_levels": list(resolved.noise_levels),
        "n_queries_per_level": config.n_queries,
        "engines": engines.engines,
        "metrics": list(WEIGHT_METRICS + OUTPUT_METRICS),
        "agreement": analysis.agreement,
        "recall": analysis.recall,
        "beta": {
            "circuit": analysis.circuit_beta,
            "theory": dict(analysis.theory_betas),
            "optimal_radii": analysis.optimal_radii,
            "learned_transformer": {
                "citation": learned.citation,
                "n": int(learned.beta.size),
                "mean": float(learned.beta.mean()),
                "min": float(learned.beta.min()),
                "max": float(learned.beta.max()),
            },
        },
        "activation_curve": analysis.activation_curve,
        "neuron_sweep": analysis.neuron_sweep,
        "exact_check": analysis.exact_check,
        "biophysical": analysis.biophysical,
    }


def _figure_data(engines: EngineOutputs, analysis: Analysis) -> dict:
    circuit_beta = analysis.circuit_beta
    measured = circuit_beta.get("beta") is not None
    return {
        "distances": analysis.distances.ravel(),
        "weights": {
            "circuit": engines.weights["circuit"].ravel(),
            "pattern_sdm (theory)": engines.weights["pattern_sdm"].ravel(),
            "attention (ols)": engines.weights["attention_ols"].ravel(),
        },
        "betas": {
            "circuit": circuit_beta.get("beta"),
            **{
                f"predicted: {name.replace('_', ' ')}": prediction["beta"]
                for name, prediction in circuit_beta.get("predictions", {}).items()
            },
            **{f"theory {method}": beta for method, beta in analysis.theory_betas.items()},
            **{
                f"optimal {criterion} (d={optimum['radius']})": optimum["beta_ols"]
                for criterion, optimum in analysis.optimal_radii.items()
                if optimum["beta_ols"] is not None
            },
        },
        "circuit_interval": (
            (circuit_beta["ci_low"], circuit_beta["ci_high"]) if measured else None
        ),
        "learned_betas": analysis.learned.beta,
        "raster": engines.raster,
        "biophysical": _biophysical_figure_data(engines.biophysical),
    }


def _biophysical_figure_data(result) -> dict | None:
    """The biophysical run's rasters, traces, rates and weights for the figures."""
    if result is None:
        return None
    return {
        "raster": result.raster,
        "raster_window_s": result.raster_window_s,
        "traces": result.traces,
        "rates_hz": result.rates_hz,
        "onsets_s": result.onsets_s,
        "presentation_s": result.presentation_s,
        "pf_weights_before": result.pf_weights_before,
        "pf_weights_after": result.pf_weights_after,
        "channel_names": result.channel_names,
    }


# --------------------------------------------------------------------------- the job


def run_comparison(
    config: CompareConfig | ResolvedConfig,
    *,
    progress: Progress | None = None,
    nwb: bool = False,
    report=None,
) -> Comparison:
    """Run the circuit and the mirror on one wiring and measure how they agree.

    configure -> wire -> run engines -> analyse -> assemble (module docstring).

    Parameters
    ----------
    config : CompareConfig or ResolvedConfig
        A ResolvedConfig (from :func:`configure`) is used as it is, so a caller that validated
        the config first does not resolve it again.
    progress : callable, optional
        Called with a short label as each step starts (the CLI drives a tqdm bar with it).
    nwb : bool
        Keep the run's spikes, rates, PF -> Purkinje weights and epochs for ``spikes.nwb``
        (:attr:`Comparison.nwb_content`; :func:`cerebellum.io.report.write_run` writes it).
    report : callable, optional
        Brian2's ``report(elapsed, completed, start, duration)`` callback, called about once a
        second inside every simulation run at runtime (the CLI shows it on its bar).

    Returns
    -------
    Comparison
    """
    step = progress or _silent
    started = time.perf_counter()
    resolved = config if isinstance(config, ResolvedConfig) else configure(config)
    step("sampling wiring and patterns")
    wired = wire(resolved)
    engines = run_engines(resolved, wired, progress=step, nwb=nwb, report=report)
    analysis = analyse(resolved, wired, engines, progress=step)
    return assemble(resolved, engines, analysis, wall_time_s=time.perf_counter() - started)


def _silent(label: str) -> None:
    """A progress callback that shows nothing."""
