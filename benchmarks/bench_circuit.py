"""Benchmark the spiking cerebellum against its PyTorch mirror (issue 4).

For each configuration -- the radius rule (n = 64, d = 24, ~3 % active) at r = 10^4 and
10^5, and the ``biological`` preset (4 selected inputs, r = 10^5) -- and each Brian2 device
(runtime with the numpy target, and ``cpp_standalone``), it writes ``m`` patterns and reads
``q`` queries in the deterministic mode and prints

- build time (network construction; for standalone also code generation + compilation),
- simulated seconds per wall second of the simulation itself,
- synaptic events per second (mossy-fibre -> granule events plus parallel-fibre events onto
  Purkinje cells, the MLI and the Golgi cell, counted from the spikes that occurred),
- the mirror's (``NeuronSDM``) wall time for the same writes and reads, and the ratio.

A third "device", ``injected``, is the runtime device on the fast path
(``DynamicsParams(mossy_drive="injected")``: no mossy-fibre group or synapses; its event count
still includes the mossy-fibre events the fast path replaces, for comparability).

Every run is checked against the mirror (active sets identical) so a fast wrong answer
cannot pass unnoticed.

Usage::

    .venv/bin/python benchmarks/bench_circuit.py            # everything (~10 min on 2 cores)
    .venv/bin/python benchmarks/bench_circuit.py --quick    # r = 10^4 only, runtime only
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np
import torch

from cerebellum.params import CircuitParams, GranuleLayerParams
from cerebellum.presets import preset
from cerebellum.protocol import run_protocol
from cerebellum.wiring import sample_wiring
from models.activation import ActivationRule


def _configs(quick: bool) -> list[tuple[str, CircuitParams]]:
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
        for exp in ((4,) if quick else (4, 5))
    ]
    if quick:
        return radius
    return [*radius, ("biological r=1e5", preset("biological"))]


def _synaptic_events(result, granule_spikes: int, addresses, queries) -> int:
    # Monitors of a standalone run are gone once the device is reset, so the granule spike
    # count comes from the mirror, whose active sets the circuit reproduces exactly (checked).
    circuit = result.circuit
    fibre, _ = circuit.wiring.mossy_granule_synapses()
    fan_out = np.bincount(fibre, minlength=circuit.params.granule.n_mossy_fibres)
    bits = np.vstack([addresses, queries])
    n_dims = bits.shape[1]
    active_fibres = 2 * np.arange(n_dims)[None, :] + bits
    mossy_events = int(fan_out[active_fibres].sum())
    return mossy_events + granule_spikes * (circuit.n_channels + 2)


def _run(label, params, device, n_patterns, n_queries, n_values, seed):
    wiring_seed, data_seed, brian_seed = np.random.SeedSequence(seed).spawn(3)
    generator = torch.Generator().manual_seed(int(wiring_seed.generate_state(1)[0]))
    wiring = sample_wiring(params.granule, generator=generator)
    rng = np.random.default_rng(data_seed)
    n_dims = params.granule.n_dims
    addresses = rng.integers(0, 2, (n_patterns, n_dims)).astype(np.uint8)
    values = rng.integers(0, 2, (n_patterns, n_values)).astype(np.float64)
    flips = (rng.random((n_queries, n_dims)) < 0.05).astype(np.uint8)
    queries = addresses[rng.integers(0, n_patterns, n_queries)] ^ flips
    directory = None
    if device == "injected":
        params = params.replace(dynamics={"mossy_drive": "injected"})
    if device == "cpp_standalone":
        directory = tempfile.mkdtemp(prefix="bench_circuit_")
        params = params.replace(device={"device": "cpp_standalone", "build_directory": directory})
    try:
        result = run_protocol(
            params,
            wiring,
            addresses,
            values,
            [queries],
            rng=np.random.default_rng(brian_seed),
            pattern_channels=False,
        )
    finally:
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    clock = time.perf_counter()
    mirror = wiring.mirror(n_values)
    mirror.write(torch.from_numpy(addresses), torch.from_numpy(values))
    q = torch.from_numpy(queries)
    active = mirror.active(q).numpy()
    mirror.read(q)
    mirror_s = time.perf_counter() - clock
    granule_spikes = int(mirror.write_counts.sum()) + int(active.sum())
    if not np.array_equal(active, result.readouts[0].active_granule):
        raise RuntimeError(f"{label} {device}: circuit activation differs from the mirror")

    t = result.timings_s

    if device in ("runtime", "injected"):
        build_s, sim_wall_s = t["build"], t["write"] + t["read"]
    else:
        build_s = t["build"] + t["device_build"] - t["device_run"]
        sim_wall_s = t["device_run"]
    simulated_s = (n_patterns + n_queries) * float(result.circuit.window_duration)
    events = _synaptic_events(result, granule_spikes, addresses, queries)
    print(
        f"{label:<20} {device:<15} build {build_s:8.2f} s | sim {sim_wall_s:8.3f} s | "
        f"{simulated_s / sim_wall_s:9.4f} sim-s/wall-s | {events / sim_wall_s:10.3e} events/s | "
        f"mirror {mirror_s:7.3f} s | circuit/mirror {sim_wall_s / mirror_s:8.1f}x",
        flush=True,
    )


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


def _print_biophysical(label, result, wall):
    sim = result.simulated_s
    run_s = result.timings_s.get("device_run") or sum(
        result.timings_s.get(k, 0.0) for k in ("calibrate", "write", "read")
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in result.timings_s.items())
    print(
        f"{label}: wall {wall:.1f} s ({parts}); "
        f"simulated {sim:.2f} s -> {sim / run_s:.3f} sim s / wall s; "
        f"{result.n_synaptic_events / run_s:.3g} synaptic events / s"
    )


def _biophysical(sizes, seed) -> None:
    import resource

    from cerebellum.biophysical import compare_with_mirror, run_biophysical

    levels = (0, 2, 4, 6, 8, 10, 12)
    params = preset("biophysical")
    wiring, patterns, queries, noise, rng, analysis_seed = _biophysical_inputs(
        params, 16, 16, levels, seed
    )
    clock = time.perf_counter()
    result = run_biophysical(params, wiring, patterns, patterns.astype(float), [queries], rng=rng)
    _print_biophysical("biophysical default (cython)", result, time.perf_counter() - clock)
    out = compare_with_mirror(
        result,
        wiring,
        patterns,
        patterns.astype(float),
        noise=noise,
        rng=np.random.default_rng(analysis_seed),
    )
    c = result.calibration
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
        result = run_biophysical(
            standalone,
            wiring,
            patterns,
            patterns.astype(float),
            [queries],
            rng=rng,
            inhibition_scale=scale,
        )
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
        result = run_biophysical(
            big,
            wiring,
            patterns,
            patterns[:, :2].astype(float),
            [queries],
            rng=rng,
            pattern_channels=False,
            inhibition_scale=scale,
            track_memory=True,
        )
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
    for label, params in _configs(args.quick):
        for device in devices:
            _run(label, params, device, args.patterns, args.queries, args.values, args.seed)


if __name__ == "__main__":
    main()
