"""The biophysical cerebellum: structure, biology, read against the mirror, bad input.

One small end-to-end run (preset ``biophysical-tiny``: n = 16, r = 2000, 4 selected inputs,
4 patterns, 8 value bits) is shared by the module (``cython`` target: the compiled code is
cached in ~/.cython, so only the first run of a machine pays the ~2 min compile).
"""

import numpy as np
import pytest
import torch
from brian2 import Hz, ms, mV, nS, pF

from cerebellum.biophysical_params import (
    ConductanceGranuleParams,
    LIFGolgiParams,
    LIFMLIParams,
    LIFPurkinjeParams,
    PoissonTrainMossyParams,
    TimingWindowClimbingParams,
)
from cerebellum.circuit import build_circuit
from cerebellum.engines import Schedule, simulate
from cerebellum.engines.biophysical import (
    BiophysicalProtocol,
    calibrate_golgi,
    mirror_active_fraction,
)
from cerebellum.engines.biophysical_run import BiophysicalEngine
from cerebellum.params import CircuitParams, DynamicsParams, GranuleLayerParams
from cerebellum.presets import biophysical_dynamics, preset
from tests.cerebellum.helpers import wiring_from_child

pytestmark = pytest.mark.brian

N_PATTERNS, N_VALUES = 4, 8
MEMBRANE_GROUPS = ("granule", "golgi", "mli", "purkinje", "dcn")


def _setup(seed: int = 3):
    streams = np.random.SeedSequence(seed).spawn(2)
    params = preset("biophysical-tiny")
    wiring = wiring_from_child(params, streams[0])
    rng = np.random.default_rng(streams[1])
    patterns = rng.integers(0, 2, size=(N_PATTERNS, params.granule.n_dims), dtype=np.uint8)
    values = rng.integers(0, 2, size=(N_PATTERNS, N_VALUES)).astype(np.float64)
    return params, wiring, patterns, values, rng


def _schedule(patterns, values, queries, **options):
    """Write ``patterns``, then read ``queries``: 4 background presentations and 3 rests
    before each write (the biophysical protocol's defaults)."""
    options = {"n_background": 4, "n_rest": 3, **options}
    return Schedule.experiment(patterns, values, [queries], **options)


@pytest.fixture(scope="module")
def run():
    params, wiring, patterns, values, rng = _setup()
    # Each pattern read 3 times: at 2000 cells a read's two reference channels differ by only
    # ~10 Purkinje spikes, and one tie (an undecodable read) among 4 reads would dominate.
    queries = np.repeat(patterns, 3, axis=0)
    result = simulate(
        params, wiring, _schedule(patterns, values, queries), rng=rng, n_calibration_steps=5
    )
    return params, wiring, patterns, values, result


def test_every_cell_is_a_membrane_equation_with_a_threshold_and_nothing_is_linked():
    # Oracle: the acceptance (a), read off the built network -- a voltage ODE and a
    # spike threshold in every cell group, no linked variable anywhere, no window clock.
    params, wiring, _, _, rng = _setup()
    circuit = build_circuit(
        params, wiring, n_values=N_VALUES, n_pattern_channels=N_PATTERNS, rng=rng
    )
    for name in MEMBRANE_GROUPS:
        group = circuit.groups[name]
        equations = group.equations
        assert "v" in equations.diff_eq_names, name
        assert equations["v"].dim == mV.dim, name
        assert "v > v_th" in group.events["spike"], name
        assert group.method_choice == "exponential_euler", name
    for name, group in circuit.groups.items():
        for var_name, variable in group.variables.items():
            assert type(variable).__name__ != "LinkedVariable", (name, var_name)
        code = str(getattr(group, "events", ""))
        assert "window_steps" not in code and "timestep(" not in code, name
    assert float(params.dynamics.dt) <= 1e-4


def test_each_purkinje_cell_receives_its_own_random_set_of_interneurons():
    # Oracle: the wiring's definition, read off the built network -- every Purkinje cell gets
    # exactly n_mli_inputs distinct MLIs (and all of them when it asks for more than exist);
    # drawn independently, two cells of one channel share n_mli_inputs^2 / n_cells of them on
    # average, far from all (a shared set would synchronise a channel: the parameter's
    # docstring).
    params, wiring, _, _, rng = _setup()
    k, n_mli = params.cells.purkinje.n_mli_inputs, params.cells.mli.n_cells
    assert k < n_mli
    circuit = build_circuit(
        params, wiring, n_values=N_VALUES, n_pattern_channels=N_PATTERNS, rng=rng
    )
    synapses = circuit.groups["mli_purkinje"]
    pre, post = np.asarray(synapses.i[:]), np.asarray(synapses.j[:])
    n_pc = len(circuit.groups["purkinje"])
    np.testing.assert_array_equal(np.bincount(post, minlength=n_pc), np.full(n_pc, k))
    inputs = np.zeros((n_pc, n_mli), dtype=int)
    np.add.at(inputs, (post, pre), 1)
    assert inputs.max() == 1  # distinct
    per = params.cells.purkinje.n_per_channel
    first, second = inputs[0:n_pc:per], inputs[1:n_pc:per]  # two cells of every channel
    shared = (first & second).sum(axis=1).mean()
    assert shared < k / 2, shared  # expected k^2 / n_mli = 1 at the defaults
    everything = params.replace(cells={"purkinje": LIFPurkinjeParams(n_mli_inputs=10 * n_mli)})
    circuit = build_circuit(
        everything, wiring, n_values=N_VALUES, n_pattern_channels=N_PATTERNS, rng=rng
    )
    post = np.asarray(circuit.groups["mli_purkinje"].j[:])
    np.testing.assert_array_equal(np.bincount(post, minlength=n_pc), np.full(n_pc, n_mli))


def test_rates_of_every_population_lie_in_the_cited_ranges(run):
    # Oracle: published rate ranges (cited in cerebellum.biophysical_params), with stated
    # tolerances: x1.6 on the upper bounds and /1.6 on the lower ones of Golgi (5-30 Hz) and
    # MLI (5-30 Hz) cells, +-20 % on Purkinje simple spikes (40-100 Hz), DCN 10-100 Hz
    # ("tens of Hz"); granule cells sparse: mean rate < 5 Hz in reads and the active fraction
    # within a factor 2 of the calibration target.
    params, _, _, _, result = run
    rates = result.details.rates_hz
    for phase in ("background", "read"):
        assert 5 / 1.6 <= rates[phase]["golgi"].mean() <= 30 * 1.6, phase
        assert 5 / 1.6 <= rates[phase]["mli"].mean() <= 30 * 1.6, phase
        assert 40 * 0.8 <= rates[phase]["purkinje"].mean() <= 100 * 1.2, phase
        assert 10 <= rates[phase]["dcn"].mean() <= 100, phase
    assert rates["read"]["granule"].mean() < 5.0
    fraction = result.readouts[0].active_granule.mean()
    target = mirror_active_fraction(params.granule)
    assert target / 2 <= fraction <= 2 * target
    # Mossy fibres: background a few Hz, active fibres (half of them) tens of Hz.
    assert rates["background"]["mossy"].mean() < 15
    assert rates["read"]["mossy"].mean() > 30


def test_complex_spikes_only_during_writes_and_weights_stay_bounded(run):
    # Oracle: the protocol's definition -- a burst of n_burst_spikes complex spikes on every
    # Purkinje cell of each channel whose written bit is 1, none otherwise, none in reads;
    # the rule's hard bounds [0, w_max]; LTD where the climbing fibre always fired.
    params, _, _, values, result = run
    details = result.details
    cf = params.cells.climbing
    per = params.cells.purkinje.n_per_channel
    expected = np.zeros_like(details.complex_spike_counts)
    expected[:, :N_VALUES] = values * cf.n_burst_spikes * per
    expected[np.arange(N_PATTERNS), N_VALUES + np.arange(N_PATTERNS)] = cf.n_burst_spikes * per
    names = details.channel_names
    zero = [k for k, name in enumerate(names) if name.startswith("reference_zero_")]
    one = [k for k, name in enumerate(names) if name.startswith("reference_one_")]
    n_ref = params.cells.purkinje.n_reference_per_kind
    assert len(zero) == len(one) == n_ref and len(names) == N_VALUES + N_PATTERNS + 2 * n_ref
    expected[:, one] = cf.n_burst_spikes * per
    np.testing.assert_array_equal(details.complex_spike_counts, expected)
    read_onsets = details.onsets_s["read"]
    times = result.figures["populations"]["raster"]["climbing"]["times_s"]
    for onset in read_onsets:
        assert not ((times >= onset) & (times < onset + details.presentation_s)).any()
    after = result.weights["after"]
    assert after.min() >= 0.0 and after.max() <= cf.w_max
    np.testing.assert_array_equal(result.weights["before"], np.float32(cf.w_initial))
    assert after[:, one].mean(axis=0).max() < cf.w_initial - 0.005  # references "one": LTD
    assert after[:, zero].mean(axis=0).min() >= cf.w_initial  # references "zero": LTP only


def test_purkinje_and_dcn_spike_and_the_decoded_read_follows_the_mirror(run):
    # Oracle: the other engine -- NeuronSDM on the same wiring and patterns, read at noise 0.
    # Bound: thresholded bits agree on >= 65 % (chance 50 %; measured ~75 % on this 2000-cell
    # preset) and the mean output cosine is >= 0.75 (a constant 1/2 read scores ~0.7).
    _, wiring, patterns, values, result = run
    n_spikes = result.counts["n_spikes"]
    assert n_spikes["purkinje"] > 0 and n_spikes["dcn"] > 0
    mirror = wiring.mirror(N_VALUES)
    mirror.write(torch.as_tensor(patterns), torch.as_tensor(values))
    expected = mirror.read(torch.as_tensor(result.readouts[0].queries)).numpy()
    decoded = np.nan_to_num(result.details.read_purkinje[0])
    agreement = ((decoded > 0.5) == (expected > 0.5)).mean()
    cosine = (decoded * expected).sum(1) / (
        np.linalg.norm(decoded, axis=1) * np.linalg.norm(expected, axis=1) + 1e-12
    )
    assert agreement >= 0.65
    assert cosine.mean() >= 0.75


def test_writes_are_spaced_by_rests_beyond_the_ltd_window(run):
    # Oracle: the schedule's definition (n_rest = 3 rest presentations, no address and no
    # climbing fibre, before every write) and the LTD kernel in closed form: the latest
    # parallel-fibre spike of one write precedes the next write's climbing-fibre burst by
    # (1 + n_rest) periods + burst_delay - presentation, where the kernel is below 4 %.
    params, _, _, _, result = run
    details = result.details
    period = details.presentation_s + details.gap_s
    writes = details.onsets_s["write"]
    np.testing.assert_allclose(np.diff(writes), 4 * period)
    rests = details.onsets_s["rest"]
    assert rests.size == 3 * writes.size
    for onset in writes:
        before = rests[(rests < onset) & (rests >= onset - 3.5 * period)]
        np.testing.assert_allclose(before, onset - period * np.array([3, 2, 1]))
    cf = params.cells.climbing
    shortest = 4 * period + float(cf.burst_delay) - details.presentation_s
    kernel = np.exp(-shortest / float(cf.tau_slow)) - np.exp(-shortest / float(cf.tau_fast))
    assert kernel / cf.kernel_peak < 0.04
    back_to_back = period + float(cf.burst_delay) - details.presentation_s
    kernel = np.exp(-back_to_back / float(cf.tau_slow)) - np.exp(-back_to_back / float(cf.tau_fast))
    assert kernel / cf.kernel_peak > 0.4  # what the rests remove
    times = result.figures["populations"]["raster"]["climbing"]["times_s"]
    for onset in rests:
        assert not ((times >= onset) & (times < onset + period)).any()


def test_calibration_reports_a_fraction_near_its_target(run):
    # Oracle: the calibration's own definition -- its reported fraction is the mean of its
    # per-query fractions, and the search lands within a factor 2 of the target (the tiny
    # preset's 2000 cells give a per-query spread of ~30 % of the fraction, and the search
    # steps use 8 queries each).
    params, _, _, _, result = run
    calibration = result.details.calibration
    assert calibration.measured_fraction == pytest.approx(calibration.fractions.mean())
    assert calibration.target_fraction == mirror_active_fraction(params.granule)
    assert calibration.target_fraction / 2 <= calibration.measured_fraction
    assert calibration.measured_fraction <= 2 * calibration.target_fraction
    assert calibration.fraction_sd > 0


def test_deterministic_is_an_alias_of_algorithmic(tiny_params):
    # Oracle: the rename's contract -- old params.json files load as "algorithmic".
    assert DynamicsParams(mode="deterministic").mode == "algorithmic"
    text = tiny_params.to_json().replace('"algorithmic"', '"deterministic"')
    assert CircuitParams.from_json(text) == tiny_params


def test_biophysical_params_round_trip_through_json(biophysical_tiny_params):
    # Oracle: exact equality after the JSON round trip (every field, every model tag).
    assert CircuitParams.from_json(biophysical_tiny_params.to_json()) == biophysical_tiny_params


@pytest.mark.parametrize(
    ("make", "error", "field"),
    [
        (lambda: DynamicsParams(mode="spiking"), ValueError, "mode"),
        (lambda: biophysical_dynamics(mf_rate_off=0 * Hz), ValueError, "mf_rate_off"),
        (lambda: biophysical_dynamics(mf_rate_on=-5 * Hz), ValueError, "mf_rate_on"),
        (lambda: biophysical_dynamics(mf_rate_on=4 * Hz), ValueError, "mf_rate_on"),
        (lambda: biophysical_dynamics(dt=0.2 * ms), ValueError, "dt"),
        (lambda: biophysical_dynamics(gap=3 * mV), TypeError, "gap"),
        (lambda: ConductanceGranuleParams(c_m=3 * mV), TypeError, "c_m"),
        (lambda: ConductanceGranuleParams(g_tonic=-1 * nS), ValueError, "g_tonic"),
        (lambda: LIFGolgiParams(g_inhibition=1 * pF), TypeError, "g_inhibition"),
        (lambda: LIFGolgiParams(inhibition_scale=-1.0), ValueError, "inhibition_scale"),
        (lambda: TimingWindowClimbingParams(w_initial=2.0), ValueError, "w_initial"),
        (lambda: PoissonTrainMossyParams(dead_time=1 * Hz), TypeError, "dead_time"),
        (lambda: LIFPurkinjeParams(n_reference_per_kind=0), ValueError, "n_reference_per_kind"),
        (lambda: LIFMLIParams(n_background=-1), ValueError, "n_background"),
        (lambda: LIFPurkinjeParams(n_mli_inputs=0), ValueError, "n_mli_inputs"),
        (
            lambda: GranuleLayerParams(
                n_dims=16, n_neurons=100, activation="selected-coordinate", n_inputs=20
            ),
            ValueError,
            "n_inputs",
        ),
    ],
)
def test_bad_input_names_the_field(make, error, field):
    # Oracle: the house rule -- a clear error at the door naming the field.
    with pytest.raises(error, match=field):
        make()


def test_bad_calibration_target_names_the_field():
    # Oracle: the house rule; a target outside (0, 1) is refused before anything is built.
    params, wiring, patterns, values, rng = _setup()
    schedule = _schedule(patterns, values, patterns)
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="target_fraction"):
            simulate(params, wiring, schedule, rng=rng, target_fraction=bad)
    circuit = build_circuit(
        params, wiring, n_values=N_VALUES, n_pattern_channels=N_PATTERNS, rng=rng
    )
    protocol = BiophysicalProtocol(circuit)
    with pytest.raises(ValueError, match="target_fraction"):
        calibrate_golgi(protocol, [np.arange(1), np.arange(1)], target_fraction=2.0)
    # simulate() picks the engine by dynamics.mode; the biophysical engine itself refuses
    # another mode.
    with pytest.raises(ValueError, match="mode"):
        BiophysicalEngine(preset("tiny"), wiring, rng=rng)
    with pytest.raises(ValueError, match="n_rest"):
        simulate(params, wiring, _schedule(patterns, values, patterns, n_rest=-1), rng=rng)


def test_decoding_averages_the_reference_channels_of_each_kind(run):
    # Oracle: the decoding's definition recomputed by hand from the recorded channel counts --
    # read_c = (x_c - mean x_zero) / (mean x_one - mean x_zero), the means over the k channels
    # of each kind -- for the Purkinje counts the readout keeps (value and probe columns) and
    # the per-read reference means it reports.
    params, _, _, _, result = run
    n_ref = params.cells.purkinje.n_reference_per_kind
    assert n_ref > 1  # the default averages several references
    readout = result.readouts[0]
    zero, one = result.details.reference_counts_purkinje[0].T
    counts = readout.purkinje_input[:, :N_VALUES]
    with np.errstate(invalid="ignore", divide="ignore"):
        by_hand = (counts - zero[:, None]) / (one - zero)[:, None]
    np.testing.assert_allclose(result.details.read_purkinje[0], by_hand)
    # The reported references are means of k integer counts: multiples of 1/k.
    np.testing.assert_allclose(zero * n_ref, np.round(zero * n_ref))
    assert (one < zero).all()  # LTD on every write lowers the simple-spike count
