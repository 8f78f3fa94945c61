"""The CLI's guard rails: resources before allocation, engine bounds, signals, input niceties.

Memory is never exhausted here: the limit is set by the test (``--memory-limit`` or
``CEREBELLAR_SDM_MEMORY_LIMIT``) just below or at the estimate. Signal tests send real signals
to a child process running the command.
"""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cerebellum import cli
from cerebellum.experiments import resources

TINY = ["--preset", "tiny", "--n-patterns", "4", "--n-queries", "2", "--recall-steps", "1"]


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def tiny_estimate(*extra) -> resources.Estimate:
    from cerebellum.experiments.compare import CompareConfig, configure

    resolved = configure(CompareConfig(preset="tiny", n_patterns=4, n_queries=2, recall_steps=1))
    return resources.compare_estimate(
        resolved.params,
        n_patterns=4,
        n_queries_total=2 * len(resolved.noise_levels),
        recall_steps=1,
        neuron_sweep=resolved.config.neuron_sweep,
    )


# --------------------------------------------------------------------------- memory and time


def test_compare_just_over_the_limit_is_refused_naming_size_estimate_and_limit(
    tmp_path, capsys, monkeypatch
):
    # Oracle: the estimator itself; a limit one byte below the estimate must refuse, the
    # estimate itself must pass (the comparison is <=).
    estimate = tiny_estimate()
    monkeypatch.setenv(resources.MEMORY_LIMIT_ENV, str(estimate.memory_bytes - 1))
    out = tmp_path / "run"
    assert cli.main(["compare", *TINY, "--out", str(out), "--no-progress"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("cerebellar-sdm: error: compare with n_dims=16, n_neurons=256")
    assert resources.format_bytes(estimate.memory_bytes) in line
    assert resources.format_bytes(estimate.memory_bytes - 1) in line
    assert resources.MEMORY_LIMIT_ENV in line
    assert list(tmp_path.iterdir()) == []
    limit = resources.memory_limit(environ={resources.MEMORY_LIMIT_ENV: str(estimate.memory_bytes)})
    resources.check_memory(estimate, limit)  # at the limit: accepted


def test_the_argument_overrides_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(resources.MEMORY_LIMIT_ENV, "1T")
    argv = ["compare", *TINY, "--memory-limit", "1k", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    assert "available (--memory-limit)" in one_error_line(capsys.readouterr().err)


def test_huge_n_dims_is_refused_before_allocating(tmp_path, capsys):
    # Today n_dims = 10^5 grows to all memory: the estimate (2e9 synapses at 50 B) is refused
    # at once against a 16 GB limit, well before a synapse exists.
    started = time.perf_counter()
    argv = ["compare", "--n-dims", "100000", "--memory-limit", "16G", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    assert time.perf_counter() - started < 30
    line = one_error_line(capsys.readouterr().err)
    assert "n_dims=100000" in line and "16 GB available" in line and "synapses" in line
    assert list(tmp_path.iterdir()) == []


def test_theory_just_over_the_limit_is_refused_and_at_the_limit_runs(capsys):
    # Oracle: theory_estimate (100 B per bit); the command must refuse one byte below it.
    need = resources.theory_estimate(100_000).memory_bytes
    assert cli.main(["theory", "--n-dims", "100000", "--memory-limit", str(need - 1)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "theory with n_dims=100000" in line and resources.format_bytes(need) in line
    small = resources.theory_estimate(64).memory_bytes
    assert cli.main(["theory", "--json", "--memory-limit", str(small)]) == 0
    assert capsys.readouterr().err == ""


def test_long_theory_announces_its_estimate_and_shows_progress(capsys, monkeypatch):
    # A stand-in cost per n^2 makes n = 64 a "long" job; the estimate line and the bar go to
    # stderr, the JSON to stdout unchanged.
    monkeypatch.setattr(resources, "THEORY_SECONDS_PER_N2", 1.0)
    assert cli.main(["theory", "--json"]) == 0
    captured = capsys.readouterr()
    assert (
        f"theory with n_dims=64: estimated up to {resources.format_seconds(65**2)}" in captured.err
    )
    assert "optimal radius (critical distance: 65 radii)" in captured.err
    assert '"optimal_radius"' in captured.out


def test_memory_limit_reads_meminfo_and_the_cgroup(tmp_path):
    # Oracle: files written here; the smaller of MemAvailable and the cgroup headroom wins.
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  100 kB\nMemAvailable:    2048 kB\n")
    cgroup = tmp_path / "cgroup"
    cgroup.mkdir()
    limit = resources.memory_limit(environ={}, meminfo=meminfo, cgroup=cgroup)
    assert limit == resources.MemoryLimit(2048 * 1024, "MemAvailable in /proc/meminfo")
    (cgroup / "memory.max").write_text("max\n")
    (cgroup / "memory.current").write_text("10\n")
    assert resources.memory_limit(environ={}, meminfo=meminfo, cgroup=cgroup).n_bytes == 2**21
    (cgroup / "memory.max").write_text("1000000\n")
    (cgroup / "memory.current").write_text("400000\n")
    assert resources.memory_limit(environ={}, meminfo=meminfo, cgroup=cgroup).n_bytes == 600000
    env = {resources.MEMORY_LIMIT_ENV: "1.5G"}
    assert resources.memory_limit(environ=env, meminfo=meminfo).n_bytes == 3 * 2**29
    assert resources.memory_limit("8G", environ=env).n_bytes == 8 * 2**30
    assert resources.memory_limit(environ={}, meminfo=tmp_path / "none", cgroup=tmp_path) is None


@pytest.mark.parametrize("text", ["", "abc", "-1G", "0", "1X"])
def test_bad_memory_sizes_are_refused(text, capsys):
    with pytest.raises(ValueError, match="memory limit"):
        resources.parse_bytes(text)
    assert cli.main(["theory", "--memory-limit", text]) == 2


def _built_and_estimated_synapses(params, n_values: int, n_patterns: int):
    """``(built, estimated)`` synapse counts per ``Synapses`` object of one small circuit."""
    import numpy as np

    from cerebellum.circuit import build_circuit
    from tests.cerebellum.helpers import wiring_from_manual_seed

    wiring = wiring_from_manual_seed(params, 0)
    circuit = build_circuit(
        params,
        wiring,
        n_values=n_values,
        n_pattern_channels=n_patterns,
        rng=np.random.default_rng(0),
    )
    expected = resources.circuit_synapses(params, n_values=n_values, n_pattern_channels=n_patterns)
    counts = {name: len(circuit.groups[name]) for name in expected}
    del circuit  # Brian2 warns about objects that never ran: let it, while output is captured
    gc.collect()
    return counts, expected


@pytest.mark.brian
@pytest.mark.parametrize("activation", ["radius", "selected-coordinate"])
def test_dense_synapse_counts_match_the_built_circuit(activation):
    # Oracle: the synapses Brian2 actually creates for a tiny circuit of each wiring.
    from cerebellum.experiments.compare import CompareConfig, build_circuit_params

    params = build_circuit_params(CompareConfig(preset="tiny", activation=activation))
    counts, expected = _built_and_estimated_synapses(params, params.granule.n_dims, 5)
    assert counts == expected


@pytest.mark.brian
def test_biophysical_synapse_counts_match_the_built_circuit(biophysical_tiny_params):
    # Oracle: the synapses Brian2 creates for the biophysical-tiny circuit. Every count is
    # fixed by the wiring rules except granule -> MLI, a Bernoulli draw per pair: its built
    # count lies within 5 binomial standard deviations of the expected one.
    counts, expected = _built_and_estimated_synapses(biophysical_tiny_params, 8, 4)
    p = biophysical_tiny_params.cells.mli.connection_probability
    pairs = biophysical_tiny_params.granule.n_neurons * biophysical_tiny_params.cells.mli.n_cells
    assert (
        abs(counts.pop("granule_mli") - expected.pop("granule_mli"))
        <= 5 * (pairs * p * (1 - p)) ** 0.5
    )
    assert counts == expected


# --------------------------------------------------------------------------- engine bounds


@pytest.mark.parametrize(
    ("flag", "value", "bound"),
    [
        ("--n-neurons", "18446744073709551616", "n_neurons must be <= 2147483647"),
        ("--n-dims", "2000000000", "2 * n_dims (mossy fibres) must be <= 2147483647"),
        ("--n-neurons", "200000000", "synapses ("),
    ],
)
def test_integers_past_the_engines_get_one_line_naming_the_bound(
    tmp_path, capsys, flag, value, bound
):
    # Oracle: Brian2 indexes neurons and synapses with int32 (2^31 - 1).
    argv = ["compare", "--preset", "tiny", flag, value, "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert bound in line and "2147483647" in line
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- niceties


def test_preset_choices_are_listed_and_checked(capsys):
    # Oracle: cerebellum.presets.PRESET_NAMES (read lazily so theory never imports Brian2).
    from cerebellum.presets import PRESET_NAMES

    with pytest.raises(SystemExit):
        cli._build_parser().parse_args(["compare", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "circuit preset: " + ", ".join(PRESET_NAMES) in help_text
    assert cli.main(["compare", "--preset", "nonsense"]) == 2
    assert f"preset must be one of {PRESET_NAMES}; got 'nonsense'" in capsys.readouterr().err


def test_version(capsys):
    from importlib import metadata

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cerebellar-sdm {metadata.version('cerebellar-sdm')}"


@pytest.mark.parametrize("levels", ["0,,2", "0,2,", ",0", "", " ", "0;2", "-1"])
def test_malformed_noise_levels_are_rejected(tmp_path, capsys, levels):
    argv = ["compare", "--preset", "tiny", f"--noise-levels={levels}", "--out", str(tmp_path / "r")]
    assert cli.main(argv) == 2
    assert "--noise-levels" in capsys.readouterr().err
    assert cli.common.noise_levels(" 0, 2 ,4") == (0, 2, 4)


@pytest.mark.parametrize(
    "command", [["compare", "--preset", "tiny"], ["transformer-beta", "--model", "m"]]
)
@pytest.mark.parametrize("out", ["", "  "])
def test_empty_out_is_rejected(tmp_path, capsys, monkeypatch, command, out):
    monkeypatch.chdir(tmp_path)
    assert cli.main([*command, f"--out={out}"]) == 2
    assert "argument --out: expected a directory path" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- signals


def start_compare(out: Path, *extra, **popen):
    return subprocess.Popen(
        [sys.executable, "-m", "cerebellum", "compare", *TINY, "--out", str(out), "--no-progress"]
        + list(extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_for_staging(parent: Path, child, timeout_s: float = 120) -> None:
    """Until the run's hidden staging directory exists (the run is under way)."""
    deadline = time.monotonic() + timeout_s
    while not any(p.name.startswith(".run.partial-") for p in parent.iterdir()):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)


@pytest.mark.brian
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_run_exits_128_plus_signal_and_leaves_nothing(tmp_path, signum, status):
    # Oracle: the exit status convention 128 + N and the file system after the process ended
    # (today a SIGTERM leaves an empty .run.partial-* directory behind).
    child = start_compare(tmp_path / "run")
    wait_for_staging(tmp_path, child)
    time.sleep(0.5)  # inside the simulation or the mirror
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == status, stderr
    line = one_error_line(stderr)
    assert line.startswith("cerebellar-sdm: ") and "nothing was written" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.brian
def test_background_run_with_sigint_ignored_ignores_sigint(tmp_path):
    # A job started with SIGINT ignored (`cmd &` in a script, nohup) must keep ignoring it:
    # Brian2's handler used to call the ignored disposition and crash (TypeError).
    child = start_compare(
        tmp_path / "run", preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)
    )
    wait_for_staging(tmp_path, child)
    while child.poll() is None:
        child.send_signal(signal.SIGINT)
        time.sleep(0.2)
    stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert "Traceback" not in stderr and "run directory:" in stdout
    assert (tmp_path / "run" / "results.json").is_file()


def descendants_named(pid: int, name: str) -> list[int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            parents[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), comm)
    found = []
    for child, (_, comm) in parents.items():
        ancestor = child
        while ancestor in parents and ancestor != pid:
            ancestor = parents[ancestor][0]
        if ancestor == pid and comm == name:
            found.append(child)
    return found


@pytest.mark.brian
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds make through /proc")
def test_ctrl_c_during_the_standalone_build_is_one_line_and_130(tmp_path, tmp_path_factory):
    # Ctrl-C in a terminal signals the whole foreground process group: the child runs in its
    # own session and the group gets SIGINT while make runs. Oracle: exit 130, one line, no
    # make output, no run directory (today: 100 lines of make output and a traceback). An
    # empty build cache of its own, so that make compiles (a cached build's make lasts ~30 ms).
    cache = tmp_path_factory.mktemp("standalone-cache")
    env = {**os.environ, "CEREBELLAR_SDM_STANDALONE_CACHE": str(cache)}
    child = start_compare(
        tmp_path / "run", "--device", "cpp_standalone", start_new_session=True, env=env
    )
    deadline = time.monotonic() + 300
    while not descendants_named(child.pid, "make"):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "make never started"
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(child.pid, signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 130, stderr
    assert one_error_line(stderr) == "cerebellar-sdm: interrupted; nothing was written"
    assert stdout == ""
    assert list(tmp_path.iterdir()) == []
