"""Benchmark: NeuronSDM write/read against dense baselines and torchhd, and peak memory.

Configuration (issue 2/5): n = 1000 dims, radius d = 451, r = 100,000 neurons, m = 1,000 stored
patterns with 1,000-dim float32 values, 64 queries. Baselines, each run in this process:

* ``cdist``: the straightforward implementation -- float32 addresses, ``torch.cdist(..., p=0)``
  Hamming distances, a dense activation mask, dense float32 counters ``mask.T @ values`` and a
  dense matmul read-out ``(mask @ counters) / (mask @ write_counts)``;
* ``+-1 matmul``: the best simple alternative -- the Hamming distance from one float32 matmul
  of +-1 codes, ``scores = (2 q - 1) @ (2 A - 1).T = n - 2 H``, ``active = scores >= n - 2 d``;
  the write stores the patterns' activation masks, the read takes the circle intersections
  ``active(q) @ active(p).T`` and the weighted values by matmul (exact: integers below 2^24);
* ``torchhd``: :class:`torchhd.memory.SparseDistributed` given the same +-1 addresses and
  threshold (skipped with a printed line when ``torchhd`` is not installed; it is not a
  dependency). Its read is the unnormalised counter sum, so it is checked against the
  NeuronSDM read times the summed intersections.

Prints, in one run and one process, the median of ``--repeats`` runs of

* the distance step (64 x 100,000 distances): :func:`models.sdm.hamming_distances` vs
  ``torch.cdist(p=0)`` and the +-1 matmul;
* write and read of :class:`models.sdm.NeuronSDM` vs every baseline, with the ratios
  baseline / NeuronSDM (target: read >= 5x faster than cdist) and the largest difference
  between the reads;

then the peak resident memory (``VmHWM``, else ``ru_maxrss``) of one fresh subprocess per
configuration, including the interpreter, torch and the test data (addresses alone are 1 GB at
r = 1,000,000):
NeuronSDM at r = 100,000 and r = 1,000,000 (target < 4 GiB) and the baseline at r = 100,000
(the baseline at r = 1,000,000 needs 8 GB by construction — 4 GB float32 addresses plus 4 GB
dense counters — and is not run).

Run: ``.venv/bin/python benchmarks/bench_mirror.py`` (``--quick`` for a small smoke run).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from models.sdm import NeuronSDM, hamming_distances, random_addresses


def make_generator(seed: int) -> torch.Generator:
    child = np.random.SeedSequence(seed).spawn(1)[0]
    return torch.Generator().manual_seed(int(child.generate_state(1)[0]))


def make_data(n_dims: int, n_neurons: int, n_patterns: int, n_values: int, n_queries: int):
    """Neuron addresses, pattern addresses, values and queries (noisy copies of patterns)."""
    g = make_generator(0)
    addresses = random_addresses(n_neurons, n_dims, generator=g)
    patterns = random_addresses(n_patterns, n_dims, generator=g)
    values = torch.randn(n_patterns, n_values, generator=g)
    flips = torch.rand(n_queries, n_dims, generator=g) < 0.05
    queries = patterns[:n_queries] ^ flips.to(torch.uint8)
    return addresses, patterns, values, queries


# -- baseline: the straightforward dense implementation -----------------------------------------


def baseline_write(addresses_float, patterns, values, radius):
    """Dense counters (n_neurons, n_values) and write counts from cdist distances."""
    mask = (torch.cdist(patterns.float(), addresses_float, p=0) <= radius).float()
    return mask.T @ values, mask.sum(dim=0)


def baseline_read(addresses_float, counters, write_counts, queries, radius):
    """Dense read-out: (mask @ counters) / (mask @ write_counts), 0 where nothing was written."""
    mask = (torch.cdist(queries.float(), addresses_float, p=0) <= radius).float()
    denominator = mask @ write_counts
    return torch.where(
        denominator[:, None] > 0, (mask @ counters) / denominator.clamp(min=1)[:, None], 0.0
    )


# -- baseline: +-1 codes and matmuls (the best simple alternative) ------------------------------


def signed(bits: torch.Tensor) -> torch.Tensor:
    """{0, 1} -> {-1, +1} as float32."""
    return bits.float().mul_(2).sub_(1)


def pm1_active(queries_signed, addresses_signed, n_dims, radius):
    """``H <= d`` as ``(2q-1).(2a-1) = n - 2H >= n - 2d`` (float32 matmul, exact)."""
    return (queries_signed @ addresses_signed.T) >= (n_dims - 2 * radius)


def pm1_write(addresses_signed, patterns, n_dims, radius):
    """The patterns' activation masks (n_patterns, n_neurons), float32 -- all a read needs."""
    return pm1_active(signed(patterns), addresses_signed, n_dims, radius).float()


def pm1_read(addresses_signed, pattern_masks, values, queries, n_dims, radius):
    """Intersections ``active(q) @ active(p).T`` by matmul, then their weighted values."""
    query_masks = pm1_active(signed(queries), addresses_signed, n_dims, radius).float()
    intersections = query_masks @ pattern_masks.T
    total = intersections.sum(dim=1, keepdim=True)
    return torch.where(total > 0, (intersections @ values) / total.clamp(min=1), 0.0), total


# -- torchhd (optional) -------------------------------------------------------------------------


def torchhd_memory(addresses_signed, n_values, n_dims, radius):
    """A ``torchhd.memory.SparseDistributed`` on our addresses and radius, or None."""
    try:
        from torchhd.memory import SparseDistributed
    except ImportError:
        return None
    memory = SparseDistributed(2, n_dims, n_values)  # tiny: its random keys are replaced
    memory.keys = torch.nn.Parameter(addresses_signed.clone(), requires_grad=False)
    memory.values = torch.nn.Parameter(
        torch.zeros(addresses_signed.shape[0], n_values), requires_grad=False
    )
    memory.memory_size = addresses_signed.shape[0]
    memory.threshold = n_dims - 2 * radius
    return memory


# -- timing -------------------------------------------------------------------------------------


def median_seconds(function, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timing_section(args) -> None:
    n_dims, radius, n_neurons = args.n_dims, args.radius, args.n_neurons
    addresses, patterns, values, queries = make_data(
        n_dims, n_neurons, args.n_patterns, args.n_values, args.n_queries
    )
    print(
        f"n_dims={n_dims} radius={radius} n_neurons={n_neurons} n_patterns={args.n_patterns} "
        f"n_values={args.n_values} n_queries={args.n_queries} repeats={args.repeats} "
        f"torch={torch.__version__} threads={torch.get_num_threads()}"
    )
    addresses_float = addresses.float()

    ours_d, distances = median_seconds(lambda: hamming_distances(queries, addresses), args.repeats)
    base_d, base_distances = median_seconds(
        lambda: torch.cdist(queries.float(), addresses_float, p=0), args.repeats
    )
    assert torch.equal(distances, base_distances.to(torch.int32)), "distances disagree"
    addresses_signed = signed(addresses)
    queries_signed = signed(queries)
    pm1_d, scores = median_seconds(lambda: queries_signed @ addresses_signed.T, args.repeats)
    assert torch.equal((n_dims - scores) / 2, distances.float()), "+-1 distances disagree"
    print(
        f"distances ({args.n_queries} x {n_neurons}): hamming_distances {ours_d:.4f} s, "
        f"cdist(p=0) {base_d:.4f} s (ratio {base_d / ours_d:.1f}x), "
        f"+-1 matmul {pm1_d:.4f} s (ratio {pm1_d / ours_d:.1f}x)"
    )

    def ours_write():
        memory = NeuronSDM(addresses, args.n_values, activation_radius=radius, dtype=torch.float32)
        memory.write(patterns, values)
        return memory

    ours_w, memory = median_seconds(ours_write, args.repeats)
    base_w, (counters, write_counts) = median_seconds(
        lambda: baseline_write(addresses_float, patterns, values, radius), args.repeats
    )
    assert torch.equal(memory.write_counts, write_counts.long()), "write counts disagree"
    pm1_w, pattern_masks = median_seconds(
        lambda: pm1_write(addresses_signed, patterns, n_dims, radius), args.repeats
    )
    assert torch.equal(pattern_masks.sum(dim=0).long(), memory.write_counts), "+-1 writes disagree"
    print(
        f"write ({args.n_patterns} patterns): NeuronSDM {ours_w:.3f} s, cdist {base_w:.3f} s "
        f"(ratio {base_w / ours_w:.1f}x), +-1 matmul {pm1_w:.3f} s (ratio {pm1_w / ours_w:.1f}x); "
        f"mean neurons per pattern {memory.write_counts.sum().item() / args.n_patterns:.1f}"
    )

    ours_r, out = median_seconds(lambda: memory.read(queries), args.repeats)
    base_r, base_out = median_seconds(
        lambda: baseline_read(addresses_float, counters, write_counts, queries, radius),
        args.repeats,
    )
    pm1_r, (pm1_out, totals) = median_seconds(
        lambda: pm1_read(addresses_signed, pattern_masks, values, queries, n_dims, radius),
        args.repeats,
    )
    difference = (out - base_out).abs().max().item()
    pm1_difference = (out - pm1_out).abs().max().item()
    print(
        f"read ({args.n_queries} queries): NeuronSDM {ours_r:.4f} s, cdist {base_r:.4f} s "
        f"(ratio {base_r / ours_r:.1f}x, target >= 5x; max |difference| {difference:.2e}), "
        f"+-1 matmul {pm1_r:.4f} s (ratio {pm1_r / ours_r:.1f}x; max |difference| "
        f"{pm1_difference:.2e})"
    )
    print(
        f"write + read: NeuronSDM {ours_w + ours_r:.3f} s, cdist {base_w + base_r:.3f} s "
        f"(ratio {(base_w + base_r) / (ours_w + ours_r):.1f}x), +-1 matmul "
        f"{pm1_w + pm1_r:.3f} s (ratio {(pm1_w + pm1_r) / (ours_w + ours_r):.1f}x)"
    )
    torchhd_section(args, addresses_signed, patterns, values, queries, out * totals, ours_w, ours_r)


def torchhd_section(args, addresses_signed, patterns, values, queries, sums, ours_w, ours_r):
    """Time torchhd's SparseDistributed on the same data, if torchhd is installed."""
    n_dims, radius = args.n_dims, args.radius
    memory = torchhd_memory(addresses_signed, args.n_values, n_dims, radius)
    if memory is None:
        print("torchhd: not installed, skipped (pip install torch-hd to compare)")
        return

    def write():
        memory.values.zero_()
        memory.write(signed(patterns), values)

    hd_w, _ = median_seconds(write, args.repeats)
    hd_r, hd_out = median_seconds(lambda: memory.read(signed(queries)), args.repeats)
    # torchhd reads the unnormalised counter sum: NeuronSDM's read times the summed
    # intersections (float32 sums in a different order: relative tolerance).
    scale = sums.abs().max().item() or 1.0
    difference = (hd_out.as_subclass(torch.Tensor) - sums).abs().max().item() / scale
    print(
        f"torchhd SparseDistributed: write {hd_w:.3f} s (ratio {hd_w / ours_w:.1f}x), "
        f"read {hd_r:.4f} s (ratio {hd_r / ours_r:.1f}x); max |difference| of the counter "
        f"sums / max |sum| {difference:.2e}"
    )


# -- peak memory, one subprocess per configuration ---------------------------------------------


def peak_resident_kib() -> int:
    """Peak resident set of this process in KiB.

    ``VmHWM`` from ``/proc/self/status`` where available: Linux carries the parent's
    ``ru_maxrss`` into a child across fork/vfork + exec, so ``getrusage`` in a subprocess can
    report the parent's peak. Falls back to ``ru_maxrss`` (KiB on Linux) elsewhere.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(args) -> None:
    addresses, patterns, values, queries = make_data(
        args.n_dims, args.n_neurons, args.n_patterns, args.n_values, args.n_queries
    )
    start = time.perf_counter()
    if args.child == "ours":
        memory = NeuronSDM(
            addresses, args.n_values, activation_radius=args.radius, dtype=torch.float32
        )
        memory.write(patterns, values)
        written = time.perf_counter()
        memory.read(queries)
    else:
        addresses_float = addresses.float()
        counters, write_counts = baseline_write(addresses_float, patterns, values, args.radius)
        written = time.perf_counter()
        baseline_read(addresses_float, counters, write_counts, queries, args.radius)
    done = time.perf_counter()
    peak_kib = peak_resident_kib()
    print(
        json.dumps(
            {"peak_gib": peak_kib / 2**20, "write_s": written - start, "read_s": done - written}
        )
    )


def peak_section(args) -> None:
    print("peak resident memory (VmHWM of a fresh process per configuration; target < 4 GiB):")
    configurations = [("ours", args.n_neurons), ("ours", args.peak_neurons)]
    configurations.append(("baseline", args.n_neurons))
    baseline_gib = args.peak_neurons * (args.n_dims + args.n_values) * 4 / 2**30
    if baseline_gib < 3:
        configurations.append(("baseline", args.peak_neurons))
    for which, n_neurons in configurations:
        command = [
            sys.executable,
            __file__,
            "--child",
            which,
            "--n-neurons",
            str(n_neurons),
            *[f"--{k}={getattr(args, k.replace('-', '_'))}" for k in SIZE_FLAGS],
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            print(f"  {which} r={n_neurons}: failed: {completed.stderr.strip()[-300:]}")
            continue
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        label = "NeuronSDM" if which == "ours" else "baseline "
        print(
            f"  {label} r={n_neurons:>9,}: peak {result['peak_gib']:.2f} GiB, "
            f"write {result['write_s']:.2f} s, read {result['read_s']:.3f} s"
        )
    if baseline_gib >= 3:
        print(
            f"  baseline  r={args.peak_neurons:>9,}: not run (float32 addresses + dense float32 "
            f"counters alone need {baseline_gib:.1f} GiB)"
        )


SIZE_FLAGS = ["n-dims", "radius", "n-patterns", "n-values", "n-queries", "threads"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-dims", type=int, default=1000)
    parser.add_argument("--radius", type=int, default=451)
    parser.add_argument("--n-neurons", type=int, default=100_000)
    parser.add_argument("--peak-neurons", type=int, default=1_000_000)
    parser.add_argument("--n-patterns", type=int, default=1000)
    parser.add_argument("--n-values", type=int, default=1000)
    parser.add_argument("--n-queries", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (default 1: one core)"
    )
    parser.add_argument("--skip-peak", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument("--child", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.n_dims, args.radius, args.n_neurons, args.peak_neurons = 200, 85, 5000, 20_000
        args.n_patterns, args.n_values, args.n_queries = 100, 50, 16
    if args.child:
        child(args)
        return
    timing_section(args)
    if not args.skip_peak:
        peak_section(args)


if __name__ == "__main__":
    main()
