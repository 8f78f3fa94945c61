"""Property tests (hypothesis) of the exact circle intersection N(n, d, t)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models import theory


@st.composite
def setting(draw, max_dims: int = 300):
    n_dims = draw(st.integers(1, max_dims))
    radius = draw(st.integers(0, n_dims))
    return n_dims, radius


@settings(max_examples=60, deadline=None)
@given(
    n_dims=st.integers(1, 10),
    data=st.data(),
)
def test_pair_is_symmetric_and_only_its_distance_matters(n_dims, data):
    # Oracle: brute-force enumeration of all 2^n addresses for two random points x, y: the
    # count within d of both is the same for (x, y) and (y, x) and equals N(n, d, hamming(x, y)).
    radius = data.draw(st.integers(0, n_dims))
    x = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n_dims, max_size=n_dims)))
    y = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n_dims, max_size=n_dims)))
    addresses = (np.arange(2**n_dims)[:, None] >> np.arange(n_dims)) & 1
    near_x = (addresses != x).sum(axis=1) <= radius
    near_y = (addresses != y).sum(axis=1) <= radius
    distance = int((x != y).sum())
    count = int((near_x & near_y).sum())
    assert count == int((near_y & near_x).sum())
    assert theory.circle_intersection(n_dims, radius, distance, exact=True) == count


@settings(max_examples=80, deadline=None)
@given(setting())
def test_odd_distance_equals_next_even_distance(case):
    # Oracle: parity. d(z, x) + d(z, y) = t (mod 2), so N(2k - 1) = N(2k) (Kanerva 1988).
    n_dims, radius = case
    counts = theory.circle_intersection(n_dims, radius, np.arange(n_dims + 1), exact=True)
    for k in range(1, n_dims // 2 + 1):
        assert counts[2 * k - 1] == counts[2 * k]


@settings(max_examples=80, deadline=None)
@given(setting())
def test_zero_beyond_twice_the_radius_and_ball_volume_at_zero(case):
    # Oracle: closed forms. No address is within d of two points more than 2d apart
    # (triangle inequality); at t = 0 the intersection is the Hamming ball, sum_{i<=d} C(n, i).
    n_dims, radius = case
    distances = np.arange(n_dims + 1)
    counts = theory.circle_intersection(n_dims, radius, distances, exact=True)
    logs = theory.log_circle_intersection(n_dims, radius, distances)
    assert all(c == 0 for c in counts[2 * radius + 1 :])
    assert all(c > 0 for c in counts[: 2 * radius + 1])
    assert np.all(np.isneginf(logs[2 * radius + 1 :]))
    assert counts[0] == sum(math.comb(n_dims, i) for i in range(radius + 1))


@settings(max_examples=60, deadline=None)
@given(setting(max_dims=200))
def test_monotone_in_radius_and_distance(case):
    # Oracle: set inclusion. A larger radius contains the smaller balls, so N grows with d;
    # moving the centres apart never adds addresses, so N does not grow with t.
    n_dims, radius = case
    distances = np.arange(n_dims + 1)
    counts = theory.circle_intersection(n_dims, radius, distances, exact=True)
    assert all(a >= b for a, b in zip(counts, counts[1:], strict=False))
    if radius < n_dims:
        larger = theory.circle_intersection(n_dims, radius + 1, distances, exact=True)
        assert all(big >= small for big, small in zip(larger, counts, strict=True))


@settings(max_examples=60, deadline=None)
@given(setting(max_dims=2000), st.data())
def test_log_agrees_with_exact_integers(case, data):
    # Oracle: exact Python-int counts (the library's integer path) to 1e-11 relative; the log
    # path shares no floating-point arithmetic with it.
    n_dims, radius = case
    distances = data.draw(st.lists(st.integers(0, n_dims), min_size=1, max_size=8))
    logs = theory.log_circle_intersection(n_dims, radius, distances)
    counts = theory.circle_intersection(n_dims, radius, distances, exact=True)
    for log_value, count in zip(logs, counts, strict=True):
        if count == 0:
            assert np.isneginf(log_value)
        else:
            shift = max(count.bit_length() - 60, 0)
            exact = math.log(count >> shift) + shift * math.log(2.0)
            assert abs(math.expm1(log_value - exact)) < 1e-11


@settings(max_examples=60, deadline=None)
@given(setting(max_dims=500), st.integers(1, 10**6))
def test_activation_probability_round_trips_through_the_radius(case, _unused):
    # Oracle: definition of the inverse: radius_for_probability(p) is the smallest radius
    # whose activation probability (as a float) reaches p; for p = activation_probability(d)
    # strictly inside (0, 1) that is d itself, or a smaller radius with the same float value
    # (consecutive upper-tail probabilities can round to the same double).
    n_dims, radius = case
    probability = theory.activation_probability(n_dims, radius)
    if 0.0 < probability < 1.0:
        found = theory.radius_for_probability(n_dims, probability)
        assert found <= radius
        assert theory.activation_probability(n_dims, found) == probability
        assert found == 0 or theory.activation_probability(n_dims, found - 1) < probability
