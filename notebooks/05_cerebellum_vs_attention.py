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
# # 05 — The cerebellum against attention
#
# The headline comparison. One wiring, two engines: the spiking circuit writes $m$ random
# patterns and reads noisy copies of them, and for every query the pattern weights decoded from
# its Purkinje inputs are set beside the exact SDM theory ({class}`models.sdm.PatternSDM`) and
# softmax attention with the fitted $\beta$ ({class}`models.attention.AttentionMemory`;
# Bricken & Pehlevan 2021). Everything comes from one call of
# {func}`cerebellum.experiments.compare.run_comparison` — the job behind
# `cerebellar-sdm compare` — whose
# `results` follow the {doc}`../results_schema`.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("CEREBELLAR_SDM_SMOKE") == "1"  # small sizes for the test suite

SEED = 5
N_NEURONS = 2_000 if SMOKE else 10_000  # granule cells r (preset "default": n = 64, d = 24)
N_PATTERNS = 16 if SMOKE else 64  # stored patterns m
N_QUERIES = 4 if SMOKE else 16  # queries per noise level
RECALL_STEPS = 2 if SMOKE else 6
NEURON_SWEEP = (0.25, 1.0, 4.0) if SMOKE else (0.25, 1.0, 4.0, 16.0)  # mirror: factors of r
CIRCUIT_SWEEP = (500, 2_000) if SMOKE else (1_000, 3_000, 10_000)  # circuit runs: r
SWEEP_QUERIES = 3 if SMOKE else 8

# %%
# ruff: noqa: E402 (imports follow the parameters cell)
import matplotlib.pyplot as plt
import numpy as np

from cerebellum.experiments.compare import CompareConfig, run_comparison
from cerebellum.io.report import agreement_curves
from cerebellum.plotting import figures

config = CompareConfig(
    preset="default",
    seed=SEED,
    n_neurons=N_NEURONS,
    n_patterns=N_PATTERNS,
    n_queries=N_QUERIES,
    recall_steps=RECALL_STEPS,
    neuron_sweep=NEURON_SWEEP,
)
comparison = run_comparison(config)
results = comparison.results
levels = np.array(results["noise_levels"])
radius = results["circuit"]["equivalent_radius"]
print(
    f"n = {results['circuit']['n_dims']}, r = {results['circuit']['n_neurons']}, "
    f"d = {radius}, m = {results['circuit']['n_patterns']}, noise levels {levels.tolist()}, "
    f"{comparison.wall_time_s:.0f} s"
)
print("exact check (circuit vs NeuronSDM on the same neurons):", results["exact_check"])

# %% [markdown]
# ## Pattern weights: spikes, theory and softmax on a log axis
#
# Each point is the mean weight of the (query, pattern) pairs at one Hamming distance. The
# circuit's weights are its decoded intersection counts, normalised; theory is the exact
# circle intersection; attention is $\mathrm{softmax}(\beta\cos)$ with the OLS $\beta$.

# %%
ax = figures.plot_weight_vs_distance(
    comparison.figure_data["distances"],
    comparison.figure_data["weights"],
    n_dims=results["circuit"]["n_dims"],
)
ax.axvline(2 * radius + 0.5, color="gray", lw=0.5)
ax.set_title("the intersection is empty beyond t = 2d", fontsize=9)

# %% [markdown]
# ## beta measured from the circuit
#
# A Poisson log-linear regression of the circuit's intersection counts on
# $\cos = 1 - 2t/n$ over the query-pattern pairs at $t < d$, zeros kept, with a 95% interval
# from a bootstrap over queries ({func}`models.fitting.estimate_beta_counts`), against the
# prediction for the circuit's own rule at the same pairs (the generalised intersection of
# {mod}`models.soft_activation`), theory's fits over every $t < d$ and the betas learned by
# query-key-normalised Transformers (Henry et al. 2020).

# %%
beta = results["beta"]
circuit_beta = beta["circuit"]
own = circuit_beta["predictions"]["own_rule"]
rows = {"circuit": circuit_beta["beta"], "predicted for its rule, same pairs": own["beta"]}
rows.update({f"theory {method}": value for method, value in beta["theory"].items()})
for criterion, optimum in beta["optimal_radii"].items():
    if optimum["beta_ols"] is not None:
        rows[f"optimal {criterion} (d={optimum['radius']})"] = optimum["beta_ols"]
figures.plot_beta_comparison(
    rows,
    circuit_interval=comparison.figure_data["circuit_interval"],
    learned_betas=comparison.figure_data["learned_betas"],
)
learned = beta["learned_transformer"]
print(
    f"circuit beta {circuit_beta['beta']:.3f} [{circuit_beta['ci_low']:.3f}, "
    f"{circuit_beta['ci_high']:.3f}] over {circuit_beta['n_points']} pairs "
    f"({circuit_beta['n_zero']} zero counts); predicted for its rule at the same pairs "
    f"{own['beta']:.3f}; theory OLS over every t < d {beta['theory']['ols']:.3f}"
)
print(
    f"learned Transformer betas: mean {learned['mean']:.1f} in [{learned['min']:.1f}, "
    f"{learned['max']:.1f}] -- far above this wide radius (d = {radius} of n = 64)"
)

# %% [markdown]
# ## Agreement against query noise
#
# Cosine between the centred read-outs ($2\,\mathrm{read} - 1$) of two engines, mean and 95%
# interval over the queries of each noise level.

# %%
pairs = (
    "circuit__vs__neuron_sdm",
    "circuit__vs__pattern_sdm",
    "circuit__vs__attention_ols",
    "pattern_sdm__vs__attention_ols",
)
fig, axes = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
for ax, metric in zip(axes, ("output_cosine", "weight_tv"), strict=True):
    curves = agreement_curves(results, metric, pairs)
    figures.plot_agreement_vs_noise(levels, curves, ylabel=metric.replace("_", " "), ax=ax)

# %%
cosine = {
    pair: np.array([s["mean"] for s in results["agreement"][pair]["output_cosine"]])
    for pair in pairs
}
for pair, values in cosine.items():
    print(f"{pair:35s}" + " ".join(f"{v:6.3f}" for v in values))

# %% [markdown]
# ## Agreement against the number of granule cells
#
# A finite population samples the circle intersection: the weights' relative noise falls like
# $1/\sqrt{r\,p}$. Left: the mirror alone (`neuron_sweep`, NeuronSDM at multiples of $r$; the
# exact check above shows that the deterministic circuit *is* this mirror). Right: the circuit
# itself, one comparison per population size.

# %%
sweep = results["neuron_sweep"]
sweep_r = np.array([row["n_neurons"] for row in sweep])
sweep_tv = np.array([row["weight_tv_to_pattern_sdm"]["mean"] for row in sweep])
sweep_cos = np.array([row["output_cosine_to_attention_ols"]["mean"] for row in sweep])

circuit_rows = []
for n_neurons in CIRCUIT_SWEEP:
    small = run_comparison(
        CompareConfig(
            preset="default",
            seed=SEED,
            n_neurons=n_neurons,
            n_patterns=N_PATTERNS,
            n_queries=SWEEP_QUERIES,
            recall_steps=1,
            neuron_sweep=(1.0,),
        )
    ).results
    tv = [s["mean"] for s in small["agreement"]["circuit__vs__pattern_sdm"]["weight_tv"]]
    cos = [s["mean"] for s in small["agreement"]["circuit__vs__attention_ols"]["output_cosine"]]
    circuit_rows.append((n_neurons, np.nanmean(np.array(tv, float)), np.nanmean(cos)))
circuit_r, circuit_tv, circuit_cos = map(np.array, zip(*circuit_rows, strict=True))

fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
axes[0].plot(sweep_r, sweep_tv, "o-", label="TV(NeuronSDM, PatternSDM)")
axes[0].plot(sweep_r, 1 - sweep_cos, "s-", label="1 - cos(NeuronSDM, attention)")
axes[1].plot(circuit_r, circuit_tv, "o-", label="TV(circuit, PatternSDM)")
axes[1].plot(circuit_r, 1 - circuit_cos, "s-", label="1 - cos(circuit, attention)")
for ax, title in zip(axes, ("mirror, all noise levels", "spiking circuit"), strict=True):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("granule cells r")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
fig.tight_layout()
for r, tv, cos in circuit_rows:
    print(f"circuit r = {r:6d}: TV to PatternSDM {tv:.3f}, output cosine to attention {cos:.3f}")

# %% [markdown]
# ## Key claims, checked on every run

# %%
# 1. The deterministic spiking circuit computes its mirror's SDM read exactly.
assert results["exact_check"]["passed"], results["exact_check"]
# 2. The circuit's beta agrees with the prediction for its rule at the same pairs: within 3
#    half-widths of its 95% interval (about 4.6 standard errors).
half_width = 0.5 * (circuit_beta["ci_high"] - circuit_beta["ci_low"])
assert abs(circuit_beta["beta"] - own["beta"]) <= 3 * half_width
# 3. Noise-free queries: the circuit's read agrees with attention (centred output cosine).
assert cosine["circuit__vs__attention_ols"][0] >= 0.9
assert cosine["pattern_sdm__vs__attention_ols"][0] >= 0.95
# 4. More granule cells, closer to the exact theory: 16x r (or 4x) beats r / 4.
assert sweep_tv[-1] < sweep_tv[0]
