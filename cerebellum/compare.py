r"""The comparison job: does the spiking cerebellum compute attention?

One wiring, two engines (DESIGN.md section 2). The granule-cell addresses are sampled once; the
same arrays build the Brian2 circuit and the :class:`models.sdm.NeuronSDM` mirror. The job
writes ``m`` random patterns autoassociatively (address = value = the pattern's bits, carried by
the climbing fibres), adds one one-hot Purkinje channel per pattern so the circuit exposes each
pattern's weight directly (heteroassociation with one-hot values), and reads queries made by
flipping exactly ``t`` bits of a stored pattern for every noise level ``t``. For every query it
collects the pattern weights and read outputs of

1. ``circuit`` -- the spiking circuit's decoded :class:`~cerebellum.readout.Readout`;
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
from the circuit itself: the OLS slope of log circuit intersection count on
:math:`\cos = 1 - 2t/n` over query-pattern pairs at distance ``t < d`` -- the same range
Bricken & Pehlevan (2021) fit theory over -- with a 95% confidence interval.

Activation rules other than a canonical Hamming ball (top-k, selected coordinates) have no exact
circle-intersection theory; for them ``pattern_sdm`` and the attention betas use the *equivalent
radius*, the Hamming radius with the same activation probability
(:func:`models.theory.radius_for_probability` at ``k / r`` or ``2**-n_inputs``), and the report
says so.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from cerebellum.params import CircuitParams, DeviceParams, GranuleLayerParams
from cerebellum.presets import PRESET_NAMES, poisson_dynamics, preset
from cerebellum.readout import Readout
from cerebellum.results_schema import SCHEMA_VERSION as RESULTS_SCHEMA_VERSION
from cerebellum.wiring import sample_wiring
from models import metrics, theory
from models.attention import AttentionMemory
from models.fitting import estimate_beta
from models.memory import Memory
from models.recall import bits_wrong, flip_bits, recall
from models.reference import learned_qknorm_betas
from models.sdm import PatternSDM, hamming_distances, random_addresses

__all__ = [
    "ACTIVATIONS",
    "BETA_METHODS",
    "RESULTS_SCHEMA_VERSION",
    "CompareConfig",
    "Comparison",
    "build_circuit_params",
    "equivalent_radius",
    "exact_check",
    "neuron_count_sweep",
    "mirror_memories",
    "nearest_radius",
    "resolve_config",
    "run_comparison",
]

ACTIVATIONS = ("radius", "top-k", "selected-coordinate")
BETA_METHODS = ("ols", "reference", "softmax")
MODES = ("deterministic", "poisson")
DEVICES = ("runtime", "cpp_standalone")
EXACT_TOLERANCE = 1e-9
WEIGHT_METRICS = ("weight_kl", "weight_tv", "weight_cosine", "weight_spearman")
OUTPUT_METRICS = ("output_cosine", "output_max_abs_error")


@dataclass(frozen=True, kw_only=True)
class CompareConfig:
    """What the comparison runs. ``None`` fields take the preset's value.

    Parameters
    ----------
    preset : str
        Circuit preset (:data:`cerebellum.presets.PRESET_NAMES`).
    seed : int
        The one integer seed; split with :class:`numpy.random.SeedSequence`.
    mode : {"deterministic", "poisson"}
        Circuit dynamics.
    activation : {"radius", "top-k", "selected-coordinate"} or None
        Granule activation rule; None keeps the preset's.
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
    torch_device : str
        Torch device of the mirror (``cpu`` or ``cuda``).
    """

    preset: str = "default"
    seed: int = 0
    mode: str = "deterministic"
    activation: str | None = None
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
        if self.preset not in PRESET_NAMES:
            raise ValueError(
                f"preset must be one of {', '.join(PRESET_NAMES)}; got {self.preset!r}"
            )
        _check_int("seed", self.seed, 0)
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}; got {self.mode!r}")
        if self.activation is not None and self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.activation!r}"
            )
        for name in ("n_dims", "n_neurons", "top_k"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 1)
        if self.radius is not None:
            _check_int("radius", self.radius, 0)
        _check_int("n_patterns", self.n_patterns, 2)
        _check_int("n_queries", self.n_queries, 2)
        _check_int("recall_steps", self.recall_steps, 1)
        if self.noise_levels is not None:
            if len(self.noise_levels) == 0:
                raise ValueError("noise_levels must hold at least one level; got none")
            for level in self.noise_levels:
                _check_int("noise_levels", level, 0)
            if len(set(self.noise_levels)) != len(self.noise_levels):
                raise ValueError(f"noise_levels must be distinct; got {list(self.noise_levels)}")
        if not self.neuron_sweep or any(
            not isinstance(f, int | float) or not f > 0 for f in self.neuron_sweep
        ):
            raise ValueError(
                f"neuron_sweep must be positive factors of r; got {list(self.neuron_sweep)}"
            )
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}; got {self.device!r}")
        if self.torch_device not in ("cpu", "cuda"):
            raise ValueError(f"torch_device must be 'cpu' or 'cuda'; got {self.torch_device!r}")
        if self.torch_device == "cuda" and not torch.cuda.is_available():
            raise ValueError(
                "torch_device 'cuda' was requested but torch.cuda.is_available() is False on "
                "this machine; use --torch-device cpu"
            )


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")


def build_circuit_params(config: CompareConfig) -> CircuitParams:
    """The preset with the config's overrides applied (validated by the parameter classes).

    A flag that does not apply to the chosen activation rule is an error, never silently
    ignored: ``radius`` belongs to ``radius`` (and to ``top-k`` when ``top_k`` is not given, to
    derive k), ``top_k`` to ``top-k``; ``selected-coordinate`` takes neither.

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
    if config.activation is None:
        activation = {
            ("canonical", "radius"): "radius",
            ("canonical", "top_k"): "top-k",
        }.get((g.wiring, g.inhibition), "selected-coordinate")
    else:
        activation = config.activation
    if config.top_k is not None and activation != "top-k":
        raise ValueError(f"top_k applies only to activation 'top-k'; got activation {activation!r}")
    if config.radius is not None and (
        activation == "selected-coordinate" or (activation == "top-k" and config.top_k is not None)
    ):
        raise ValueError(
            f"radius does not apply to activation {activation!r}"
            + (" with an explicit top_k" if activation == "top-k" else "")
            + f"; got radius {config.radius}"
        )

    def radius() -> int:
        if config.radius is not None:
            if config.radius > n_dims:
                raise ValueError(
                    f"radius must be in [0, n_dims]; got {config.radius} for n_dims={n_dims}"
                )
            return config.radius
        if g.activation_radius is None:  # a selected-coordinate preset asked for a Hamming rule
            return nearest_radius(n_dims, 2.0 ** -(g.n_inputs or 4))
        if g.activation_radius > n_dims:
            raise ValueError(
                f"the preset's activation radius {g.activation_radius} exceeds n_dims={n_dims}; "
                "give a radius"
            )
        return g.activation_radius

    if activation == "radius":
        granule = GranuleLayerParams(n_dims=n_dims, n_neurons=n_neurons, activation_radius=radius())
    elif activation == "top-k":
        top_k = config.top_k
        if top_k is None:
            expected = n_neurons * float(theory.activation_probability(n_dims, radius()))
            top_k = max(1, min(n_neurons, round(expected)))
        granule = GranuleLayerParams(
            n_dims=n_dims, n_neurons=n_neurons, inhibition="top_k", top_k=top_k
        )
    else:
        granule = GranuleLayerParams(
            n_dims=n_dims,
            n_neurons=n_neurons,
            wiring="selected",
            n_inputs=g.n_inputs or 4,
        )
    dynamics = poisson_dynamics() if config.mode == "poisson" else base.dynamics
    device = DeviceParams(device=config.device, codegen_target=base.device.codegen_target)
    return base.replace(granule=granule, dynamics=dynamics, device=device)


def resolve_config(config: CompareConfig) -> tuple[CircuitParams, tuple[int, ...]]:
    """Validate a config against its preset before any work: circuit parameters and noise levels.

    Parameters
    ----------
    config : CompareConfig

    Returns
    -------
    params : CircuitParams
    noise_levels : tuple of int
        The config's levels sorted, or 7 levels from 0 to the equivalent radius.
    """
    params = build_circuit_params(config)
    n = params.granule.n_dims
    d_eff = equivalent_radius(params.granule)
    if d_eff < 2:
        raise ValueError(
            "the (equivalent) activation radius must be >= 2, since the beta fits use distances "
            f"t = 0..d-1; got {d_eff} for activation {_activation_name(params.granule)!r}"
        )
    levels = config.noise_levels
    if levels is None:
        levels = tuple(sorted({round(x) for x in np.linspace(0, d_eff, 7)}))
    if max(levels) > n:
        raise ValueError(f"noise_levels must be in [0, n_dims={n}]; got {max(levels)}")
    return params, tuple(sorted(int(level) for level in levels))


def nearest_radius(n_dims: int, probability: float) -> int:
    """The Hamming radius whose activation probability is closest to ``probability`` (log scale).

    Parameters
    ----------
    n_dims : int
    probability : float
        In (0, 1].

    Returns
    -------
    int
    """
    upper = int(theory.radius_for_probability(n_dims, min(probability, 1.0 - 1e-12)))
    candidates = [d for d in (upper - 1, upper) if 0 <= d <= n_dims]
    target = np.log(probability)
    gaps = [
        abs(np.log(float(theory.activation_probability(n_dims, d))) - target) for d in candidates
    ]
    return candidates[int(np.argmin(gaps))]


def equivalent_radius(granule: GranuleLayerParams) -> int:
    """The Hamming radius d whose activation probability best matches the granule layer's.

    Parameters
    ----------
    granule : GranuleLayerParams

    Returns
    -------
    int
        ``activation_radius`` in radius mode; otherwise the radius whose activation probability
        is closest, on a log scale, to ``k / r`` (top-k) or ``2**-n_inputs`` (selected
        coordinates). It is an approximation for those rules: their weights follow other laws.
    """
    if granule.wiring == "selected":
        probability = 2.0**-granule.n_inputs
    elif granule.inhibition == "top_k":
        probability = granule.top_k / granule.n_neurons
    else:
        return int(granule.activation_radius)
    return nearest_radius(granule.n_dims, probability)


@dataclass
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
    figure_data: dict = field(default_factory=dict)
    wall_time_s: float = 0.0

    @property
    def exact_agreement_failed(self) -> bool:
        """Deterministic mode only: the circuit and NeuronSDM differ by more than 1e-9."""
        check = self.results["exact_check"]
        return check["applies"] and not check["passed"]


class _CircuitMemory(Memory):
    """Reads through the spiking circuit, so :func:`models.recall.recall` can iterate it."""

    def __init__(self, protocol, n_dims: int) -> None:
        super().__init__()
        self.protocol = protocol
        self.n_dims = n_dims

    def write(self, addresses, values):  # pragma: no cover - writes go through the protocol
        raise NotImplementedError("the circuit is written through its Protocol")

    def weights(self, queries):  # pragma: no cover - weights come from the Readout
        raise NotImplementedError("circuit weights come from the Readout")

    def read(self, queries: torch.Tensor) -> torch.Tensor:
        self.protocol.restore("written")
        readout = self.protocol.read(queries.cpu().numpy())
        return torch.from_numpy(readout.read)


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


def _generators(seed: int) -> dict[str, object]:
    names = ("wiring", "patterns", "queries", "brian", "sweep")
    children = np.random.SeedSequence(seed).spawn(len(names))
    out = {}
    for name, child in zip(names, children, strict=True):
        if name == "brian":
            out[name] = np.random.default_rng(child)
        else:
            out[name] = torch.Generator().manual_seed(int(child.generate_state(1)[0]))
    return out


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


def _rowwise(metric, a: np.ndarray, b: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``metric`` on the rows where ``valid``; NaN elsewhere (e.g. a query that activated no
    neuron has no weight distribution)."""
    out = np.full(a.shape[0], np.nan)
    if valid.any():
        out[valid] = metric(a[valid], b[valid])
    return out


def _pair_metrics(weights_a, weights_b, out_a, out_b) -> dict[str, np.ndarray]:
    valid = (weights_a.sum(axis=1) > 0) & (weights_b.sum(axis=1) > 0)
    centred_a, centred_b = 2.0 * out_a - 1.0, 2.0 * out_b - 1.0
    return {
        "weight_kl": _rowwise(metrics.kl_divergence, weights_a, weights_b, valid),
        "weight_tv": _rowwise(metrics.total_variation, weights_a, weights_b, valid),
        "weight_cosine": _rowwise(metrics.cosine_similarity, weights_a, weights_b, valid),
        "weight_spearman": _rowwise(metrics.spearman_correlation, weights_a, weights_b, valid),
        "output_cosine": metrics.cosine_similarity(centred_a, centred_b),
        "output_max_abs_error": metrics.max_abs_error(out_a, out_b),
    }


def _summary(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    out = {"n": int(values.size), "n_finite": int(finite.size)}
    if finite.size == 0:
        return {**out, "mean": None, "ci_low": None, "ci_high": None}
    s = metrics.summarize(finite)
    return {**out, "mean": float(s.mean), "ci_low": float(s.low), "ci_high": float(s.high)}


def _mirror_weights_outputs(memories: dict[str, Memory], queries) -> tuple[dict, dict]:
    weights, outputs = {}, {}
    for name, memory in memories.items():
        weights[name] = memory.weights(queries).double().cpu().numpy()
        outputs[name] = memory.read(queries).double().cpu().numpy()
    return weights, outputs


def neuron_count_sweep(config, params, patterns, queries, d_eff, generator) -> list[dict]:
    """Mirror only: NeuronSDM's gap to PatternSDM and its agreement with attention against r.

    For each factor f in ``config.neuron_sweep`` a fresh population of ``round(f r)`` neurons is
    sampled from ``generator`` (top-k scales k by f too, so the activation fraction stays), the
    same patterns are written and the same queries read.

    Parameters
    ----------
    config : CompareConfig
    params : CircuitParams
    patterns : Tensor of shape (n_patterns, n_dims), uint8
    queries : Tensor of shape (n_queries, n_dims), uint8
    d_eff : int
        Equivalent radius for PatternSDM and the attention beta.
    generator : torch.Generator

    Returns
    -------
    list of dict
        One row per distinct population size, ascending: ``n_neurons`` and summaries of
        ``weight_tv_to_pattern_sdm``, ``output_cosine_to_pattern_sdm`` and
        ``output_cosine_to_attention_ols``.
    """
    g = params.granule
    device = config.torch_device
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
    sizes = sorted({max(1, round(g.n_neurons * factor)) for factor in config.neuron_sweep})
    for n_neurons in sizes:
        granule = dataclasses.replace(g, n_neurons=n_neurons)
        if g.inhibition == "top_k":  # keep the activation fraction k / r
            top_k = max(1, min(n_neurons, round(g.top_k * n_neurons / g.n_neurons)))
            granule = dataclasses.replace(granule, top_k=top_k)
        memory = sample_wiring(granule, generator=generator).mirror(g.n_dims)
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


def _circuit_beta(readout: Readout, distances: np.ndarray, n_dims: int, d_eff: int) -> dict:
    """OLS beta of log circuit intersection counts on cosine over pairs with distance < d.

    The same estimator is applied to the expected counts of theory at exactly the same
    (query, pattern) pairs (``theory_same_pairs_beta``): the theory fit over t = 0..d-1 weighs
    every distance once, the circuit's pairs weigh the noise levels that were queried, and
    log N is not exactly linear in the cosine, so only the same-pairs value is a like-for-like
    reference for the circuit's interval.
    """
    counts = readout.pattern_intersections
    in_range = distances < max(d_eff, 1)
    cosines = 1.0 - 2.0 * distances[in_range] / n_dims
    try:
        estimate = estimate_beta(cosines, counts[in_range])
    except ValueError as error:
        return {"beta": None, "reason": str(error)}
    out = asdict(estimate)
    out["distance_range"] = [0, int(max(d_eff, 1) - 1)]
    expected = np.exp(theory.log_circle_intersection(n_dims, d_eff, distances[in_range]))
    out["theory_same_pairs_beta"] = estimate_beta(cosines, expected).beta
    return out


def run_comparison(
    config: CompareConfig, *, progress: Callable[[str], None] | None = None
) -> Comparison:
    """Run the circuit and the mirror on one wiring and measure how they agree.

    Parameters
    ----------
    config : CompareConfig
    progress : callable, optional
        Called with a short label as each stage starts (the CLI drives a tqdm bar with it).

    Returns
    -------
    Comparison
    """
    from cerebellum.circuit import build_circuit
    from cerebellum.protocol import Protocol, run_protocol

    step = progress or (lambda label: None)
    started = time.perf_counter()
    params, levels = resolve_config(config)
    g = params.granule
    n, m = g.n_dims, config.n_patterns
    d_eff = equivalent_radius(g)
    gens = _generators(config.seed)

    step("sampling wiring and patterns")
    wiring = sample_wiring(g, generator=gens["wiring"])
    patterns = random_addresses(m, n, generator=gens["patterns"])
    values = patterns.double()
    queries, targets, noise = _noise_queries(patterns, levels, config.n_queries, gens["queries"])

    step("simulating the circuit (write + read)")
    circuit_recall = None
    raster = None
    if params.device.device == "runtime":
        circuit = build_circuit(params, wiring, n_values=n, n_pattern_channels=m, rng=gens["brian"])
        protocol = Protocol(circuit)
        protocol.write(patterns, values)
        protocol.store("written")
        readout = protocol.read(queries)
        raster = _raster_data(protocol, m)
        step("iterating reads through the circuit (recall)")
        circuit_recall = recall(
            _CircuitMemory(protocol, n), queries, max_steps=config.recall_steps, binarize=True
        )
    else:
        result = run_protocol(params, wiring, patterns, values, [queries], rng=gens["brian"])
        readout = result.readouts[0]

    step("mirror: NeuronSDM, PatternSDM, attention")
    device = config.torch_device
    memories = mirror_memories(wiring, patterns, values, d_eff, torch_device=device)
    mirror = memories["neuron_sdm"]
    q_dev = queries.to(device)
    weights, outputs = _mirror_weights_outputs(memories, q_dev)
    weights = {"circuit": readout.pattern_weights, **weights}
    outputs = {"circuit": readout.read, **outputs}

    step("agreement metrics")
    engines = list(weights)
    noise_np = noise.numpy()
    per_query = {}
    for a, b in itertools.combinations(engines, 2):
        per_query[f"{a}__vs__{b}"] = _pair_metrics(weights[a], weights[b], outputs[a], outputs[b])
    agreement = {
        pair: {
            metric: [_summary(values_[noise_np == level]) for level in levels]
            for metric, values_ in by_metric.items()
        }
        for pair, by_metric in per_query.items()
    }

    step("recall for every engine")
    recall_results = {}
    target_bits = patterns[targets]
    for name, memory in memories.items():
        outcome = recall(memory, q_dev, max_steps=config.recall_steps, binarize=True)
        recall_results[name] = outcome
    if circuit_recall is not None:
        recall_results = {"circuit": circuit_recall, **recall_results}
    recall_summary = {}
    for name, outcome in recall_results.items():
        wrong = bits_wrong(outcome.final.cpu(), target_bits).numpy()
        recall_summary[name] = {
            "exact_fraction": [float(np.mean(wrong[noise_np == lv] == 0)) for lv in levels],
            "bits_wrong": [_summary(wrong[noise_np == lv]) for lv in levels],
            "converged_fraction": [
                float(np.mean(outcome.converged.cpu().numpy()[noise_np == lv])) for lv in levels
            ],
        }

    step("beta from the circuit")
    distances = hamming_distances(queries, patterns).numpy()  # (n_queries, n_patterns)
    circuit_beta = _circuit_beta(readout, distances, n, d_eff)
    theory_fits = {method: theory.fit_beta(n, d_eff, method=method) for method in BETA_METHODS}
    ols = theory_fits["ols"].beta
    if circuit_beta.get("beta") is not None:
        circuit_beta["theory_ols_beta"] = ols
        circuit_beta["theory_ols_inside_ci"] = bool(
            circuit_beta["ci_low"] <= ols <= circuit_beta["ci_high"]
        )
        circuit_beta["difference_to_theory_ols"] = circuit_beta["beta"] - ols
        same = circuit_beta["theory_same_pairs_beta"]
        circuit_beta["theory_same_pairs_inside_ci"] = bool(
            circuit_beta["ci_low"] <= same <= circuit_beta["ci_high"]
        )
    optimal = {}
    for criterion in ("snr", "memory", "critical_distance"):
        radius = int(theory.optimal_radius(n, m, n_neurons=g.n_neurons, criterion=criterion))
        beta = float(theory.fit_beta(n, radius).beta) if radius >= 2 else None
        optimal[criterion] = {"radius": radius, "beta_ols": beta}
    learned = learned_qknorm_betas()

    step("neuron-count sweep (mirror)")
    sweep = neuron_count_sweep(config, params, patterns, queries, d_eff, gens["sweep"])

    exact = exact_check(
        weights["circuit"],
        weights["neuron_sdm"],
        outputs["circuit"],
        outputs["neuron_sdm"],
        readout.active_granule,
        mirror.active(q_dev).cpu().numpy(),
        applies=params.dynamics.mode == "deterministic",
    )
    active_counts = readout.active_granule.sum(axis=1)

    results = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "config": _config_dict(config),
        "circuit": {
            "preset": params.name,
            "n_dims": n,
            "n_neurons": g.n_neurons,
            "n_patterns": m,
            "activation": _activation_name(g),
            "activation_radius": g.activation_radius,
            "equivalent_radius": d_eff,
            "top_k": g.top_k,
            "n_inputs": g.n_inputs,
            "mode": params.dynamics.mode,
            "device": params.device.device,
            "active_granule_fraction": _summary(active_counts / g.n_neurons),
        },
        "noise_levels": list(levels),
        "n_queries_per_level": config.n_queries,
        "engines": engines,
        "metrics": list(WEIGHT_METRICS + OUTPUT_METRICS),
        "agreement": agreement,
        "recall": recall_summary,
        "beta": {
            "circuit": circuit_beta,
            "theory": {method: fit.beta for method, fit in theory_fits.items()},
            "optimal_radii": optimal,
            "learned_transformer": {
                "citation": learned.citation,
                "n": int(learned.beta.size),
                "mean": float(learned.beta.mean()),
                "min": float(learned.beta.min()),
                "max": float(learned.beta.max()),
            },
        },
        "neuron_sweep": sweep,
        "exact_check": exact,
    }
    figure_data = {
        "distances": distances.ravel(),
        "weights": {
            "circuit": weights["circuit"].ravel(),
            "pattern_sdm (theory)": weights["pattern_sdm"].ravel(),
            "attention (ols)": weights["attention_ols"].ravel(),
        },
        "betas": {
            "circuit": circuit_beta.get("beta"),
            **{f"theory {k}": v for k, v in results["beta"]["theory"].items()},
            **{
                f"optimal {k} (d={v['radius']})": v["beta_ols"]
                for k, v in optimal.items()
                if v["beta_ols"] is not None
            },
        },
        "circuit_interval": (
            (circuit_beta["ci_low"], circuit_beta["ci_high"])
            if circuit_beta.get("beta") is not None
            else None
        ),
        "learned_betas": learned.beta,
        "raster": raster,
    }
    return Comparison(
        config=config,
        params=params,
        results=results,
        readout=readout,
        figure_data=figure_data,
        wall_time_s=time.perf_counter() - started,
    )


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
    """Whether the deterministic circuit equals its exact mirror (DESIGN.md: any gap is a bug).

    Parameters
    ----------
    circuit_weights, mirror_weights : ndarray of shape (n_queries, n_patterns)
    circuit_outputs, mirror_outputs : ndarray of shape (n_queries, n_values)
    circuit_active, mirror_active : ndarray of bool, shape (n_queries, n_neurons)
        Active granule cells / active mirror neurons.
    applies : bool
        True in deterministic mode; Poisson mode agrees only statistically.
    tolerance : float
        Largest allowed absolute weight gap and relative output gap.

    Returns
    -------
    dict
        ``applies``, ``tolerance``, ``max_weight_abs_gap``, ``max_output_relative_gap``
        (relative to ``max(|mirror output|, 1)``: absolute for reads of {0, 1} values, relative
        for large values), ``active_set_mismatches`` and ``passed``.
    """
    weight_gap = float(np.abs(circuit_weights - mirror_weights).max(initial=0.0))
    scale = np.maximum(np.abs(mirror_outputs), 1.0)
    output_gap = float((np.abs(circuit_outputs - mirror_outputs) / scale).max(initial=0.0))
    mismatches = int((np.asarray(circuit_active) != np.asarray(mirror_active)).sum())
    return {
        "applies": bool(applies),
        "tolerance": float(tolerance),
        "max_weight_abs_gap": weight_gap,
        "max_output_relative_gap": output_gap,
        "active_set_mismatches": mismatches,
        "passed": bool(weight_gap <= tolerance and output_gap <= tolerance and mismatches == 0),
    }


def _activation_name(granule: GranuleLayerParams) -> str:
    if granule.wiring == "selected":
        return "selected-coordinate"
    return "top-k" if granule.inhibition == "top_k" else "radius"


def _config_dict(config: CompareConfig) -> dict:
    out = asdict(config)
    out["noise_levels"] = None if config.noise_levels is None else list(config.noise_levels)
    out["neuron_sweep"] = list(config.neuron_sweep)
    return out


def _raster_data(protocol, n_patterns: int) -> dict:
    """Granule spikes and Purkinje/DCN rates of the last write window and the first read window.

    Called right after the first read, so the monitors hold the writes and one read set.
    """
    circuit = protocol.circuit
    window_s = float(circuit.window_duration)
    start_s = (n_patterns - 1) * window_s
    stop_s = start_s + 2 * window_s
    half_step = 0.5 * float(circuit.params.dynamics.dt)

    def select(monitor, *names):
        t = np.asarray(monitor.t_)
        keep = (t >= start_s - half_step) & (t < stop_s - half_step)
        out = {"times_s": t[keep], "cells": np.asarray(monitor.i)[keep]}
        for name in names:
            out[name] = np.asarray(monitor.variables[name].get_value(), dtype=float)[keep]
        return out

    return {
        "window_s": window_s,
        "start_s": start_s,
        "granule": select(circuit.monitors["granule_spikes"]),
        "purkinje": select(circuit.monitors["purkinje"], "rate"),
        "dcn": select(circuit.monitors["dcn"], "rate"),
    }
