"""Tests of models.sdm against brute-force oracles (numpy enumeration, Python sets, exact ints)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from models.activation import ActivationRule
from models.sdm import (
    NeuronSDM,
    PatternSDM,
    SelectedCoordinates,
    activate,
    activate_selected,
    active_pairs,
    hamming_distances,
    intersections,
    kernels,
    random_addresses,
    read,
    selected_coordinate_addresses,
    write,
)
from tests.helpers import seeded_generator

cuda = pytest.mark.gpu


# ----------------------------------------------------------------------------------------------
# Oracles (independent of models.sdm: plain numpy loops and exact Python integers)
# ----------------------------------------------------------------------------------------------


def brute_distances(queries: np.ndarray, addresses: np.ndarray) -> np.ndarray:
    return (queries[:, None, :] != addresses[None, :, :]).sum(axis=2)


def brute_active_sets(queries, addresses, radius=None, top_k=None) -> list[set[int]]:
    distances = brute_distances(np.asarray(queries), np.asarray(addresses))
    sets = []
    for row in distances:
        if radius is not None:
            sets.append({int(j) for j in np.flatnonzero(row <= radius)})
        else:
            # Tie rule: sort by (distance, index); the lower index wins among equal distances.
            order = np.lexsort((np.arange(len(row)), row))
            sets.append({int(j) for j in order[:top_k]})
    return sets


def brute_selected_sets(queries, coordinates, values) -> list[set[int]]:
    sets = []
    for query in np.asarray(queries):
        active = set()
        for j, (coords, bits) in enumerate(
            zip(np.asarray(coordinates), np.asarray(values), strict=True)
        ):
            if all(query[c] == b for c, b in zip(coords, bits, strict=True)):
                active.add(j)
        sets.append(active)
    return sets


def exact_intersection(n: int, d: int, t: int) -> int:
    """Kanerva (1988) closed form N(n, d, t) in exact integers."""
    total = 0
    for a in range(t + 1):
        for b in range(n - t + 1):
            if a + b <= d and t - a + b <= d:
                total += math.comb(t, a) * math.comb(n - t, b)
    return total


def all_addresses(n_dims: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product([0, 1], repeat=n_dims)), dtype=torch.uint8)


# ----------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------


def test_random_addresses_shape_dtype_determinism_and_balance():
    first = random_addresses(2000, 50, generator=seeded_generator(1))
    second = random_addresses(2000, 50, generator=seeded_generator(1))
    assert first.shape == (2000, 50) and first.dtype == torch.uint8
    assert torch.equal(first, second)
    assert set(first.unique().tolist()) <= {0, 1}
    # Oracle: Binomial(100000, 1/2) ones; 6 standard deviations (~158) passes for any seed.
    ones = int(first.sum())
    assert abs(ones - 50_000) <= 6 * math.sqrt(100_000 / 4)


@pytest.mark.parametrize("hyperplane", [False, True])
def test_selected_coordinates_structure(hyperplane):
    selected = selected_coordinate_addresses(
        3000, 20, 4, generator=seeded_generator(2), hyperplane=hyperplane
    )
    coords = selected.coordinates
    assert coords.shape == (3000, 4) and coords.dtype == torch.int64
    assert selected.values.dtype == torch.uint8 and selected.n_dims == 20
    assert bool((coords.diff(dim=1) > 0).all()) and int(coords.min()) >= 0
    assert int(coords.max()) < 20
    if hyperplane:
        assert bool((selected.values == 1).all())
    else:
        # Oracle: Binomial(12000, 1/2) ones, 6 sd.
        assert abs(int(selected.values.sum()) - 6000) <= 6 * math.sqrt(12000 / 4)
    # Oracle: each coordinate is chosen with probability 4/20; Binomial(3000, 0.2), 6 sd.
    freq = torch.bincount(coords.reshape(-1), minlength=20).double()
    assert float((freq - 600).abs().max()) <= 6 * math.sqrt(3000 * 0.2 * 0.8)


def test_selected_coordinates_hyperplane_flag_is_checked_and_kept():
    # Oracle: the definition of the hyperplane design (every required bit is 1).
    g = seeded_generator(4)
    plane = selected_coordinate_addresses(50, 12, 3, generator=g, hyperplane=True)
    mixed = selected_coordinate_addresses(50, 12, 3, generator=g)
    assert plane.hyperplane and plane.rule is ActivationRule.HYPERPLANE
    assert not mixed.hyperplane and mixed.rule is ActivationRule.SELECTED_COORDINATE
    moved = plane.to("cpu")
    assert moved.hyperplane and torch.equal(moved.values, plane.values)
    assert SelectedCoordinates(plane.coordinates, plane.values, 12, hyperplane=True).hyperplane
    with pytest.raises(ValueError, match="values must all be 1 for hyperplane=True"):
        SelectedCoordinates(mixed.coordinates, mixed.values, 12, hyperplane=True)
    with pytest.raises(TypeError, match="hyperplane must be a bool; got 1"):
        SelectedCoordinates(plane.coordinates, plane.values, 12, hyperplane=1)
    with pytest.raises(TypeError, match="hyperplane must be a bool"):
        selected_coordinate_addresses(5, 12, 3, generator=g, hyperplane="yes")


def test_neuron_sdm_rule_names_the_activation_rule():
    # Oracle: the constructor arguments, in the ActivationRule vocabulary.
    g = seeded_generator(5)
    addresses = random_addresses(30, 10, generator=g)
    plane = selected_coordinate_addresses(30, 10, 2, generator=g, hyperplane=True)
    selected = selected_coordinate_addresses(30, 10, 2, generator=g)
    cases = [
        (NeuronSDM(addresses, 1, activation_radius=3), ActivationRule.RADIUS),
        (NeuronSDM(addresses, 1, top_k=4), ActivationRule.TOP_K),
        (NeuronSDM(selected, 1), ActivationRule.SELECTED_COORDINATE),
        (NeuronSDM(plane, 1), ActivationRule.HYPERPLANE),
    ]
    for memory, rule in cases:
        assert memory.rule is rule
    assert NeuronSDM(plane, 1).selected_coordinates().hyperplane
    with pytest.raises(AttributeError):
        cases[0][0].rule = ActivationRule.TOP_K  # read-only


def test_selected_neuron_fires_for_exactly_fraction_two_to_minus_k_of_all_queries():
    # Oracle: closed form — a neuron checking k coordinates matches 2**(n-k) of the 2**n queries.
    selected = selected_coordinate_addresses(40, 10, 3, generator=seeded_generator(3))
    counts = activate_selected(all_addresses(10), selected).sum(dim=0)
    assert torch.equal(counts, torch.full((40,), 2 ** (10 - 3)))


# ----------------------------------------------------------------------------------------------
# Distances and activation
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("int_matmul", [True, False], ids=["int8_matmul", "float_matmul"])
@pytest.mark.parametrize("n_dims,chunk_size", [(1, None), (13, 7), (1000, 33), (257, None)])
def test_hamming_distances_equal_brute_force(n_dims, chunk_size, int_matmul, monkeypatch):
    # Oracle: numpy count of differing bits, for both matrix-product paths.
    monkeypatch.setattr(kernels, "_INT_MATMUL", int_matmul)
    g = seeded_generator(n_dims)
    queries = random_addresses(9, n_dims, generator=g)
    addresses = random_addresses(100, n_dims, generator=g)
    got = hamming_distances(queries, addresses, chunk_size=chunk_size)
    assert got.dtype == torch.int32 and got.shape == (9, 100)
    np.testing.assert_array_equal(got.numpy(), brute_distances(queries.numpy(), addresses.numpy()))


@settings(max_examples=40, deadline=None)
@given(
    n_dims=st.integers(1, 70),
    n_queries=st.integers(1, 20),
    n_neurons=st.integers(0, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_hamming_distances_any_shape_equal_brute_force(n_dims, n_queries, n_neurons, seed):
    # Oracle: numpy XOR count. Covers the int8 path's shape edge cases (odd, tiny, empty).
    g = seeded_generator(seed)
    queries = random_addresses(n_queries, n_dims, generator=g)
    addresses = random_addresses(n_neurons, n_dims, generator=g)
    got = hamming_distances(queries, addresses, chunk_size=7)
    np.testing.assert_array_equal(got.numpy(), brute_distances(queries.numpy(), addresses.numpy()))


def test_hamming_distances_accept_bool_and_numpy_inputs():
    # Oracle: numpy count of differing bits.
    g = seeded_generator(4)
    queries = random_addresses(3, 16, generator=g)
    addresses = random_addresses(10, 16, generator=g)
    expected = brute_distances(queries.numpy(), addresses.numpy())
    np.testing.assert_array_equal(hamming_distances(queries.bool(), addresses.numpy()), expected)


@pytest.mark.parametrize("radius", [0, 2, 5, 8])
def test_activate_radius_equals_brute_force(radius):
    # Oracle: numpy distances thresholded at the radius, as Python sets.
    g = seeded_generator(5)
    queries = random_addresses(12, 8, generator=g)
    addresses = random_addresses(150, 8, generator=g)
    mask = activate(queries, addresses, activation_radius=radius, chunk_size=16)
    expected = brute_active_sets(queries, addresses, radius=radius)
    assert mask.dtype == torch.bool and mask.shape == (12, 150)
    assert [set(torch.nonzero(row).flatten().tolist()) for row in mask] == expected


@pytest.mark.parametrize("top_k,chunk_size", [(1, None), (7, 5), (40, 16), (150, 64)])
def test_top_k_tie_rule_lower_index_wins(top_k, chunk_size):
    # n_dims=5 with 150 neurons makes ties at every distance; oracle: lexsort (distance, index).
    g = seeded_generator(6)
    queries = random_addresses(20, 5, generator=g)
    addresses = random_addresses(150, 5, generator=g)
    mask = activate(queries, addresses, top_k=top_k, chunk_size=chunk_size)
    assert bool((mask.sum(dim=1) == top_k).all())
    expected = brute_active_sets(queries, addresses, top_k=top_k)
    assert [set(torch.nonzero(row).flatten().tolist()) for row in mask] == expected


@pytest.mark.parametrize("hyperplane", [False, True])
def test_activate_selected_equals_brute_force(hyperplane):
    # Oracle: a Python loop checking every selected coordinate of every neuron.
    g = seeded_generator(7)
    selected = selected_coordinate_addresses(60, 9, 2, generator=g, hyperplane=hyperplane)
    queries = random_addresses(15, 9, generator=g)
    mask = activate_selected(queries, selected)
    expected = brute_selected_sets(queries, selected.coordinates, selected.values)
    assert [set(torch.nonzero(row).flatten().tolist()) for row in mask] == expected


def test_active_pairs_sorted_by_neuron_then_query():
    # Oracle: the dense mask from activate, read out in neuron-major order.
    g = seeded_generator(8)
    queries = random_addresses(6, 10, generator=g)
    addresses = random_addresses(80, 10, generator=g)
    query_idx, neuron_idx = active_pairs(queries, addresses, activation_radius=4, chunk_size=9)
    neuron_expected, query_expected = activate(queries, addresses, activation_radius=4).T.nonzero(
        as_tuple=True
    )
    assert torch.equal(neuron_idx, neuron_expected) and torch.equal(query_idx, query_expected)


# ----------------------------------------------------------------------------------------------
# NeuronSDM
# ----------------------------------------------------------------------------------------------


def neuron_memory(kind: str, seed: int, n_values: int = 4, **kwargs) -> NeuronSDM:
    g = seeded_generator(seed)
    if kind == "radius":
        return NeuronSDM(random_addresses(300, 12, generator=g), n_values, activation_radius=4)
    if kind == "top_k":
        return NeuronSDM(random_addresses(300, 12, generator=g), n_values, top_k=25, **kwargs)
    selected = selected_coordinate_addresses(400, 12, 3, generator=g)
    return NeuronSDM(selected, n_values, **kwargs)


def brute_memory_sets(memory: NeuronSDM, queries) -> list[set[int]]:
    if memory.selected:
        return brute_selected_sets(queries, memory.coordinates, memory.coordinate_values)
    return brute_active_sets(
        queries, memory.addresses, radius=memory.activation_radius, top_k=memory.top_k
    )


@pytest.mark.parametrize("kind", ["radius", "top_k", "selected"])
def test_neuron_sdm_intersections_and_weights_equal_brute_force_set_intersections(kind):
    # Oracle: |A ∩ B| of Python sets of active neurons from numpy distances / selected loops.
    memory = neuron_memory(kind, 10)
    g = seeded_generator(11)
    patterns = random_addresses(9, 12, generator=g)
    values = torch.randn(9, 4, generator=g, dtype=torch.float64)
    memory.write(patterns[:5], values[:5])  # two writes: the store must append in write order
    memory.write(patterns[5:], values[5:])
    queries = torch.cat([patterns[:3], random_addresses(5, 12, generator=g)])
    query_sets = brute_memory_sets(memory, queries)
    pattern_sets = brute_memory_sets(memory, patterns)
    expected = np.array([[len(q & p) for p in pattern_sets] for q in query_sets])
    got = memory.intersections(queries)
    assert got.dtype == torch.int64
    np.testing.assert_array_equal(got.numpy(), expected)
    totals = expected.sum(axis=1, keepdims=True)
    expected_weights = np.divide(expected, totals, out=np.zeros(expected.shape), where=totals > 0)
    # Tolerance: one float64 division per entry.
    np.testing.assert_allclose(memory.weights(queries).numpy(), expected_weights, rtol=1e-15)


@pytest.mark.parametrize("kind", ["radius", "top_k", "selected"])
def test_neuron_sdm_counters_and_read_follow_the_definition(kind):
    memory = neuron_memory(kind, 12)
    g = seeded_generator(13)
    patterns = random_addresses(7, 12, generator=g)
    values = torch.randn(7, 4, generator=g, dtype=torch.float64)
    memory.write(patterns[:4], values[:4])
    memory.write(patterns[4:], values[4:])
    # Oracle: loops over the brute-force active sets.
    counters = np.zeros((memory.n_neurons, 4))
    counts = np.zeros(memory.n_neurons, dtype=np.int64)
    for active, value in zip(brute_memory_sets(memory, patterns), values.numpy(), strict=True):
        for j in active:
            counters[j] += value
            counts[j] += 1
    np.testing.assert_allclose(memory.counters.numpy(), counters, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(memory.write_counts.numpy(), counts)
    queries = torch.cat([patterns, random_addresses(6, 12, generator=g)])
    expected = np.zeros((len(queries), 4))
    for row, active in enumerate(brute_memory_sets(memory, queries)):
        active = sorted(active)
        if counts[active].sum() > 0:
            expected[row] = counters[active].sum(axis=0) / counts[active].sum()
    # Tolerance: sums of <= 7 float64 values in a different order: a few ulps of the inputs.
    np.testing.assert_allclose(memory.read(queries).numpy(), expected, rtol=1e-12, atol=1e-12)
    # The dense functional core gives the same (second oracle for write/read).
    dense_counters, dense_counts = write(
        torch.zeros(memory.n_neurons, 4, dtype=torch.float64),
        torch.zeros(memory.n_neurons, dtype=torch.int64),
        memory.active(patterns),
        values,
    )
    assert torch.equal(dense_counts, memory.write_counts)
    torch.testing.assert_close(
        read(dense_counters, dense_counts, memory.active(queries)),
        memory.read(queries),
        rtol=1e-12,
        atol=1e-12,
    )


def test_binary_threshold_reads_majority_of_binary_values():
    # Oracle: the definition (mean > 1/2) applied to the brute-force unthresholded read.
    g = seeded_generator(14)
    addresses = random_addresses(300, 12, generator=g)
    plain = NeuronSDM(addresses, 6, activation_radius=4)
    thresholded = NeuronSDM(addresses, 6, activation_radius=4, binary_threshold=True)
    patterns = random_addresses(10, 12, generator=g)
    values = random_addresses(10, 6, generator=g).double()
    plain.write(patterns, values)
    thresholded.write(patterns, values)
    queries = random_addresses(8, 12, generator=g)
    mean = plain.read(queries)
    assert torch.equal(thresholded.read(queries), (mean > 0.5).double())


def test_read_with_no_active_written_neuron_is_zero():
    # Oracle: definition — 0 where the denominator is 0 (radius 0, query matches no neuron).
    addresses = torch.zeros((4, 6), dtype=torch.uint8)
    memory = NeuronSDM(addresses, 2, activation_radius=0)
    memory.write(torch.zeros((1, 6), dtype=torch.uint8), torch.ones((1, 2)))
    query = torch.ones((1, 6), dtype=torch.uint8)
    assert torch.equal(memory.read(query), torch.zeros((1, 2), dtype=torch.float64))
    assert torch.equal(memory.weights(query), torch.zeros((1, 1), dtype=torch.float64))
    empty = NeuronSDM(addresses, 2, activation_radius=3)
    assert empty.weights(query).shape == (1, 0)
    assert torch.equal(empty.read(query), torch.zeros((1, 2), dtype=torch.float64))


def test_intersection_join_in_small_blocks_matches_dense(monkeypatch):
    # Oracle: the dense functional intersections of the activation masks.
    g = seeded_generator(15)
    addresses = random_addresses(500, 10, generator=g)
    memory = NeuronSDM(addresses, 2, activation_radius=4)
    patterns = random_addresses(30, 10, generator=g)
    memory.write(patterns, torch.randn(30, 2, generator=g, dtype=torch.float64))
    queries = random_addresses(11, 10, generator=g)
    expected = intersections(memory.active(queries), memory.active(patterns))
    monkeypatch.setattr(kernels, "_CHUNK_ELEMENTS", 97)
    assert torch.equal(memory.intersections(queries), expected)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), radius=st.integers(0, 9))
def test_intersections_symmetric_and_monotone_in_radius(seed, radius):
    # Oracle: set algebra — |O(a) ∩ O(b)| is symmetric in (a, b), and the balls grow with d.
    g = seeded_generator(seed)
    addresses = random_addresses(200, 9, generator=g)
    points = random_addresses(6, 9, generator=g)
    values = torch.zeros(6, 1, dtype=torch.float64)
    memory = NeuronSDM(addresses, 1, activation_radius=radius)
    memory.write(points, values)
    counts = memory.intersections(points)
    assert torch.equal(counts, counts.T)
    wider = NeuronSDM(addresses, 1, activation_radius=min(radius + 1, 9))
    wider.write(points, values)
    assert bool((wider.intersections(points) >= counts).all())
    weights = memory.weights(points)
    row_sums = weights.sum(dim=1)
    assert bool(((row_sums - 1).abs() < 1e-12).logical_or(row_sums == 0).all())


# ----------------------------------------------------------------------------------------------
# PatternSDM: the 2**n-neuron limit in closed form
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_dims,radius", [(8, 0), (8, 3), (10, 4), (10, 10), (12, 5)])
def test_pattern_sdm_equals_neuron_sdm_with_all_addresses(n_dims, radius):
    # Oracle: NeuronSDM over all 2**n addresses counts intersections exactly; the closed form
    # N(n, d, t) in exact integers checks PatternSDM's log table independently.
    g = seeded_generator(100 + n_dims + radius)
    patterns = random_addresses(12, n_dims, generator=g)
    values = torch.randn(12, 3, generator=g, dtype=torch.float64)
    queries = torch.cat([patterns[:4], random_addresses(6, n_dims, generator=g)])
    neurons = NeuronSDM(all_addresses(n_dims), 3, activation_radius=radius)
    pattern = PatternSDM(n_dims, radius)
    for memory in (neurons, pattern):
        memory.write(patterns[:7], values[:7])
        memory.write(patterns[7:], values[7:])
    counts = neurons.intersections(queries)
    distances = brute_distances(queries.numpy(), patterns.numpy())
    closed = np.vectorize(lambda t: exact_intersection(n_dims, radius, int(t)))(distances)
    np.testing.assert_array_equal(counts.numpy(), closed)
    log_closed = np.log(np.where(closed > 0, closed, 1).astype(float))
    log_closed[closed == 0] = -np.inf
    # Tolerance: ln of a count computed in float64 from gammaln / logsumexp, ~1e-13 relative.
    np.testing.assert_allclose(pattern.log_intersections(queries).numpy(), log_closed, rtol=1e-12)
    # Tolerance: softmax of logs vs an exact integer ratio: a few ulps.
    torch.testing.assert_close(
        pattern.weights(queries), neurons.weights(queries), rtol=1e-12, atol=1e-14
    )
    torch.testing.assert_close(pattern.read(queries), neurons.read(queries), rtol=1e-11, atol=1e-12)


def test_all_addresses_n14_single_radius():
    # Acceptance size n = 14 (16384 neurons); same oracle as above.
    g = seeded_generator(14)
    patterns = random_addresses(6, 14, generator=g)
    values = torch.randn(6, 2, generator=g, dtype=torch.float64)
    queries = random_addresses(4, 14, generator=g)
    neurons = NeuronSDM(all_addresses(14), 2, activation_radius=5)
    pattern = PatternSDM(14, 5)
    neurons.write(patterns, values)
    pattern.write(patterns, values)
    torch.testing.assert_close(
        pattern.weights(queries), neurons.weights(queries), rtol=1e-12, atol=1e-14
    )
    torch.testing.assert_close(pattern.read(queries), neurons.read(queries), rtol=1e-11, atol=1e-12)


def test_pattern_sdm_unreachable_patterns_give_zero_row():
    # Oracle: N(n, d, t) = 0 for t > 2d, so a query farther than 2d from all patterns has
    # no weight anywhere.
    memory = PatternSDM(10, 1)
    memory.write(torch.zeros((2, 10), dtype=torch.uint8), torch.ones((2, 3)))
    query = torch.ones((1, 10), dtype=torch.uint8)
    assert torch.equal(memory.weights(query), torch.zeros((1, 2), dtype=torch.float64))
    assert torch.equal(memory.read(query), torch.zeros((1, 3), dtype=torch.float64))


def test_finite_population_probability_of_a_nonzero_count():
    # One pattern at distance t: weight is 1 iff the Poisson(r/2^n N) count is > 0.
    # Oracle: P(count > 0) = 1 - exp(-lambda); Binomial bound at 6 sd over 4000 queries.
    n_dims, radius, t, n_neurons = 20, 6, 12, 1000
    lam = n_neurons / 2**n_dims * exact_intersection(n_dims, radius, t)
    memory = PatternSDM(n_dims, radius, n_neurons=n_neurons, generator=seeded_generator(16))
    pattern = torch.zeros((1, n_dims), dtype=torch.uint8)
    memory.write(pattern, torch.ones((1, 1)))
    query = pattern.clone()
    query[0, :t] = 1
    hits = memory.weights(query.expand(4000, n_dims).contiguous()).sum().item()
    p = 1 - math.exp(-lam)
    assert 0.05 < p < 0.95  # the test is informative
    assert abs(hits - 4000 * p) <= 6 * math.sqrt(4000 * p * (1 - p))


def test_finite_population_converges_to_exact_weights():
    # With r = 2^n * 10^8 every Poisson count has mean >= 10^8 * N; relative sd <= 1e-4 / sqrt(N).
    # Oracle: the exact PatternSDM; tolerance 6 sd of the ratio ≈ 6 * 2 * 1e-4 = 1.2e-3 relative.
    g = seeded_generator(17)
    patterns = random_addresses(8, 12, generator=g)
    queries = patterns[:5].clone()
    exact = PatternSDM(12, 4)
    finite = PatternSDM(12, 4, n_neurons=2**12 * 10**8, generator=seeded_generator(18))
    for memory in (exact, finite):
        memory.write(patterns, torch.eye(8, dtype=torch.float64))
    torch.testing.assert_close(
        finite.weights(queries), exact.weights(queries), rtol=2e-3, atol=1e-9
    )


# ----------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------


def test_bad_inputs_name_the_argument():
    # Oracle: the documented error contract — ValueError/TypeError naming the argument.
    g = seeded_generator(19)
    addresses = random_addresses(20, 8, generator=g)
    queries = random_addresses(3, 8, generator=g)
    with pytest.raises(ValueError, match=r"activation_radius must be in \[0, 8\]; got 9"):
        activate(queries, addresses, activation_radius=9)
    with pytest.raises(ValueError, match=r"activation_radius must be in \[0, 8\]; got -1"):
        NeuronSDM(addresses, 2, activation_radius=-1)
    with pytest.raises(ValueError, match=r"top_k must be in \[1, 20\]; got 21"):
        NeuronSDM(addresses, 2, top_k=21)
    with pytest.raises(ValueError, match="exactly one of activation_radius and top_k"):
        activate(queries, addresses)
    with pytest.raises(ValueError, match="exactly one of activation_radius and top_k"):
        NeuronSDM(addresses, 2, activation_radius=2, top_k=3)
    with pytest.raises(ValueError, match="queries must be binary"):
        hamming_distances(queries * 2, addresses)
    with pytest.raises(ValueError, match="addresses must be binary"):
        NeuronSDM(addresses.float() * 0.5, 2, activation_radius=2)
    with pytest.raises(ValueError, match="queries must be finite"):
        hamming_distances(torch.full((1, 8), float("nan")), addresses)
    with pytest.raises(ValueError, match=r"queries must have n_dims=8 columns; got shape \(3, 7\)"):
        hamming_distances(queries[:, :7], addresses)
    with pytest.raises(ValueError, match="queries must be a 2-D tensor"):
        activate(queries[0], addresses, top_k=2)
    with pytest.raises(TypeError, match="queries must be a torch.Tensor or numpy.ndarray"):
        hamming_distances([[0, 1]], addresses)
    memory = NeuronSDM(addresses, 2, activation_radius=3)
    with pytest.raises(ValueError, match="values must be finite"):
        memory.write(queries, torch.tensor([[0.0, float("nan")]] * 3))
    with pytest.raises(ValueError, match="values must have n_values=2 columns"):
        memory.write(queries, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="addresses and values must have the same number of rows"):
        memory.write(queries, torch.zeros(2, 2))
    with pytest.raises(ValueError, match="queries must have n_dims=8"):
        memory.read(torch.zeros((1, 9), dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"n_inputs must be in \[1, 8\]; got 9"):
        selected_coordinate_addresses(5, 8, 9, generator=g)
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        random_addresses(5, 8, generator=np.random.default_rng(0))
    selected = selected_coordinate_addresses(5, 8, 2, generator=g)
    with pytest.raises(ValueError, match="activation_radius and top_k must be None"):
        NeuronSDM(selected, 2, activation_radius=2)
    with pytest.raises(ValueError, match="coordinates must be distinct and sorted"):
        SelectedCoordinates(selected.coordinates.flip(1), selected.values, 8)
    with pytest.raises(ValueError, match=r"coordinates must be in \[0, 7\]"):
        SelectedCoordinates(selected.coordinates + 7, selected.values, 8)
    with pytest.raises(ValueError, match=r"activation_radius must be in \[0, 8\]; got 11"):
        PatternSDM(8, 11)
    with pytest.raises(ValueError, match="generator is required when n_neurons is given"):
        PatternSDM(8, 3, n_neurons=100)
    with pytest.raises(ValueError, match=r"n_neurons must be in \[1, inf\]; got 0"):
        PatternSDM(8, 3, n_neurons=0, generator=g)
    pattern = PatternSDM(8, 3)
    pattern.write(queries, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="values must have n_values=2 columns"):
        pattern.write(queries, torch.zeros(3, 4))
    with pytest.raises(ValueError, match="queries must be binary"):
        pattern.read(queries + 1)


# ----------------------------------------------------------------------------------------------
# CUDA
# ----------------------------------------------------------------------------------------------


@cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_functional_core_matches_cpu():
    # Oracle: the CPU engine (itself checked against brute force above).
    g = seeded_generator(20)
    queries = random_addresses(17, 300, generator=g)
    addresses = random_addresses(5000, 300, generator=g)
    device = torch.device("cuda")
    assert torch.equal(
        hamming_distances(queries.to(device), addresses.to(device)).cpu(),
        hamming_distances(queries, addresses),
    )
    for rule in ({"activation_radius": 140}, {"top_k": 33}):
        assert torch.equal(
            activate(queries.to(device), addresses.to(device), **rule).cpu(),
            activate(queries, addresses, **rule),
        )
    cuda_generator = torch.Generator(device=device).manual_seed(3)
    assert random_addresses(4, 5, generator=cuda_generator).device.type == "cuda"
    selected = selected_coordinate_addresses(50, 300, 4, generator=cuda_generator)
    assert torch.equal(
        activate_selected(queries.to(device), selected).cpu(),
        activate_selected(queries, selected.to("cpu")),
    )


# ----------------------------------------------------------------------------------------------
# Review fixes: argument contracts and numerics
# ----------------------------------------------------------------------------------------------


def test_dense_write_rejects_integer_counters():
    # Oracle: the documented contract — counters accumulate real values, so an integer
    # counter tensor (which would truncate 0.7 to 0 while write counts still grow) is refused.
    active = torch.tensor([[True, False]])
    values = torch.tensor([[0.7]], dtype=torch.float64)
    with pytest.raises(TypeError, match="counters must be a floating tensor; got torch.int64"):
        write(
            torch.zeros((2, 1), dtype=torch.int64),
            torch.zeros(2, dtype=torch.int64),
            active,
            values,
        )
    # Oracle: closed form — one write of 0.7 to neuron 0 gives counters [0.7, 0], counts [1, 0].
    counters, counts = write(
        torch.zeros((2, 1), dtype=torch.float64),
        torch.zeros(2, dtype=torch.int64),
        active,
        values,
    )
    assert counters[:, 0].tolist() == [0.7, 0.0] and counts.tolist() == [1, 0]


def test_dense_write_and_read_check_write_counts():
    # Oracle: the documented contract — write_counts is a 1-D tensor of length n_neurons.
    counters = torch.zeros((3, 2), dtype=torch.float64)
    active = torch.tensor([[True, False, True]])
    for bad in (torch.zeros(2, dtype=torch.int64), torch.zeros((3, 1), dtype=torch.int64)):
        with pytest.raises(ValueError, match=r"write_counts must have shape \(3,\)"):
            write(counters, bad, active, torch.ones((1, 2)))
        with pytest.raises(ValueError, match=r"write_counts must have shape \(3,\)"):
            read(counters, bad, active)


@pytest.mark.parametrize("bad", [-1, 0, 2.5, True])
def test_selected_chunk_size_validated_like_binary_addresses(bad):
    # Oracle: the binary-address path's message, which the selected path must repeat.
    g = seeded_generator(23)
    selected = selected_coordinate_addresses(10, 8, 2, generator=g)
    queries = random_addresses(4, 8, generator=g)
    error = TypeError if isinstance(bad, float | bool) else ValueError
    with pytest.raises(error, match="chunk_size"):
        active_pairs(queries, selected, chunk_size=bad)
    with pytest.raises(error, match="chunk_size"):
        active_pairs(queries, random_addresses(10, 8, generator=g), top_k=2, chunk_size=bad)


def test_selected_chunk_size_does_not_change_the_result():
    # Oracle: brute-force set enumeration, for chunk sizes 1, 3 and the default.
    g = seeded_generator(29)
    selected = selected_coordinate_addresses(17, 8, 2, generator=g)
    queries = random_addresses(9, 8, generator=g)
    expected = brute_selected_sets(queries, selected.coordinates, selected.values)
    for chunk_size in (1, 3, None):
        q, j = active_pairs(queries, selected, chunk_size=chunk_size)
        sets = [set() for _ in range(9)]
        for a, b in zip(q.tolist(), j.tolist(), strict=True):
            sets[a].add(b)
        assert sets == expected


def test_activate_with_selected_coordinates_points_to_activate_selected():
    # Oracle: the documented contract — activate() takes binary addresses only and refuses
    # SelectedCoordinates up front with a TypeError that names activate_selected.
    g = seeded_generator(31)
    selected = selected_coordinate_addresses(10, 8, 2, generator=g)
    queries = random_addresses(4, 8, generator=g)
    with pytest.raises(TypeError, match="activate_selected"):
        activate(queries, selected)


def test_pattern_sdm_keeps_float64_log_table_under_to_float32():
    # Oracle: a memory built directly with dtype=float32 (whose log table is float64); the
    # weights after .to(torch.float32) must equal it to float32 rounding of the final weight
    # (relative 2**-23 ~ 1.2e-7; float32 rounding of ln N ~ 6930 would give ~4e-4).
    g = seeded_generator(37)
    n_dims, radius = 10_000, 4_500
    patterns = random_addresses(6, n_dims, generator=g)
    queries = patterns.clone()
    queries[:, :40] ^= 1
    direct = PatternSDM(n_dims, radius, dtype=torch.float32)
    moved = PatternSDM(n_dims, radius).to(torch.float32)
    for memory in (direct, moved):
        memory.write(patterns, torch.eye(6))
    assert moved.log_intersection_table.dtype == torch.float64
    assert moved.log_intersections(queries).dtype == torch.float64
    assert moved.dtype == torch.float32 and moved.read(queries).dtype == torch.float32
    w_direct, w_moved = direct.weights(queries), moved.weights(queries)
    assert w_moved.dtype == torch.float32
    torch.testing.assert_close(w_moved, w_direct, rtol=2.4e-7, atol=1e-30)
    # Oracle: state_dict round trip into a fresh float32 memory reproduces the weights exactly.
    fresh = PatternSDM(n_dims, radius, dtype=torch.float32)
    fresh.load_state_dict(moved.state_dict())
    assert fresh.log_intersection_table.dtype == torch.float64
    torch.testing.assert_close(fresh.weights(queries), w_moved, rtol=0, atol=0)


def test_integer_arguments_reject_bools():
    # Oracle: the documented contract of models.validation.check_int — bools are not integers here
    # (True would otherwise silently mean 1 neuron or a chunk of 1).
    g = seeded_generator(41)
    with pytest.raises(TypeError, match="n_neurons must be an integer; got the bool True"):
        random_addresses(True, 8, generator=g)
    with pytest.raises(TypeError, match="top_k must be an integer; got the bool False"):
        activate(
            random_addresses(2, 8, generator=g), random_addresses(3, 8, generator=g), top_k=False
        )
