"""One contract suite run against every memory of models (the models.memory.Memory interface).

To add a memory, append one ``MemoryCase`` to ``CASES``: a name, a builder that turns a
``torch.Generator`` into a fresh (empty) memory, and the address length ``n_dims``.

Oracles: each property is checked against the same memory under a transformation whose effect
is known exactly — a rebuild from the same seed (determinism), one-row batches (batch
independence), a permutation of the patterns or of the neurons (equivariance), a state_dict
copy into a memory built from another seed (round trip), a move between devices; and the
documented rules of ``models.memory`` (input conventions, reads before any write, the CUDA
error).
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from models.attention import AttentionMemory, ContinuousSDM, HopfieldMemory
from models.memory import Memory, ReadableMemory
from models.sdm import (
    NeuronSDM,
    PatternSDM,
    SelectedCoordinates,
    random_addresses,
    selected_coordinate_addresses,
)
from tests.helpers import seeded_generator


@dataclass(frozen=True)
class MemoryCase:
    """How to build and feed one memory in the contract suite.

    Parameters
    ----------
    name : str
    build : callable (torch.Generator) -> Memory
        A fresh, empty memory; all its randomness drawn from the generator.
    n_dims : int
        Address length.
    n_values : int
        Value length (ignored when ``autoassociative``: the values are the addresses).
    binary : bool
        Addresses and queries are uint8 {0, 1}; otherwise real Gaussian vectors.
    autoassociative : bool
        The memory requires values equal to the addresses (Hopfield).
    stochastic : bool
        Reads are random draws (from the memory's generator); checks that compare two
        separate reads of one memory are skipped.
    permute_neurons : callable (Memory, Tensor) -> Memory, optional
        Rebuild an empty memory with its neurons reordered by a permutation; None where the
        memory has no neurons, or (top-k) where the tie rule makes the result depend on order
        by design.
    n_values_before_write : int
        Columns of ``read`` before any write: the value length where the constructor fixes it
        (NeuronSDM; Hopfield, whose values are its states), else 0.
    """

    name: str
    build: Callable[[torch.Generator], Memory]
    n_dims: int
    n_values: int = 3
    binary: bool = True
    autoassociative: bool = False
    stochastic: bool = False
    permute_neurons: Callable[[Memory, torch.Tensor], Memory] | None = None
    n_values_before_write: int = 0


def permuted_neuron_sdm(memory: NeuronSDM, permutation: torch.Tensor) -> NeuronSDM:
    """The same empty NeuronSDM with neuron ``i`` moved to position ``permutation[i]``."""
    order = torch.argsort(permutation)
    if memory.selected:
        addresses = SelectedCoordinates(
            memory.coordinates[order],
            memory.coordinate_values[order],
            memory.n_dims,
            hyperplane=memory.selected_coordinates().hyperplane,
        )
    else:
        addresses = memory.addresses[order]
    return NeuronSDM(
        addresses,
        memory.n_values,
        activation_radius=memory.activation_radius,
        top_k=memory.top_k,
        binary_threshold=memory.binary_threshold,
        dtype=memory.dtype,
    )


CASES = [
    MemoryCase(
        "neuron_radius",
        lambda g: NeuronSDM(random_addresses(400, 16, generator=g), 3, activation_radius=5),
        16,
        permute_neurons=permuted_neuron_sdm,
        n_values_before_write=3,
    ),
    MemoryCase(
        "neuron_top_k",
        lambda g: NeuronSDM(random_addresses(400, 16, generator=g), 3, top_k=30),
        16,
        n_values_before_write=3,
    ),
    MemoryCase(
        "neuron_selected",
        lambda g: NeuronSDM(selected_coordinate_addresses(600, 16, 3, generator=g), 3),
        16,
        permute_neurons=permuted_neuron_sdm,
        n_values_before_write=3,
    ),
    MemoryCase(
        "neuron_hyperplane_float32",
        lambda g: NeuronSDM(
            selected_coordinate_addresses(600, 16, 2, generator=g, hyperplane=True),
            3,
            dtype=torch.float32,
        ),
        16,
        permute_neurons=permuted_neuron_sdm,
        n_values_before_write=3,
    ),
    MemoryCase("pattern_exact", lambda g: PatternSDM(16, 5), 16),
    MemoryCase(
        "pattern_finite",
        lambda g: PatternSDM(16, 5, n_neurons=2**14, generator=g),
        16,
        stochastic=True,
    ),
    # Real vectors need the explicit inputs="vectors" (the default is "bits").
    MemoryCase("attention", lambda g: AttentionMemory(8.0, inputs="vectors"), 16, binary=False),
    MemoryCase(
        "continuous_sdm", lambda g: ContinuousSDM(16, 5, inputs="vectors"), 16, binary=False
    ),
    MemoryCase("attention_bits", lambda g: AttentionMemory(8.0), 16),
    MemoryCase("continuous_sdm_bits", lambda g: ContinuousSDM(16, 5), 16),
    MemoryCase(
        "hopfield",
        lambda g: HopfieldMemory(16),
        16,
        autoassociative=True,
        n_values_before_write=16,
    ),
]

N_PATTERNS = 10
N_QUERIES = 6


def sample_keys(case: MemoryCase, count: int, g: torch.Generator) -> torch.Tensor:
    if case.binary:
        return random_addresses(count, case.n_dims, generator=g)
    return torch.randn(count, case.n_dims, generator=g, dtype=torch.float64)


def sample_data(case: MemoryCase, seed: int):
    """Patterns, values and queries; half the queries are stored addresses (non-zero weights)."""
    g = seeded_generator(seed)
    addresses = sample_keys(case, N_PATTERNS, g)
    if case.autoassociative:
        values = addresses.to(torch.float64)
    else:
        values = torch.randn(N_PATTERNS, case.n_values, generator=g, dtype=torch.float64)
    queries = torch.cat([addresses[: N_QUERIES // 2], sample_keys(case, N_QUERIES // 2, g)])
    return addresses, values, queries


def built_and_written(case: MemoryCase, seed: int = 0, data_seed: int = 1):
    memory = case.build(seeded_generator(seed))
    addresses, values, queries = sample_data(case, data_seed)
    memory.write(addresses, values)
    return memory, addresses, values, queries


def tolerance(tensor: torch.Tensor) -> dict:
    # Float reorderings (batched BLAS) differ by a few ulps: 1e-12 in float64, 1e-5 in float32.
    return (
        {"rtol": 1e-12, "atol": 1e-12}
        if tensor.dtype == torch.float64
        else {
            "rtol": 1e-5,
            "atol": 1e-6,
        }
    )


def n_values_of(case: MemoryCase) -> int:
    return case.n_dims if case.autoassociative else case.n_values


ids = [case.name for case in CASES]
cases = pytest.mark.parametrize("case", CASES, ids=ids)


@cases
def test_is_a_memory_with_shapes_dtypes_and_normalised_weights(case):
    # Oracle: the Memory interface (shapes, floating dtypes, rows summing to 1 or 0).
    memory, _, _, queries = built_and_written(case)
    assert isinstance(memory, Memory) and isinstance(memory, ReadableMemory)
    # Oracle: the writes made and the buffers' own dtype and device (Memory's shared plumbing).
    assert memory.n_patterns == N_PATTERNS
    buffer_dtypes = {b.dtype for b in memory.buffers() if b.is_floating_point() and b.ndim == 2}
    assert memory.dtype in buffer_dtypes and memory.device == torch.device("cpu")
    out = memory.read(queries)
    weights = memory.weights(queries)
    assert out.shape == (N_QUERIES, n_values_of(case)) and out.is_floating_point()
    assert weights.shape == (N_QUERIES, N_PATTERNS) and weights.is_floating_point()
    assert torch.equal(memory(queries), out) or case.stochastic
    assert bool((weights >= 0).all())
    # Oracle: the interface — each row sums to 1, or is all zero when nothing is reached.
    sums = weights.sum(dim=1).double()
    assert bool(((sums - 1).abs() < 1e-5).logical_or(sums == 0).all())
    assert bool((sums[: N_QUERIES // 2] > 0).all())  # a stored address reaches its pattern


@cases
def test_deterministic_under_a_generator(case):
    # Oracle: the same seeds must give bit-identical memories and reads.
    first, _, _, queries = built_and_written(case, seed=5)
    second, _, _, _ = built_and_written(case, seed=5)
    assert torch.equal(first.weights(queries), second.weights(queries))
    assert torch.equal(first.read(queries), second.read(queries))


@cases
def test_batch_independence(case):
    # Oracle: reading queries one at a time gives the rows of the batched read.
    if case.stochastic:
        pytest.skip("two reads of a stochastic memory are different draws")
    memory, _, _, queries = built_and_written(case)
    batched = memory.read(queries)
    single = torch.cat([memory.read(queries[i : i + 1]) for i in range(N_QUERIES)])
    torch.testing.assert_close(single, batched, **tolerance(batched))
    weights = memory.weights(queries)
    single_weights = torch.cat([memory.weights(queries[i : i + 1]) for i in range(N_QUERIES)])
    torch.testing.assert_close(single_weights, weights, **tolerance(weights))


@cases
def test_equivariant_to_pattern_order(case):
    # Oracle: permuting the written patterns permutes the weight columns and leaves the read.
    if case.stochastic:
        pytest.skip("two reads of a stochastic memory are different draws")
    memory, addresses, values, queries = built_and_written(case)
    permutation = torch.randperm(N_PATTERNS, generator=seeded_generator(7))
    shuffled = case.build(seeded_generator(0))
    shuffled.write(addresses[permutation], values[permutation])
    reference = memory.read(queries)
    torch.testing.assert_close(shuffled.read(queries), reference, **tolerance(reference))
    weights = memory.weights(queries)
    torch.testing.assert_close(
        shuffled.weights(queries), weights[:, permutation], **tolerance(weights)
    )


@cases
def test_invariant_to_neuron_order(case):
    # Oracle: the unpermuted memory — which neuron has which index must not matter.
    if case.permute_neurons is None:
        pytest.skip("no neurons, or top-k whose tie rule depends on the neuron index by design")
    memory = case.build(seeded_generator(0))
    n_neurons = memory.n_neurons
    permuted = case.permute_neurons(
        memory, torch.randperm(n_neurons, generator=seeded_generator(8))
    )
    addresses, values, queries = sample_data(case, 1)
    memory.write(addresses, values)
    permuted.write(addresses, values)
    assert torch.equal(permuted.weights(queries), memory.weights(queries))
    assert torch.equal(permuted.read(queries), memory.read(queries))


@cases
def test_state_dict_round_trip(case):
    # Oracle: the original memory. The target is built from another seed and already holds
    # other patterns, so every piece of state must come from the state_dict.
    memory, _, _, queries = built_and_written(case, seed=0, data_seed=1)
    buffer = io.BytesIO()
    torch.save(memory.state_dict(), buffer)
    buffer.seek(0)
    target = case.build(seeded_generator(99))
    other_addresses, other_values, _ = sample_data(case, 98)
    target.write(other_addresses[:3], other_values[:3])
    target.load_state_dict(torch.load(buffer, weights_only=False))
    assert torch.equal(target.weights(queries), memory.weights(queries))
    assert torch.equal(target.read(queries), memory.read(queries))


@cases
def test_to_cpu_device(case):
    # Oracle: the same memory before the move (.to on the current device is the identity).
    memory, _, _, queries = built_and_written(case, seed=3)
    twin, _, _, _ = built_and_written(case, seed=3)
    moved = twin.to(torch.device("cpu"))
    assert moved is twin
    assert torch.equal(moved.read(queries), memory.read(queries))


@cases
def test_to_float32_follows_the_buffers(case):
    # Oracle: the float64 memory; float32 keeps ~7 significant digits, and the read is an
    # average of O(1) values, so 1e-4 absolute covers rounding of weights and values.
    memory, _, _, queries = built_and_written(case, seed=3)
    twin, _, _, _ = built_and_written(case, seed=3)
    twin = twin.to(torch.float32)
    out = twin.read(queries)
    assert out.dtype == torch.float32 and twin.dtype == torch.float32
    if not case.stochastic:
        torch.testing.assert_close(
            out.double(), memory.read(queries).double(), rtol=1e-4, atol=1e-4
        )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@cases
def test_to_cuda_matches_cpu(case):
    # Oracle: the CPU memory built from the same seed; float tolerance for GPU reductions.
    memory, _, _, queries = built_and_written(case, seed=3)
    twin, _, _, _ = built_and_written(case, seed=3)
    twin = twin.to(torch.device("cuda"))
    out = twin.read(queries.cuda())
    assert out.device.type == "cuda"
    reference = memory.read(queries)
    torch.testing.assert_close(out.cpu(), reference, **tolerance(reference))
    weights = twin.weights(queries.cuda())
    assert weights.device.type == "cuda"
    if not case.stochastic:
        torch.testing.assert_close(weights.cpu(), memory.weights(queries), **tolerance(reference))


@cases
def test_bad_inputs_raise_value_error_naming_the_argument(case):
    # Oracle: the error contract — ValueError whose message names the offending argument.
    memory = case.build(seeded_generator(0))
    write_params = list(inspect.signature(memory.write).parameters)
    address_name, values_name = write_params[0], write_params[1]
    addresses, values, queries = sample_data(case, 1)
    memory.write(addresses, values)
    with pytest.raises(ValueError, match="queries"):
        memory.read(queries[:, :-1])  # wrong n_dims
    with pytest.raises(ValueError, match="queries"):
        memory.read(queries[0])  # 1-D
    with pytest.raises(ValueError, match=address_name):
        memory.write(addresses[:, :-1], values)
    with pytest.raises(ValueError, match=values_name):
        memory.write(addresses, values[:-1])  # row mismatch
    nan_values = values.clone()
    nan_values[0, 0] = float("nan")
    with pytest.raises(ValueError, match=values_name):
        memory.write(addresses, nan_values)
    nan_queries = queries.to(torch.float64).clone()  # .to is a no-op for float64 queries
    nan_queries[0, 0] = float("nan")
    with pytest.raises(ValueError, match="queries"):
        memory.weights(nan_queries)
    if case.binary:
        with pytest.raises(ValueError, match="queries"):
            memory.read(queries.to(torch.float64) * 0.5)  # non-binary
        with pytest.raises(ValueError, match=address_name):
            memory.write(addresses.to(torch.int64) * 2, values)
    else:  # integer codes are refused under inputs="vectors", never reinterpreted
        with pytest.raises(TypeError, match="queries"):
            memory.read((queries > 0).to(torch.uint8))
        with pytest.raises(TypeError, match=address_name):
            memory.write((addresses > 0).to(torch.int64), values)
    # The failed calls left the memory unchanged.
    assert memory.weights(queries).shape == (N_QUERIES, N_PATTERNS)


@cases
def test_reads_before_any_write_have_the_documented_shapes(case):
    # Oracle: the rule of models.memory — before any write, weights(queries) has shape
    # (n_queries, 0) and read(queries) (n_queries, n_values), n_values being the length the
    # constructor fixed (NeuronSDM: zeros; Hopfield: the states, returned unchanged since every
    # field of T = 0 is zero) or 0 when only the first write fixes it.
    memory = case.build(seeded_generator(0))
    _, _, queries = sample_data(case, 1)
    weights = memory.weights(queries)
    out = memory.read(queries)
    assert weights.shape == (N_QUERIES, 0) and weights.is_floating_point()
    assert out.shape == (N_QUERIES, case.n_values_before_write) and out.is_floating_point()
    if case.autoassociative:
        assert torch.equal(out, queries.to(out.dtype))
    else:
        assert bool((out == 0).all())
    assert memory.n_patterns == 0
    # Queries are validated under the input convention before the first write as after it.
    with pytest.raises(ValueError, match="queries"):
        memory.weights(queries[0])  # 1-D
    bad = queries.to(torch.float64) * 0.5 if case.binary else (queries > 0).to(torch.uint8)
    with pytest.raises(ValueError if case.binary else TypeError, match="queries"):
        memory.weights(bad)


@cases
def test_input_convention_is_declared_and_never_guessed_from_the_dtype(case):
    # Oracle: the documented conventions of models.memory. "bits": the uint8 read is the
    # oracle — bool, int64, float32 and float64 copies of the same bits give identical
    # weights and reads. "vectors": float32 and float64 copies of the same vectors agree to
    # float32 rounding (1e-5 relative in the cosines, amplified by beta = 8 and the cap
    # intersection's slope: 1e-3 on the weights), and integer codes are refused.
    memory, _, _, queries = built_and_written(case)
    assert memory.inputs == ("bits" if case.binary else "vectors")
    if case.stochastic:
        pytest.skip("two reads of a stochastic memory are different draws")
    reference_weights = memory.weights(queries)
    reference_read = memory.read(queries)
    if case.binary:
        for dtype in (torch.bool, torch.int64, torch.float32, torch.float64):
            assert torch.equal(memory.weights(queries.to(dtype)), reference_weights)
            assert torch.equal(memory.read(queries.to(dtype)), reference_read)
    else:
        got = memory.weights(queries.to(torch.float32))
        torch.testing.assert_close(got, reference_weights, rtol=1e-3, atol=1e-3)
        for dtype in (torch.bool, torch.uint8, torch.int64):
            with pytest.raises(TypeError, match="inputs='vectors'"):
                memory.weights((queries > 0).to(dtype))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
@cases
def test_to_cuda_without_cuda_raises_a_clear_error_and_leaves_the_memory(case):
    # Oracle: the documented error of models.memory.Memory.to (not torch's internal "Torch not
    # compiled with CUDA enabled"), for every way of asking; the memory is left on the CPU and
    # reads exactly as before.
    memory, _, _, queries = built_and_written(case, seed=3)
    before = memory.weights(queries)
    requests = [
        lambda: memory.to("cuda"),
        lambda: memory.to(torch.device("cuda:0")),
        lambda: memory.to("cuda", torch.float32),
        lambda: memory.to(device="cuda", dtype=torch.float32),
        lambda: memory.cuda(),
        lambda: memory.cuda(0),
    ]
    for request in requests:
        with pytest.raises(RuntimeError, match="CUDA is not available on this machine; "):
            request()
    assert memory.device == torch.device("cpu")
    assert {b.device.type for b in memory.buffers()} == {"cpu"}
    if not case.stochastic:
        assert torch.equal(memory.weights(queries), before)
    assert memory.to(torch.float64) is memory  # a dtype alone names no device
