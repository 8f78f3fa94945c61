"""One validation semantics: the same values are accepted or refused wherever they are used.

Oracle: the rule table of :mod:`models.validation` (numpy integers accepted, an integral float
accepted as an integer, bools, non-integral floats, NaN and infinity refused for integers; NaN,
infinity and out-of-range values refused for reals). Every call site below -- in
``models.theory``, ``models.sdm``, ``models.recall``, ``models.attention``, ``models.fitting``,
``cerebellum.params`` and ``cerebellum.experiments.compare`` -- must give the outcome of that table.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models import theory
from models.activation import ActivationRule
from models.attention import AttentionMemory
from models.fitting import estimate_beta_counts
from models.recall import recall
from models.sdm import NeuronSDM, random_addresses
from models.validation import (
    as_tensor,
    check_binary,
    check_bool,
    check_choice,
    check_device,
    check_int,
    check_probability,
    check_real,
)

ACCEPT, TYPE, VALUE = "accepted", TypeError, ValueError

# value -> expected outcome of an integer check with a lower bound <= 2 (the list).
INTEGER_TABLE = [
    (np.int64(3), ACCEPT),
    (True, TYPE),
    (2.0, ACCEPT),
    (2.5, TYPE),
    (math.nan, TYPE),
    (math.inf, TYPE),
    (-1, VALUE),
]
# value -> expected outcome of a real check with lower bound 0 (and no upper bound).
REAL_TABLE = [
    (np.int64(3), ACCEPT),
    (True, TYPE),
    (2.0, ACCEPT),
    (2.5, ACCEPT),
    (math.nan, VALUE),
    (math.inf, VALUE),
    (-1, VALUE),
]


def _memory():
    generator = torch.Generator().manual_seed(0)
    memory = NeuronSDM(random_addresses(64, 8, generator=generator), 8, activation_radius=3)
    memory.write(random_addresses(4, 8, generator=generator), torch.rand(4, 8).double())
    return memory


def _granule(value):
    from cerebellum.params import GranuleLayerParams

    return GranuleLayerParams(n_dims=16, n_neurons=value, activation_radius=4).n_neurons


def _compare(value):
    from cerebellum.experiments.compare import CompareConfig

    return CompareConfig(preset="tiny", n_patterns=value).n_patterns


def _plasticity(value):
    from cerebellum.params import PlasticityParams

    return PlasticityParams(pf_weight_step=value).pf_weight_step


INTEGER_SITES = {
    "check_int": lambda v: check_int(v, "n", low=0),
    "theory.circle_intersection n_dims": lambda v: theory.circle_intersection(v, 1, 0),
    "theory.critical_distance n_patterns": lambda v: theory.critical_distance(16, 4, v),
    "sdm.random_addresses n_neurons": lambda v: random_addresses(
        v, 4, generator=torch.Generator()
    ).shape[0],
    "NeuronSDM n_values": lambda v: (
        NeuronSDM(
            random_addresses(8, 4, generator=torch.Generator()), v, activation_radius=1
        ).n_values
    ),
    "recall max_steps": lambda v: recall(
        _memory(), torch.zeros(2, 8, dtype=torch.uint8), max_steps=v
    ).n_steps.max(),
    "GranuleLayerParams n_neurons": _granule,
    "CompareConfig n_patterns": _compare,
}

REAL_SITES = {
    "check_real": lambda v: check_real(v, "x", low=0.0),
    "recall tol": lambda v: recall(_memory(), torch.zeros(2, 8, dtype=torch.uint8), tol=v),
    "AttentionMemory beta": lambda v: AttentionMemory(n_dims=8, beta=v).beta,
    "PlasticityParams pf_weight_step": _plasticity,
}


def _outcome(call, value):
    try:
        result = call(value)
    except TypeError:
        return TYPE, None
    except ValueError:
        return VALUE, None
    return ACCEPT, result


@pytest.mark.parametrize("site", sorted(INTEGER_SITES))
@pytest.mark.parametrize("value, expected", INTEGER_TABLE, ids=repr)
def test_integer_checks_agree_everywhere(site, value, expected):
    outcome, result = _outcome(INTEGER_SITES[site], value)
    assert outcome == expected, f"{site}({value!r}) gave {outcome}, expected {expected}"
    if site in ("check_int", "GranuleLayerParams n_neurons", "CompareConfig n_patterns"):
        if outcome == ACCEPT:  # normalised to a Python int (stored so in frozen dataclasses)
            assert type(result) is int and result == int(value)


@pytest.mark.parametrize("site", sorted(REAL_SITES))
@pytest.mark.parametrize("value, expected", REAL_TABLE, ids=repr)
def test_real_checks_agree_everywhere(site, value, expected):
    outcome, _ = _outcome(REAL_SITES[site], value)
    assert outcome == expected, f"{site}({value!r}) gave {outcome}, expected {expected}"


@pytest.mark.parametrize(
    "value, expected",
    [(0.5, ACCEPT), (0, ACCEPT), (1, ACCEPT), (True, TYPE), (math.nan, VALUE), (1.5, VALUE)],
    ids=repr,
)
def test_probability_checks_agree_everywhere(value, expected):
    # Sites: the check itself and fitting's confidence level (open interval: 0 and 1 refused).
    assert _outcome(lambda v: check_probability(v, "p"), value)[0] == expected
    fitting_expected = VALUE if value in (0, 1) and expected == ACCEPT else expected
    x = np.array([0.1, 0.5, 0.9])
    fit = _outcome(lambda v: estimate_beta_counts(x, np.exp(2 * x), confidence=v), value)
    assert fit[0] == fitting_expected


def test_bool_and_choice_checks():
    assert check_bool(np.bool_(True), "flag") is True
    for bad in (1, 0, "yes", None):
        with pytest.raises(TypeError, match="flag must be a bool"):
            check_bool(bad, "flag")
    assert check_choice("top-k", "activation", ActivationRule) is ActivationRule.TOP_K
    with pytest.raises(ValueError, match="activation must be one of 'radius', 'top-k'"):
        check_choice("topk", "activation", ActivationRule)
    with pytest.raises(ValueError, match="mode must be one of"):
        check_choice(True, "mode", (True, False, "x"))


def test_messages_name_the_argument_the_expectation_and_the_value():
    with pytest.raises(ValueError, match=r"n_neurons must be in \[1, inf\]; got 0"):
        _granule(0)
    with pytest.raises(TypeError, match=r"n_patterns must be an integer; got 2\.5"):
        _compare(2.5)
    with pytest.raises(ValueError, match=r"beta must be a finite number; got nan"):
        AttentionMemory(n_dims=8, beta=math.nan)


def test_check_device_accepts_the_cpu_and_refuses_non_devices():
    # Oracle: torch.device's own parsing for the accepted values; the error contract (the
    # argument named, what was expected, what was given) for the refused ones.
    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(TypeError, match="device must be a torch.device.*got True"):
        check_device(True)
    with pytest.raises(TypeError, match="device must be a torch.device.*got 1.5"):
        check_device(1.5)
    with pytest.raises(ValueError, match="target must be a torch.device.*got 'gpu0'"):
        check_device("gpu0", "target")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_device_arguments_without_cuda_raise_one_clear_error():
    # Oracle: the documented message of models.validation.check_device, instead of torch's
    # internal "Torch not compiled with CUDA enabled" (an AssertionError), at every models
    # entry that takes a device: the check itself, as_tensor, check_binary, and
    # SelectedCoordinates.to.
    from models.sdm import selected_coordinate_addresses

    message = "CUDA is not available on this machine; device='cuda"
    bits = torch.zeros((2, 4), dtype=torch.uint8)
    coordinates = selected_coordinate_addresses(5, 8, 2, generator=torch.Generator())
    for request in (
        lambda: check_device("cuda"),
        lambda: check_device("cuda:1"),
        lambda: as_tensor(np.zeros((2, 4)), "array", device="cuda"),
        lambda: check_binary(bits, "queries", device="cuda:0"),
        lambda: coordinates.to("cuda"),
    ):
        with pytest.raises(RuntimeError, match=message):
            request()
