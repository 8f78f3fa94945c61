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
# # 04 — Climbing-fibre writes as counters, and the DCN read
#
# During a write the climbing fibre of each Purkinje cell carries one bit of the value being
# stored; every parallel-fibre synapse of a granule cell that fired changes by
# $\Delta w\,(1 - 2v)$: LTP for a parallel-fibre spike alone ($v = 0$), LTD when the climbing
# fibre fires too ($v = 1$; Ito 2001; Coesmans et al. 2004). After $c$ writes whose values sum
# to $s$, $w = w_0 + \Delta w\,(c - 2s)$: a bipolar SDM counter (Kanerva 1988). The read divides
# the Purkinje input by the molecular-layer interneuron's summed write counts, and the deep
# cerebellar nuclei (DCN), inhibited by the Purkinje cells, fire in proportion to the read.
#
# This notebook checks the weights and the DCN read against the PyTorch mirror, then shows
# what the Poisson mode and the length of the presentation window do to the read.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("CEREBELLAR_SDM_SMOKE") == "1"  # small sizes for the test suite

SEED = 4
N_NEURONS = 1_000 if SMOKE else 10_000  # granule cells r (preset "default": n = 64, d = 24)
N_PATTERNS = 12 if SMOKE else 64  # patterns written m
N_VALUES = 4 if SMOKE else 8  # Purkinje cells (value bits)
N_QUERIES = 6 if SMOKE else 40
QUERY_NOISE = 8  # bits flipped in each query
WINDOWS_MS = (3, 20) if SMOKE else (2, 5, 10, 20, 40)  # Poisson presentation windows

# %%
# ruff: noqa: E402 (imports follow the parameters cell)
import matplotlib.pyplot as plt
import numpy as np
import torch
from brian2 import Hz, ms

from cerebellum.engines import Schedule, simulate
from cerebellum.presets import poisson_dynamics, preset
from cerebellum.wiring import sample_wiring
from models.recall import flip_bits
from models.sdm import random_addresses

streams = np.random.SeedSequence(SEED).spawn(3 + len(WINDOWS_MS))


def torch_generator(stream):
    """A torch.Generator seeded from one SeedSequence child."""
    return torch.Generator().manual_seed(int(stream.generate_state(1)[0]))


params = preset("default").replace(granule={"n_neurons": N_NEURONS})
wiring = sample_wiring(params.granule, generator=torch_generator(streams[0]))
generator = torch_generator(streams[1])
addresses = random_addresses(N_PATTERNS, 64, generator=generator)
values = torch.randint(0, 2, (N_PATTERNS, N_VALUES), generator=generator).to(torch.float64)
targets = torch.randint(0, N_PATTERNS, (N_QUERIES,), generator=generator)
queries = flip_bits(addresses[targets], QUERY_NOISE, generator=generator)

mirror = wiring.mirror(N_VALUES)
mirror.write(addresses, values)
mirror_read = mirror.read(queries).numpy()

# %% [markdown]
# ## Deterministic mode: weights are the mirror's counters
#
# {func}`cerebellum.engines.simulate` runs a {class}`~cerebellum.engines.Schedule` on the engine
# of the circuit's dynamics mode (here the algorithmic one): it builds the circuit, writes the
# patterns (one presentation window each) and reads the queries from the written state.

# %%
schedule = Schedule.experiment(
    addresses.numpy(), values.numpy(), [queries.numpy()], pattern_channels=False
)
result = simulate(params, wiring, schedule, rng=np.random.default_rng(streams[2]))
readout = result.readouts[0]
pf_weights = result.weights["after"]
w0 = params.plasticity.pf_weight_initial
dw = params.plasticity.pf_weight_step
write_counts = mirror.write_counts.numpy()
counters = mirror.counters.numpy()
predicted_weights = w0 + dw * (write_counts[:, None] - 2 * counters)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
ax = axes[0]
ax.plot(predicted_weights.ravel(), pf_weights.ravel(), ".", ms=3, alpha=0.3)
ax.set_xlabel("w0 + dw (c - 2 s) from the mirror's counters")
ax.set_ylabel("PF -> Purkinje weight in Brian2")
ax.set_title(f"{pf_weights.size} synapses after {N_PATTERNS} writes")
ax = axes[1]
ax.plot(100.0 * mirror_read.ravel(), readout.dcn_rate_hz.ravel(), "o", ms=4)
ax.plot([0, 100], [0, 100], "k:", lw=1)
ax.set_xlabel("100 Hz x mirror read")
ax.set_ylabel("DCN rate (Hz)")
ax.set_title(f"{N_QUERIES} queries x {N_VALUES} values, {QUERY_NOISE} bits of noise")
fig.tight_layout()
print(f"writes per granule cell: mean {write_counts.mean():.2f}, max {write_counts.max()}")

# %%
# Oracle: the mirror. With dw = 1/2 every weight is a multiple of 1/2, so equality is exact.
np.testing.assert_array_equal(pf_weights, predicted_weights)
np.testing.assert_array_equal(result.weights["write_counts"], write_counts)
np.testing.assert_array_equal(result.weights["counters"], counters)
# The read divides two exact sums in another order than the mirror: 1e-9 relative.
np.testing.assert_allclose(readout.read, mirror_read, rtol=1e-9, atol=1e-12)
dcn_max = float(params.output.dcn_rate_max / Hz)
np.testing.assert_allclose(readout.dcn_rate_hz, dcn_max * mirror_read, rtol=1e-9, atol=1e-9)

# %% [markdown]
# ## Poisson mode and the presentation window
#
# With Poisson mossy fibres a granule cell's input count is random, so a cell near the edge
# of the ball may or may not fire, at writes and at reads alike. A longer presentation window
# averages over more spikes: the granule activation approaches the Hamming ball and the read
# approaches the deterministic one. The same wiring, patterns and queries are used throughout.

# %%
window_rows = []
for window_ms, stream in zip(WINDOWS_MS, streams[3:], strict=True):
    poisson_params = params.replace(dynamics=poisson_dynamics(window_ms * ms))
    poisson = simulate(poisson_params, wiring, schedule, rng=np.random.default_rng(stream))
    active = poisson.readouts[0].active_granule
    expected = readout.active_granule
    mismatch = (active != expected).sum() / max(expected.sum(), 1)
    read_error = np.abs(poisson.readouts[0].read - mirror_read).mean()
    bit_errors = ((poisson.readouts[0].read > 0.5) != (mirror_read > 0.5)).mean()
    window_rows.append((window_ms, mismatch, read_error, bit_errors))
    print(
        f"window {window_ms:3d} ms: granule mismatch {mismatch:.3f} of the ball, "
        f"mean |read - mirror| {read_error:.4f}, thresholded bits differing {bit_errors:.3f}"
    )
windows, mismatches, read_errors, bit_errors = map(np.array, zip(*window_rows, strict=True))

fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(windows, mismatches, "o-", label="granule cells wrong / ball size")
ax.plot(windows, read_errors, "s-", label="mean |read - deterministic read|")
ax.set_xscale("log")
ax.set_xlabel("presentation window (ms)")
ax.legend()
fig.tight_layout()

# %%
# The longest window is closer to the deterministic circuit than the shortest.
assert mismatches[-1] < mismatches[0]
assert read_errors[-1] < read_errors[0]
