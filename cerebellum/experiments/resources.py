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
``biophysical`` (r = 2 x 10^4, cython)      1.77 GB*, 359 s    1.6 GB, 397 s
``default``, n = 10^5                       not run            111 GB (refused)
==========================================  =================  =================

(* peak resident memory including the interpreter, torch and Brian2, ~0.45 GB, of
``cerebellar-sdm compare --dynamics biophysical``, 1.28 x 10^7 synapses, warm build cache;
the same run measured 256 s on a quieter day of this shared machine, and the tiny preset run
side by side with the code before the engine interface took 227 s against 226 s.) The
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
from dataclasses import dataclass
from pathlib import Path

from cerebellum.engines.estimates import (
    BYTES_PER_SYNAPSE,
    Estimate,
    circuit_synapses,
    compare_estimate,
    format_bytes,
)

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
