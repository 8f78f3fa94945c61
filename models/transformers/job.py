"""The ``transformer-beta`` job: effective betas of a pre-trained Transformer beside SDM's.

``run_transformer_beta(config)`` loads a model offline (:func:`models.transformers.load_model`),
tokenises the texts (the passages shipped in ``models/data/texts/everyday_english.txt`` unless
``texts`` names a file), captures every head's queries and keys, computes
:func:`models.transformers.head_statistics` and the SDM reference betas for n = d_head,
m = ``n_patterns`` (the model's context length unless given) and r = 2^n, and returns the
results as a JSON-ready dict. ``write_transformer_beta_run(run, directory)`` writes
``params.json``, ``results.json``, ``report.md`` and the figures
(:mod:`models.transformers.figures`, imported only then); the caller adds ``meta.json`` and makes
the directory appear atomically (``cerebellar-sdm transformer-beta`` does both). ``layer_table``
is the per-layer Markdown table printed by the CLI and placed in the report.

The job needs nothing from Brian2, so it lives in :mod:`models`: importing it loads neither
``brian2`` nor ``cerebellum`` (``tests/test_layering.py``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from models.jsonio import write_json
from models.validation import check_choice, check_int

__all__ = [
    "FIGURES",
    "RESULTS_SCHEMA",
    "TransformerBetaConfig",
    "TransformerBetaRun",
    "check_inputs",
    "layer_table",
    "reference_table",
    "run_transformer_beta",
    "write_transformer_beta_run",
]

RESULTS_SCHEMA = "cerebellar-sdm/transformer-beta/1"

FIGURES = {
    "beta_by_layer.png": "fitted and paper-estimator beta of each head, by layer, with SDM lines",
    "beta_by_head.png": "the same for every head in layer-major order",
    "conditions.png": "norm spread, query-key cosines, distance of attention from softmax(β cos)",
}

_CRITERIA_LABELS = {"memory": "memory", "snr": "SNR", "critical_distance": "critical distance"}
_CAPTURE_TOLERANCE = 1e-5  # float32 attention recomputed in float64: errors are ~1e-7

# the per-head quantities summarised per layer in ``results["layers"]``
_LAYER_FIELDS = (
    "beta_paper_max",
    "beta_paper_text_mean",
    "beta_paper_token_mean",
    "beta_fit",
    "beta_row_mean",
    "tv_fit",
    "tv_paper",
    "tv_row",
    "kl_fit",
    "kl_paper",
    "kl_row",
    "query_norm_cv",
    "key_norm_cv",
    "cosine_mean",
    "cosine_q95",
    "attended_cosine",
)

# what each estimator in ``results.json`` is (its ``estimators`` entry)
_ESTIMATORS = {
    "beta_paper_max": "max over every (query, allowed key) pair of every text of q.k s",
    "beta_paper_text_mean": "max over the pairs of each text, averaged over texts",
    "beta_paper_token_mean": "max over the keys of each query, averaged over queries",
    "beta_fit": "argmin of mean over rows of KL(attention || softmax(beta cos(q, k)))",
    "beta_row_mean": "mean over rows of ||q_i|| mean_j ||k_j|| s",
    "tv": "mean over rows of 0.5 sum_j |A_ij - P_ij|",
    "kl": "mean over rows of KL(A_i || P_i) in nats",
}


@dataclass(frozen=True, kw_only=True)
class TransformerBetaConfig:
    """What to measure.

    Attributes
    ----------
    model : str
        Local directory, installed package name or locally cached model id
        (:func:`models.transformers.resolve_model_path`).
    texts : str, optional
        A text file of passages (blank-line separated, ``#`` comments); ``None`` uses the
        passages shipped with the package.
    n_patterns : int, optional
        m for the SDM optimal radii; ``None`` is the model's context length.
    max_tokens : int, optional
        Truncate each passage to this many tokens (special tokens included); ``None`` is the
        context length.
    fit_method : {"reference", "ols", "softmax"}
        :func:`models.theory.fit_beta` method of the SDM reference betas; ``"reference"``
        reproduces the paper's published values.
    """

    model: str
    texts: str | None = None
    n_patterns: int | None = None
    max_tokens: int | None = None
    fit_method: str = "reference"

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError(f"model must name a directory or package; got {self.model!r}")
        if self.texts is not None and not Path(self.texts).is_file():
            raise ValueError(f"--texts {self.texts} is not a file")
        if self.n_patterns is not None:
            object.__setattr__(self, "n_patterns", check_int(self.n_patterns, "n_patterns", low=1))
        if self.max_tokens is not None:
            object.__setattr__(self, "max_tokens", check_int(self.max_tokens, "max_tokens", low=2))
        check_choice(self.fit_method, "fit_method", ("reference", "ols", "softmax"))


@dataclass(frozen=True)
class TransformerBetaRun:
    """A finished measurement: the parameters, the JSON results and the head statistics.

    Attributes
    ----------
    config : TransformerBetaConfig
    results : dict
        What ``results.json`` holds.
    statistics : models.transformers.HeadStatistics
    wall_time_s : float
    """

    config: TransformerBetaConfig
    results: dict
    statistics: object
    wall_time_s: float


def _texts(config: TransformerBetaConfig) -> tuple[list[str], str, str]:
    from models import transformers as mt

    if config.texts is None:
        from importlib import resources

        raw = resources.files("models").joinpath("data/texts/everyday_english.txt").read_bytes()
        return mt.default_texts(), mt.DEFAULT_TEXTS, hashlib.sha256(raw).hexdigest()
    path = Path(config.texts)
    return mt.read_texts(path), str(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _summary(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    return {
        "median": float(np.median(values)),
        "mean": float(np.mean(values)),
        "min": float(np.min(values)),
        "max": float(np.max(values)),
    }


def check_inputs(config: TransformerBetaConfig) -> None:
    """Every input error of a run, before any work starts: the texts and the model's config.

    Parameters
    ----------
    config : TransformerBetaConfig
    """
    from models import transformers as mt

    _texts(config)
    mt.check_model(config.model, need_tokenizer=True)


def run_transformer_beta(
    config: TransformerBetaConfig, *, progress: Callable[[str], None] | None = None
) -> TransformerBetaRun:
    """Measure the effective beta of every head of one model.

    Parameters
    ----------
    config : TransformerBetaConfig
    progress : callable, optional
        Called with a short label after each step (loading, each text, statistics).

    Returns
    -------
    TransformerBetaRun
    """
    from models import transformers as mt
    from models.reference import learned_qknorm_betas

    started = time.perf_counter()
    report = progress or (lambda label: None)
    texts, texts_source, texts_sha256 = _texts(config)
    loaded, context, max_tokens, capture = _load_and_capture(config, texts, report)
    statistics = mt.head_statistics(capture)
    report("statistics")

    n_patterns = config.n_patterns or context
    references = {
        method: mt.sdm_reference_betas(capture.head_dim, n_patterns, method=method)
        for method in dict.fromkeys((config.fit_method, "ols", "reference"))
    }
    qknorm = learned_qknorm_betas()
    per_head = statistics.per_head()
    results = {
        "schema": RESULTS_SCHEMA,
        "model": _model_section(config, loaded, capture, statistics, context),
        "texts": {
            "source": texts_source,
            "sha256": texts_sha256,
            "n_texts": len(texts),
            "n_tokens": capture.n_tokens,
            "max_tokens": max_tokens,
            "n_rows": statistics.n_rows,
        },
        "capture": _capture_section(statistics.max_capture_error),
        "estimators": dict(_ESTIMATORS),
        "sdm_reference": {
            "n_dims": capture.head_dim,
            "n_patterns": n_patterns,
            "n_neurons": "2^n",
            "method": config.fit_method,
            "betas": {method: [asdict(ref) for ref in refs] for method, refs in references.items()},
        },
        "qknorm_reference": {
            "citation": qknorm.citation,
            "n_values": int(qknorm.beta.size),
            **_summary(qknorm.beta),
            "q10": float(np.percentile(qknorm.beta, 10)),
            "q90": float(np.percentile(qknorm.beta, 90)),
        },
        "summary": _summary_section(statistics, references[config.fit_method], qknorm.beta),
        "layers": _layer_rows(statistics.n_layers, per_head),
        "heads": {name: value for name, value in per_head.items()},
        "cosine_bins": mt.COSINE_BINS,
        "cosine_histogram": statistics.cosine_histogram,
    }
    return TransformerBetaRun(
        config=config,
        results=results,
        statistics=statistics,
        wall_time_s=time.perf_counter() - started,
    )


def _load_and_capture(config: TransformerBetaConfig, texts: list[str], report):
    """Load the model, tokenise the texts and capture every head.

    Returns the loaded model, its context length, the token limit used and the capture.
    """
    from models import transformers as mt

    loaded = mt.load_model(config.model)
    report("model loaded")
    if loaded.tokenizer is None:
        raise ValueError(f"model {config.model!r} ships no tokenizer ({loaded.path})")
    model_config = loaded.model.config
    context = int(
        getattr(model_config, "max_position_embeddings", None) or model_config.n_positions
    )
    max_tokens = min(config.max_tokens or context, context)
    token_ids = [
        loaded.tokenizer(text, truncation=True, max_length=max_tokens)["input_ids"]
        for text in texts
    ]
    capture = mt.capture_attention(loaded.model, token_ids, progress=lambda _: report("text"))
    return loaded, context, max_tokens, capture


def _model_section(config: TransformerBetaConfig, loaded, capture, statistics, context) -> dict:
    """The ``model`` entry of ``results.json``."""
    return {
        "name": config.model,
        "path": str(loaded.path),
        "model_type": capture.model_type,
        "class": type(loaded.model).__name__,
        "n_layers": statistics.n_layers,
        "n_heads": statistics.n_heads,
        "head_dim": statistics.head_dim,
        "context_length": context,
        "scaling": statistics.scaling,
        "causal": capture.causal,
    }


def _capture_section(capture_error: float) -> dict:
    """The ``capture`` entry: the hooks' softmax against the model's own attention."""
    return {
        "max_abs_error": capture_error,
        "tolerance": _CAPTURE_TOLERANCE,
        "matches_output_attentions": bool(capture_error <= _CAPTURE_TOLERANCE),
    }


def _layer_rows(n_layers: int, per_head: dict[str, np.ndarray]) -> list[dict]:
    """The ``layers`` entry: per layer, a summary over heads of each of ``_LAYER_FIELDS``."""
    layers = []
    for layer in range(n_layers):
        row = {"layer": layer}
        for name in _LAYER_FIELDS:
            row[name] = _summary(per_head[name][layer])
        layers.append(row)
    return layers


def _summary_section(statistics, chosen: list, qknorm: np.ndarray) -> dict:
    """The ``summary`` entry: the fitted betas against the paper's and the references.

    ``chosen`` are the SDM reference betas of the configured fit method; ``qknorm`` the learned
    QK-norm betas.
    """
    sdm_betas = [ref.beta for ref in chosen if ref.beta is not None]
    fitted = statistics.beta_fit
    low, high = (min(sdm_betas), max(sdm_betas)) if sdm_betas else (np.nan, np.nan)
    return {
        "beta_fit": _summary(fitted),
        "beta_paper_max": _summary(statistics.beta_paper_max),
        "tv_fit": _summary(statistics.tv_fit),
        "tv_paper": _summary(statistics.tv_paper),
        "kl_fit": _summary(statistics.kl_fit),
        "kl_paper": _summary(statistics.kl_paper),
        "fraction_tv_fit_below_paper": float(np.mean(statistics.tv_fit < statistics.tv_paper)),
        "fraction_kl_fit_not_above_paper": float(
            np.mean(statistics.kl_fit <= statistics.kl_paper + 1e-12)
        ),
        "sdm_beta_range": [low, high],
        "fraction_fit_in_sdm_range": float(np.mean((fitted >= low) & (fitted <= high))),
        "fraction_fit_below_sdm_range": float(np.mean(fitted < low)),
        "fraction_fit_in_qknorm_10_90": float(
            np.mean((fitted >= np.percentile(qknorm, 10)) & (fitted <= np.percentile(qknorm, 90)))
        ),
        "n_fit_at_bound": int(np.sum(statistics.beta_fit_at_bound)),
    }


def _references(results: dict) -> dict[str, float | None]:
    sdm = results["sdm_reference"]
    return {
        f"{_CRITERIA_LABELS[ref['criterion']]} (d={ref['radius']})": ref["beta"]
        for ref in sdm["betas"][sdm["method"]]
    }


def layer_table(results: dict) -> str:
    """Per-layer medians over heads (with min–max), as a Markdown table.

    Parameters
    ----------
    results : dict
        The ``results.json`` payload.

    Returns
    -------
    str
    """

    def cell(stats: dict, digits: int = 2) -> str:
        return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f}–{stats['max']:.{digits}f}]"

    lines = [
        "| layer | β paper (max) | β paper (text mean) | β fitted | TV fit | TV paper "
        "| KL fit | KL paper | CV ‖q‖ | CV ‖k‖ | mean cos | attended cos |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in results["layers"]:
        lines.append(
            f"| {row['layer']} | {cell(row['beta_paper_max'], 1)} "
            f"| {cell(row['beta_paper_text_mean'], 1)} | {cell(row['beta_fit'], 1)} "
            f"| {row['tv_fit']['median']:.3f} | {row['tv_paper']['median']:.3f} "
            f"| {row['kl_fit']['median']:.3f} | {row['kl_paper']['median']:.3f} "
            f"| {row['query_norm_cv']['median']:.2f} | {row['key_norm_cv']['median']:.2f} "
            f"| {row['cosine_mean']['median']:.2f} | {row['attended_cosine']['median']:.2f} |"
        )
    summary = results["summary"]
    lines.append(
        f"| all | {cell(summary['beta_paper_max'], 1)} | | {cell(summary['beta_fit'], 1)} "
        f"| {summary['tv_fit']['median']:.3f} | {summary['tv_paper']['median']:.3f} "
        f"| {summary['kl_fit']['median']:.3f} | {summary['kl_paper']['median']:.3f} "
        "| | | | |"
    )
    return "\n".join(lines)


def reference_table(results: dict) -> str:
    """The SDM and QK-norm reference betas, as a Markdown table.

    Parameters
    ----------
    results : dict

    Returns
    -------
    str
    """
    sdm = results["sdm_reference"]
    methods = list(sdm["betas"])
    lines = [
        "| reference | radius d | " + " | ".join(f"β ({m})" for m in methods) + " |",
        "|---|---|" + "---|" * len(methods),
    ]
    for index, ref in enumerate(sdm["betas"][methods[0]]):
        betas = []
        for method in methods:
            beta = sdm["betas"][method][index]["beta"]
            betas.append("n/a" if beta is None else f"{beta:.2f}")
        lines.append(
            f"| SDM {_CRITERIA_LABELS[ref['criterion']]} | {ref['radius']} | "
            + " | ".join(betas)
            + " |"
        )
    qk = results["qknorm_reference"]
    lines.append(
        f"| QK-norm learned (Henry et al. 2020, {qk['n_values']} values) | – | "
        f"median {qk['median']:.2f}, 10–90% {qk['q10']:.2f}–{qk['q90']:.2f}, "
        f"range {qk['min']:.2f}–{qk['max']:.2f} |" + " |" * (len(methods) - 1)
    )
    return "\n".join(lines)


def _report(results: dict) -> str:
    model, texts, summary = results["model"], results["texts"], results["summary"]
    sdm, capture = results["sdm_reference"], results["capture"]
    lines = [
        f"# Effective β of {model['name']} ({model['class']})",
        "",
        f"{model['n_layers']} layers × {model['n_heads']} heads, d_head = {model['head_dim']}, "
        f"softmax scale s = {model['scaling'][0]:.6g}"
        + (" (causal)" if model["causal"] else " (bidirectional)")
        + f"; weights from `{model['path']}`.",
        "",
        f"Texts: `{texts['source']}` (sha256 {texts['sha256'][:12]}…), {texts['n_texts']} "
        f"passages, {sum(texts['n_tokens'])} tokens ({min(texts['n_tokens'])}–"
        f"{max(texts['n_tokens'])} per passage, special tokens included), "
        f"{texts['n_rows']} query rows fitted.",
        "",
        "Capture check: softmax(q·k s) from the hooks against the model's own attention "
        f"(`output_attentions=True`): max |difference| = {capture['max_abs_error']:.2e} "
        f"({'within' if capture['matches_output_attentions'] else 'OUTSIDE'} the tolerance "
        f"{capture['tolerance']:g}).",
        "",
        "## Per layer (median over heads [min–max])",
        "",
        layer_table(results),
        "",
        "- **β paper (max)**: the paper's estimator, the largest softmax input q·k s over every "
        "(query, allowed key) pair of every text; *text mean*: its maximum within each text, "
        "averaged over texts (the paper's figure, before it averages the heads of a layer).",
        "- **β fitted**: the β minimising the mean over query rows of "
        "KL(attention ‖ softmax(β cos(q, k))).",
        "- **TV / KL**: mean over query rows of the total variation and the KL (nats) between "
        "the head's attention and softmax(β cos) with that β.",
        "- **CV ‖q‖, CV ‖k‖**: std/mean of the query and key norms (0 would make q·k s exactly "
        "β cos with one β per head).",
        "",
        f"## SDM reference betas (n = d_head = {sdm['n_dims']}, m = {sdm['n_patterns']}, r = 2^n)",
        "",
        reference_table(results),
        "",
        "## Summary",
        "",
        *_summary_lines(summary, sdm["method"]),
        "",
        "## Figures",
        "",
    ]
    for name, caption in FIGURES.items():
        lines += [f"![{caption}](figures/{name})", "", f"*{caption}*", ""]
    return "\n".join(lines)


def _summary_lines(summary: dict, method: str) -> list[str]:
    """The bullet points of the report's summary (``method``: the SDM reference fit method)."""
    low, high = summary["sdm_beta_range"]
    return [
        f"- Fitted β: median {summary['beta_fit']['median']:.2f} "
        f"(range {summary['beta_fit']['min']:.2f}–{summary['beta_fit']['max']:.2f}); "
        f"paper estimator: median {summary['beta_paper_max']['median']:.2f}.",
        f"- The fitted β reproduces the attention better than the paper's estimator in KL for "
        f"{summary['fraction_kl_fit_not_above_paper']:.0%} of heads (it is the KL minimiser) "
        f"and in total variation for {summary['fraction_tv_fit_below_paper']:.0%}; median TV "
        f"{summary['tv_fit']['median']:.3f} against {summary['tv_paper']['median']:.3f}.",
        f"- {summary['fraction_fit_in_sdm_range']:.0%} of fitted betas lie between the SDM "
        f"optimal-radius betas ({low:.2f}–{high:.2f}, method {method!r}); "
        f"{summary['fraction_fit_below_sdm_range']:.0%} lie below them; "
        f"{summary['fraction_fit_in_qknorm_10_90']:.0%} lie inside the 10–90% range of the "
        "learned QK-norm betas.",
        f"- Heads whose fitted β hit the ±1000 bound: {summary['n_fit_at_bound']}.",
    ]


def write_transformer_beta_run(run: TransformerBetaRun, directory: str | Path) -> None:
    """Write ``params.json``, ``results.json``, ``report.md`` and ``figures/`` into a directory.

    Parameters
    ----------
    run : TransformerBetaRun
    directory : str or path
        An existing, empty directory (the staging directory of an atomic run).
    """
    from models.reference import learned_qknorm_betas
    from models.transformers import figures as tf

    directory = Path(directory)
    results = run.results
    write_json(directory / "params.json", asdict(run.config))
    write_json(directory / "results.json", results)
    figures = directory / "figures"
    figures.mkdir()
    tf.write_figures(
        run.statistics,
        figures,
        model_name=results["model"]["name"],
        cosine_bins=results["cosine_bins"],
        references=_references(results),
        qknorm=learned_qknorm_betas().beta,
    )
    (directory / "report.md").write_text(_report(results))
