"""Capturing every head's queries, keys and attention weights with forward hooks.

Part of :mod:`models.transformers` (see the package docstring). Hooks on the query/key
projections record what the heads see; the model itself is not changed. torch is imported on
first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.transformers.loading import _architecture
from models.validation import check_int

__all__ = ["AttentionCapture", "capture_attention"]


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
    config = model.config
    architecture, sequences = _check_capturable(config, token_ids)
    attention_modules = architecture.layers(model)
    n_heads = architecture.n_heads(attention_modules[0])
    head_dim = architecture.head_dim(attention_modules[0])
    scaling = np.array(
        [float(getattr(module, "scaling", head_dim**-0.5)) for module in attention_modules]
    )
    recorded: dict[tuple[int, str], Any] = {}
    handles = _register_hooks(architecture, attention_modules, recorded)
    was_training = model.training
    model.eval()
    queries, keys, attention, recomputed, allowed_masks = [], [], [], [], []
    try:
        parameter = next(model.parameters())
        for ids in sequences:
            q, k, weights, allowed, softmax = _run_sequence(
                model,
                ids,
                recorded,
                n_layers=len(attention_modules),
                n_heads=n_heads,
                head_dim=head_dim,
                causal=architecture.causal,
                scaling=scaling,
                device=parameter.device,
            )
            queries.append(q)
            keys.append(k)
            attention.append(weights)
            recomputed.append(softmax)
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


def _check_capturable(config, token_ids: Sequence[Sequence[int]]) -> tuple[Any, list[list[int]]]:
    """The model's architecture and the token sequences, checked before any hook is set."""
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
    return architecture, sequences


def _register_hooks(architecture, attention_modules: Sequence[Any], recorded: dict) -> list:
    """Forward hooks on every query/key projection, writing into ``recorded[layer, "q"|"k"]``."""
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
    return handles


def _run_sequence(
    model,
    ids: list[int],
    recorded: dict,
    *,
    n_layers: int,
    n_heads: int,
    head_dim: int,
    causal: bool,
    scaling: np.ndarray,
    device,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One forward pass: queries, keys, the model's attention, the allowed mask and the
    attention recomputed from the hooks, as float64 arrays."""
    import torch

    recorded.clear()
    input_ids = torch.tensor([ids], dtype=torch.long, device=device)
    with torch.no_grad():
        output = model(input_ids=input_ids, output_attentions=True)
    n_tokens = len(ids)

    def heads(tensor, n_tokens=n_tokens):  # (1, T, H * d) -> (H, T, d)
        shaped = tensor.reshape(n_tokens, n_heads, head_dim).transpose(0, 1)
        return shaped.to(torch.float64).cpu().numpy()

    q = np.stack([heads(recorded[layer, "q"]) for layer in range(n_layers)])
    k = np.stack([heads(recorded[layer, "k"]) for layer in range(n_layers)])
    weights = np.stack([a[0].to(torch.float64).cpu().numpy() for a in output.attentions])
    allowed = (
        np.tril(np.ones((n_tokens, n_tokens), dtype=bool))
        if causal
        else np.ones((n_tokens, n_tokens), dtype=bool)
    )
    logits = np.einsum("lhid,lhjd->lhij", q, k) * scaling[:, None, None, None]
    return q, k, weights, allowed, _softmax_masked(logits, allowed)
