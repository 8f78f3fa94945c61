"""Published reference values shipped with the package.

``learned_qknorm_betas`` returns the 90 softmax inverse temperatures (beta) learned by the
query-key-normalised Transformers of Henry, Dachapally, Pawar & Chen (2020), "Query-Key
Normalization for Transformers", Findings of EMNLP 2020: one value per attention layer and type
(encoder self, decoder self, decoder cross) for five translation pairs, as shared by those authors
with Bricken & Pehlevan (2021), who compare them with the betas that SDM's optimal radii imply.
The first block's language pair is not labelled in the source and is listed as ``unlabelled``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import numpy as np

__all__ = ["LearnedBetas", "learned_qknorm_betas", "QKNORM_CITATION"]

QKNORM_CITATION = (
    "Henry, Dachapally, Pawar & Chen (2020), Query-Key Normalization for Transformers, "
    "Findings of EMNLP 2020"
)


@dataclass(frozen=True)
class LearnedBetas:
    """Learned betas of query-key-normalised Transformers.

    Attributes
    ----------
    language_pair : ndarray of str, shape (n_layers,)
    attention : ndarray of str, shape (n_layers,)
        ``encoder_self``, ``decoder_self`` or ``decoder_cross``.
    layer : ndarray of int, shape (n_layers,)
    beta : ndarray of float64, shape (n_layers,)
        The learned softmax scale (dimensionless).
    citation : str
    """

    language_pair: np.ndarray
    attention: np.ndarray
    layer: np.ndarray
    beta: np.ndarray
    citation: str = QKNORM_CITATION


def learned_qknorm_betas() -> LearnedBetas:
    """Load the 90 learned betas of Henry et al. (2020) from the package data.

    Returns
    -------
    LearnedBetas
    """
    text = resources.files("models").joinpath("data/qknorm_learned_betas.csv").read_text()
    rows = list(csv.DictReader(text.splitlines()))
    return LearnedBetas(
        language_pair=np.array([row["language_pair"] for row in rows]),
        attention=np.array([row["attention"] for row in rows]),
        layer=np.array([int(row["layer"]) for row in rows]),
        beta=np.array([float(row["beta"]) for row in rows]),
    )
