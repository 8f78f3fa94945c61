"""Parameters, presets, wiring and input validation of the spiking cerebellum (no simulation).

Oracles: closed forms (binomial activation probabilities, push-pull input counts
``n - H(q, x)`` from an independent numpy Hamming distance), exact JSON round trip
(dataclass equality), and identity of the arrays shared by Brian2 and the mirror.
"""

import json
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from brian2 import Hz, Quantity, amp, farad, metre, ms, mV, nA, nF, nS, second, siemens, um, volt

from cerebellum.circuit import window_timing
from cerebellum.engines.readout import binary_matrix, value_matrix
from cerebellum.params import (
    CellModelParams,
    CellModels,
    CircuitParams,
    DeviceParams,
    DynamicsParams,
    GranuleLayerParams,
    OutputParams,
    PlasticityParams,
    quantity_field,
    register_cell_params,
)
from cerebellum.presets import PRESET_NAMES, poisson_dynamics, preset
from cerebellum.wiring import Wiring, sample_wiring
from models.activation import ActivationRule
from tests.helpers import seeded_generator


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_presets_json_round_trip(name):
    # Oracle: exact equality after to_json -> from_json (SI floats times SI units are exact).
    params = preset(name, dynamics=poisson_dynamics(7 * ms))
    again = CircuitParams.from_json(params.to_json())
    assert again == params
    assert again.dynamics.presentation == 7 * ms


def test_preset_activation_fractions():
    # Oracle: closed form P[Binomial(n, 1/2) <= d] = sum_{i<=d} C(n, i) / 2^n with exact ints,
    # and 2^-n_inputs for the selected-coordinate design; the docstring table must match.
    expected = {"tiny": 0.0384, "default": 0.0300, "kanerva": 0.00107}
    for name, table_value in expected.items():
        g = preset(name).granule
        exact = sum(math.comb(g.n_dims, i) for i in range(g.activation_radius + 1)) / 2**g.n_dims
        assert abs(exact - table_value) / table_value < 0.01  # the table has 3 significant digits
    default = preset("default").granule
    p = sum(math.comb(64, i) for i in range(25)) / 2**64
    assert 0.01 <= p <= 0.05  # the biological sparsity band
    bio = preset("biological").granule
    assert bio.activation is ActivationRule.SELECTED_COORDINATE
    assert bio.n_inputs == 4 and bio.n_neurons >= 10**5
    assert default.n_dims == 64


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: DynamicsParams(dt=0.1 * mV), "dt"),
        (lambda: DynamicsParams(dt=0.1), "dt"),
        (lambda: DynamicsParams(mode="poisson", mf_rate_on=500 * second), "mf_rate_on"),
        (lambda: OutputParams(dcn_rate_max=5 * ms), "dcn_rate_max"),
    ],
)
def test_wrong_unit_raises_type_error_naming_field(factory, field):
    # Oracle: the contract "a wrong unit fails at construction, naming the field".
    with pytest.raises(TypeError, match=field):
        factory()


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: DynamicsParams(mode="poisson", mf_rate_off=-1 * Hz), "mf_rate_off"),
        (lambda: DynamicsParams(mode="poisson", mf_rate_on=-5 * Hz), "mf_rate_on"),
        (lambda: OutputParams(purkinje_rate_baseline=-1 * Hz), "purkinje_rate_baseline"),
        (lambda: DynamicsParams(dt=-0.1 * ms), "dt"),
        (lambda: DynamicsParams(mode="poisson", presentation=0.25 * ms, dt=0.1 * ms), "multiple"),
        (lambda: DynamicsParams(presentation=2 * ms, dt=1 * ms), "algorithmic"),
        (lambda: DynamicsParams(mode="poisson", mf_rate_on=20 * Hz, mf_rate_off=30 * Hz), "exceed"),
        (
            lambda: DynamicsParams(
                mode="poisson", mf_rate_on=2000 * Hz, dt=1 * ms, presentation=1 * ms
            ),
            "mf_rate_on",
        ),
        (lambda: DynamicsParams(mode="spiky"), "mode"),
        (lambda: GranuleLayerParams(n_dims=64, n_neurons=100, activation_radius=70), "70"),
        (lambda: GranuleLayerParams(n_dims=64, n_neurons=100, activation_radius=-1), "radius"),
        (lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation="top-k", top_k=11), "top_k"),
        (lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation="top-k"), "top_k"),
        (
            lambda: GranuleLayerParams(
                n_dims=8, n_neurons=10, activation="top-k", top_k=3, activation_radius=2
            ),
            "activation_radius must be None",
        ),
        (lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation="top_k"), "activation"),
        (lambda: GranuleLayerParams(n_dims=8, n_neurons=10), "activation_radius"),
        (
            lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation="selected-coordinate"),
            "n_inputs",
        ),
        (
            lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation="hyperplane", n_inputs=9),
            "n_inputs",
        ),
        (
            lambda: GranuleLayerParams(n_dims=8, n_neurons=10, activation_radius=2, n_inputs=2),
            "n_inputs must be None",
        ),
        (lambda: PlasticityParams(pf_weight_step=0.0), "pf_weight_step"),
        (lambda: DeviceParams(device="gpu"), "device"),
    ],
)
def test_impossible_values_raise_value_error_naming_field(factory, field):
    # Oracle: the validation contract of docs/design.md section 3.
    with pytest.raises(ValueError, match=field):
        factory()


def test_int_fields_reject_other_types():
    # Oracle: counts are ints; a non-integral float count is a type error naming the field.
    with pytest.raises(TypeError, match="n_neurons"):
        GranuleLayerParams(n_dims=8, n_neurons=10.5, activation_radius=2)
    with pytest.raises(TypeError, match="granule"):
        CircuitParams(granule="tiny")


def test_pattern_validation_names_the_argument():
    # Oracle: the protocol's input contract (binary, right shape, finite values).
    with pytest.raises(ValueError, match="addresses must be binary"):
        binary_matrix("addresses", np.array([[0, 2, 1]]), 3)
    with pytest.raises(ValueError, match=r"queries must have shape \(n, 4\)"):
        binary_matrix("queries", np.zeros((2, 3)), 4)
    with pytest.raises(ValueError, match=r"values must have shape \(2, 3\)"):
        value_matrix("values", np.zeros((3, 3)), 3, 2)
    with pytest.raises(ValueError, match="values must be finite"):
        value_matrix("values", np.array([[np.nan]]), 1, 1)
    with pytest.raises(TypeError, match="addresses"):
        binary_matrix("addresses", "0101", 4)


def test_window_timing_top_k_search_is_logarithmic():
    # Oracle: closed form B = ceil(log2((n + 1) r)) for one volley (deterministic top-k).
    params = preset("default").replace(
        granule={"activation": "top-k", "activation_radius": None, "top_k": 300}
    )
    timing = window_timing(params)
    assert timing.n_search_steps == math.ceil(math.log2(65 * 10_000)) == 20
    assert timing.n_steps == 1 + 1 + 20 + 2
    assert window_timing(preset("tiny")).n_steps == 3


def test_wiring_is_shared_with_the_mirror_and_counts_matches(tiny_params):
    # Oracle: (1) the Brian2 synapse arrays are computed from zero-copy views of the very
    # tensors the mirror receives; (2) closed form: a query activates n - H(q, x_j) of cell
    # j's fibres, H computed independently with numpy.
    wiring = sample_wiring(tiny_params.granule, generator=seeded_generator(3))
    coordinates, bits = wiring.address_arrays()
    assert np.shares_memory(bits, wiring.addresses.numpy())
    mirror = wiring.mirror(2)
    assert torch.equal(mirror.addresses, wiring.addresses)
    fibre, cell = wiring.mossy_granule_synapses()
    rng = np.random.default_rng(4)
    query = rng.integers(0, 2, 16)
    active_fibres = 2 * np.arange(16) + query
    inputs = np.bincount(cell[np.isin(fibre, active_fibres)], minlength=256)
    hamming = (bits != query[None, :]).sum(axis=1)
    np.testing.assert_array_equal(inputs, 16 - hamming)


def test_selected_wiring_identity():
    # Oracle: SelectedCoordinates tensors are viewed, not copied; each cell has n_inputs fibres
    # 2 c + v.
    params = preset("biological").replace(granule={"n_neurons": 50})
    wiring = sample_wiring(params.granule, generator=seeded_generator(5))
    coordinates, bits = wiring.address_arrays()
    assert np.shares_memory(coordinates, wiring.addresses.coordinates.numpy())
    fibre, cell = wiring.mossy_granule_synapses()
    np.testing.assert_array_equal(fibre.reshape(50, 4), 2 * coordinates + bits)
    assert torch.equal(wiring.mirror(1).coordinates, wiring.addresses.coordinates)


def test_wiring_rejects_mismatched_addresses():
    # Oracle: the Wiring contract (shape and dtype of the shared tensors).
    g = GranuleLayerParams(n_dims=8, n_neurons=4, activation_radius=2)
    with pytest.raises(ValueError, match="shape"):
        Wiring(granule=g, addresses=torch.zeros((5, 8), dtype=torch.uint8))
    with pytest.raises(TypeError, match="uint8"):
        Wiring(granule=g, addresses=torch.zeros((4, 8)))


def test_brian2_seed_called_once_and_no_direct_torch_import():
    # Oracle: the source text of the circuit modules (docs/design.md: brian2.seed in exactly one
    # place; issue 4: torch only through models).
    import pathlib

    import cerebellum

    root = pathlib.Path(cerebellum.__file__).parent
    owned = ["presets", "wiring", "engines/algorithmic", "engines/readout", "__init__"]
    paths = [root / f"{name}.py" for name in owned] + sorted((root / "params").glob("*.py"))
    paths += sorted((root / "circuit").glob("*.py"))
    sources = {path.relative_to(root).as_posix(): path.read_text() for path in paths}
    calls = {name: text.count("brian2.seed(") for name, text in sources.items()}
    assert sum(calls.values()) == 1 and calls["circuit/build.py"] == 1
    for name, text in sources.items():
        assert "\nimport torch" not in text and "\nfrom torch" not in text, name
        assert "from brian2 import seed" not in text, name


def test_build_circuit_rejects_foreign_wiring(tiny_params):
    # Oracle: the one-wiring contract -- the circuit must be built on wiring sampled for its
    # own granule parameters.
    from cerebellum.circuit import build_circuit

    wiring = sample_wiring(tiny_params.granule, generator=seeded_generator(6))
    other = tiny_params.replace(granule={"activation_radius": 5})
    with pytest.raises(ValueError, match="wiring.granule"):
        build_circuit(other, wiring, n_values=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_values"):
        build_circuit(tiny_params, wiring, n_values=0, rng=np.random.default_rng(0))


def test_counts_and_flags_are_normalised():
    # Oracle: the validation module's one semantics (numpy ints and integral floats are ints,
    # bools and non-integral floats are refused) and the stored type.
    g = GranuleLayerParams(n_dims=np.int64(64), n_neurons=100.0, activation_radius=np.int32(5))
    assert (g.n_dims, g.n_neurons, g.activation_radius) == (64, 100, 5)
    assert all(type(v) is int for v in (g.n_dims, g.n_neurons, g.activation_radius))
    assert g.activation is ActivationRule.RADIUS
    top = GranuleLayerParams(n_dims=8, n_neurons=10, activation="top-k", top_k=np.int64(3))
    assert top.activation is ActivationRule.TOP_K and type(top.top_k) is int
    hyper = GranuleLayerParams(n_dims=8, n_neurons=10, activation="hyperplane", n_inputs=2)
    assert hyper.activation.selected and hyper.n_synapses_per_cell == 2
    assert type(PlasticityParams(pf_weight_initial=1).pf_weight_initial) is float
    for bad in (True, 2.5):
        with pytest.raises(TypeError, match="n_dims"):
            GranuleLayerParams(n_dims=bad, n_neurons=10, activation_radius=0)
    with pytest.raises(TypeError, match="fast_compile"):
        DeviceParams(fast_compile=1)
    # The rule is written to JSON by its value, the one vocabulary of models.activation.
    params = preset("tiny").replace(granule=top)
    assert params.to_dict()["granule"]["activation"] == "top-k"
    assert CircuitParams.from_json(params.to_json()) == params


@dataclass(frozen=True, kw_only=True)
class _UnitZoo(CellModelParams):
    """Test-only cell-model parameters holding one Quantity of each dimension."""

    model: ClassVar[str] = "test-unit-zoo"
    potential: Quantity = quantity_field(-65.3 * mV, unit=volt)
    conductance: Quantity = quantity_field(0.7 * nS, unit=siemens, low=0)
    capacitance: Quantity = quantity_field(3.1 * nF, unit=farad, low=0, low_open=True)
    current: Quantity = quantity_field(0.3 * nA, unit=amp)
    time: Quantity = quantity_field(7.3 * ms, unit=second, low=0)
    rate: Quantity = quantity_field(33.3 * Hz, unit=Hz, low=0)
    density: Quantity = quantity_field(0.3 * nS / um**2, unit=siemens / metre**2, low=0)


register_cell_params("mli", _UnitZoo)

_UNIT_NAMES = {
    "potential": "volt",
    "conductance": "siemens",
    "capacitance": "farad",
    "current": "amp",
    "time": "second",
    "rate": "hertz",
    "density": "siemens / (metre ** 2)",
}


def test_every_dimension_round_trips_exactly_through_json():
    # Oracle: exact equality of the SI floats and dimensions after to_json -> from_json, and
    # the unit strings Brian2 itself writes for those dimensions.
    zoo = _UnitZoo()
    params = preset("tiny").replace(cells={"mli": zoo})
    text = params.to_json()
    written = json.loads(text)["cells"]["mli"]
    assert written["model"] == "test-unit-zoo"
    again = CircuitParams.from_json(text)
    assert again == params
    for name, unit_name in _UNIT_NAMES.items():
        original, restored = getattr(zoo, name), getattr(again.cells.mli, name)
        assert written[name] == {"value": float(original), "unit": unit_name}
        assert float(restored) == float(original)  # exact, not approximate
        assert restored.dim == original.dim
    # Old files wrote only "second" and "hertz"; they still load.
    old = json.loads(text)
    del old["cells"]
    assert old["dynamics"]["dt"]["unit"] == "second"
    assert old["dynamics"]["mf_rate_on"]["unit"] == "hertz"
    assert CircuitParams.from_dict(old) == preset("tiny")


def test_wrong_dimension_names_field_and_expected_dimension():
    # Oracle: the contract "field, expected dimension, given" at construction and on loading.
    with pytest.raises(
        TypeError, match=r"density .*siemens / \(metre \*\* 2\).* got 300\. \* psiemens"
    ):
        _UnitZoo(density=0.3 * nS)
    with pytest.raises(TypeError, match=r"capacitance.*farad.*no unit"):
        _UnitZoo(capacitance=3.0)
    with pytest.raises(ValueError, match="capacitance"):
        _UnitZoo(capacitance=-3 * nF)
    values = preset("tiny").replace(cells={"mli": _UnitZoo()}).to_dict()
    values["cells"]["mli"]["potential"]["unit"] = "second"
    with pytest.raises(TypeError, match=r"cells\.mli\.potential must have the dimension of volt"):
        CircuitParams.from_dict(values)
    values = preset("tiny").to_dict()
    values["dynamics"]["dt"]["unit"] = "hertz"
    with pytest.raises(TypeError, match=r"dynamics\.dt .*second.*'hertz'"):
        CircuitParams.from_dict(values)
    values["dynamics"]["dt"]["unit"] = "parsec"
    with pytest.raises(ValueError, match=r"dynamics\.dt\.unit"):
        CircuitParams.from_dict(values)


def test_cell_models_accept_only_registered_models():
    # Oracle: the registry contract -- what CellModels holds, JSON can restore.
    @dataclass(frozen=True, kw_only=True)
    class Unregistered(CellModelParams):
        model: ClassVar[str] = "unregistered"

    with pytest.raises(TypeError, match="cells.granule"):
        CellModels(granule=Unregistered())
    with pytest.raises(TypeError, match="cells.granule"):
        CellModels(granule=_UnitZoo())  # registered, but for the MLI
    values = preset("tiny").to_dict()
    values["cells"]["granule"]["model"] = "no-such-model"
    with pytest.raises(ValueError, match=r"cells\.granule\.model .*'counter'"):
        CircuitParams.from_dict(values)
