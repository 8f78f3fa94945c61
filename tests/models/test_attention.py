"""Tests of models.attention: AttentionMemory, ContinuousSDM and HopfieldMemory.

Oracles are named per test: ``torch.nn.functional.scaled_dot_product_attention`` (the other
engine), the Hamming-cosine closed form, ``models.theory`` evaluated pair by pair, brute-force
loops of Hopfield's (1982) update rule, and closed-form worst-case bounds for one-step recall of
orthogonal patterns and for the beta -> infinity limit.
"""

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from models import recall as rc
from models import theory
from models.attention import AttentionMemory, ContinuousSDM, HopfieldMemory, normalize_inputs
from tests.helpers import torch_generator

SEED = 31_2026
PROPERTY = settings(max_examples=25, deadline=None)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def _generator(index: int) -> torch.Generator:
    return torch_generator(np.random.SeedSequence(SEED).spawn(index + 1)[index])


def _bits(n_rows: int, n_dims: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(0, 2, (n_rows, n_dims), generator=generator, dtype=torch.uint8)


def _memories(n_dims: int) -> list:
    """One instance of every memory of this module (radius n_dims // 4 for the SDM pair)."""
    return [
        AttentionMemory(beta=7.5),
        ContinuousSDM(n_dims, max(1, n_dims // 4)),
        HopfieldMemory(),
    ]


# --------------------------------------------------------------------------- attention


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("binary", [True, False])
def test_attention_equals_scaled_dot_product_attention(dtype, binary):
    # Oracle: torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=beta) on the
    # L2-normalised queries and keys. Tolerance from rounding: each cosine is an n_dims-term dot
    # product of unit vectors (error <= n_dims * eps), so a logit beta * cos errs by at most
    # beta * n_dims * eps and each softmax weight by a relative 2 * beta * n_dims * eps; the
    # weighted sum of m values adds m * eps. Hence |diff| <= (2 beta n + m + 4) eps max|v|.
    generator = _generator(0)
    n_dims, n_patterns, n_queries, beta = 48, 40, 9, 13.7
    if binary:
        keys = _bits(n_patterns, n_dims, generator)
        queries = _bits(n_queries, n_dims, generator)
    else:
        keys = torch.randn(n_patterns, n_dims, generator=generator, dtype=torch.float64)
        queries = torch.randn(n_queries, n_dims, generator=generator, dtype=torch.float64)
        keys, queries = keys.to(dtype), queries.to(dtype)
    values = torch.randn(n_patterns, 5, generator=generator, dtype=torch.float64).to(dtype)
    inputs = "bits" if binary else "vectors"
    memory = AttentionMemory(beta, inputs=inputs, dtype=dtype)
    memory.write(keys, values)
    got = memory.read(queries)
    q = normalize_inputs(queries, "queries", inputs=inputs, dtype=dtype)
    k = normalize_inputs(keys, "keys", inputs=inputs, dtype=dtype)
    expected = torch.nn.functional.scaled_dot_product_attention(
        q[None], k[None], values[None], scale=beta
    )[0]
    eps = torch.finfo(dtype).eps
    tolerance = (2 * beta * n_dims + n_patterns + 4) * eps * float(values.abs().max())
    assert got.dtype == dtype and got.shape == (n_queries, 5)
    assert float((got - expected).abs().max()) <= tolerance


def test_binary_coding_gives_the_hamming_cosine():
    # Oracle: closed form cos = 1 - 2 t / n for +-1 codes at Hamming distance t (Bricken &
    # Pehlevan 2021). Round-off: an n-term dot product of unit vectors, <= n * eps.
    generator = _generator(1)
    n_dims = 40
    patterns = _bits(6, n_dims, generator)
    distances = torch.tensor([0, 1, 5, 20, 33, 40])
    queries = rc.flip_bits(patterns, distances, generator=generator)
    memory = AttentionMemory(beta=1.0)
    memory.write(patterns, torch.zeros(6, 1))
    cosines = memory.cosines(queries).diagonal()
    expected = 1 - 2 * distances.double() / n_dims
    assert torch.allclose(cosines, expected, rtol=0, atol=n_dims * torch.finfo(torch.float64).eps)


@pytest.mark.parametrize("build", [lambda: AttentionMemory(4.0), lambda: ContinuousSDM(24, 6)])
def test_bits_in_any_dtype_give_the_same_weights(build):
    # Oracle: the uint8 read. Under inputs="bits" (the default) {0, 1} entries are bits in every
    # dtype, so bool, int64, float32 and float64 copies of the same bits must give bit-identical
    # weights and reads (they map to the same +-1 vectors before any arithmetic).
    generator = _generator(10)
    patterns = _bits(10, 24, generator)
    queries = rc.flip_bits(patterns[:4], 3, generator=generator)
    memory = build()
    assert memory.inputs == "bits"
    memory.write(patterns, torch.eye(10, dtype=torch.float64))
    reference = memory.weights(queries)
    for dtype in (torch.bool, torch.int64, torch.float32, torch.float64):
        assert torch.equal(memory.weights(queries.to(dtype)), reference)
        assert torch.equal(memory.read(queries.to(dtype)), memory.read(queries))
    twin = build()
    twin.write(patterns.double(), torch.eye(10, dtype=torch.float64))  # float64 bits written
    assert torch.equal(twin.weights(queries), reference)


def test_the_same_bits_as_vectors_are_a_different_kernel_chosen_explicitly():
    # Oracle: closed forms of the two conventions (the trap this argument removes: the same
    # bits as .double() used to switch silently from the +-1 to the 0/1 kernel). Under "bits"
    # the logit of pattern mu is beta (1 - 2 t_mu / n) (Hamming-cosine map); under "vectors" it
    # is beta x.y / (|x| |y|) of the raw 0/1 vectors, computed here in numpy. Round-off: n-term
    # dot products of unit vectors, <= n eps in a cosine, so 1e-12 on the weights.
    generator = _generator(11)
    n_dims, beta = 32, 6.0
    patterns = _bits(8, n_dims, generator)
    query = rc.flip_bits(patterns[:1], 4, generator=generator)
    as_bits = AttentionMemory(beta)
    as_bits.write(patterns, torch.zeros(8, 1))
    as_vectors = AttentionMemory(beta, inputs="vectors")
    as_vectors.write(patterns.double(), torch.zeros(8, 1))
    distances = (patterns != query).sum(1).double().numpy()
    expected_bits = scipy.special.softmax(beta * (1 - 2 * distances / n_dims))
    x, y = patterns.double().numpy(), query.double().numpy()[0]
    cosines = x @ y / (np.linalg.norm(x, axis=1) * np.linalg.norm(y))
    expected_vectors = scipy.special.softmax(beta * cosines)
    got_bits = as_bits.weights(query)[0].numpy()
    got_vectors = as_vectors.weights(query.double())[0].numpy()
    np.testing.assert_allclose(got_bits, expected_bits, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_vectors, expected_vectors, rtol=0, atol=1e-12)
    assert abs(got_bits[0] - got_vectors[0]) > 0.05  # really two kernels: hence no guessing
    # Each convention refuses the other's input instead of reinterpreting it.
    with pytest.raises(TypeError, match="queries must be a floating tensor of real vectors"):
        as_vectors.weights(query)  # uint8 bits under "vectors"
    with pytest.raises(ValueError, match="build it with inputs='vectors'"):
        as_bits.weights(torch.randn(1, n_dims, generator=generator, dtype=torch.float64))


def test_every_memory_of_the_module_declares_its_input_convention():
    # Oracle: the documented conventions (models.memory): "bits" by default, "vectors" only
    # when chosen, and Hopfield reads bits only.
    assert AttentionMemory(1.0).inputs == "bits"
    assert AttentionMemory(1.0, inputs="vectors").inputs == "vectors"
    assert ContinuousSDM(16, 4).inputs == "bits"
    assert ContinuousSDM(16, 4, inputs="vectors").inputs == "vectors"
    assert HopfieldMemory().inputs == "bits"
    assert "inputs='vectors'" in repr(AttentionMemory(1.0, inputs="vectors"))
    with pytest.raises(TypeError, match="queries must be a floating tensor"):
        AttentionMemory(1.0, inputs="vectors").weights(torch.ones(2, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match="queries must be binary"):
        AttentionMemory(1.0).weights(torch.full((2, 4), 0.5))  # validated before any write too


@pytest.mark.parametrize("method", ["ols", "reference", "softmax"])
def test_fitted_beta_is_the_theory_fit(method):
    # Oracle: models.theory.fit_beta called directly (the memory must use exactly that beta).
    memory = AttentionMemory(n_dims=64, activation_radius=11, method=method)
    assert memory.beta == theory.fit_beta(64, 11, method=method).beta
    assert memory.beta_fit.method == method


@PROPERTY
@given(
    n_dims=st.integers(4, 24),
    n_patterns=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
)
def test_beta_to_infinity_gives_hard_nearest_pattern_recall(n_dims, n_patterns, seed):
    # Oracle: closed form of the limit. With a unique nearest pattern the cosine gap to every
    # other pattern is >= 2/n, so with beta = 50 n each other weight is <= exp(-100): the read is
    # the nearest pattern's value to within m * exp(-100) * max|v|, and recall (threshold 1/2)
    # lands on the nearest pattern in one read and confirms it in the next.
    generator = torch.Generator().manual_seed(seed)
    patterns = _bits(n_patterns, n_dims, generator)
    query = _bits(1, n_dims, generator)
    distances = (patterns != query).sum(1)
    nearest = int(distances.argmin())
    assume(int((distances == distances[nearest]).sum()) == 1)
    memory = AttentionMemory(beta=50.0 * n_dims)
    memory.write(patterns, patterns.double())
    weights = memory.weights(query)[0]
    assert float(weights[nearest]) >= 1 - n_patterns * math.exp(-100)
    assert torch.allclose(memory.read(query)[0], patterns[nearest].double(), rtol=0, atol=1e-40)
    result = rc.recall(memory, query, max_steps=5)
    assert torch.equal(result.final[0], patterns[nearest])
    assert bool(result.converged[0])
    assert int(result.n_steps[0]) == (1 if int(distances[nearest]) == 0 else 2)


def test_nearest_weight_grows_with_beta():
    # Oracle: d w_max / d beta = w_max (cos_max - E_w[cos]) >= 0 (softmax derivative), so the
    # nearest pattern's weight is non-decreasing in beta; it tends to 1 (unique nearest) and
    # beta = 0 gives the uniform 1/m.
    generator = _generator(2)
    patterns = _bits(12, 32, generator)
    query = rc.flip_bits(patterns[:1], 3, generator=generator)
    nearest = int((patterns != query).sum(1).argmin())
    previous = 0.0
    for beta in [0.0, 1.0, 4.0, 16.0, 64.0, 256.0, 1024.0]:
        memory = AttentionMemory(beta)
        memory.write(patterns, torch.zeros(12, 1))
        weight = float(memory.weights(query)[0, nearest])
        if beta == 0.0:
            assert weight == pytest.approx(1 / 12, abs=1e-15)
        assert weight >= previous - 1e-15
        previous = weight
    assert previous == pytest.approx(1.0, abs=1e-12)


# --------------------------------------------------------------------------- shared algebra


@PROPERTY
@given(
    n_dims=st.integers(4, 20),
    n_patterns=st.integers(1, 10),
    seed=st.integers(0, 2**32 - 1),
    which=st.integers(0, 2),
)
def test_weights_sum_to_one_and_are_invariant_to_pattern_order(n_dims, n_patterns, seed, which):
    # Oracle: the definitions. Normalised weights sum to 1 (m * eps round-off) unless no pattern
    # is reached (all-zero row); permuting the stored patterns permutes the weight columns the
    # same way and leaves the read unchanged (same terms summed in another order: <= m eps).
    generator = torch.Generator().manual_seed(seed)
    patterns = _bits(n_patterns, n_dims, generator)
    queries = _bits(5, n_dims, generator)
    order = torch.randperm(n_patterns, generator=generator)
    memory = _memories(n_dims)[which]
    shuffled = _memories(n_dims)[which]
    memory.write(patterns, patterns.double())
    shuffled.write(patterns[order], patterns[order].double())
    weights = memory.weights(queries)
    sums = weights.sum(1)
    eps = torch.finfo(torch.float64).eps
    assert torch.all(((sums - 1).abs() <= n_patterns * eps) | (sums == 0))
    assert torch.all(weights >= 0)
    assert torch.allclose(shuffled.weights(queries), weights[:, order], rtol=0, atol=4 * eps)
    assert torch.allclose(shuffled.read(queries), memory.read(queries), rtol=0, atol=4 * eps)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_weight_kernel_is_symmetric(which):
    # Oracle: every memory weighs pattern mu by k(query, p_mu) / Z(query) with a symmetric
    # kernel k (a function of the cosine or of |overlap|), so with the stored patterns as
    # queries W[i, j] / W[i, i] = k(p_i, p_j) / k(1) = W[j, i] / W[j, j]. Cross-multiplied to
    # avoid division; tolerance a few eps relative to the products.
    generator = _generator(3)
    n_dims = 24
    patterns = _bits(9, n_dims, generator)
    memory = _memories(n_dims)[which]
    memory.write(patterns, patterns.double())
    w = memory.weights(patterns)
    left = w * w.diagonal()[None, :]
    right = w.T * w.diagonal()[:, None]
    assert torch.allclose(left, right, rtol=1e-13, atol=0)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_state_dict_round_trip_and_empty_memory(which):
    # Oracle: a fresh instance loaded from state_dict must read and weigh identically
    # (bit for bit: same buffers, same arithmetic). Before any write there is no pattern to
    # weigh: weights have zero columns.
    generator = _generator(4)
    n_dims = 16
    patterns = _bits(6, n_dims, generator)
    queries = _bits(4, n_dims, generator)
    memory = _memories(n_dims)[which]
    assert memory.weights(queries).shape == (4, 0)
    memory.write(patterns[:3], patterns[:3].double())
    memory.write(patterns[3:], patterns[3:].double())  # writes accumulate
    fresh = _memories(n_dims)[which]
    fresh.load_state_dict(memory.state_dict())
    assert torch.equal(fresh.read(queries), memory.read(queries))
    assert torch.equal(fresh.weights(queries), memory.weights(queries))
    assert memory.weights(queries).shape == (4, 6)


# --------------------------------------------------------------------------- continuous SDM


def test_continuous_sdm_weights_are_normalised_cap_intersections():
    # Oracle: models.theory.log_cap_intersection evaluated pair by pair and normalised with
    # scipy.special.logsumexp. Real Gaussian vectors (every cosine distinct). Tolerance:
    # float64 round-off of the cosine (n eps) moves ln I by |d ln I / d cos| * n eps; a
    # relative 1e-9 on the weights is far above that and far below any modelling change.
    generator = _generator(5)
    n_dims, radius = 16, 5
    keys = torch.randn(7, n_dims, generator=generator, dtype=torch.float64)
    queries = torch.randn(3, n_dims, generator=generator, dtype=torch.float64)
    queries[0] = keys[2] * 3.0  # cosine 1 to pattern 2
    memory = ContinuousSDM(n_dims, radius, n_neurons=10_000, inputs="vectors")
    memory.write(keys, torch.eye(7, dtype=torch.float64))
    got = memory.weights(queries).numpy()
    unit_keys = keys.numpy() / np.linalg.norm(keys.numpy(), axis=1, keepdims=True)
    unit_queries = queries.numpy() / np.linalg.norm(queries.numpy(), axis=1, keepdims=True)
    for i in range(3):
        logs = np.array(
            [
                theory.log_cap_intersection(n_dims, radius, float(np.clip(c, -1, 1)))
                for c in unit_keys @ unit_queries[i]
            ]
        )
        expected = np.exp(logs - logsumexp(logs))
        assert np.allclose(got[i], expected, rtol=1e-9, atol=1e-300)
    # Values are one-hot, so the read is the weight vector itself.
    assert torch.allclose(memory.read(queries), memory.weights(queries), rtol=0, atol=1e-15)
    # The nearest (cosine 1) pattern carries the largest weight: the intersection is largest
    # for coinciding caps.
    assert int(np.argmax(got[0])) == 2


def test_continuous_sdm_weight_decreases_with_hamming_distance_and_vanishes():
    # Oracle: geometry of caps. The intersection shrinks as the centres move apart and is empty
    # once the angle between them reaches twice the cap radius: for n=16, d=2 the cap radius is
    # arccos(1 - 4/16), so caps centred on x and on its antipode -x (cos = -1) never meet and
    # a query far from every stored pattern reads as zero.
    generator = _generator(6)
    n_dims = 16
    pattern = _bits(1, n_dims, generator)
    queries = rc.flip_bits(
        pattern.expand(n_dims + 1, n_dims), torch.arange(n_dims + 1), generator=generator
    )
    memory = ContinuousSDM(n_dims, 2)
    memory.write(pattern, torch.ones(1, 3))
    logs = memory.log_intersections(queries)[:, 0]
    finite = torch.isfinite(logs)
    assert torch.all(logs[finite].diff() < 0)
    assert not bool(finite[-1])
    weights = memory.weights(queries)
    assert float(weights[0, 0]) == 1.0 and float(weights[-1, 0]) == 0.0
    assert torch.equal(memory.read(queries[-1:]), torch.zeros(1, 3, dtype=torch.float64))


# --------------------------------------------------------------------------- Hopfield


def _hopfield_update_by_loops(patterns: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hopfield (1982) rule written out unit by unit: T_ij = sum_mu s_i s_j (i != j)."""
    spins = 2 * patterns.astype(np.int64) - 1
    state = 2 * query.astype(np.int64) - 1
    n_dims = len(state)
    out = state.copy()
    for i in range(n_dims):
        field = 0
        for j in range(n_dims):
            if i != j:
                field += (
                    int(sum(spins[mu, i] * spins[mu, j] for mu in range(len(spins)))) * state[j]
                )
        out[i] = state[i] if field == 0 else (1 if field > 0 else -1)
    return (out + 1) // 2


def test_hopfield_read_matches_unit_by_unit_rule():
    # Oracle: brute-force loops of Hopfield's rule (independent of the matrix code), exact
    # integers, so the comparison is exact. Small even n makes zero fields (ties) frequent.
    generator = _generator(7)
    patterns = _bits(4, 10, generator)
    queries = _bits(12, 10, generator)
    memory = HopfieldMemory()
    memory.write(patterns, patterns)
    got = memory.read(queries)
    for row in range(12):
        expected = _hopfield_update_by_loops(patterns.numpy(), queries[row].numpy())
        assert np.array_equal(got[row].numpy(), expected.astype(np.float64))
    coupling = memory.couplings
    assert torch.equal(coupling, coupling.T) and torch.all(coupling.diagonal() == 0)


def test_hopfield_zero_field_keeps_the_state():
    # Oracle: hand computation. One stored pattern s = (+,+,+) and query (-,+,-) give fields
    # h_1 = s_1 (s.q - s_1 q_1) = 0, h_2 = -2, h_3 = 0: units 1 and 3 keep -1 (the tie rule), so
    # the read is (-,-,-), whereas a "sign(0) = +1" rule would give (+,-,+).
    memory = HopfieldMemory(3)
    memory.write(torch.ones(1, 3, dtype=torch.uint8), torch.ones(1, 3))
    query = torch.tensor([[0, 1, 0]], dtype=torch.uint8)
    assert torch.equal(memory.fields(query), torch.tensor([[0.0, -2.0, 0.0]], dtype=torch.float64))
    assert torch.equal(memory.read(query), torch.zeros(1, 3, dtype=torch.float64))


@PROPERTY
@given(n_patterns=st.integers(1, 6), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_hopfield_recovers_orthogonal_patterns_in_one_step(n_patterns, seed, data):
    # Oracle: closed-form worst case. For orthogonal +-1 patterns (Hadamard rows) and a query
    # t bits from s^1, h_i = s^1_i (n - 2t) + r_i with |r_i| <= 2 t (m - 1) + m, so when
    # n - 2t > 2t(m - 1) + m one synchronous update restores s^1 exactly and s^1 is fixed.
    n_dims = 64
    limit = max(t for t in range(n_dims) if n_dims - 2 * t > 2 * t * (n_patterns - 1) + n_patterns)
    n_flips = data.draw(st.integers(0, limit))
    spins = scipy.linalg.hadamard(n_dims)[1 : n_patterns + 1]
    patterns = torch.from_numpy((spins + 1) // 2).to(torch.uint8)
    memory = HopfieldMemory()
    memory.write(patterns, patterns.double())
    generator = torch.Generator().manual_seed(seed)
    query = rc.flip_bits(patterns[:1], n_flips, generator=generator)
    assert torch.equal(memory.read(query), patterns[:1].double())
    result = rc.recall(memory, query)
    assert bool(result.converged[0]) and torch.equal(result.final, patterns[:1])


def test_hopfield_weights_are_normalised_absolute_overlaps():
    # Oracle: brute force. m_mu = sum_i s_i^mu q_i / n in Python ints; weights |m| / sum |m|.
    generator = _generator(8)
    patterns = _bits(5, 12, generator)
    queries = _bits(3, 12, generator)
    memory = HopfieldMemory()
    memory.write(patterns, patterns)
    got = memory.weights(queries)
    for row in range(3):
        overlaps = [
            abs(
                sum(
                    (2 * int(p) - 1) * (2 * int(q) - 1)
                    for p, q in zip(pattern, queries[row], strict=True)
                )
            )
            for pattern in patterns
        ]
        total = sum(overlaps)
        expected = [o / total if total else 0.0 for o in overlaps]
        assert np.allclose(got[row].numpy(), expected, rtol=0, atol=1e-15)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: AttentionMemory(), ValueError, "beta must be given, or n_dims and activation"),
        (lambda: AttentionMemory(-1.0), ValueError, r"beta must be in \[0, inf\]; got -1"),
        (lambda: AttentionMemory(float("nan")), ValueError, "beta must be a finite number"),
        (lambda: AttentionMemory("3"), TypeError, "beta must be a real number"),
        (lambda: AttentionMemory(2.0, activation_radius=3), ValueError, "either beta or"),
        (
            lambda: AttentionMemory(n_dims=64, activation_radius=70),
            ValueError,
            r"activation_radius must be in \[0, n_dims\]; got 70 for n_dims=64",
        ),
        (lambda: ContinuousSDM(16, 17), ValueError, "activation_radius must be in"),
        (
            lambda: AttentionMemory(1.0, inputs="auto"),
            ValueError,
            "inputs must be one of 'bits', 'vectors'; got 'auto'",
        ),
        (lambda: ContinuousSDM(16, 4, inputs=None), ValueError, "inputs must be one of"),
        (lambda: HopfieldMemory(0), ValueError, r"n_dims must be in \[1, inf\]; got 0"),
        (lambda: HopfieldMemory(dtype=torch.int64), TypeError, "dtype must be a floating"),
    ],
)
def test_bad_construction_raises_naming_the_argument(build, error, match):
    # Oracle: the error contract of common.md.
    with pytest.raises(error, match=match):
        build()


def test_bad_writes_and_reads_raise_naming_the_argument():
    # Oracle: the error contract of common.md. (Updated: the real-vector checks now use an
    # explicit inputs="vectors" memory — float eye(4) under the default "bits" is bits — and the
    # non-binary address check a "bits" one.)
    attention = AttentionMemory(2.0, inputs="vectors")
    attention.write(torch.eye(4), torch.ones(4, 2))
    with pytest.raises(ValueError, match="queries must have n_dims=4 columns"):
        attention.read(torch.ones(1, 5))
    with pytest.raises(ValueError, match="queries must have non-zero rows"):
        attention.read(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="queries must be finite"):
        attention.read(torch.tensor([[1.0, float("nan"), 0.0, 0.0]]))
    with pytest.raises(TypeError, match="addresses must be a floating tensor of real vectors"):
        attention.write(torch.full((1, 4), 3), torch.ones(1, 2))
    with pytest.raises(ValueError, match="values must have n_values=2 columns"):
        attention.write(torch.eye(4), torch.ones(4, 3))
    with pytest.raises(ValueError, match="addresses and values must have the same number of rows"):
        attention.write(torch.eye(4), torch.ones(3, 2))
    with pytest.raises(ValueError, match="addresses must be binary"):
        AttentionMemory(2.0).write(torch.full((1, 4), 3), torch.ones(1, 2))
    hopfield = HopfieldMemory()
    patterns = torch.eye(4, dtype=torch.uint8)
    with pytest.raises(ValueError, match="values must equal addresses"):
        hopfield.write(patterns, 1 - patterns)
    with pytest.raises(ValueError, match="addresses must be binary"):
        hopfield.write(2 * patterns, 2 * patterns)


# --------------------------------------------------------------------------- devices


@pytest.mark.gpu
@CUDA
@pytest.mark.parametrize("which", [0, 1, 2])
def test_cuda_matches_cpu(which):
    # Oracle: the CPU engine. The same float64 arithmetic on CUDA may sum in another order:
    # a relative 1e-12 is far above m * eps.
    generator = _generator(9)
    n_dims = 32
    patterns = _bits(20, n_dims, generator)
    queries = _bits(6, n_dims, generator)
    cpu = _memories(n_dims)[which]
    cpu.write(patterns, patterns.double())
    cuda = _memories(n_dims)[which].to("cuda")
    cuda.write(patterns.cuda(), patterns.double().cuda())
    assert cuda.read(queries.cuda()).device.type == "cuda"
    assert torch.allclose(cuda.read(queries.cuda()).cpu(), cpu.read(queries), rtol=1e-12, atol=0)
    moved = _memories(n_dims)[which]
    moved.write(patterns, patterns.double())
    moved = moved.to("cuda")
    assert torch.allclose(
        moved.weights(queries.cuda()).cpu(), cpu.weights(queries), rtol=1e-12, atol=1e-15
    )
