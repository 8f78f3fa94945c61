"""What the biophysical population builders share: reference channels, wiring randomness, the
LIF membrane, membrane traces and the parallel-fibre conductance scale.

The LIF membrane (:class:`cerebellum.biophysical_params.LIFParams`, the Golgi, MLI, Purkinje and
DCN cells) is ``C dv/dt = g_L (E_L - v) + I_syn + I_e`` with ``g_L = C / tau_m``; each group
resolves its constants (``c_m``, ``g_leak``, ``e_leak``, ``v_threshold``, ``v_reset``, ``i_e``
and its synaptic ones) in its own Brian2 namespace (:func:`lif_namespace`).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, NeuronGroup, StateMonitor, ms

from cerebellum.biophysical_params import LIFParams
from cerebellum.circuit.base import BuildContext

__all__ = [
    "N_TRACED",
    "REFERENCE_GRANULE_CELLS",
    "REFERENCE_ONE",
    "REFERENCE_ZERO",
    "TRACE_DT",
    "connectivity_rng",
    "distinct_sources",
    "lif_equations",
    "lif_group",
    "lif_namespace",
    "n_reference_per_kind",
    "n_total_channels",
    "parallel_fibre_scale",
    "reference_channels",
    "traces",
]

#: The two kinds of decoding reference, after the value and probe channels: the climbing fibre
#: of a ``REFERENCE_ZERO`` channel never fires (every write is a 0), that of a
#: ``REFERENCE_ONE`` channel fires on every write (every write is a 1). ``k`` channels of each
#: kind, zeros first (:func:`reference_channels`).
REFERENCE_ZERO, REFERENCE_ONE = 0, 1

#: Sampling step of the membrane-trace monitors (our choice: 0.2 ms resolves spikes' resets).
TRACE_DT = 0.2 * ms

#: Cells per population whose membrane potential is recorded.
N_TRACED = 3

#: Granule-cell count at which the parallel-fibre conductances are given (the default preset).
REFERENCE_GRANULE_CELLS = 20_000


def n_reference_per_kind(params) -> int:
    """Reference channels of each kind, ``k``, for ``CircuitParams`` ``params`` (1 by default)."""
    return int(getattr(params.cells.purkinje, "n_reference_per_kind", 1))


def reference_channels(n_channels: int, per_kind: int, kind: int) -> np.ndarray:
    """Indices of the ``per_kind`` reference channels of ``kind`` after ``n_channels``."""
    return n_channels + kind * per_kind + np.arange(per_kind)


def n_total_channels(ctx: BuildContext) -> int:
    """Value + probe channels plus the ``2 k`` decoding references."""
    return ctx.n_channels + 2 * n_reference_per_kind(ctx.params)


def connectivity_rng(ctx: BuildContext, salt: int) -> np.random.Generator:
    """The random synapses of one population: child ``salt`` of the circuit's connectivity
    stream (:attr:`BuildContext.connectivity`, spawned from the run's seed sequence).

    Each population draws from its own child, so the order in which builders run, or a change
    in what one population draws, leaves the others' synapses as they were.
    """
    parent = ctx.connectivity
    child = np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, int(salt)))
    return np.random.default_rng(child)


def distinct_sources(rng, n_rows: int, n_sources: int, k: int) -> np.ndarray:
    """``k`` distinct random sources in ``[0, n_sources)`` for each of ``n_rows`` targets."""
    if k >= n_sources:
        return np.tile(np.arange(n_sources), (n_rows, 1))
    out = rng.integers(0, n_sources, size=(n_rows, k))
    while True:
        ordered = np.sort(out, axis=1)
        bad = np.nonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))[0]
        if bad.size == 0:
            return out
        out[bad] = rng.integers(0, n_sources, size=(bad.size, k))


def parallel_fibre_scale(ctx: BuildContext) -> float:
    """``REFERENCE_GRANULE_CELLS / r``: the per-PF conductance of an MLI or PC scales as ``1/r``.

    A real Purkinje cell receives ~1.75e5 parallel fibres whatever the size of our model
    (Napper & Harvey 1988); our ``r`` granule cells stand for them, so the summed PF
    conductance -- and with it the cells' operating point -- is kept independent of ``r``
    (our choice).
    """
    return REFERENCE_GRANULE_CELLS / ctx.n_neurons


def traces(group, name: str) -> StateMonitor:
    """The membrane potential ``v`` of the first :data:`N_TRACED` cells of ``group``."""
    return StateMonitor(
        group, "v", record=list(range(min(N_TRACED, len(group)))), dt=TRACE_DT, name=name
    )


def lif_equations(currents: str, conductances: str) -> Equations:
    """``C dv/dt = g_L (E_L - v) + currents + I_e`` with exponentially decaying conductances."""
    return Equations(
        f"dv/dt = (g_leak * (e_leak - v) + {currents} + i_e) / c_m : volt (unless refractory)\n"
        + conductances
    )


def lif_namespace(cell: LIFParams, **constants) -> dict:
    """The membrane constants of ``cell`` (``g_leak = c_m / tau_m``) and ``constants``."""
    return {
        "c_m": cell.c_m,
        "g_leak": cell.c_m / cell.tau_m,
        "e_leak": cell.e_leak,
        "v_threshold": cell.v_threshold,
        "v_reset": cell.v_reset,
        "i_e": cell.i_e,
    } | constants


def lif_group(
    n: int, equations: Equations, cell: LIFParams, name: str, rng, namespace: dict, **kwargs
) -> NeuronGroup:
    """A LIF ``NeuronGroup`` of ``n`` cells in ``namespace``, started at random phases.

    ``kwargs`` go to ``NeuronGroup`` (e.g. ``events``). Draws ``n`` numbers from ``rng``.
    """
    group = NeuronGroup(
        n,
        equations,
        threshold="v > v_threshold",
        reset="v = v_reset",
        refractory=cell.refractory,
        method="exponential_euler",
        namespace=namespace,
        name=name,
        **kwargs,
    )
    # Random initial phase between reset and threshold (pacemakers do not start in synchrony).
    span = float(cell.v_threshold - cell.v_reset)
    group.v_ = float(cell.v_reset) + span * rng.random(n)
    return group
