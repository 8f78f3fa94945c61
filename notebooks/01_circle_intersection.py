# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 — The circle intersection
#
# An SDM read weights each stored pattern by the number of neurons inside both the query's and
# the pattern's Hamming ball of radius $d$ (Kanerva 1988). For two points at Hamming distance
# $t$ in $\{0,1\}^n$ the exact count is
#
# $$N(n, d, t) = \sum_{a + b \le d,\; t - a + b \le d} \binom{t}{a}\binom{n - t}{b}.$$
#
# This notebook plots $N$ against $t$ for $n = 64, 100, 784, 1000$ at the radii that give the
# activation probabilities used by Bricken & Pehlevan (2021), fits the exponential
# $N \approx \exp(\text{bias} + \beta\cos)$ that makes the SDM read a softmax, compares the
# continuous (spherical-cap) version, and shows where a float implementation of the binomial
# sums overflows or cancels while `models.theory` does not.
#
# Everything here is a call into {mod}`models.theory`; the notebook holds no science of its own.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("CEREBELLAR_SDM_SMOKE") == "1"  # small sizes for the test suite

N_DIMS = (64, 100, 784, 1000)  # address lengths n
PROBABILITIES = (4e-13, 1e-9, 1e-8, 1e-5, 3.7e-4, 1e-3, 0.1)  # activation probabilities p
CAP_PROBABILITIES = (1e-3,) if SMOKE else (1e-8, 1e-3)  # radii for the spherical-cap comparison
CAP_N_DIMS = (64, 1000) if SMOKE else N_DIMS
OVERFLOW_N_DIMS = (1000, 1100, 2000, 10_000)  # where float binomials give up
# The key claim: the log-linear fit at n=64, d=11 has R^2
# above this bound (it is 0.972; the fit is over t = 0..d-1).
MIN_R_SQUARED_64_11 = 0.95

# %%
# ruff: noqa: E402 (imports follow the parameters cell)
import math

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import comb

from models import theory

# %% [markdown]
# ## Radii for the activation probabilities
#
# $p = P[\mathrm{Binomial}(n, 1/2) \le d]$ is the fraction of all addresses a read activates;
# {func}`models.theory.radius_for_probability` inverts it exactly.

# %%
radii = {(n, p): theory.radius_for_probability(n, p) for n in N_DIMS for p in PROBABILITIES}
print("p".rjust(9) + "".join(f"n={n}".rjust(8) for n in N_DIMS))
for p in PROBABILITIES:
    print(f"{p:9.2g}" + "".join(f"{radii[n, p]:8d}" for n in N_DIMS))

# %% [markdown]
# ## The exact intersection, linear and log axes
#
# Normalised by $N(n, d, 0)$ (the size of one ball), so that curves of different $n$ share an
# axis. The intersection is empty beyond $t = 2d$.

# %%
fig, axes = plt.subplots(2, len(N_DIMS), figsize=(4 * len(N_DIMS), 7), squeeze=False)
for column, n in enumerate(N_DIMS):
    distances = np.arange(n + 1)
    for p in PROBABILITIES:
        d = radii[n, p]
        log_n = theory.log_circle_intersection(n, d, distances)
        relative = np.exp(log_n - log_n[0])
        reach = distances <= min(2 * d, n)
        for row in (0, 1):
            axes[row, column].plot(distances[reach], relative[reach], label=f"p={p:.2g}, d={d}")
    axes[0, column].set_title(f"n = {n}")
    axes[1, column].set_yscale("log")
    axes[1, column].set_xlabel("Hamming distance t (bits)")
axes[0, 0].set_ylabel("N(n, d, t) / N(n, d, 0)")
axes[1, 0].set_ylabel("same, log axis")
axes[0, -1].legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## The fitted exponential
#
# {func}`models.theory.fit_beta` regresses $\ln N$ on $\cos = 1 - 2t/n$ over $t = 0..d-1$
# (ordinary least squares). On the log axis the fit is a straight line; its slope is the
# softmax inverse temperature $\beta$.

# %%
fits = {(n, p): theory.fit_beta(n, radii[n, p]) for n in N_DIMS for p in PROBABILITIES}
print("p".rjust(9) + "".join(f"beta(n={n}) R2".rjust(18) for n in N_DIMS))
for p in PROBABILITIES:
    cells = "".join(f"{fits[n, p].beta:10.2f} {fits[n, p].r_squared:7.4f}" for n in N_DIMS)
    print(f"{p:9.2g}" + cells)

fig, axes = plt.subplots(1, len(N_DIMS), figsize=(4 * len(N_DIMS), 3.5), squeeze=False)
for column, n in enumerate(N_DIMS):
    ax = axes[0, column]
    for p in (1e-8, 1e-3):
        fit = fits[n, p]
        d = radii[n, p]
        distances = np.arange(min(2 * d, n) + 1)
        cosines = theory.hamming_to_cosine(distances, n)
        log_n = theory.log_circle_intersection(n, d, distances)
        (line,) = ax.plot(distances, log_n - log_n[0], label=f"exact, d={d}")
        model = fit.bias + fit.beta * cosines - log_n[0]
        ax.plot(distances, model, "--", color=line.get_color(), label=f"beta={fit.beta:.1f}")
        ax.axvline(d - 0.5, color=line.get_color(), lw=0.5)
    ax.set_title(f"n = {n}")
    ax.set_xlabel("t (bits); fit over t < d")
    ax.legend(fontsize=7)
axes[0, 0].set_ylabel("ln N(t) - ln N(0)")
fig.tight_layout()

# %%
fit_64_11 = theory.fit_beta(64, 11)
print(f"n=64, d=11: beta={fit_64_11.beta:.3f}, R^2={fit_64_11.r_squared:.4f}")
assert radii[64, 1e-8] == 11, "p=1e-8 must give d=11 at n=64 (Bricken & Pehlevan 2021)"
assert fit_64_11.r_squared > MIN_R_SQUARED_64_11, fit_64_11.r_squared
# For n >= 100 the exponential is even better at every listed probability.
assert min(fits[n, p].r_squared for n in N_DIMS if n >= 100 for p in PROBABILITIES) > 0.98

# %% [markdown]
# ## The continuous version: spherical caps
#
# Neurons and patterns on the unit sphere $S^{n-1}$, caps of angular radius
# $\arccos(1 - 2d/n)$ ({func}`models.theory.log_cap_intersection`). The cap intersection is a
# function of the cosine alone; it tracks the binary count more closely as $n$ grows (the
# binary cube looks more and more like a sphere).

# %%
gaps = {}
fig, axes = plt.subplots(1, len(CAP_N_DIMS), figsize=(4 * len(CAP_N_DIMS), 3.5), squeeze=False)
for column, n in enumerate(CAP_N_DIMS):
    ax = axes[0, column]
    for p in CAP_PROBABILITIES:
        d = radii[n, p]
        distances = np.arange(min(2 * d, n) + 1)
        cosines = theory.hamming_to_cosine(distances, n)
        log_binary = theory.log_circle_intersection(n, d, distances)
        log_cap = theory.log_cap_intersection(n, d, cosines)
        (line,) = ax.plot(distances, log_binary - log_binary[0], label=f"binary, d={d}")
        ax.plot(distances, log_cap - log_cap[0], ":", color=line.get_color(), label="caps")
        inside = distances < d
        span = log_binary[0] - log_binary[d - 1]
        gap = np.max(np.abs((log_cap - log_cap[0]) - (log_binary - log_binary[0]))[inside])
        gaps[n, p] = gap / span
    ax.set_title(f"n = {n}")
    ax.set_xlabel("t (bits)")
    ax.legend(fontsize=7)
axes[0, 0].set_ylabel("ln intersection - ln at t=0")
fig.tight_layout()
for (n, p), gap in gaps.items():
    print(f"n={n:5d} p={p:.0e}: largest gap over t < d = {gap:.3f} of the binary log range")

# %%
for p in CAP_PROBABILITIES:
    # the continuum limit: the relative gap shrinks from n=64 to n=1000
    assert gaps[1000, p] < gaps[64, p], (p, gaps[1000, p], gaps[64, p])

# %% [markdown]
# ## Where float binomials fail and log space does not
#
# Two natural float implementations, checked against exact Python integers
# (`circle_intersection(..., exact=True)`):
#
# 1. **Overflow.** The double sum with float binomials (`scipy.special.comb`) exceeds the
#    largest double ($1.8 \times 10^{308}$) once $N \approx p\,2^n$ does, i.e. just past
#    $n \approx 1024$: the counts become `inf` and the normalised weights `inf/inf = nan`.
# 2. **Cancellation.** Stepping $t \to t+1$ changes $N$ by the "lune" term
#    $\binom{2k}{k}\binom{n-2k-1}{d-k}$ (Kanerva 1988, App. B). Starting from one ball and
#    *subtracting* the lunes in floats loses every digit once $N(t) \ll \epsilon N(0)$: the
#    far end comes out as noise or negative. `models.theory` sums the same positive lunes from
#    the far end in log space (`gammaln`, `logaddexp`), so nothing cancels.


# %%
def float_double_sum(n, d, t):
    """The textbook double sum with float binomials (for illustration only)."""
    a = np.arange(t + 1)[:, None]
    b = np.arange(n - t + 1)[None, :]
    keep = (a + b <= d) & (t - a + b <= d)
    with np.errstate(over="ignore", invalid="ignore"):
        terms = comb(t, a) * comb(n - t, b)
        return float(np.sum(np.where(keep, terms, 0.0)))


def float_subtracted_lunes(n, d):
    """N(t) for t = 0..n from N(0) minus float lune terms (for illustration only)."""
    counts = np.empty(n + 1)
    counts[0] = float(sum(comb(n, i) for i in range(d + 1)))
    for t in range(n):
        k = t // 2
        lune = comb(2 * k, k) * comb(n - 2 * k - 1, d - k) if t % 2 == 0 else 0.0
        counts[t + 1] = counts[t] - lune
    return counts


print("n      d    float N(0)          float N(1)/N(0)   ours ln N(0)")
for n in OVERFLOW_N_DIMS:
    d = theory.radius_for_probability(n, 1e-3)
    with np.errstate(invalid="ignore"):
        naive = [float_double_sum(n, d, t) for t in (0, 1)]
        ratio = naive[1] / naive[0]
    ours = theory.log_circle_intersection(n, d, 0)
    print(f"{n:<6d} {d:<4d} {naive[0]:<18.6g}  {ratio:<16.6g}  {ours:.6f}")
    if n >= 1100:
        assert math.isinf(naive[0]) and math.isnan(ratio)
    assert math.isfinite(ours)

# %%
n_cancel, d_cancel = 1000, theory.radius_for_probability(1000, 1e-3)
distances = np.arange(2 * d_cancel + 1)
exact = theory.circle_intersection(n_cancel, d_cancel, distances, exact=True)
log_exact = np.array([math.log(value) for value in exact])  # math.log of a big int: ~1 ulp
ours = theory.log_circle_intersection(n_cancel, d_cancel, distances)
subtracted = float_subtracted_lunes(n_cancel, d_cancel)[distances]
exact_float = np.array([float(value) for value in exact])  # N <= 2^1000 fits in a double
relative_ours = np.abs(np.expm1(ours - log_exact))
relative_float = np.abs(subtracted - exact_float) / exact_float

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(distances, np.maximum(relative_float, 1e-17), label="float, subtracted lunes")
ax.semilogy(distances, np.maximum(relative_ours, 1e-17), label="models.theory (log space)")
ax.axhline(np.finfo(float).eps, color="gray", lw=0.5)
ax.set_xlabel("t (bits)")
ax.set_ylabel("relative error vs exact integers")
ax.set_title(f"n = {n_cancel}, d = {d_cancel}")
ax.legend()
fig.tight_layout()
print(
    f"largest relative error: float subtraction {relative_float.max():.3g}, "
    f"ours {relative_ours.max():.3g}; negative float counts: {(subtracted < 0).sum()}"
)

# %%
assert relative_ours.max() < 1e-10  # log space agrees with exact integers everywhere
assert relative_float.max() > 1.0  # the float subtraction has lost every digit at the far end
