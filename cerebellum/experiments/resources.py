r"""What a job will cost, estimated from its sizes before anything is allocated.

The commands check a request against the machine before they start: a job whose estimated
memory exceeds the available memory is refused with one line naming the size, the estimate
and the limit, and a long job says how long it may take. Nothing here imports Brian2 or torch,
so ``cerebellar-sdm theory`` stays light; the functions read sizes from the parameter objects
they are given.

Memory of ``compare`` (bytes; ``n`` address bits, ``r`` granule cells, ``m`` patterns, ``Q``
queries in all, ``C = n + m`` Purkinje channels, ``W = m + Q (1 + recall_steps)`` windows):

- the Brian2 circuit: :data:`BYTES_PER_SYNAPSE` per synapse, over the dense synapse counts of
  the wiring (:func:`circuit_synapses`: ``r k`` mossy-fibre -> granule synapses, ``k = n``
  for the canonical wiring or ``n_inputs`` for selected coordinates, none on the injected fast
  path; ``r C`` parallel fibres onto every Purkinje channel; the Golgi, MLI and DCN
  synapses); plus the per-run input ``TimedArray`` s, ``8 W (2n + C)``, and the granule spike
  monitor, ``16 p r W K_in`` (``p`` the activation probability, ``K_in`` input steps);
- the mirror (:class:`models.sdm.NeuronSDM` and the other engines): :data:`MIRROR_BYTES`
  per neuron, ``1.1 n + 2.6 Q + 9.6 m``, for the ``r`` neurons of the comparison and again
  for the largest population of the neuron-count sweep (``max(neuron_sweep) r``).

The parts are summed (the stages run one after another, but freed memory is not always
returned to the system). Measured on this project's development machine (2 cores, numpy
target, peak resident memory above the interpreter's, ``ru_maxrss``; wall time of
:func:`cerebellum.experiments.compare.run_comparison`):

==========================================  =================  =================
run (``default`` preset unless given)       measured           estimated
==========================================  =================  =================
r = 10^4 (the preset)                       0.16 GB, 15 s      0.15 GB, 29 s
r = 4 x 10^4                                0.48 GB, 41 s      0.61 GB, 95 s
n = 256, d = 115, r = 10^4                  0.35 GB, 56 s      0.37 GB, 100 s
n = 1024, d = 482, r = 4000                 0.37 GB, 76 s      0.49 GB, 147 s
``--mode poisson``, r = 4000                0.09 GB, 23 s      0.09 GB, 118 s
``kanerva``, r = 10^4, recall_steps = 1     0.80 GB, 98 s      1.19 GB, 102 s
``kanerva`` (n = 1000, r = 10^5)            not run            11.9 GB, 53 min
``biophysical`` (r = 2 x 10^4, cython)      1.83 GB*, 256 s    1.6 GB, 397 s
``default``, n = 10^5                       not run            111 GB (refused)
==========================================  =================  =================

(* peak resident memory including the interpreter, torch and Brian2, ~0.45 GB, of
``cerebellar-sdm compare --dynamics biophysical``, 1.28 x 10^7 synapses.) The
biophysical mode is estimated from its simulated time (background, calibration, writes and
reads), per synapse-second and per time step.

Time of ``compare``: per simulated window, :data:`SECONDS_PER_EVENT` per synaptic event
(mossy-fibre spikes times their fan-out, granule spikes times their Purkinje targets) plus
:data:`SECONDS_PER_STEP` per time step; recall is counted at its most iterations, so the
estimate, with :data:`COMPARE_FIXED_SECONDS` for the analysis and the figures, is an upper
bound: about right for n = 1000, up to 2x above for n <= 1024 and 5x above
for the Poisson mode, whose spikes spread over 20 steps and cost less per event.

Theory (``cerebellar-sdm theory``): the critical-distance optimum evaluates the recursion for
every radius 0..n, each pass O(n): about :data:`THEORY_SECONDS_PER_N2` ``n^2`` seconds
(measured 3.6 s at n = 4000, 10.8 s at n = 8000) and :data:`THEORY_BYTES_PER_N` ``n`` bytes
(measured 89-98 B per bit at n = 10^5..10^7).

The limit is ``MemAvailable`` from ``/proc/meminfo`` (the kernel's estimate of memory
available without swapping), lowered to the cgroup's headroom when a cgroup limit is set;
``CEREBELLAR_SDM_MEMORY_LIMIT`` (or the commands' ``--memory-limit``) overrides it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BRIAN2_INDEX_MAX",
    "BYTES_PER_SYNAPSE",
    "MEMORY_LIMIT_ENV",
    "Estimate",
    "MemoryLimit",
    "check_compare_bounds",
    "check_memory",
    "circuit_synapses",
    "compare_estimate",
    "format_bytes",
    "format_seconds",
    "memory_limit",
    "parse_bytes",
    "theory_estimate",
]

#: Brian2 indexes neurons and synapses with int32: the largest group or synapse set.
BRIAN2_INDEX_MAX = 2**31 - 1

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
#: (8 steps of 8 queries), and rests before each write (3), the defaults of
#: :func:`cerebellum.engines.biophysical.run_biophysical`.
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

#: ``theory``: seconds per n^2 and bytes per n (see the module docstring).
THEORY_SECONDS_PER_N2 = 2.5e-7
THEORY_BYTES_PER_N = 100

#: Environment variable overriding the detected available memory (bytes, or 8G, 512M ...).
MEMORY_LIMIT_ENV = "CEREBELLAR_SDM_MEMORY_LIMIT"

_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


# --------------------------------------------------------------------------- formatting


def parse_bytes(text: str) -> int:
    """Parse a memory size: ``8000000000``, ``8G``, ``512M``, ``1.5GiB``, ``64k``.

    Suffixes are binary (k = 2^10, M = 2^20, G = 2^30, T = 2^40), with or without ``B`` /
    ``iB``.

    Parameters
    ----------
    text : str

    Returns
    -------
    int
        Bytes, > 0.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", str(text))
    if not match:
        raise ValueError(
            f"memory limit must be a size such as 8G, 512M or 8000000000; got {text!r}"
        )
    value = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"memory limit must be at least 1 byte; got {text!r}")
    return int(value)


def format_bytes(n_bytes: float) -> str:
    """``1.23 GB`` style (binary units: 1 GB = 2^30 bytes)."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{int(n_bytes)} B"


def format_seconds(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3.5 h``, ``12 days``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.3g} days"


# --------------------------------------------------------------------------- the limit


@dataclass(frozen=True)
class MemoryLimit:
    """The memory a job may use and where that number came from.

    Attributes
    ----------
    n_bytes : int
    source : str
        E.g. ``"MemAvailable in /proc/meminfo"`` or ``"CEREBELLAR_SDM_MEMORY_LIMIT"``.
    """

    n_bytes: int
    source: str


def _meminfo_available(path: Path) -> int | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    match = re.search(r"^MemAvailable:\s+(\d+)\s+kB", text, flags=re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def _cgroup_headroom(root: Path) -> int | None:
    """Limit minus usage of this process's cgroup (v2, then v1); None when unlimited."""
    for limit_name, usage_name in (
        ("memory.max", "memory.current"),
        ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"),
    ):
        try:
            limit_text = (root / limit_name).read_text().strip()
            usage = int((root / usage_name).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit_text == "max" or not limit_text.isdigit() or int(limit_text) >= 2**62:
            return None
        return max(0, int(limit_text) - usage)
    return None


def memory_limit(
    override: str | int | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    meminfo: str | os.PathLike = "/proc/meminfo",
    cgroup: str | os.PathLike = "/sys/fs/cgroup",
) -> MemoryLimit | None:
    """The memory available to a job.

    Parameters
    ----------
    override : str or int, optional
        An explicit limit (``--memory-limit``); wins over everything.
    environ : mapping, optional
        Environment (default ``os.environ``); :data:`MEMORY_LIMIT_ENV` overrides detection.
    meminfo, cgroup : path
        Where to read ``MemAvailable`` and the cgroup limit (arguments for tests).

    Returns
    -------
    MemoryLimit or None
        None where nothing can be read (not Linux): the check is then skipped.
    """
    if override is not None:
        n_bytes = override if isinstance(override, int) else parse_bytes(override)
        return MemoryLimit(n_bytes, "--memory-limit")
    environ = os.environ if environ is None else environ
    if environ.get(MEMORY_LIMIT_ENV, "").strip():
        return MemoryLimit(parse_bytes(environ[MEMORY_LIMIT_ENV]), MEMORY_LIMIT_ENV)
    available = _meminfo_available(Path(meminfo))
    headroom = _cgroup_headroom(Path(cgroup))
    if headroom is not None and (available is None or headroom < available):
        return MemoryLimit(headroom, "the cgroup's memory limit less its usage")
    if available is None:
        return None
    return MemoryLimit(available, "MemAvailable in /proc/meminfo")


# --------------------------------------------------------------------------- estimates


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


def check_compare_bounds(params, *, n_values: int, n_pattern_channels: int) -> None:
    """Refuse sizes Brian2 cannot index (int32), naming the bound.

    Parameters
    ----------
    params : cerebellum.params.CircuitParams
    n_values, n_pattern_channels : int
        As in :func:`circuit_synapses`.

    Raises
    ------
    ValueError
        ``n_neurons``, the mossy fibres ``2 n_dims``, the Purkinje channels or one synapse set
        exceeds :data:`BRIAN2_INDEX_MAX`.
    """
    g = params.granule
    bound = BRIAN2_INDEX_MAX
    for name, value in (
        ("n_neurons", int(g.n_neurons)),
        ("2 * n_dims (mossy fibres)", 2 * int(g.n_dims)),
        ("n_dims + n_patterns (Purkinje channels)", int(n_values) + int(n_pattern_channels)),
    ):
        if value > bound:
            raise ValueError(
                f"{name} must be <= {bound} (Brian2 indexes neurons with int32); got {value}"
            )
    synapses = circuit_synapses(params, n_values=n_values, n_pattern_channels=n_pattern_channels)
    name, largest = max(synapses.items(), key=lambda item: item[1])
    if largest > bound:
        raise ValueError(
            f"the {name} synapses ({g.n_neurons} granule cells x their targets = {largest}) "
            f"must be <= {bound} (Brian2 indexes synapses with int32); choose smaller sizes"
        )


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


def theory_estimate(n_dims: int) -> Estimate:
    """Memory and time of ``cerebellar-sdm theory`` for ``n_dims`` bits.

    Parameters
    ----------
    n_dims : int

    Returns
    -------
    Estimate
    """
    n = int(n_dims) + 1
    memory = THEORY_BYTES_PER_N * n
    return Estimate(
        command="theory",
        size=f"n_dims={n_dims}",
        memory_bytes=memory,
        seconds=THEORY_SECONDS_PER_N2 * float(n) ** 2,
        parts={"arrays over t = 0..n": memory},
    )


def check_memory(estimate: Estimate, limit: MemoryLimit | None) -> None:
    """Refuse a job whose estimated memory exceeds the limit.

    Parameters
    ----------
    estimate : Estimate
    limit : MemoryLimit or None
        None skips the check.

    Raises
    ------
    ValueError
        One line: the size, the estimate (largest parts) and the limit with its source.
    """
    if limit is None or estimate.memory_bytes <= limit.n_bytes:
        return
    raise ValueError(
        f"{estimate.command} with {estimate.size} needs about "
        f"{format_bytes(estimate.memory_bytes)} ({estimate.breakdown()}), more than the "
        f"{format_bytes(limit.n_bytes)} available ({limit.source}); choose smaller sizes "
        f"(or raise the limit with --memory-limit or {MEMORY_LIMIT_ENV})"
    )
