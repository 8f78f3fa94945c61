"""models.transformers without a Transformer: the estimators on planted captures.

Oracles: a capture built by hand whose attention is softmax(beta0 cos) exactly (the fit must
recover beta0), brute-force loops over (text, query, key) for the paper's estimator, convexity of
the KL loss, and the published betas of Bricken & Pehlevan (2021) for the SDM references. None of
these tests needs Hugging Face transformers.
"""

import math

import numpy as np
import pytest

from models import transformers as mt
from models.transformers import capture as mt_capture
from models.transformers import fits as mt_fits


def _planted_capture(
    rng, beta, *, n_layers=2, n_heads=3, head_dim=8, lengths=(7, 11), causal=False, key_norm=2.0
):
    """Queries/keys with constant key norm and attention softmax(beta cos) over allowed keys."""
    scaling = np.full(n_layers, head_dim**-0.5)
    queries, keys, attention, allowed_masks = [], [], [], []
    for n_tokens in lengths:
        q = rng.standard_normal((n_layers, n_heads, n_tokens, head_dim))
        k = rng.standard_normal((n_layers, n_heads, n_tokens, head_dim))
        k *= key_norm / np.linalg.norm(k, axis=-1, keepdims=True)
        allowed = (
            np.tril(np.ones((n_tokens, n_tokens), bool))
            if causal
            else np.ones((n_tokens, n_tokens), bool)
        )
        cos = np.einsum("lhid,lhjd->lhij", mt_fits._unit(q), mt_fits._unit(k))
        logits = np.where(allowed, np.asarray(beta)[..., None, None] * cos, -np.inf)
        weights = np.exp(logits - logits.max(-1, keepdims=True))
        weights /= weights.sum(-1, keepdims=True)
        queries.append(q)
        keys.append(k)
        attention.append(weights)
        allowed_masks.append(allowed)
    return mt.AttentionCapture(
        queries=queries,
        keys=keys,
        attention=attention,
        recomputed=attention,
        allowed=allowed_masks,
        scaling=scaling,
        model_type="planted",
        causal=causal,
    )


@pytest.mark.parametrize("causal", [False, True])
def test_fit_recovers_a_planted_beta(causal):
    # Oracle: the attention is softmax(beta0 cos) by construction, so the KL minimiser is beta0
    # (KL = 0 there) and the fit quality at beta0 is exact (TV = KL = 0 to float precision).
    rng = np.random.default_rng(1)
    planted = rng.uniform(0.5, 40.0, size=(2, 3))
    capture = _planted_capture(rng, planted, causal=causal)
    beta, at_bound = mt.fit_head_betas(capture)
    np.testing.assert_allclose(beta, planted, rtol=1e-7)  # bisection to 2e-15, loss is smooth
    assert not at_bound.any()
    tv, kl = mt.attention_fit_quality(capture, beta)
    assert tv.max() < 1e-6 and kl.max() < 1e-9


def test_paper_estimator_is_the_largest_softmax_input_brute_force():
    # Oracle: explicit loops over texts, queries and allowed keys of q.k s.
    rng = np.random.default_rng(2)
    capture = _planted_capture(rng, np.full((2, 3), 5.0), causal=True, lengths=(5, 6))
    stats = mt.head_statistics(capture)
    for layer in range(2):
        for head in range(3):
            per_text, per_token = [], []
            for q, k, allowed in zip(capture.queries, capture.keys, capture.allowed, strict=True):
                text_best = -math.inf
                for i in range(q.shape[2]):
                    keys = [j for j in range(q.shape[2]) if allowed[i, j]]
                    if len(keys) < 2:
                        continue  # a query with one key has nothing to choose (left out)
                    best = max(
                        float(q[layer, head, i] @ k[layer, head, j]) * capture.scaling[layer]
                        for j in keys
                    )
                    per_token.append(best)
                    text_best = max(text_best, best)
                per_text.append(text_best)
            assert stats.beta_paper_max[layer, head] == pytest.approx(max(per_text), rel=1e-12)
            assert stats.beta_paper_text_mean[layer, head] == pytest.approx(
                np.mean(per_text), rel=1e-12
            )
            assert stats.beta_paper_token_mean[layer, head] == pytest.approx(
                np.mean(per_token), rel=1e-12
            )


def test_fitted_beta_minimises_the_mean_kl():
    # Oracle: convexity -- the loss at the fitted beta is below the loss at nearby betas, for
    # attention that is *not* softmax(beta cos) (a mixture with the uniform weights); at the
    # minimum the attention-weighted and the softmax-weighted mean cosines agree.
    rng = np.random.default_rng(3)
    capture = _planted_capture(rng, np.full((2, 3), 8.0))
    mixed = [0.7 * a + 0.3 / a.shape[-1] for a in capture.attention]
    capture = mt.AttentionCapture(**{**capture.__dict__, "attention": mixed, "recomputed": mixed})
    beta, _ = mt.fit_head_betas(capture)
    _, kl = mt.attention_fit_quality(capture, beta)
    for step in (-0.5, -0.01, 0.01, 0.5):
        _, kl_near = mt.attention_fit_quality(capture, beta + step)
        assert np.all(kl_near >= kl - 1e-12)
    rows = mt_fits._rows(capture)
    target = sum((part.attention * part.cosines).sum((-1, -2)) for part in rows)
    fitted = sum((mt_fits._model_weights(beta, part) * part.cosines).sum((-1, -2)) for part in rows)
    np.testing.assert_allclose(fitted, target, rtol=1e-9)


def test_row_beta_is_exact_when_key_norms_are_constant():
    # Oracle: with ||k|| constant, q.k s = (||q|| ||k|| s) cos exactly, so softmax with the row
    # beta ||q_i|| mean||k|| s reproduces softmax(q.k s).
    rng = np.random.default_rng(4)
    capture = _planted_capture(rng, np.full((2, 3), 1.0))
    recomputed = []
    for q, k, allowed in zip(capture.queries, capture.keys, capture.allowed, strict=True):
        logits = np.einsum("lhid,lhjd->lhij", q, k) * capture.scaling[:, None, None, None]
        recomputed.append(mt_capture._softmax_masked(logits, allowed))
    capture = mt.AttentionCapture(
        **{**capture.__dict__, "attention": recomputed, "recomputed": recomputed}
    )
    stats = mt.head_statistics(capture)
    assert stats.tv_row.max() < 1e-12
    np.testing.assert_allclose(stats.key_norm_cv, 0.0, atol=1e-12)
    assert stats.cosine_histogram.sum(-1).min() == sum(n * n for n in capture.n_tokens)


def test_sdm_reference_betas_match_the_paper():
    # Oracle: Bricken & Pehlevan (2021), n = 64, m = 1024, r = 2^64: d*_Mem = 5, d*_SNR = 11,
    # d*_CD = 15 with published betas 35.5, 15.9 and 10.1 (models.theory.fit_beta "reference").
    references = mt.sdm_reference_betas(64, 1024)
    assert [(r.criterion, r.radius) for r in references] == [
        ("memory", 5),
        ("snr", 11),
        ("critical_distance", 15),
    ]
    assert [round(r.beta, 1) for r in references] == [35.5, 15.9, 10.1]


def test_texts_shipped_and_read(tmp_path):
    # Oracle: the file format (blank-line separated passages, '#' comments) written by hand.
    texts = mt.default_texts()
    assert len(texts) == 8 and all(len(text.split()) > 40 for text in texts)
    path = tmp_path / "texts.txt"
    path.write_text("# comment\n\nfirst line\nsecond line\n\n\nthird\n")
    assert mt.read_texts(path) == ["first line second line", "third"]
    path.write_text("# only a comment\n")
    with pytest.raises(ValueError, match="no passages"):
        mt.read_texts(path)


def test_unknown_model_names_what_is_accepted(tmp_path):
    with pytest.raises(ValueError, match="never downloaded"):
        mt.resolve_model_path("no-such-model-anywhere-xyz")
    with pytest.raises(ValueError, match="no config.json"):
        mt.resolve_model_path(tmp_path)
