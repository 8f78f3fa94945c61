"""Resource estimates of the compare job, per engine: synapses, memory and wall time.

The fitted model and its measurements are described in :mod:`cerebellum.experiments.resources`,
which re-exports :func:`compare_estimate` and :func:`circuit_synapses`; the estimate depends on
the circuit's dynamics (event-driven windows or continuous time), so it lives beside the
engines. No Brian2 import: the CLI estimates before it simulates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "BYTES_PER_SYNAPSE",
    "Estimate",
    "circuit_synapses",
    "compare_estimate",
    "format_bytes",
]

#: Resident bytes per Brian2 synapse through build, write, store and read (runtime device,
#: numpy target): measured 44-46 B at 5-8 x 10^6 synapses (n = 64..1024), rounded up.
BYTES_PER_SYNAPSE = 50

#: Mirror bytes per neuron: (per address bit, per query, per pattern), measured with
#: NeuronSDM write + weights + read at n = 64..1024, Q = 112..448, m = 16..64 (7-20 % above).
MIRROR_BYTES = (1.1, 2.6, 9.6)

#: Runtime cost per synaptic event and per time step (numpy target: measured 31-81 ns per
#: event, the most at n = 1000; about a millisecond per step).
SECONDS_PER_EVENT = 8e-8
SECONDS_PER_STEP = 1e-3

#: Biophysical mode (cython target): wall seconds per synapse per simulated second, and per
#: time step. Measured on the ``biophysical`` preset (r = 2 x 10^4, 1.2 x 10^7 synapses, 19.6 s
#: simulated): 247 s, i.e. ~1.1e-6 s per synapse-second; the ``biophysical-tiny`` run
#: (3 x 10^5 synapses, 8 s simulated) is dominated by the per-step cost, ~2e-4 s per step.
BIOPHYSICAL_SECONDS_PER_SYNAPSE_SECOND = 1.1e-6
BIOPHYSICAL_SECONDS_PER_STEP = 2e-4
#: Presentations besides the writes and reads: background (4) and the Golgi calibration
#: (8 steps of 8 queries), and rests before each write (3), the compare job's schedule and
#: the biophysical engine's defaults.
BIOPHYSICAL_EXTRA_PRESENTATIONS = 4 + 8 * 8
BIOPHYSICAL_RESTS_PER_WRITE = 3
#: Upper rates (Hz) for the spike monitors: granule cells, every other cell.
BIOPHYSICAL_MONITOR_RATES_HZ = (5.0, 150.0)
#: Resident bytes per synapse of the biophysical circuit (the PF -> Purkinje synapses carry
#: their weight and two plasticity traces): the ``biophysical`` preset peaked at 1.83 GB
#: resident, ~1.4 GB above the interpreter, for 1.28 x 10^7 synapses -- ~110 B.
BIOPHYSICAL_BYTES_PER_SYNAPSE = 110

#: Fixed part of a ``compare`` run: the analysis, the figures and the report (measured 2-5 s).
COMPARE_FIXED_SECONDS = 5.0


def format_bytes(n_bytes: float) -> str:
    """``1.23 GB`` style (binary units: 1 GB = 2^30 bytes)."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{int(n_bytes)} B"


@dataclass(frozen=True)
class Estimate:
    """Estimated peak memory (above the running interpreter) and wall time of a job.

    Attributes
    ----------
    command : str
    size : str
        The sizes that drive the cost, e.g. ``"n_dims=64, n_neurons=10000, n_patterns=16"``.
    memory_bytes : int
    seconds : float
        Upper-bound wall time.
    parts : dict of str to int
        Memory by part (bytes), largest first in :meth:`breakdown`.
    """

    command: str
    size: str
    memory_bytes: int
    seconds: float
    parts: dict[str, int] = field(default_factory=dict)

    def breakdown(self, n_parts: int = 3) -> str:
        """The largest parts, e.g. ``"circuit 2.0e9 synapses 93 GB, mirror 1.5 GB"``."""
        ranked = sorted(self.parts.items(), key=lambda item: -item[1])[:n_parts]
        return ", ".join(f"{name} {format_bytes(value)}" for name, value in ranked)


def _fraction_active(granule) -> float:
    """Probability that a random query activates a granule cell (p in the module docstring)."""
    from models import theory  # numpy/scipy only

    rule = granule.activation.value
    if rule == "radius":
        return float(theory.activation_probability(granule.n_dims, granule.activation_radius))
    if rule == "top-k":
        return granule.top_k / granule.n_neurons
    return 2.0 ** -float(granule.n_inputs)


def circuit_synapses(params, *, n_values: int, n_pattern_channels: int) -> dict[str, int]:
    """Dense synapse counts of the circuit built for ``params`` (no build).

    Parameters
    ----------
    params : cerebellum.params.CircuitParams
    n_values : int
        Value channels (the compare job: ``n_dims``, autoassociative).
    n_pattern_channels : int
        One-hot pattern channels (the compare job: ``n_patterns``).

    Returns
    -------
    dict of str to int
        Synapses per Brian2 ``Synapses`` object: ``mossy_granule``, ``granule_purkinje``,
        ``granule_golgi``, ``granule_mli``, ``purkinje_dcn``; the biophysical cells add
        ``golgi_granule``, ``mossy_golgi``, ``mli_purkinje`` and ``climbing_purkinje``, with
        ``n_per_channel`` Purkinje and DCN cells per channel (``granule_mli`` is random there:
        its expected count).
    """
    g = params.granule
    r = int(g.n_neurons)
    channels = int(n_values) + int(n_pattern_channels)
    injected = getattr(params.dynamics, "mossy_drive", "synapses") == "injected"
    counts = {"mossy_granule": 0 if injected else r * int(g.n_synapses_per_cell)}
    if getattr(params.dynamics, "mode", "") != "biophysical":
        counts.update(
            granule_purkinje=r * channels,
            granule_golgi=r,
            granule_mli=r,
            purkinje_dcn=int(n_values),
        )
        return counts
    cells = params.cells
    channels += 2 * int(getattr(cells.purkinje, "n_reference_per_kind", 1))  # the references
    n_pc = channels * int(getattr(cells.purkinje, "n_per_channel", 1))
    n_dcn = channels * int(getattr(cells.dcn, "n_per_channel", 1))
    n_golgi = max(1, math.ceil(r / int(getattr(cells.golgi, "granule_per_golgi", r) or r)))
    n_mli = int(getattr(cells.mli, "n_cells", 1))
    counts.update(
        granule_purkinje=r * n_pc,
        golgi_granule=r * min(int(getattr(cells.golgi, "n_golgi_per_granule", 1)), n_golgi),
        granule_golgi=n_golgi * min(int(getattr(cells.golgi, "n_granule_inputs", r)), r),
        mossy_golgi=n_golgi * min(int(getattr(cells.golgi, "n_mossy_inputs", 0)), 2 * g.n_dims),
        # Each granule cell contacts each MLI with connection_probability: the expected count.
        granule_mli=round(r * n_mli * float(getattr(cells.mli, "connection_probability", 1.0))),
        mli_purkinje=n_pc * min(int(getattr(cells.purkinje, "n_mli_inputs", n_mli)), n_mli),
        climbing_purkinje=n_pc,
        purkinje_dcn=n_pc * n_dcn // max(1, channels),
    )
    return counts


def compare_estimate(
    params,
    *,
    n_patterns: int,
    n_queries_total: int,
    recall_steps: int,
    neuron_sweep=(1.0,),
) -> Estimate:
    """Memory and time of the ``compare`` job (module docstring for the model and its fit).

    Parameters
    ----------
    params : cerebellum.params.CircuitParams
        The resolved parameters (``cerebellum.experiments.compare.configure(config).params``).
    n_patterns : int
        Stored patterns m.
    n_queries_total : int
        Queries over all noise levels, Q.
    recall_steps : int
        Most iterated reads per query.
    neuron_sweep : sequence of float
        Factors of r of the mirror-only sweep.

    Returns
    -------
    Estimate
    """
    g, dyn = params.granule, params.dynamics
    n, r, m, q = int(g.n_dims), int(g.n_neurons), int(n_patterns), int(n_queries_total)
    steps = int(recall_steps)
    channels = n + m
    synapses = circuit_synapses(params, n_values=n, n_pattern_channels=m)
    n_synapses = sum(synapses.values())
    windows = m + q * (1 + steps)
    input_steps = int(getattr(dyn, "n_input_steps", 1))
    window_steps = input_steps + int(getattr(dyn, "n_gap_steps", 0)) + 2
    p = _fraction_active(g)
    per_neuron = MIRROR_BYTES[0] * n + MIRROR_BYTES[1] * q + MIRROR_BYTES[2] * m
    largest_sweep = max((float(f) for f in neuron_sweep), default=0.0)
    parts = {
        f"circuit ({n_synapses:.3g} synapses)": BYTES_PER_SYNAPSE * n_synapses,
        "input arrays": 8 * (m + q) * (2 * n + channels),
        "spike monitor": int(16 * p * r * windows * input_steps),
        "mirror": int(per_neuron * r),
        "neuron-count sweep": int(per_neuron * r * largest_sweep),
    }
    if getattr(dyn, "mode", "") == "biophysical":
        return _biophysical_estimate(params, synapses, parts, m=m, q=q)
    if getattr(dyn, "mode", "") == "algorithmic":
        on, off = 1.0, 0.0
    else:
        on, off = float(dyn.spike_probability_on), float(dyn.spike_probability_off)
    fanout = synapses["mossy_granule"] / max(1, 2 * n)
    mossy_events = n * (on + off) * input_steps * fanout
    granule_events = p * r * max(1, input_steps if getattr(dyn, "mode", "") != "algorithmic" else 1)
    pf_events = granule_events * synapses["granule_purkinje"] / max(1, r)
    per_window = SECONDS_PER_EVENT * (mossy_events + pf_events) + SECONDS_PER_STEP * window_steps
    size = f"n_dims={n}, n_neurons={r}, n_patterns={m}, queries={q}"
    return Estimate(
        command="compare",
        size=size,
        memory_bytes=int(sum(parts.values())),
        seconds=float(COMPARE_FIXED_SECONDS + windows * per_window),
        parts=parts,
    )


def _biophysical_estimate(params, synapses: dict, parts: dict, *, m: int, q: int) -> Estimate:
    """The compare job in the biophysical mode: continuous time, every cell every step."""
    g, dyn = params.granule, params.dynamics
    n, r = int(g.n_dims), int(g.n_neurons)
    # no iterated reads in this mode
    presentations = BIOPHYSICAL_EXTRA_PRESENTATIONS + (1 + BIOPHYSICAL_RESTS_PER_WRITE) * m + q
    simulated_s = presentations * float(dyn.presentation + dyn.gap)
    n_synapses = sum(synapses.values())
    steps = simulated_s / float(dyn.dt)
    n_pc = synapses["climbing_purkinje"]
    other_cells = 2 * n + 2 * n_pc + int(getattr(params.cells.mli, "n_cells", 1))
    granule_hz, other_hz = BIOPHYSICAL_MONITOR_RATES_HZ
    parts = {
        (f"circuit ({n_synapses:.3g} synapses)" if key.startswith("circuit") else key): value
        for key, value in parts.items()
        if key != "spike monitor"
    }
    parts[f"circuit ({n_synapses:.3g} synapses)"] = BIOPHYSICAL_BYTES_PER_SYNAPSE * n_synapses
    parts["spike monitors"] = int(16 * simulated_s * (granule_hz * r + other_hz * other_cells))
    seconds = (
        COMPARE_FIXED_SECONDS
        + BIOPHYSICAL_SECONDS_PER_SYNAPSE_SECOND * n_synapses * simulated_s
        + BIOPHYSICAL_SECONDS_PER_STEP * steps
    )
    return Estimate(
        command="compare",
        size=f"n_dims={n}, n_neurons={r}, n_patterns={m}, queries={q}",
        memory_bytes=int(sum(parts.values())),
        seconds=float(seconds),
        parts=parts,
    )
