"""Biophysical climbing fibres (inferior olive) and the timing-window PF -> Purkinje rule.

One fibre per channel, a ``SpikeGeneratorGroup`` playing the bursts the protocol sets during
writes (a spike source, as the mossy fibres are; the olivary cells' dynamics are not
modelled). Each spike is a complex spike of the channel's Purkinje cells, the post-synaptic
event of the PF -> PC rule (:class:`~cerebellum.biophysical_params.TimingWindowClimbingParams`):
LTD through two event-driven PF traces, LTP at every PF spike, hard bounds, all gated by the
protocol's ``plasticity_gate(t)`` (0 during reads). The climbing fibre *provides* the rule
(synapse equations, ``on_pre`` / ``on_post`` code and the namespace of their constants) to the
Purkinje builder, which makes the synapses.
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, SpikeGeneratorGroup, SpikeMonitor, ms

from cerebellum.biophysical_params import TimingWindowClimbingParams
from cerebellum.circuit.base import BuildContext, Population, register_model
from cerebellum.circuit.biophysical.common import n_total_channels

__all__ = [
    "PF_ON_COMPLEX_SPIKE",
    "PF_ON_PRE",
    "PF_SYNAPSE",
    "build_timing_window_climbing",
]

#: PF -> PC synapse: weight and the two PF traces of the LTD kernel (updated at events only).
PF_SYNAPSE = Equations(
    """
    w : 1
    dtrace_fast/dt = -trace_fast / tau_ltd_fast : 1 (event-driven)
    dtrace_slow/dt = -trace_slow / tau_ltd_slow : 1 (event-driven)
    """
)

#: At a PF spike: conductance (``g_parallel`` from the Purkinje builder), LTP (gated), then
#: the traces (a PF spike does not depress itself: k(0) = 0).
PF_ON_PRE = (
    "g_pf_post += g_parallel * w\n"
    "w = clip(w + plasticity_gate(t) * ltp_step, 0, w_max)\n"
    "trace_fast += 1\n"
    "trace_slow += 1"
)

#: At a complex spike: LTD by the kernel-weighted PF history (gated).
PF_ON_COMPLEX_SPIKE = (
    "w = clip(w - plasticity_gate(t) * ltd_step * (trace_slow - trace_fast) / kernel_peak,"
    " 0, w_max)"
)


@register_model("climbing", TimingWindowClimbingParams)
def build_timing_window_climbing(cell: TimingWindowClimbingParams, ctx: BuildContext) -> Population:
    """Inferior-olive group ``climbing`` (one fibre per channel) and the PF -> PC rule.

    Returns
    -------
    Population
        Groups ``{"climbing"}`` (a ``SpikeGeneratorGroup``: the protocol sets its bursts),
        monitor ``climbing_spikes``; provides ``pf_synapse``, ``pf_on_pre``,
        ``pf_on_complex_spike``, ``pf_namespace`` (the rule's constants ``tau_ltd_fast``,
        ``tau_ltd_slow``, ``kernel_peak``, ``ltd_step``, ``ltp_step``, ``w_max``) and
        ``w_initial``.
    """
    climbing = SpikeGeneratorGroup(
        n_total_channels(ctx), np.zeros(0, dtype=int), np.zeros(0) * ms, name="climbing"
    )
    return Population(
        groups={"climbing": climbing},
        monitors={"climbing_spikes": SpikeMonitor(climbing, name="climbing_spikes")},
        provides={
            "pf_synapse": PF_SYNAPSE,
            "pf_on_pre": PF_ON_PRE,
            "pf_on_complex_spike": PF_ON_COMPLEX_SPIKE,
            "pf_namespace": {
                "tau_ltd_fast": cell.tau_fast,
                "tau_ltd_slow": cell.tau_slow,
                "kernel_peak": cell.kernel_peak,
                "ltd_step": cell.ltd_step,
                "ltp_step": cell.ltp_step,
                "w_max": cell.w_max,
            },
            "w_initial": cell.w_initial,
        },
    )
