"""Tests of models.recall: exact query perturbation and the iterative recall loop.

Oracles are named per test: the Hamming distance recount (``bits_wrong`` against an independent
numpy count), closed-form cosines and norms, binomial / normal sampling bounds for uniformity, and
a hand-built test memory whose recall trajectory is known in closed form.
"""

import math

import numpy as np
import pytest
import torch

from models import recall as rc
from models.attention import AttentionMemory
from models.memory import Memory, ReadableMemory
from models.sdm import NeuronSDM, random_addresses
from tests.helpers import torch_generator

SEED = 7_2026


def _children(count: int) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(SEED).spawn(count)


def test_flip_bits_flips_exactly_n_bits_per_row_torch_and_numpy():
    # Oracle: an independent numpy recount of differing positions (Hamming distance).
    seeds = _children(3)
    patterns = np.random.default_rng(seeds[0]).integers(0, 2, size=(50, 40), dtype=np.uint8)
    counts = np.arange(50) % 41
    flipped_np = rc.flip_bits(patterns, counts, generator=np.random.default_rng(seeds[1]))
    assert isinstance(flipped_np, np.ndarray) and flipped_np.dtype == np.uint8
    assert np.array_equal((flipped_np != patterns).sum(axis=1), counts)
    flipped_t = rc.flip_bits(torch.from_numpy(patterns), 7, generator=torch_generator(seeds[2]))
    assert isinstance(flipped_t, torch.Tensor) and flipped_t.dtype == torch.uint8
    assert np.array_equal((flipped_t.numpy() != patterns).sum(axis=1), np.full(50, 7))
    assert set(np.unique(flipped_t.numpy())) <= {0, 1}


def test_flip_bits_chooses_positions_uniformly():
    # Oracle: sampling theory. Each of n positions is flipped with probability k/n, so over N
    # rows its flip count is Binomial(N, k/n); a 6-sd band fails with probability < 1e-7 per
    # position (< 1e-5 over all positions) for any seed.
    seeds = _children(2)
    n_rows, n_dims, k = 4000, 20, 5
    patterns = torch.zeros(n_rows, n_dims, dtype=torch.uint8)
    flipped = rc.flip_bits(patterns, k, generator=torch_generator(seeds[0])).double()
    per_position = flipped.sum(dim=0)
    mean = n_rows * k / n_dims
    sd = math.sqrt(n_rows * (k / n_dims) * (1 - k / n_dims))
    assert torch.all((per_position - mean).abs() <= 6 * sd)


def test_flip_bits_is_deterministic_under_a_generator():
    # Oracle: reproducibility contract: equal seeds give equal draws, other seeds differ.
    patterns = torch.randint(0, 2, (10, 64), generator=torch.Generator().manual_seed(1))
    first = rc.flip_bits(patterns, 9, generator=torch.Generator().manual_seed(5))
    again = rc.flip_bits(patterns, 9, generator=torch.Generator().manual_seed(5))
    other = rc.flip_bits(patterns, 9, generator=torch.Generator().manual_seed(6))
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_perturb_to_cosine_hits_the_exact_cosine_and_unit_norm():
    # Oracle: closed form: the output has norm 1 and cosine c to its input. Round-off of the
    # float64 construction is a few ulp of 1; 1e-12 leaves a wide margin.
    seeds = _children(3)
    vectors = np.random.default_rng(seeds[0]).normal(size=(30, 17)) * 5.0
    cosines = np.linspace(-1.0, 1.0, 30)
    out = rc.perturb_to_cosine(vectors, cosines, generator=np.random.default_rng(seeds[1]))
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, rtol=0, atol=1e-12)
    got = np.sum(out * vectors, axis=1) / np.linalg.norm(vectors, axis=1)
    assert np.allclose(got, cosines, rtol=0, atol=1e-12)
    # float32 tensors keep their dtype; float32 rounding of unit entries is ~6e-8 per entry,
    # so the cosine is within 17 * 6e-8 ~ 1e-6.
    tensor = torch.from_numpy(vectors).float()
    out32 = rc.perturb_to_cosine(tensor, 0.3, generator=torch_generator(seeds[2]))
    assert out32.dtype == torch.float32
    cos32 = (out32.double() * tensor.double()).sum(1) / tensor.double().norm(dim=1)
    assert torch.allclose(cos32, torch.full((30,), 0.3, dtype=torch.float64), atol=2e-6, rtol=0)


def test_perturb_to_cosine_orthogonal_part_is_isotropic():
    # Oracle: sampling theory. For input e_1, (u - c e_1)/sqrt(1 - c^2) is uniform on the unit
    # sphere of the other n-1 axes: each coordinate has mean 0 and variance 1/(n-1), so over N
    # draws its mean has sd 1/sqrt((n-1) N); a 6-sd band fails with probability < 1e-8.
    seeds = _children(1)
    n_rows, n_dims, c = 5000, 6, 0.6
    vectors = torch.zeros(n_rows, n_dims, dtype=torch.float64)
    vectors[:, 0] = 2.0
    out = rc.perturb_to_cosine(vectors, c, generator=torch_generator(seeds[0]))
    rest = out[:, 1:] / math.sqrt(1 - c**2)
    assert torch.all(rest.mean(0).abs() <= 6 / math.sqrt((n_dims - 1) * n_rows))
    second_moment_sd = math.sqrt(2.0 / n_rows)  # var(x^2) <= E x^4 <= 3/(n-1)^2 ~ 0.12 < 2
    assert torch.all((rest.pow(2).mean(0) - 1 / (n_dims - 1)).abs() <= 6 * second_moment_sd)


def test_bits_wrong_broadcasts_over_a_trajectory():
    # Oracle: numpy count of unequal entries along the last axis.
    rng = np.random.default_rng(_children(1)[0])
    trajectory = rng.integers(0, 2, size=(4, 6, 12))
    targets = rng.integers(0, 2, size=(6, 12))
    got = rc.bits_wrong(trajectory, targets)
    assert np.array_equal(got, (trajectory != targets[None]).sum(axis=-1))
    got_t = rc.bits_wrong(torch.from_numpy(trajectory), torch.from_numpy(targets))
    assert torch.equal(got_t, torch.from_numpy(got))


class _StepTowardNearest(Memory):
    """Test memory: read fixes the lowest wrong bit relative to the nearest stored pattern.

    Recall from Hamming distance t therefore takes exactly t reads to reach the pattern and one
    more read to detect the fixed point: a closed-form trajectory.
    """

    def __init__(self, patterns: torch.Tensor):
        super().__init__()
        self.register_buffer("patterns", patterns)

    def write(self, addresses, values):  # pragma: no cover - not used
        raise NotImplementedError

    def weights(self, queries):
        queries = queries.to(self.patterns.device)
        distances = (queries[:, None, :] != self.patterns[None]).sum(-1)
        nearest = distances.argmin(1)
        return torch.nn.functional.one_hot(nearest, self.patterns.shape[0]).double()

    def read(self, queries):
        queries = queries.to(self.patterns.device)
        target = self.patterns[self.weights(queries).argmax(1)]
        wrong = queries != target
        first = torch.where(wrong.any(1), wrong.to(torch.int64).argmax(1), -1)
        out = queries.clone()
        rows = torch.nonzero(first >= 0).flatten()
        out[rows, first[rows]] = target[rows, first[rows]]
        return out.double()  # floats in {0, 1}, as an SDM read returns


def test_recall_trajectory_matches_closed_form_of_test_memory():
    # Oracle: _StepTowardNearest reaches its pattern after exactly t reads from distance t and
    # detects the fixed point at read t + 1; converged queries are frozen.
    seeds = _children(2)
    n_dims = 32
    patterns = torch.zeros(2, n_dims, dtype=torch.uint8)
    patterns[1] = 1
    memory = _StepTowardNearest(patterns)
    distances = torch.tensor([0, 1, 3, 6])
    queries = rc.flip_bits(patterns[[0, 1, 0, 1]], distances, generator=torch_generator(seeds[0]))
    result = rc.recall(memory, queries, max_steps=20)
    assert result.trajectory.shape == (8, 4, n_dims) and result.trajectory.dtype == torch.uint8
    assert torch.equal(result.n_steps, distances + 1)
    assert bool(result.converged.all())
    assert torch.equal(result.final, patterns[[0, 1, 0, 1]])
    assert torch.equal(result.trajectory[0], queries)
    wrong = rc.bits_wrong(result.trajectory, patterns[[0, 1, 0, 1]])
    expected = torch.clamp(distances[None, :] - torch.arange(8)[:, None], min=0)
    assert torch.equal(wrong, expected)


class _NumpyReadout:
    """A read-only memory that is not a Memory: ``read`` takes a CPU tensor, returns float64 numpy.

    The shape of the cerebellum's circuit read-out, which :func:`recall` must accept as it is.
    """

    def __init__(self, memory: Memory):
        self.memory = memory

    def read(self, queries: torch.Tensor) -> np.ndarray:
        assert isinstance(queries, torch.Tensor) and queries.device.type == "cpu"
        return self.memory.read(queries).numpy().astype(np.float64)


def _sdm_case(generator: torch.Generator):
    """A binary autoassociative NeuronSDM and noisy binary queries."""
    patterns = torch.randint(0, 2, (6, 32), generator=generator, dtype=torch.uint8)
    memory = NeuronSDM(random_addresses(3000, 32, generator=generator), 32, activation_radius=11)
    memory.write(patterns, patterns.double())
    queries = rc.flip_bits(patterns, torch.tensor([0, 2, 4, 6, 8, 10]), generator=generator)
    return memory, queries


def _attention_case(generator: torch.Generator):
    """A real-valued autoassociative AttentionMemory and real queries near its patterns."""
    patterns = torch.randn(5, 16, generator=generator, dtype=torch.float64)
    memory = AttentionMemory(beta=6.0, inputs="vectors")
    memory.write(patterns, patterns)
    queries = patterns + 0.3 * torch.randn(5, 16, generator=generator, dtype=torch.float64)
    return memory, queries


@pytest.mark.parametrize("build", [_sdm_case, _attention_case], ids=["neuron_sdm", "attention"])
def test_recall_accepts_any_readable_memory_returning_numpy(build):
    # Oracle: the other engine. The same recall through the Memory itself (a tensor read) must
    # give the identical trajectory, convergence and step counts (binary and real states).
    memory, queries = build(torch_generator(_children(1)[0]))
    readout = _NumpyReadout(memory)
    assert isinstance(readout, ReadableMemory) and not isinstance(readout, Memory)
    expected = rc.recall(memory, queries, max_steps=8)
    got = rc.recall(readout, queries, max_steps=8)
    assert got.trajectory.dtype == expected.trajectory.dtype
    assert torch.equal(got.trajectory, expected.trajectory)
    assert torch.equal(got.converged, expected.converged)
    assert torch.equal(got.n_steps, expected.n_steps)


def test_recall_refuses_a_read_that_returns_neither_tensor_nor_array():
    # Oracle: the error contract: a memory's read must return a tensor or an array.
    class _ListReadout:
        def read(self, queries):
            return queries.tolist()

    with pytest.raises(TypeError, match="memory.read must return a torch.Tensor or numpy"):
        rc.recall(_ListReadout(), torch.zeros(1, 3, dtype=torch.uint8))


def test_recall_stops_at_max_steps_without_convergence():
    # Oracle: from distance 6 the test memory needs 7 reads to confirm a fixed point; with
    # max_steps=3 the query is 3 bits from the pattern and not converged.
    patterns = torch.zeros(1, 16, dtype=torch.uint8)
    queries = patterns.clone()
    queries[0, :6] = 1
    result = rc.recall(_StepTowardNearest(patterns), queries, max_steps=3)
    assert result.trajectory.shape == (4, 1, 16)
    assert not bool(result.converged[0]) and int(result.n_steps[0]) == 3
    assert int(rc.bits_wrong(result.final, patterns)[0]) == 3


def test_recall_with_tolerance_counts_any_change_below_it_as_converged():
    # Oracle: each read of the test memory changes one bit by exactly 1, so tol=1 makes the
    # first read count as converged (n_steps = 1) while tol=0.5 does not.
    patterns = torch.zeros(1, 8, dtype=torch.uint8)
    queries = torch.ones(1, 8, dtype=torch.uint8)
    memory = _StepTowardNearest(patterns)
    assert int(rc.recall(memory, queries, tol=1.0).n_steps[0]) == 1
    assert int(rc.recall(memory, queries, tol=0.5).n_steps[0]) == 9


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda: rc.flip_bits(
                torch.zeros(2, 4, dtype=torch.uint8), 5, generator=torch.Generator()
            ),
            ValueError,
            r"n_flips must be in \[0, n_dims\]; got range \[5, 5\] for n_dims=4",
        ),
        (
            lambda: rc.flip_bits(torch.full((2, 4), 2), 1, generator=torch.Generator()),
            ValueError,
            "patterns must be binary",
        ),
        (
            lambda: rc.flip_bits(np.zeros((2, 4)), 1, generator=torch.Generator()),
            TypeError,
            "generator must be a numpy.random",
        ),
        (
            lambda: rc.flip_bits(torch.zeros(2, 4), 1.5, generator=torch.Generator()),
            TypeError,
            "n_flips must be integers",
        ),
        (
            lambda: rc.perturb_to_cosine(np.ones((2, 3)), 1.2, generator=np.random.default_rng()),
            ValueError,
            r"cosine must be in \[-1, 1\]",
        ),
        (
            lambda: rc.perturb_to_cosine(np.zeros((2, 3)), 0.5, generator=np.random.default_rng()),
            ValueError,
            "vectors must be non-zero",
        ),
        (
            lambda: rc.perturb_to_cosine(
                np.ones((2, 3), int), 0.5, generator=np.random.default_rng()
            ),
            TypeError,
            "vectors must have a floating dtype",
        ),
        (
            lambda: rc.recall(object(), torch.zeros(1, 3)),
            TypeError,
            r"memory must have a read\(queries\) method",
        ),
        (
            lambda: rc.recall(_StepTowardNearest(torch.zeros(1, 3)), torch.zeros(1, 3), tol=-1.0),
            ValueError,
            r"tol must be in \[0, inf\]; got -1",
        ),
        (
            lambda: rc.recall(
                _StepTowardNearest(torch.zeros(1, 3)), torch.zeros(1, 3), max_steps=0
            ),
            ValueError,
            r"max_steps must be in \[1, inf\]",
        ),
    ],
)
def test_bad_input_raises_naming_the_argument(call, error, match):
    # Oracle: the error contract of common.md.
    with pytest.raises(error, match=match):
        call()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_generators_and_recall_follow_the_memory_device():
    # Oracle: the CPU path. The test memory is exact integer logic, so CUDA must agree exactly;
    # flip_bits with a CUDA generator still flips exactly k bits (recount).
    patterns = torch.zeros(2, 24, dtype=torch.uint8)
    patterns[1] = 1
    generator = torch.Generator(device="cuda").manual_seed(3)
    queries = rc.flip_bits(patterns.cuda(), torch.tensor([2, 5]), generator=generator)
    assert queries.device.type == "cuda"
    assert torch.equal(rc.bits_wrong(queries, patterns.cuda()).cpu(), torch.tensor([2, 5]))
    memory = _StepTowardNearest(patterns).to("cuda")
    on_cuda = rc.recall(memory, queries.cpu())  # CPU queries follow the CUDA memory
    on_cpu = rc.recall(_StepTowardNearest(patterns), queries.cpu())
    assert on_cuda.trajectory.device.type == "cuda"
    assert torch.equal(on_cuda.trajectory.cpu(), on_cpu.trajectory)
    assert torch.equal(on_cuda.n_steps.cpu(), on_cpu.n_steps)
    vectors = torch.randn(4, 8, dtype=torch.float64, device="cuda", generator=generator)
    out = rc.perturb_to_cosine(vectors, 0.25, generator=generator)
    cosines = (out * vectors).sum(1) / vectors.norm(dim=1)
    assert torch.allclose(cosines, torch.full_like(cosines, 0.25), rtol=0, atol=1e-12)
