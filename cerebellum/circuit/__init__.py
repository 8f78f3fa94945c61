"""The spiking cerebellum (Brian2), built one population at a time; building never runs it.

The Marr-Albus-Kanerva mapping (Marr 1969; Albus 1971; Kanerva 1988, ch. 9), one module per
population:

=====================  ======================================================  ===============
SDM                    circuit                                                 module
=====================  ======================================================  ===============
address / query bits   ``2 n`` mossy fibres, a push-pull pair per bit          ``mossy``
hard location j        granule cell j; its mossy-fibre synapses are its        ``granule``
                       address
activation radius d    Golgi inhibition as a fixed threshold ``theta``         ``golgi``
top k                  Golgi feedback loop admitting exactly k granule cells   ``golgi``
write count of j       PF -> molecular-layer interneuron weight ``n_writes``   ``mli``
value to write         climbing fibre (inferior olive), gates plasticity       ``climbing``
counter of j, value c  PF -> Purkinje weight ``w[j, c]`` (bipolar)             ``purkinje``
read                   Purkinje summed PF input / MLI summed input; DCN rate   ``purkinje``,
                                                                               ``dcn``
=====================  ======================================================  ===============

Time is cut into *windows* of ``K`` steps, one per presentation (a write or a read); with
``s = timestep(t, dt) mod K`` the step inside the window: mossy fibres fire for
``0 <= s < K_in`` (``K_in = presentation / dt``), granule cells fire at the decision step
(``K_in`` for the radius and selected rules, ``K_in + B + 1`` after ``B = ceil(log2 H)`` Golgi
bisection steps for top-k), a granule spike is a parallel-fibre volley onto the Purkinje
cells, the MLI and the Golgi cell, and the last step ``s = K - 1`` (the ``window_end`` event)
records and clears everything. So ``K = K_in + 2`` steps in radius mode (3 when
algorithmic) and ``K_in + B + 3`` in top-k. All arithmetic in the algorithmic mode is on
integers and halves (``dw = 1/2``), hence exact in float64: the circuit equals the mirror
:class:`models.sdm.NeuronSDM` bit for bit. Devices: the runtime device with the numpy code
target by default, ``codegen_target="cython"`` or ``cpp_standalone``
(:class:`cerebellum.params.DeviceParams`).

The table describes the *algorithmic* models: an exact SDM expressed as a Brian2 event
network, not a neuronal model. The *biophysical* models (:mod:`cerebellum.circuit.biophysical`,
one module per population as here; parameters in :mod:`cerebellum.biophysical_params`,
protocol in :mod:`cerebellum.engines.biophysical`) replace every population with
conductance-based spiking cells in continuous time.

Each population's neuron model is chosen by the *type* of its parameter dataclass in
``CircuitParams.cells`` (:class:`cerebellum.params.CellModels`; the defaults are the exact
algorithmic models), whose builder :func:`register_model` filed. Each Brian2 group and synapse
resolves the constants of its code in its own ``namespace`` (a group on the window clock takes
``ctx.namespace(...)``, which adds the window constants ``window_steps``, ``end_step``, ...);
a run's input arrays (``mf_pattern``, ``plasticity_gate``, ...) are the run namespace of
:meth:`Circuit.run`. Adding a model is one parameter dataclass and one builder -- e.g. a leaky
integrate-and-fire granule cell::

    @dataclass(frozen=True, kw_only=True)
    class LIFGranuleParams(CellModelParams):                   # cerebellum.params
        model: ClassVar[str] = "lif"                           # the tag in params.json
        tau_m: Quantity = quantity_field(10 * ms, unit=second, low=0, low_open=True)
        v_th: Quantity = quantity_field(11.4 * mV, unit=volt, low=0, low_open=True)
        w_mossy: Quantity = quantity_field(1 * mV, unit=volt)

    @register_model("granule", LIFGranuleParams)
    def build_lif_granule(cell: LIFGranuleParams, ctx: BuildContext) -> Population:
        granule = NeuronGroup(ctx.n_neurons, Equations("dv/dt = -v / tau_m : volt"),
                              threshold="v > v_th", reset="v = 0 * volt", method="exact",
                              events=window_end_event(), name="granule",
                              namespace=ctx.namespace(tau_m=cell.tau_m, v_th=cell.v_th))
        granule.run_on_event("window_end", "v = 0 * volt")
        mossy = mossy_granule_synapses(ctx, granule, Equations(""), on_pre="v_post += w_mossy",
                                       namespace={"w_mossy": cell.w_mossy})
        return Population(
            groups={"granule": granule}, synapses={"mossy_granule": mossy},
            monitors={"granule_spikes": SpikeMonitor(granule, name="granule_spikes")})

    params = preset("tiny").replace(cells={"granule": LIFGranuleParams()})

A builder keeps the population's Brian2 names (group ``granule``, monitor ``granule_spikes``)
so the protocol and the read-out work unchanged; import the module that registers a model
before :meth:`~cerebellum.params.CircuitParams.from_json` reads its tag.

References
----------
Marr, D. (1969). A theory of cerebellar cortex. J. Physiol. 202, 437-470.
Albus, J. S. (1971). A theory of cerebellar function. Math. Biosci. 10, 25-61.
Kanerva, P. (1988). Sparse Distributed Memory. MIT Press.
Jaeckel, L. A. (1989). An alternative design for a sparse distributed memory. RIACS TR 89.28.
Ito, M. (2001). Cerebellar long-term depression. Physiol. Rev. 81, 1143-1195.
"""

from __future__ import annotations

# The population modules register the default (algorithmic) models on import.
from cerebellum.circuit import biophysical  # noqa: F401  (the biophysical models)
from cerebellum.circuit.algorithmic import (  # noqa: F401
    climbing,
    dcn,
    golgi,
    granule,
    mli,
    mossy,
    purkinje,
)
from cerebellum.circuit.algorithmic.granule import mossy_granule_synapses
from cerebellum.circuit.base import (
    WINDOW_STEP,
    BuildContext,
    Population,
    WindowTiming,
    builder_for,
    register_model,
    window_end_event,
    window_end_monitor,
    window_sum,
    window_timing,
)
from cerebellum.circuit.build import Circuit, build_circuit

__all__ = [
    "WINDOW_STEP",
    "BuildContext",
    "Circuit",
    "Population",
    "WindowTiming",
    "build_circuit",
    "builder_for",
    "mossy_granule_synapses",
    "register_model",
    "window_end_event",
    "window_end_monitor",
    "window_sum",
    "window_timing",
]
