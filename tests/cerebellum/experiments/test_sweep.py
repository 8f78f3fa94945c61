"""The sweep (issue 10/11): a grid of tiny comparisons on a 2-worker LocalCluster, the run
directories and the Parquet table, resuming, a failing point, a worker killed mid-sweep, and
bad sweep files refused in one line.

One LocalCluster (2 processes, 1 thread each) serves every test of the module; the test that
kills a worker runs last (its nanny restarts the worker)."""

import json
import logging
import os
import signal
import textwrap

import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")

from cerebellum import cli  # noqa: E402
from cerebellum.experiments import sweep  # noqa: E402
from cerebellum.experiments.compare import CompareConfig, run_comparison  # noqa: E402

pytestmark = pytest.mark.brian

#: Small enough that a point takes about a second after the workers' first import.
TINY_DEFAULTS = """
[defaults]
preset = "tiny"
n_patterns = 4
n_queries = 2
recall_steps = 1
noise_levels = [0, 1, 2]
neuron_sweep = [1.0]
"""
TINY = {
    "preset": "tiny",
    "n_patterns": 4,
    "n_queries": 2,
    "recall_steps": 1,
    "noise_levels": (0, 1, 2),
    "neuron_sweep": (1.0,),
}


@pytest.fixture(scope="module")
def cluster():
    local = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    yield local
    local.close()


@pytest.fixture(scope="module")
def client(cluster):
    connected = distributed.Client(cluster, set_as_default=False)
    yield connected
    connected.close()


@pytest.fixture(scope="module")
def twelve(tmp_path_factory, cluster):
    """12 points (2 dynamics x 3 radii x 2 sizes r) through the CLI on the module's cluster."""
    root = tmp_path_factory.mktemp("sweep")
    grid = root / "grid.toml"
    grid.write_text(
        TINY_DEFAULTS
        + textwrap.dedent(
            """
            [[grid]]
            mode = ["algorithmic", "poisson"]
            radius = [3, 4, 5]
            n_neurons = [128, 256]
            """
        )
    )
    out = root / "out"
    argv = ["sweep", str(grid), "--out", str(out), "--scheduler", cluster.scheduler_address]
    code = cli.main([*argv, "--no-progress"])
    return code, out, grid, argv


def _points(grid):
    return sweep.plan_sweep(sweep.load_sweep_file(grid))


def _tree_mtimes(path):
    return {
        str(p.relative_to(path)): p.stat().st_mtime_ns
        for p in sorted(path.rglob("*"))
        if p.exists()
    }


def test_twelve_points_each_write_a_run_directory_and_one_table(twelve):
    code, out, grid, _ = twelve
    points = _points(grid)
    # Oracle: the Cartesian product -- 2 modes x 3 radii x 2 r = 12 distinct configs.
    assert len(points) == 12 == len({p.point_id for p in points})
    assert code == 0
    directories = sorted(p.name for p in (out / "points").iterdir())
    # Oracle: one directory per point, named by the hash of its config (no partial leftovers).
    assert directories == sorted(p.point_id for p in points)
    for point in points:
        record = json.loads((out / "points" / point.point_id / "point.json").read_text())
        assert record["status"] == "ok" and record["error"] is None
        assert sweep.point_id(CompareConfig(**record["config"])) == point.point_id
        assert (out / "points" / point.point_id / "results.json").is_file()
    table = pd.read_parquet(out / "results.parquet")
    assert list(table.columns) == list(sweep.TABLE_COLUMNS)
    assert table["point_id"].nunique() == 12 and set(table["status"]) == {"ok"}
    assert str(table["noise_level"].dtype) == "Int64" and str(table["value"].dtype) == "float64"
    # Oracle: the run directory's results.json, which the table row names in run_dir.
    row = table[
        (table["metric"] == "weight_tv")
        & (table["engine"] == "circuit")
        & (table["versus"] == "pattern_sdm")
        & table["value"].notna()
    ].iloc[0]
    results = json.loads((out / "points" / row["point_id"] / "results.json").read_text())
    level = results["noise_levels"].index(row["noise_level"])
    summary = results["agreement"]["circuit__vs__pattern_sdm"]["weight_tv"][level]
    assert row["run_dir"] == str(out / "points" / row["point_id"])
    assert row["value"] == summary["mean"]  # the same float, read back from Parquet
    assert row["n_neurons"] == results["circuit"]["n_neurons"]
    assert row["activation_radius"] == results["circuit"]["activation_radius"]
    # Oracle: the other engine -- the algorithmic circuit equals its NeuronSDM mirror exactly.
    exact = table[(table["metric"] == "exact_check_passed")]
    assert len(exact) == 6 and (exact["value"] == 1.0).all()
    assert set(exact["mode"]) == {"algorithmic"}
    # Oracle: the figure and report files the sweep promises (non-trivial PNGs).
    for name in ("beta_vs_radius.png", "agreement_vs_noise.png", "recall_vs_noise.png"):
        assert (out / name).stat().st_size > 20_000, name
    report = (out / "report.md").read_text()
    assert "12 points: 12 succeeded, 0 failed" in report
    assert all(p.point_id in report for p in points)


def test_rerunning_the_sweep_skips_every_finished_point(twelve, client, capsys):
    code, out, grid, argv = twelve
    assert code == 0
    before = _tree_mtimes(out / "points")
    capsys.readouterr()
    # Oracle: the counts a resumed sweep reports, and no file under points/ touched.
    assert cli.main([*argv, "--no-progress"]) == 0
    assert "12 of 12 points succeeded (12 already finished)" in capsys.readouterr().out
    assert _tree_mtimes(out / "points") == before

    def no_simulation(config):  # a runner that would fail every point it were given
        raise AssertionError("a finished point was simulated again")

    outcome = sweep.run_sweep(
        _points(grid), out, client=client, runner=no_simulation, progress=False, figures=False
    )
    assert (outcome.n_run, outcome.n_skipped, outcome.n_ok) == (0, 12, 12)
    assert _tree_mtimes(out / "points") == before


def _fail_on_seed_1(config):
    """Runs the comparison, except for seed 1, which raises (a point that fails at run time)."""
    if config.seed == 1:
        raise RuntimeError("injected failure for seed 1\nsecond line")
    return run_comparison(config)


def test_a_failing_point_is_recorded_and_the_others_go_on(tmp_path, client):
    spec = sweep.spec_from_axes({**{k: [v] for k, v in TINY.items()}, "seed": [0, 1, 2]})
    points = sweep.plan_sweep(spec)
    out = tmp_path / "failing"
    outcome = sweep.run_sweep(
        points, out, client=client, runner=_fail_on_seed_1, progress=False, figures=False
    )
    # Oracle: the injected failure -- exactly the seed-1 point fails, with its first error line.
    assert (outcome.n_ok, outcome.n_failed) == (2, 1)
    by_seed = {p.config.seed: out / "points" / p.point_id for p in points}
    record = json.loads((by_seed[1] / "point.json").read_text())
    assert record["status"] == "failed"
    assert record["error"] == "RuntimeError: injected failure for seed 1"
    assert "injected failure" in (by_seed[1] / "traceback.txt").read_text()
    assert not (by_seed[1] / "results.json").exists()
    table = outcome.table
    failed = table[table["status"] == "failed"]
    assert len(failed) == 1 and failed.iloc[0]["error"] == record["error"]
    assert set(table.loc[table["status"] == "ok", "seed"]) == {0, 2}
    assert "injected failure for seed 1" in (out / "report.md").read_text()
    # Oracle: resume semantics -- the next run retries only the failed point, which now succeeds.
    again = sweep.run_sweep(points, out, client=client, progress=False, figures=False)
    assert (again.n_run, again.n_skipped, again.n_ok, again.n_failed) == (1, 2, 3, 0)
    assert json.loads((by_seed[1] / "point.json").read_text())["status"] == "ok"


def test_a_worker_killed_mid_sweep_has_its_point_rerun_exactly_once(tmp_path, client):
    spec = sweep.spec_from_axes({**{k: [v] for k, v in TINY.items()}, "seed": list(range(4))})
    points = sweep.plan_sweep(spec)
    out = tmp_path / "killed"
    killed = {}

    def kill_a_busy_worker(record):
        if killed:
            return
        busy = [address for address, keys in client.processing().items() if keys]
        if not busy:  # try again when the next point finishes
            return
        pids = client.run(os.getpid, workers=busy[:1])
        address, pid = next(iter(pids.items()))
        killed.update(address=address, pid=pid, keys=list(client.processing()[address]))
        os.kill(pid, signal.SIGKILL)

    outcome = sweep.run_sweep(
        points, out, client=client, progress=False, on_result=kill_a_busy_worker, figures=False
    )
    # Oracle: the kill happened while that worker held a point ...
    assert killed and killed["keys"]
    # ... and Dask reran it: every point succeeded, each in exactly one directory, no partial
    # staging directory left, one table row set per point.
    assert (outcome.n_ok, outcome.n_failed) == (4, 0)
    assert sorted(p.name for p in (out / "points").iterdir()) == sorted(p.point_id for p in points)
    keys = ["point_id", "group", "metric", "engine", "versus", "noise_level"]
    assert not outcome.table.duplicated(subset=keys).any()
    assert not list((out / "points").glob(".*partial*"))
    # The killed process is gone: the nanny started a new one in its place.
    assert killed["pid"] not in client.run(os.getpid).values()


BAD_FILES = {
    "unknown key": ("[defaults]\nradiuss = 3\n[[grid]]\n", "unknown key 'radiuss'"),
    "empty list": ('[defaults]\npreset = "tiny"\n[[grid]]\nradius = []\n', "radius is an empty"),
    "wrong type": ('[defaults]\npreset = "tiny"\n[[grid]]\nradius = ["4"]\n', "radius must be an"),
    "no grid": ('[defaults]\npreset = "tiny"\n', "no [[grid]] table"),
    "not TOML": ("[[grid]\nradius = 3\n", "not valid TOML"),
    "out of range": ('[defaults]\npreset = "tiny"\n[[grid]]\nradius = [3, 40]\n', "radius=40"),
    "table as value": ("[[grid]]\nradius = {a = 1}\n", "got a table"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_sweep_file_is_one_line_and_exit_2(tmp_path, capsys, case):
    text, fragment = BAD_FILES[case]
    grid = tmp_path / "bad.toml"
    grid.write_text(text)
    out = tmp_path / "out"
    # Oracle: docs/design.md's CLI contract -- bad input is one line on stderr, exit 2, nothing
    # written.
    assert cli.main(["sweep", str(grid), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cerebellar-sdm: error: ")
    assert fragment in err
    assert not out.exists()


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["sweep", "--preset", "tiny", "--out", str(out), "--no-progress"]
    argv += ["--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "1"]
    # Oracle: docs/design.md's CLI contract (port 9, discard, has no scheduler listening).
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err
    assert not out.exists()


def test_point_ids_are_stable_hashes_of_the_normalised_config():
    # Oracle: the definition -- SHA-256 of the canonical config; the mode alias normalises away.
    a = CompareConfig(**TINY, mode="deterministic", seed=3)
    b = CompareConfig(**TINY, mode="algorithmic", seed=3)
    assert sweep.point_id(a) == sweep.point_id(b)
    assert sweep.point_id(a) != sweep.point_id(CompareConfig(**TINY, seed=4))
    assert len(sweep.point_id(a)) == 16 and int(sweep.point_id(a), 16) >= 0
