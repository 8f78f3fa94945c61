"""Per-head statistics: the paper's estimator, the fitted beta, fit quality, SDM references.

Part of :mod:`models.transformers`; the package docstring gives the estimators and the loss.
Everything here works on an :class:`~models.transformers.capture.AttentionCapture` of plain
numpy arrays, in float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.transformers.capture import AttentionCapture, _softmax_masked

__all__ = [
    "COSINE_BINS",
    "HeadStatistics",
    "SDMReferenceBeta",
    "attention_fit_quality",
    "fit_head_betas",
    "head_statistics",
    "sdm_reference_betas",
]

COSINE_BINS = np.linspace(-1.0, 1.0, 41)
"""Edges of the cosine histograms in :class:`HeadStatistics` (40 bins on [-1, 1])."""

_BETA_BOUND = 1e3


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
        per query and averaged over queries (:mod:`models.transformers`).
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


def _paper_estimator(
    capture: AttentionCapture, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's estimator, the largest softmax input over allowed keys.

    Returns the maximum per text, shape (n_texts, n_layers, n_heads), and the sum over query
    rows of each row's maximum, shape (n_layers, n_heads).
    """
    text_max, token_sum = [], np.zeros(shape)
    for q, k, allowed in zip(capture.queries, capture.keys, capture.allowed, strict=True):
        logits = np.einsum("lhid,lhjd->lhij", q, k) * capture.scaling[:, None, None, None]
        keep = allowed.sum(axis=1) >= 2
        row_max = np.where(allowed, logits, -np.inf).max(-1)[:, :, keep]
        text_max.append(row_max.max(-1))
        token_sum += row_max.sum(-1)
    return np.stack(text_max), token_sum


def _cosine_distribution(
    rows: list[_Rows], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of every allowed pair, shape (n_layers, n_heads, n_pairs), and their histogram
    in the bins :data:`COSINE_BINS`."""
    cosines = np.concatenate(
        [part.cosines[:, :, part.allowed] for part in rows], axis=-1
    )  # (L, H, n_pairs)
    histogram = np.stack(
        [
            np.stack([np.histogram(cosines[i, j], bins=COSINE_BINS)[0] for j in range(shape[1])])
            for i in range(shape[0])
        ]
    ).astype(np.int64)
    return cosines, histogram


def head_statistics(capture: AttentionCapture) -> HeadStatistics:
    """Every per-head quantity of the package docstring (:mod:`models.transformers`).

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

    text_max, token_sum = _paper_estimator(capture, shape)
    beta_fit, at_bound = _fit(rows, *shape)
    beta_paper = text_max.max(0)
    tv_fit, kl_fit = _fit_quality(beta_fit, rows)
    tv_paper, kl_paper = _fit_quality(beta_paper, rows)
    tv_row, kl_row = _fit_quality(None, rows)

    query_norms = np.concatenate([np.linalg.norm(q, axis=-1) for q in capture.queries], -1)
    key_norms = np.concatenate([np.linalg.norm(k, axis=-1) for k in capture.keys], -1)
    cosines, histogram = _cosine_distribution(rows, shape)
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
