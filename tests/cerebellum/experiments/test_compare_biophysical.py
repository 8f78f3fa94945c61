"""``cerebellar-sdm compare --dynamics biophysical``: the job, its report and figures, its errors.

One CLI run on the ``biophysical-tiny`` preset (``--preset tiny`` stands for it in this mode:
n = 16, r = 2000, 4 selected inputs), 4 patterns, 4 queries at noise 0 and 2, shared by the
module. The cell models' code is the one :mod:`tests.cerebellum.circuit.test_biophysical`
compiles (Cython cache).
"""

import numpy as np
import pytest

from cerebellum import cli
from cerebellum.engines.readout import Readout
from cerebellum.engines.spiking_analysis import LITERATURE_RATES_HZ
from cerebellum.experiments.compare import CompareConfig, configure, wire
from cerebellum.io.report import headline_table
from cerebellum.io.results_schema import load_results

ARGS = [
    "--dynamics",
    "biophysical",
    "--preset",
    "tiny",
    "--n-patterns",
    "4",
    "--n-queries",
    "4",
    "--noise-levels",
    "0,2",
    "--recall-steps",
    "2",
    "--no-progress",
]


@pytest.fixture(scope="module")
def bio_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "bio"
    code = cli.main(["compare", *ARGS, "--out", str(out)])
    return code, out


@pytest.mark.brian
def test_biophysical_compare_writes_its_measurements_figures_and_report(bio_run):
    # Oracle: the schema (load_results validates it), the list of measurements and
    # figures, and the protocol's own schedule (climbing fibres fire only in writes).
    code, out = bio_run
    assert code == 0
    results = load_results(out / "results.json")
    assert results["circuit"]["mode"] == "biophysical"
    assert results["circuit"]["preset"] == "biophysical-tiny"
    assert results["exact_check"]["applies"] is False
    bio = results["biophysical"]
    assert bio["per_level"]["noise_levels"] == [0, 2]
    assert bio["complex_spikes"]["climbing_spikes_outside_writes"] == 0
    assert bio["complex_spikes"]["bursts_in_writes"] > 0
    assert 0.0 <= bio["pf_weights"]["after_min"] <= bio["pf_weights"]["after_max"] <= 1.0
    calibration = bio["calibration"]
    assert calibration["target_fraction"] == pytest.approx(1 / 16)
    for name in (
        "biophysical_raster.png",
        "membrane_traces.png",
        "pf_weights.png",
        "rates_vs_literature.png",
    ):
        assert (out / name).stat().st_size > 20_000, name
    report = (out / "report.md").read_text()
    assert "## The biophysical circuit" in report and "published range (Hz)" in report
    assert "![biophysical circuit: rasters" in report
    headline = headline_table(results)  # what the CLI printed
    assert "Biophysical read" in headline and "rates vs literature" in headline


@pytest.mark.brian
def test_reported_agreement_is_the_mirror_read_on_the_same_wiring(bio_run):
    # Oracle: the other engine -- NeuronSDM rebuilt from the seed (the same wiring, patterns
    # and queries), written and read here; the cosine and bit agreement of the saved decoded
    # read against it must be the reported ones.
    _, out = bio_run
    results = load_results(out / "results.json")
    readout = Readout.load(out / "readout.npz")
    config = CompareConfig(
        preset="tiny",
        mode="biophysical",
        n_patterns=4,
        n_queries=4,
        noise_levels=(0, 2),
        recall_steps=2,
    )
    wired = wire(configure(config))
    np.testing.assert_array_equal(readout.queries, wired.queries.numpy())
    mirror = wired.wiring.mirror(wired.values.shape[1])
    mirror.write(wired.patterns, wired.values)
    expected = mirror.read(wired.queries).numpy()
    decoded = np.nan_to_num(readout.read)
    norms = np.linalg.norm(decoded, axis=1) * np.linalg.norm(expected, axis=1)
    cosine = np.where(norms > 0, (decoded * expected).sum(axis=1) / np.maximum(norms, 1e-300), 0)
    bits = ((decoded > 0.5) == (expected > 0.5)).mean(axis=1)
    per = results["biophysical"]["per_level"]
    for i, level in enumerate(per["noise_levels"]):
        chosen = wired.noise == level
        assert per["cosine_dcn"][i] == pytest.approx(cosine[chosen].mean(), abs=1e-9)
        assert per["bit_agreement_dcn"][i] == pytest.approx(bits[chosen].mean(), abs=1e-9)
    # The spiking read is a read of the memory, not a constant: it beats chance on the bits.
    assert per["bit_agreement_dcn"][0] > 0.6


@pytest.mark.brian
def test_rates_table_sets_every_population_against_its_cited_range(bio_run):
    # Oracle: LITERATURE_RATES_HZ (published ranges, cited there) and the definition of
    # "inside": the mean rate of every phase the range applies to lies in [low, high].
    _, out = bio_run
    rows = load_results(out / "results.json")["biophysical"]["rates"]
    assert [row["population"] for row in rows] == list(LITERATURE_RATES_HZ)
    for row in rows:
        low, high, phases, source = LITERATURE_RATES_HZ[row["population"]]
        assert (row["low_hz"], row["high_hz"], row["source"]) == (low, high, source)
        inside = all(low <= row[f"{phase}_mean_hz"] <= high for phase in phases)
        assert row["in_range"] == inside
        assert row["read_p10_hz"] <= row["read_median_hz"] <= row["read_p90_hz"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dynamics", "biophysical", "--preset", "kanerva"], "got preset 'kanerva'"),
        (["--preset", "biophysical", "--dynamics", "poisson"], "got mode 'poisson'"),
        (["--dynamics", "biophysical", "--device", "cpp_standalone"], "device must be 'runtime'"),
        (["--dynamics", "biophysical", "--activation", "top-k"], "got activation 'top-k'"),
        (["--dynamics", "hodgkin-huxley"], "invalid choice"),
    ],
)
def test_bad_biophysical_flags_print_one_line_and_exit_2(tmp_path, capsys, argv, message):
    # Oracle: the CLI contract -- one line naming the field, exit 2, no run directory.
    out = tmp_path / "run"
    code = cli.main(["compare", *argv, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) >= 1 and message in err[-1]
    assert not out.exists()
