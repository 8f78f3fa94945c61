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
# # 03 — The granule layer: mossy fibres to Purkinje cells
#
# The Brian2 circuit of {mod}`cerebellum.circuit`: $2n$ mossy fibres (a push-pull pair per
# address bit) drive $r$ granule cells whose mossy-fibre synapses *are* their SDM addresses;
# Golgi inhibition sets which granule cells fire (Marr 1969; Albus 1971; Kanerva 1988, ch. 9).
# This notebook shows a raster of one presentation, checks that the granule cells that fire are
# exactly a Hamming ball around the query (against the PyTorch mirror on the same addresses),
# then top-$k$ activation by Golgi feedback and the selected-coordinate variant with four
# dendrites per granule cell (Jaeckel 1989). Brian2 runs on its numpy code target.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("CEREBELLAR_SDM_SMOKE") == "1"  # small sizes for the test suite

SEED = 3
N_NEURONS = 1_000 if SMOKE else 10_000  # granule cells r (preset "default": n = 64, d = 24)
N_QUERIES = 8 if SMOKE else 50  # queries per check
POISSON_QUERIES = 4 if SMOKE else 30  # queries in Poisson mode (20 ms windows)
TOP_K = 30 if SMOKE else 300  # granule cells admitted by the Golgi feedback loop
SELECTED_NEURONS = 2_000 if SMOKE else 20_000  # preset "biological": 4 dendrites per cell

# %%
# ruff: noqa: E402 (imports follow the parameters cell)
import matplotlib.pyplot as plt
import numpy as np
import torch
from brian2 import SpikeMonitor

from cerebellum.circuit import build_circuit
from cerebellum.engines.algorithmic import Protocol
from cerebellum.params import GranuleLayerParams
from cerebellum.plotting import figures
from cerebellum.presets import poisson_dynamics, preset
from cerebellum.wiring import sample_wiring
from models.sdm import hamming_distances, random_addresses

streams = np.random.SeedSequence(SEED).spawn(8)


def torch_generator(stream):
    """A torch.Generator seeded from one SeedSequence child."""
    return torch.Generator().manual_seed(int(stream.generate_state(1)[0]))


def read_granule_layer(params, wiring, queries, stream, *, mossy_monitor=False):
    """Build the circuit (one value channel, nothing written) and read the queries."""
    circuit = build_circuit(params, wiring, n_values=1, rng=np.random.default_rng(stream))
    monitor = None
    if mossy_monitor:  # instrumentation for the raster: the circuit itself records no fibres
        monitor = SpikeMonitor(circuit.groups["mossy"])
        circuit.network.add(monitor)
    readout = Protocol(circuit).read(queries)
    return circuit, readout, monitor


# %% [markdown]
# ## One presentation, Poisson mode
#
# Active fibres fire at 500 Hz and inactive ones at 5 Hz for a 20 ms window
# ({func}`cerebellum.presets.poisson_dynamics`); each granule cell counts its mossy-fibre spikes
# and fires once, at the decision step, if the count exceeds the Golgi threshold.

# %%
poisson_params = preset("default", dynamics=poisson_dynamics()).replace(
    granule={"n_neurons": N_NEURONS}
)
wiring = sample_wiring(poisson_params.granule, generator=torch_generator(streams[0]))
query_generator = torch_generator(streams[1])
poisson_queries = random_addresses(POISSON_QUERIES, 64, generator=query_generator)
circuit, poisson_readout, mossy = read_granule_layer(
    poisson_params, wiring, poisson_queries.numpy(), streams[2], mossy_monitor=True
)
window_s = float(circuit.window_duration)
first = np.asarray(mossy.t_) < window_s
granule_times = np.asarray(circuit.monitors["granule_spikes"].t_)
granule_first = granule_times < window_s

fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
rasters = (
    (np.asarray(mossy.t_)[first], np.asarray(mossy.i)[first], f"mossy fibres (2n = {2 * 64})"),
    (
        granule_times[granule_first],
        np.asarray(circuit.monitors["granule_spikes"].i)[granule_first],
        f"granule cells (r = {N_NEURONS}): {granule_first.sum()} fire at the decision step",
    ),
)
for ax, (times_s, cells, title) in zip(axes, rasters, strict=True):
    figures.plot_raster(times_s, cells, title=title, ax=ax)
axes[0].set_xlabel("")
axes[-1].set_xlabel("time in the presentation window (ms)")
fig.tight_layout()
print(
    f"window {1e3 * window_s:.0f} ms; mossy spikes {first.sum()}, "
    f"granule spikes {granule_first.sum()} of {N_NEURONS} cells"
)

# %% [markdown]
# ## Granule activation is a Hamming ball
#
# In the deterministic mode every active fibre fires one synchronous volley, so a granule cell
# with address $x$ receives exactly $n - H(q, x)$ inputs, and the threshold
# $n - d - 1/2$ admits exactly the cells with $H(q, x) \le d$. The oracle is the other engine:
# {meth}`models.sdm.NeuronSDM.active` on the very same address tensor.

# %%
params = preset("default").replace(granule={"n_neurons": N_NEURONS})
radius = params.granule.activation_radius
queries = random_addresses(N_QUERIES, 64, generator=query_generator)
_, readout, _ = read_granule_layer(params, wiring, queries.numpy(), streams[3])
mirror_active = wiring.mirror(1).active(queries).numpy()
distances = hamming_distances(queries, wiring.addresses).numpy()

fig, ax = plt.subplots(figsize=(6.5, 3.5))
bins = np.arange(distances.min(), distances.max() + 2) - 0.5
ax.hist(distances[~readout.active_granule], bins=bins, color="lightgray", label="silent")
ax.hist(distances[readout.active_granule], bins=bins, color="C3", label="fired")
ax.axvline(radius + 0.5, color="k", lw=1, label=f"d = {radius}")
ax.set_yscale("log")
ax.set_xlabel("Hamming distance from the query to the cell's address (bits)")
ax.set_ylabel("(query, granule cell) pairs")
ax.legend()
fig.tight_layout()
print(f"active cells per query: {readout.active_granule.sum(axis=1)}")

# %%
np.testing.assert_array_equal(readout.active_granule, mirror_active)
np.testing.assert_array_equal(readout.active_granule, distances <= radius)

# %% [markdown]
# In the Poisson mode the ball is soft: the probability of firing falls from ~1 to ~0 around
# $d$ over a few bits, because the spike counts fluctuate.

# %%
poisson_distances = hamming_distances(poisson_queries, wiring.addresses).numpy()
levels = np.arange(radius - 8, radius + 9)
pairs = np.array([(poisson_distances == t).sum() for t in levels])
fired = np.array([poisson_readout.active_granule[poisson_distances == t].sum() for t in levels])
levels, fire_probability = levels[pairs > 0], fired[pairs > 0] / pairs[pairs > 0]
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(levels, fire_probability, "o-", label="Poisson, 20 ms window")
ax.step(levels, (levels <= radius).astype(float), where="mid", label="deterministic")
ax.set_xlabel("Hamming distance (bits)")
ax.set_ylabel("P(granule cell fires)")
ax.legend()
fig.tight_layout()

# %%
inside = poisson_readout.active_granule[poisson_distances <= radius - 4].mean()
outside = poisson_readout.active_granule[poisson_distances >= radius + 4].mean()
print(f"P(fire | t <= d - 4) = {inside:.3f}, P(fire | t >= d + 4) = {outside:.4f}")
assert inside > 0.9 and outside < 0.1  # the soft ball still separates near from far

# %% [markdown]
# ## Top-k: Golgi feedback admits exactly k cells
#
# With `activation="top-k"` the Golgi cell bisects its inhibition level over a few time steps
# until exactly $k$ granule cells are above it; among cells with equal input the lower index
# wins, the mirror's tie rule.

# %%
top_k_layer = GranuleLayerParams(n_dims=64, n_neurons=N_NEURONS, activation="top-k", top_k=TOP_K)
top_k_params = params.replace(granule=top_k_layer)
top_k_wiring = sample_wiring(top_k_layer, generator=torch_generator(streams[4]))
_, top_k_readout, _ = read_granule_layer(top_k_params, top_k_wiring, queries.numpy(), streams[5])
top_k_mirror = top_k_wiring.mirror(1).active(queries).numpy()

fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(readout.active_granule.sum(axis=1), "o", label=f"radius d = {radius}")
ax.plot(top_k_readout.active_granule.sum(axis=1), "s", label=f"top-k, k = {TOP_K}")
ax.set_xlabel("query")
ax.set_ylabel("granule cells that fired")
ax.legend()
fig.tight_layout()

# %%
assert (top_k_readout.active_granule.sum(axis=1) == TOP_K).all()
np.testing.assert_array_equal(top_k_readout.active_granule, top_k_mirror)

# %% [markdown]
# ## Selected coordinates: four dendrites per granule cell
#
# A granule cell has about four dendrites, each contacting one mossy-fibre rosette (Eccles, Ito
# & Szentágothai 1967). In Jaeckel's (1989) selected-coordinate SDM such a cell fires iff the
# query matches its 4 sampled bits, so a random query activates a fraction $2^{-4} = 1/16$
# (preset `biological`).

# %%
selected_params = preset("biological").replace(granule={"n_neurons": SELECTED_NEURONS})
selected_wiring = sample_wiring(selected_params.granule, generator=torch_generator(streams[6]))
_, selected_readout, _ = read_granule_layer(
    selected_params, selected_wiring, queries.numpy(), streams[7]
)
selected_mirror = selected_wiring.mirror(1).active(queries).numpy()
counts = selected_readout.active_granule.sum(axis=1)
print(f"active fraction per query: {np.round(counts / SELECTED_NEURONS, 4)} (expected 0.0625)")

# %%
np.testing.assert_array_equal(selected_readout.active_granule, selected_mirror)
# Oracle: each cell fires independently with probability 1/16 for a fixed query (independent
# random coordinates and bits), so a count is Binomial(r, 1/16); 6 standard deviations.
p = 1 / 16
assert np.all(np.abs(counts - SELECTED_NEURONS * p) <= 6 * np.sqrt(SELECTED_NEURONS * p * (1 - p)))
