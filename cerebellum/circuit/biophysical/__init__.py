"""The biophysical cerebellum: conductance-based spiking cells whose dynamics compute the read.

One module and one builder per population (:mod:`~cerebellum.circuit.biophysical.mossy`,
``granule``, ``golgi``, ``mli``, ``climbing``, ``purkinje``, ``dcn``; what they share is in
:mod:`~cerebellum.circuit.biophysical.common`), registered for the parameter classes of
:mod:`cerebellum.biophysical_params` and selected through ``CircuitParams.cells``
(``DynamicsParams(mode="biophysical")``). Nothing here computes a threshold, a sparseness or
a read by formula or through a linked variable: every cell (granule, Golgi, MLI, Purkinje,
DCN) is a membrane equation with a spike threshold, integrated by Brian2's
``exponential_euler`` at ``dt <= 0.1 ms``, and all state decays on its own between
presentations (no clock event resets it). The granule cell's NMDA Mg2+ block makes its
voltage equation non-linear, so the block ``B(v)`` is a variable refreshed from ``v`` at the
start of every step (one step, <= 0.1 ms, of lag against a ~1 ms block time course), which
keeps the equation conditionally linear for ``exponential_euler``. Every group resolves its
constants in its own Brian2 namespace; the protocol's input arrays (``mf_pattern``,
``plasticity_gate``) come per run (:meth:`cerebellum.circuit.Circuit.run`).

Circuit (``n`` address bits, ``r`` granule cells, ``c`` channels = ``n_values`` value bits +
``n_pattern_channels`` one-hot probes + ``2 k`` decoding references, ``k =
LIFPurkinjeParams.n_reference_per_kind`` of each kind):

- ``mossy`` (``2 n`` fibres): dead-time Poisson trains, rate ``mf_rate_off + (mf_rate_on -
  mf_rate_off) mf_pattern(t, f)`` (push-pull coding; ``mf_pattern`` is a protocol
  ``TimedArray``, 0 in the gaps).
- ``granule`` (``r``): conductance LIF (Billings et al. 2014), AMPA direct + spillover and NMDA
  with Mg2+ block from its mossy fibres (the sampled wiring: ``n_inputs`` selected coordinates,
  the anatomical default, or all ``n`` bits -- the canonical SDM wiring, not anatomical, with
  every synaptic conductance scaled by ``4 / n`` so the total drive matches four inputs),
  tonic GABA and phasic GABA_A from ``n_golgi_per_granule`` Golgi cells.
- ``golgi`` (``r / granule_per_golgi``): LIF with feed-forward mossy-fibre and feedback
  granule-cell excitation; inhibits the granule cells. Its per-synapse peak conductance
  ``w_inhibition`` is a runtime variable, so the calibration changes it without a rebuild.
- ``mli`` (``n_cells``): LIF driven by a random fraction of the parallel fibres; each Purkinje
  cell receives ``n_mli_inputs`` of them at random (feed-forward inhibition growing with the
  number of active parallel fibres; a channel's cells share few interneurons).
- ``climbing`` (``c`` inferior-olive fibres): a ``SpikeGeneratorGroup`` playing the bursts the
  protocol sets during writes (a spike source, as the mossy fibres are; its cells' dynamics are
  not modelled).
- ``purkinje`` (``c * n_per_channel``): LIF with spontaneous simple spikes; PF (all granule
  cells, weight ``w``), MLI and CF conductances; the CF spike sets the custom event
  ``complex_spike``, the post-synaptic event of the PF -> PC rule (LTD through two
  event-driven PF traces; LTP at every PF spike; hard bounds; ``plasticity_gate(t)`` = 0 during
  reads).
- ``dcn`` (``c * n_per_channel``): LIF pacemakers inhibited by their channel's Purkinje cells.

The read is decoded afterwards from the spike counts of the DCN (and Purkinje) cells of each
channel against the two kinds of reference channel, measured in the same run
(:mod:`cerebellum.engines.biophysical`).
"""

from __future__ import annotations

# The population modules register their builders on import.
from cerebellum.circuit.biophysical import (  # noqa: F401
    climbing,
    dcn,
    golgi,
    granule,
    mli,
    mossy,
    purkinje,
)
from cerebellum.circuit.biophysical.climbing import build_timing_window_climbing
from cerebellum.circuit.biophysical.common import (
    REFERENCE_ONE,
    REFERENCE_ZERO,
    n_reference_per_kind,
    n_total_channels,
    parallel_fibre_scale,
    reference_channels,
)
from cerebellum.circuit.biophysical.dcn import build_lif_dcn
from cerebellum.circuit.biophysical.golgi import build_lif_golgi, n_golgi_cells
from cerebellum.circuit.biophysical.granule import build_conductance_granule
from cerebellum.circuit.biophysical.mli import build_lif_mli
from cerebellum.circuit.biophysical.mossy import build_poisson_train_mossy
from cerebellum.circuit.biophysical.purkinje import build_lif_purkinje

__all__ = [
    "REFERENCE_ONE",
    "REFERENCE_ZERO",
    "build_conductance_granule",
    "build_lif_dcn",
    "build_lif_golgi",
    "build_lif_mli",
    "build_lif_purkinje",
    "build_poisson_train_mossy",
    "build_timing_window_climbing",
    "n_golgi_cells",
    "n_reference_per_kind",
    "n_total_channels",
    "parallel_fibre_scale",
    "reference_channels",
]
