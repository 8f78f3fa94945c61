"""The hooks on every supported architecture, built small and randomly initialised.

Oracles: the model's own attention output (``output_attentions=True``) and, for GPT-2
(``GPT2Model``), the block's own ``c_attn`` applied to ``ln_1`` of its input hidden states.
A GPT-2 with real weights runs through the CLI only where it is already on disk (the local
Hugging Face cache or ``$CEREBELLAR_SDM_GPT2``); nothing is downloaded.
"""

import json
import os

import numpy as np
import pytest

transformers = pytest.importorskip("transformers")
import torch  # noqa: E402

from cerebellum.cli import main  # noqa: E402
from models import transformers as mt  # noqa: E402


def _gpt2(**overrides):
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2,
        n_head=4,
        n_embd=32,
        n_positions=64,
        vocab_size=97,
        bos_token_id=0,
        eos_token_id=0,
        initializer_range=0.2,  # large enough for peaked, non-uniform attention
        attn_implementation="eager",
        **overrides,
    )
    return transformers.GPT2Model(config).eval()


def _token_ids(lengths=(9, 23)):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 97, size=n).tolist() for n in lengths]


@pytest.mark.parametrize("inverse_layer_scaling", [False, True])
def test_gpt2_hooks_shapes_and_causal_attention(inverse_layer_scaling):
    model = _gpt2(scale_attn_by_inverse_layer_idx=inverse_layer_scaling)
    token_ids = _token_ids()
    capture = mt.capture_attention(model, token_ids)
    assert capture.causal and capture.model_type == "gpt2"
    assert [q.shape for q in capture.queries] == [(2, 4, 9, 8), (2, 4, 23, 8)]
    assert [a.shape for a in capture.attention] == [(2, 4, 9, 9), (2, 4, 23, 23)]
    expected_scaling = 8**-0.5 / (np.arange(2) + 1 if inverse_layer_scaling else 1)
    np.testing.assert_allclose(capture.scaling, expected_scaling)
    # Oracle: output_attentions=True (float32 model, float64 recomputation).
    for mine, theirs, allowed in zip(
        capture.recomputed, capture.attention, capture.allowed, strict=True
    ):
        np.testing.assert_allclose(mine, theirs, atol=1e-5, rtol=0)
        np.testing.assert_array_equal(allowed, np.tril(np.ones_like(allowed)))
        assert np.all(theirs[..., ~allowed] == 0)  # the model's causal mask, too
    assert np.std(capture.attention[1][:, :, -1]) > 1e-3  # not uniform: the check has teeth
    # Oracle: c_attn(ln_1(h)) split into q, k, v for the block's input hidden states.
    with torch.no_grad():
        output = model(input_ids=torch.tensor([token_ids[1]]), output_hidden_states=True)
        for layer in range(2):
            block = model.h[layer]
            q, k, _ = block.attn.c_attn(block.ln_1(output.hidden_states[layer][0])).split(32, -1)
            for projected, captured in ((q, capture.queries), (k, capture.keys)):
                heads = projected.reshape(23, 4, 8).transpose(0, 1).double().numpy()
                np.testing.assert_allclose(captured[1][layer], heads, atol=1e-6, rtol=1e-6)
    stats = mt.head_statistics(capture)
    assert stats.beta_fit.shape == (2, 4)
    assert stats.n_rows == (9 - 1) + (23 - 1)  # the first token has a single key: left out


@pytest.mark.parametrize("kind", ["bert", "roberta", "distilbert"])
def test_bert_style_encoders_match_their_own_attention(kind):
    # Oracle: output_attentions=True.
    torch.manual_seed(0)
    sizes = dict(vocab_size=97, attn_implementation="eager", initializer_range=0.2)
    if kind == "distilbert":
        config = transformers.DistilBertConfig(
            n_layers=2, n_heads=4, dim=32, hidden_dim=64, max_position_embeddings=64, **sizes
        )
        model = transformers.DistilBertModel(config)
    else:
        config_class = transformers.BertConfig if kind == "bert" else transformers.RobertaConfig
        config = config_class(
            num_hidden_layers=2,
            num_attention_heads=4,
            hidden_size=32,
            intermediate_size=64,
            max_position_embeddings=80,
            pad_token_id=1,
            **sizes,
        )
        model = transformers.AutoModel.from_config(config)
    capture = mt.capture_attention(model.eval(), _token_ids((7, 15)))
    assert not capture.causal
    assert capture.queries[1].shape == (2, 4, 15, 8)
    assert capture.max_capture_error() < 1e-5


def test_unsupported_architecture_names_the_supported_ones(tmp_path, capsys):
    config = transformers.LlamaConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=4,
        vocab_size=97,
    )
    with pytest.raises(ValueError, match="supported model types: bert, distilbert, gpt2, roberta"):
        mt.capture_attention(transformers.LlamaModel(config), [[1, 2, 3]])
    config.save_pretrained(tmp_path / "llama")
    out = tmp_path / "run"
    code = main(["transformer-beta", "--model", str(tmp_path / "llama"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "unsupported architecture" in err
    assert not out.exists()


def test_local_directory_loads_and_a_model_without_tokenizer_is_refused(tmp_path, capsys):
    _gpt2().save_pretrained(tmp_path / "gpt2-random")
    loaded = mt.load_model(tmp_path / "gpt2-random")
    assert type(loaded.model).__name__ == "GPT2Model" and loaded.tokenizer is None
    assert loaded.model.config._attn_implementation == "eager"
    out = tmp_path / "run"
    code = main(["transformer-beta", "--model", str(tmp_path / "gpt2-random"), "--out", str(out)])
    assert code == 2 and "ships no tokenizer" in capsys.readouterr().err
    assert not out.exists()


def _local_gpt2():
    candidate = os.environ.get("CEREBELLAR_SDM_GPT2", "gpt2")
    try:
        return str(mt.resolve_model_path(candidate))
    except ValueError:
        return None


@pytest.mark.skipif(_local_gpt2() is None, reason="no GPT-2 weights on this machine")
def test_real_gpt2_weights_run_through_the_cli(tmp_path):
    out = tmp_path / "run"
    code = main(
        ["transformer-beta", "--model", _local_gpt2(), "--out", str(out), "--no-progress"]
        + ["--max-tokens", "48"]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["model"]["class"] == "GPT2Model" and results["model"]["head_dim"] == 64
    assert results["capture"]["matches_output_attentions"]
