"""Tests of ``cerebellar-sdm theory``: output, JSON, errors and the import seam."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from cerebellum.cli import main
from models import theory


def run_json(capsys, *arguments):
    assert main(["theory", "--json", *arguments]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_default_text_output_names_every_quantity(capsys):
    # Oracle: the library (the CLI only formats what models.theory returns).
    assert main(["theory"]) == 0
    out = capsys.readouterr().out
    assert "n_dims=64, activation_radius=11" in out
    for method in ("ols", "reference", "softmax"):
        beta = theory.fit_beta(64, 11, method=method).beta
        assert f"{method:<10} {beta:10.4f}" in out
    assert "snr 11, memory 5, critical_distance" in out
    assert f"activation probability p = {theory.activation_probability(64, 11):.6g}" in out
    assert "intersections by distance t:" in out


def test_json_matches_the_library(capsys):
    # Oracle: the library functions called directly with the same arguments.
    results = run_json(capsys, "--n-dims", "64", "--radius", "11", "--n-patterns", "1024")
    assert results["activation_probability"] == theory.activation_probability(64, 11)
    # expected active neurons p * r with r = 2^64 (every address is a neuron)
    assert results["expected_active_neurons"] == pytest.approx(
        theory.activation_probability(64, 11) * 2.0**64, rel=1e-12
    )
    for method in ("ols", "reference", "softmax"):
        assert results["beta"][method]["beta"] == theory.fit_beta(64, 11, method=method).beta
    for criterion in ("snr", "memory", "critical_distance"):
        expected = theory.optimal_radius(64, 1024, criterion=criterion)
        assert results["optimal_radius"][criterion] == expected
    assert results["critical_distance"] == theory.critical_distance(64, 11, 1024)
    rows = results["intersections"]
    assert rows[0]["distance"] == 0 and rows[-1]["distance"] == 23
    for row in rows:
        log_count = theory.log_circle_intersection(64, 11, row["distance"])
        if math.isfinite(log_count):
            assert row["log_intersection"] == log_count
        else:
            assert row["log_intersection"] is None and row["expected_neurons"] == 0.0


def test_finite_population_and_pattern_count_are_passed_through(capsys):
    # Oracle: the library with n_neurons = 10^6 and m = 100; "1e6" and "2^20" parse as counts.
    results = run_json(capsys, "--n-neurons", "1e6", "--n-patterns", "100")
    assert results["n_neurons"] == 10**6 and results["n_patterns"] == 100
    expected = theory.optimal_radius(64, 100, 10**6, criterion="snr")
    assert results["optimal_radius"]["snr"] == expected
    row = results["intersections"][1]
    assert row["expected_neurons"] == pytest.approx(
        theory.circle_intersection(64, 11, row["distance"], n_neurons=10**6), rel=1e-12
    )
    results = run_json(capsys, "--n-neurons", "2^20")
    assert results["n_neurons"] == 2**20


def test_large_dimension_prints_without_overflow(capsys):
    # Oracle: N(2000, 900, 0) ~ e^1365 is beyond float64, so the table reports null there
    # while ln N is finite.
    results = run_json(capsys, "--n-dims", "2000", "--radius", "900")
    first = results["intersections"][0]
    assert first["expected_neurons"] is None and first["log_intersection"] > 709


@pytest.mark.parametrize(
    "arguments",
    [
        ["theory", "--radius", "70"],
        ["theory", "--n-dims", "0"],
        ["theory", "--n-dims", "-5"],
    ],
)
def test_library_errors_are_one_line_and_exit_2(capsys, arguments):
    assert main(arguments) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cerebellar-sdm: error: ")
    assert "Traceback" not in captured.err and captured.out == ""


def test_radius_error_names_the_argument(capsys):
    assert main(["theory", "--radius", "70"]) == 2
    assert "activation_radius must be in [0, n_dims]; got 70" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["theory", "--n-neurons", "abc"],
        ["theory", "--radius", "1.5"],
        ["theory", "--memory-limit", "lots"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(capsys, arguments):
    assert main(arguments) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_module_entry_point_runs_in_a_subprocess_without_brian2():
    # Oracle: `python -m cerebellum theory --json` prints one JSON object, and the theory
    # command never imports Brian2 (checked in the same fresh interpreter).
    completed = subprocess.run(
        [sys.executable, "-m", "cerebellum", "theory", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["optimal_radius"]["snr"] == 11
    probe = (
        "import sys\n"
        "from cerebellum.cli import main\n"
        "assert main(['theory', '--json']) == 0\n"
        "assert 'brian2' not in sys.modules, 'theory imported brian2'\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    failed = subprocess.run(
        [sys.executable, "-m", "cerebellum", "theory", "--radius", "99"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert failed.returncode == 2
    assert failed.stderr.strip().startswith("cerebellar-sdm: error: activation_radius")
    assert "Traceback" not in failed.stderr
