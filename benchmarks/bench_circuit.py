"""Benchmark the spiking cerebellum against its PyTorch mirror (issue 4).

For each configuration -- the radius rule (n = 64, d = 24, ~3 % active) at r = 10^4 and
10^5, and the ``biological`` preset (4 selected inputs, r = 10^5) -- and each Brian2 device
(runtime with the numpy target, and ``cpp_standalone``), it writes ``m`` patterns and reads
``q`` queries in the deterministic mode and prints

- build time (network construction; for standalone also code generation + compilation),
- simulated seconds per wall second of the simulation itself,
- synaptic events per second (mossy-fibre -> granule events plus parallel-fibre events onto
  Purkinje cells, the MLI and the Golgi cell, counted from the spikes that occurred),
- the mirror's (``NeuronSDM``) wall time for the same writes and reads -- warm (one call
  first), the median of ``--mirror-repeats`` calls in this process -- and the ratio
  circuit / mirror.

``cpp_standalone`` runs twice on the same structure (another data seed the second time) in a
fresh build cache (``$CEREBELLAR_SDM_STANDALONE_CACHE`` pointed at a temporary folder, removed
at the end): the first run compiles the project, the second finds it in the cache. Both lines
show the build time and, in brackets, ``make`` alone.

A third "device", ``injected``, is the runtime device on the fast path
(``DynamicsParams(mossy_drive="injected")``: no mossy-fibre group or synapses; its event count
still includes the mossy-fibre events the fast path replaces, for comparability).

Every run is checked against the mirror (active sets identical) so a fast wrong answer
cannot pass unnoticed.

Usage::

    .venv/bin/python benchmarks/bench_circuit.py            # everything (~10 min on 2 cores)
    .venv/bin/python benchmarks/bench_circuit.py --quick    # r = 10^4 only, runtime only
    # the scale point of issue 10/11: r = 10^5, m = q = 1000, compiled
    .venv/bin/python benchmarks/bench_circuit.py --devices cpp_standalone --sizes-exp 5 \
        --no-biological --patterns 1000 --queries 1000
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time

import numpy as np
import torch

from cerebellum.circuit.build import standalone_cache_at
from cerebellum.engines import Schedule, simulate
from cerebellum.params import CircuitParams, GranuleLayerParams
from cerebellum.presets import preset
from cerebellum.wiring import sample_wiring
from models.activation import ActivationRule


def _configs(quick: bool, exponents=None, biological=True) -> list[tuple[str, CircuitParams]]:
    radius = [
        (
            f"radius r=1e{exp}",
            CircuitParams(
                name=f"radius-1e{exp}",
                granule=GranuleLayerParams(
                    n_dims=64,
                    n_neurons=10**exp,
                    activation=ActivationRule.RADIUS,
                    activation_radius=24,
                ),
            ),
        )
        for exp in (exponents or ((4,) if quick else (4, 5)))
    ]
    if quick or not biological:
        return radius
    return [*radius, ("biological r=1e5", preset("biological"))]


def _synaptic_events(params, wiring, n_channels, granule_spikes: int, addresses, queries) -> int:
    # Monitors of a standalone run are gone once the device is reset, so the granule spike
    # count comes from the mirror, whose active sets the circuit reproduces exactly (checked).
    fibre, _ = wiring.mossy_granule_synapses()
    fan_out = np.bincount(fibre, minlength=params.granule.n_mossy_fibres)
    bits = np.vstack([addresses, queries])
    n_dims = bits.shape[1]
    active_fibres = 2 * np.arange(n_dims)[None, :] + bits
    mossy_events = int(fan_out[active_fibres].sum())
    return mossy_events + granule_spikes * (n_channels + 2)


def _inputs(params, n_patterns, n_queries, n_values, seed, data_offset=0):
    wiring_seed, data_seed, brian_seed = np.random.SeedSequence(seed).spawn(3)
    generator = torch.Generator().manual_seed(int(wiring_seed.generate_state(1)[0]))
    wiring = sample_wiring(params.granule, generator=generator)
    if data_offset:
        data_seed = np.random.SeedSequence([*data_seed.generate_state(2), data_offset])
    rng = np.random.default_rng(data_seed)
    n_dims = params.granule.n_dims
    addresses = rng.integers(0, 2, (n_patterns, n_dims)).astype(np.uint8)
    values = rng.integers(0, 2, (n_patterns, n_values)).astype(np.float64)
    flips = (rng.random((n_queries, n_dims)) < 0.05).astype(np.uint8)
    queries = addresses[rng.integers(0, n_patterns, n_queries)] ^ flips
    return wiring, addresses, values, queries, np.random.default_rng(brian_seed)


def _mirror_seconds(wiring, addresses, values, queries, repeats):
    """Warm median wall time of the mirror's writes + reads, and its activation."""

    def run():
        mirror = wiring.mirror(values.shape[1])
        mirror.write(torch.from_numpy(addresses), torch.from_numpy(values))
        q = torch.from_numpy(queries)
        active = mirror.active(q).numpy()
        mirror.read(q)
        return mirror, active

    run()  # warm-up: first-call allocations and dispatch
    times = []
    for _ in range(repeats):
        clock = time.perf_counter()
        mirror, active = run()
        times.append(time.perf_counter() - clock)
    return statistics.median(times), mirror, active


def _run(label, params, device, n_patterns, n_queries, n_values, seed, mirror_repeats):
    if device == "injected":
        params = params.replace(dynamics={"mossy_drive": "injected"})
    runs = [("", 0)]
    if device == "cpp_standalone":
        params = params.replace(device={"device": "cpp_standalone"})
        runs = [(" (cold)", 0), (" (cached)", 1)]
    for suffix, data_offset in runs:
        wiring, addresses, values, queries, brian_rng = _inputs(
            params, n_patterns, n_queries, n_values, seed, data_offset
        )
        schedule = Schedule.experiment(addresses, values, [queries], pattern_channels=False)
        result = simulate(params, wiring, schedule, rng=brian_rng)
        mirror_s, mirror, active = _mirror_seconds(
            wiring, addresses, values, queries, mirror_repeats
        )
        granule_spikes = int(mirror.write_counts.sum()) + int(active.sum())
        if not np.array_equal(active, result.readouts[0].active_granule):
            raise RuntimeError(f"{label} {device}: circuit activation differs from the mirror")

        t = result.timings_s
        if device in ("runtime", "injected"):
            build_s, sim_wall_s = t["build"], t["write"] + t["read"]
            compile_note = ""
        else:
            build_s = t["build"] + t["device_build"] - t["device_run"]
            sim_wall_s = t["device_run"]
            compile_note = f" (make {t['device_compile']:6.2f} s)"
        simulated_s = result.counts["simulated_s"]  # (n_patterns + n_queries) windows
        # No pattern channels: one Purkinje channel per value.
        events = _synaptic_events(
            params, wiring, values.shape[1], granule_spikes, addresses, queries
        )
        print(
            f"{label:<20} {device + suffix:<24} build {build_s:8.2f} s{compile_note} | "
            f"sim {sim_wall_s:8.3f} s | {simulated_s / sim_wall_s:9.4f} sim-s/wall-s | "
            f"{events / sim_wall_s:10.3e} events/s | mirror {mirror_s:7.4f} s (warm median) | "
            f"circuit/mirror {sim_wall_s / mirror_s:8.1f}x",
            flush=True,
        )
        # Release this circuit before the next build (Brian2 numbers derived names past the
        # objects alive, and renamed files would be recompiled).
        del result


def _biophysical_inputs(params, n_patterns, n_per_level, levels, seed):
    streams = np.random.SeedSequence(seed).spawn(3)
    g = params.granule
    wiring = sample_wiring(
        g, generator=torch.Generator().manual_seed(int(streams[0].generate_state(1)[0]))
    )
    rng = np.random.default_rng(streams[1])
    patterns = rng.integers(0, 2, size=(n_patterns, g.n_dims), dtype=np.uint8)
    queries, noise = [], []
    for level in levels:
        for k in range(n_per_level):
            query = patterns[k % n_patterns].copy()
            query[rng.choice(g.n_dims, level, replace=False)] ^= 1
            queries.append(query)
            noise.append(level)
    return wiring, patterns, np.asarray(queries), np.asarray(noise), rng, streams[2]


def _biophysical_schedule(patterns, values, queries, **options):
    """Writes then reads, with the biophysical protocol's 4 background and 3 rest
    presentations."""
    return Schedule.experiment(patterns, values, [queries], n_background=4, n_rest=3, **options)


def _print_biophysical(label, result, wall):
    sim = result.counts["simulated_s"]
    run_s = result.timings_s.get("device_run") or sum(
        result.timings_s.get(k, 0.0) for k in ("calibrate", "write", "read")
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in result.timings_s.items())
    print(
        f"{label}: wall {wall:.1f} s ({parts}); "
        f"simulated {sim:.2f} s -> {sim / run_s:.3f} sim s / wall s; "
        f"{result.counts['n_synaptic_events'] / run_s:.3g} synaptic events / s"
    )


def _biophysical(sizes, seed) -> None:
    import resource

    from cerebellum.engines.spiking_analysis import compare_with_mirror

    levels = (0, 2, 4, 6, 8, 10, 12)
    params = preset("biophysical")
    wiring, patterns, queries, noise, rng, analysis_seed = _biophysical_inputs(
        params, 16, 16, levels, seed
    )
    clock = time.perf_counter()
    schedule = _biophysical_schedule(patterns, patterns.astype(float), queries)
    result = simulate(params, wiring, schedule, rng=rng)
    _print_biophysical("biophysical default (cython)", result, time.perf_counter() - clock)
    out = compare_with_mirror(
        result,
        wiring,
        patterns,
        patterns.astype(float),
        noise=noise,
        rng=np.random.default_rng(analysis_seed),
    )
    c = result.details.calibration
    print(
        f"  calibration: scale {c.inhibition_scale:.3f}, target {c.target_fraction:.4f}, "
        f"measured {c.measured_fraction:.4f} +- {c.fraction_sd:.4f} (sd across queries)"
    )
    for key in (
        "cosine_dcn",
        "bit_agreement_dcn",
        "cosine_purkinje",
        "bit_agreement_purkinje",
        "cosine_attention_dcn",
        "jaccard",
    ):
        print(f"  {key:24s}", " ".join(f"{x:.3f}" for x in out[key]), "(noise", levels, ")")
    print(
        f"  beta measured {out['beta_measured']:.2f} [{out['beta_ci'][0]:.2f}, "
        f"{out['beta_ci'][1]:.2f}], predicted from the measured f(h) {out['beta_predicted']:.2f}"
    )
    scale = c.inhibition_scale
    directory = tempfile.mkdtemp(prefix="bench_biophysical_")
    try:
        standalone = params.replace(
            device={"device": "cpp_standalone", "build_directory": directory}
        )
        wiring, patterns, queries, noise, rng, _ = _biophysical_inputs(params, 16, 16, levels, seed)
        clock = time.perf_counter()
        schedule = _biophysical_schedule(patterns, patterns.astype(float), queries)
        result = simulate(standalone, wiring, schedule, rng=rng, inhibition_scale=scale)
        _print_biophysical(
            "biophysical default (cpp_standalone, calibrated scale given)",
            result,
            time.perf_counter() - clock,
        )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    for size in sizes:
        if size == params.granule.n_neurons:
            continue
        big = params.replace(granule={"n_neurons": size})
        wiring, patterns, queries, _, rng, _ = _biophysical_inputs(big, 4, 4, (0,), seed)
        clock = time.perf_counter()
        schedule = _biophysical_schedule(
            patterns, patterns[:, :2].astype(float), queries, pattern_channels=False
        )
        result = simulate(big, wiring, schedule, rng=rng, inhibition_scale=scale, track_memory=True)
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
        _print_biophysical(
            f"biophysical r={size} (4 writes + 4 reads, cython)",
            result,
            time.perf_counter() - clock,
        )
        print(
            f"  peak traced heap {result.timings_s['peak_memory_mb']:.0f} MB, "
            f"peak RSS of the process {peak_rss:.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--biophysical",
        action="store_true",
        help="time the biophysical circuit instead (see the module docstring)",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=(100_000, 1_000_000),
        help="granule-cell counts of the biophysical scaling runs",
    )
    parser.add_argument("--quick", action="store_true", help="r = 10^4, runtime only")
    parser.add_argument("--patterns", type=int, default=64, help="patterns written (m)")
    parser.add_argument("--queries", type=int, default=64, help="queries read (q)")
    parser.add_argument("--values", type=int, default=8, help="value channels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--mirror-repeats", type=int, default=5, help="mirror timings (median, after a warm-up)"
    )
    parser.add_argument(
        "--sizes-exp",
        type=int,
        nargs="+",
        default=None,
        help="radius configurations r = 10^e to run (default: 4 5; --quick: 4)",
    )
    parser.add_argument(
        "--no-biological", action="store_true", help="skip the biological preset configuration"
    )
    parser.add_argument(
        "--devices",
        nargs="+",
        choices=("runtime", "cpp_standalone", "injected"),
        default=("runtime", "cpp_standalone", "injected"),
        help="injected = runtime with the injected mossy-drive fast path",
    )
    args = parser.parse_args()
    if args.biophysical:
        _biophysical(args.sizes, args.seed)
        return
    devices = ("runtime",) if args.quick else tuple(args.devices)
    print(
        f"m={args.patterns} writes + q={args.queries} reads, deterministic mode, "
        f"{args.values} value channels; runtime = numpy code target"
    )
    cache = tempfile.mkdtemp(prefix="bench_circuit_cache_")
    try:
        with standalone_cache_at(cache):
            configs = _configs(args.quick, args.sizes_exp, not args.no_biological)
            for label, params in configs:
                for device in devices:
                    _run(
                        label,
                        params,
                        device,
                        args.patterns,
                        args.queries,
                        args.values,
                        args.seed,
                        args.mirror_repeats,
                    )
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
