"""A new granule-cell model is one parameter dataclass and one builder (the package recipe).

Follows the recipe of the :mod:`cerebellum.circuit` docstring: a leaky integrate-and-fire
granule cell with unit-declared ``tau_m``, ``v_th`` and ``w_mossy``, registered with
``register_model``, selected through ``CircuitParams.cells``.

Oracles: the other engine (``NeuronSDM`` on the same wiring) through a closed form -- in the
deterministic mode a cell with ``c = n - H`` matching fibres holds ``c w e^{-dt/tau}`` at the
threshold test one step after the volley, so ``v_th = (n - d - 1/2) w e^{-dt/tau}`` fires it iff
``H <= d`` -- and exact equality after the JSON round trip.
"""

import json
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
import torch
from brian2 import Equations, NeuronGroup, Quantity, SpikeMonitor, ms, mV, second, volt

from cerebellum.circuit import (
    BuildContext,
    Population,
    build_circuit,
    mossy_granule_synapses,
    register_model,
    window_end_event,
)
from cerebellum.engines.algorithmic import Protocol
from cerebellum.params import CellModelParams, CircuitParams, quantity_field
from cerebellum.presets import preset
from tests.cerebellum.helpers import wiring_from_child, wiring_from_manual_seed

pytestmark = pytest.mark.brian

_DT_OVER_TAU = 0.1 / 10.0  # preset "tiny": dt = 0.1 ms; tau_m = 10 ms
_V_TH = (16 - 4 - 0.5) * math.exp(-_DT_OVER_TAU)  # mV, for n = 16, d = 4, w = 1 mV


@dataclass(frozen=True, kw_only=True)
class LIFGranuleParams(CellModelParams):
    """Toy leaky integrate-and-fire granule cell."""

    model: ClassVar[str] = "test-lif"
    tau_m: Quantity = quantity_field(10 * ms, unit=second, low=0, low_open=True)
    v_th: Quantity = quantity_field(_V_TH * mV, unit=volt, low=0, low_open=True)
    w_mossy: Quantity = quantity_field(1 * mV, unit=volt)


@register_model("granule", LIFGranuleParams)
def build_lif_granule(cell: LIFGranuleParams, ctx: BuildContext) -> Population:
    granule = NeuronGroup(
        ctx.n_neurons,
        Equations("dv/dt = -v / tau_m : volt"),
        threshold="v > v_th",
        reset="v = 0 * volt",
        method="exact",
        events=window_end_event(),
        namespace=ctx.namespace(tau_m=cell.tau_m, v_th=cell.v_th),
        name="granule",
    )
    granule.run_on_event("window_end", "v = 0 * volt")
    mossy = mossy_granule_synapses(
        ctx, granule, Equations(""), on_pre="v_post += w_mossy", namespace={"w_mossy": cell.w_mossy}
    )
    return Population(
        groups={"granule": granule},
        synapses={"mossy_granule": mossy},
        monitors={"granule_spikes": SpikeMonitor(granule, name="granule_spikes")},
    )


def test_lif_granule_model_builds_runs_and_round_trips():
    streams = np.random.SeedSequence(19).spawn(3)
    params = preset("tiny").replace(cells={"granule": LIFGranuleParams()})
    assert preset("tiny").cells.granule.model == "counter"  # the default stays the exact model
    wiring = wiring_from_child(params, streams[0])
    rng = np.random.default_rng(streams[1])
    addresses = rng.integers(0, 2, (4, 16)).astype(np.uint8)
    values = rng.integers(0, 2, (4, 2)).astype(np.float64)
    queries = addresses ^ (rng.random((4, 16)) < 0.15).astype(np.uint8)
    circuit = build_circuit(params, wiring, n_values=2, rng=np.random.default_rng(streams[2]))
    assert "v" in circuit.groups["granule"].variables
    protocol = Protocol(circuit)
    protocol.write(addresses, values)
    readout = protocol.read(queries)
    mirror = wiring.mirror(2).active(torch.from_numpy(queries)).numpy()
    np.testing.assert_array_equal(readout.active_granule, mirror)
    assert readout.active_granule.any()

    text = params.to_json()
    entry = json.loads(text)["cells"]["granule"]
    assert entry["model"] == "test-lif"
    assert entry["tau_m"] == {"value": 0.01, "unit": "second"}
    assert entry["v_th"]["unit"] == "volt"
    again = CircuitParams.from_json(text)
    assert again == params and isinstance(again.cells.granule, LIFGranuleParams)


def test_model_without_top_k_support_is_refused_at_build():
    # Oracle: the Golgi bisection contract -- top-k needs the counter model's priority.
    params = preset("tiny").replace(
        granule={"activation": "top-k", "activation_radius": None, "top_k": 5},
        cells={"granule": LIFGranuleParams()},
    )
    wiring = wiring_from_manual_seed(params, 1)
    with pytest.raises(ValueError, match="priority"):
        build_circuit(params, wiring, n_values=1, rng=np.random.default_rng(0))


def test_wrong_unit_in_a_model_field_names_it():
    # Oracle: the unit-declared field contract (field, expected dimension, given).
    with pytest.raises(TypeError, match=r"tau_m .*second"):
        LIFGranuleParams(tau_m=10 * mV)
