"""A Ctrl+C during a Brian2 run must abort the protocol, not leave a silently truncated run.

Brian2's SIGINT handler turns the first Ctrl+C into ``Network._globally_stopped = True`` and
``Network.run`` then returns normally after the current step. Oracle: the clock -- windows that
were never simulated must raise KeyboardInterrupt instead of being read out.
"""

import numpy as np
import pytest
from brian2 import Network, NetworkOperation

from cerebellum.circuit import build_circuit
from cerebellum.engines.algorithmic import Protocol
from tests.cerebellum.helpers import wiring_from_manual_seed

pytestmark = pytest.mark.brian


def test_stop_request_during_run_raises_keyboard_interrupt(tiny_params):
    wiring = wiring_from_manual_seed(tiny_params, 3)
    rng = np.random.default_rng(3)
    circuit = build_circuit(tiny_params, wiring, n_values=2, rng=rng)
    protocol = Protocol(circuit)
    addresses = rng.integers(0, 2, (4, tiny_params.granule.n_dims)).astype(np.uint8)
    values = rng.integers(0, 2, (4, 2)).astype(np.float64)

    def request_stop():  # what brian2's SIGINT handler does
        Network._globally_stopped = True

    circuit.network.add(NetworkOperation(request_stop, when="end", name="sigint_stand_in"))
    try:
        with pytest.raises(KeyboardInterrupt, match="stopped after"):
            protocol.write(addresses, values)
    finally:
        Network._globally_stopped = False
