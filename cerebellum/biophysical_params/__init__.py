"""Parameters of the biophysical cerebellum: one frozen dataclass per population's cell model.

Selected through :class:`cerebellum.params.CellModels` (``CircuitParams.cells``) with
``DynamicsParams(mode="biophysical")``; the builders are in
:mod:`cerebellum.circuit.biophysical` and the protocol in :mod:`cerebellum.engines.biophysical`.
The classes live in three modules, all importable from here:
:mod:`~cerebellum.biophysical_params.membrane` (the LIF membrane the Golgi, MLI, Purkinje
and DCN models share, :class:`LIFParams`), :mod:`~cerebellum.biophysical_params.input_layer`
(mossy fibres, granule and Golgi cells) and :mod:`~cerebellum.biophysical_params.output_layer`
(interneurons, climbing fibres, Purkinje and nuclear cells).
Every physical field is a unit-declared Quantity (:func:`cerebellum.params.quantity_field`);
its docstring line gives the source (authors, year) or says that the value is a modelling
choice, and why.

Sources of the passive parameters:

- Granule cell: the conductance-based integrate-and-fire cell of Billings et al. (2014) as
  used by Cayco-Gajic, Clopath & Silver (2017): C = 3.2 pF, g_L = 1.06 nS at E_L = -80 mV,
  tonic GABA_A 0.44 nS at E_GABA = -75 mV, V_th = -40 mV, reset -63 mV, 2 ms refractory; the
  mossy-fibre synapse has a direct AMPA, a spillover AMPA and an NMDA component with the
  Mg2+ block of Jahr & Stevens (1990) (waveforms after Schwartz et al. 2012, reduced here to
  exponentials).
- Golgi cell, molecular-layer interneuron (stellate/basket), Purkinje cell and deep-nuclear
  cell: the capacitances, membrane time constants, resting, threshold and reset potentials and
  refractory periods of the Brain Scaffold Builder mouse cerebellum (De Schepper et al. 2022;
  E-GLIF fits of Geminiani et al. 2018, 2019), used here as plain conductance-based LIF cells.
  Dropping E-GLIF's adaptive and depolarising currents lowers spontaneous rates, so each
  cell's constant current ``i_e`` is our choice, set for a spontaneous rate in the range the
  literature reports (stated on each field).

References
----------
Billings, G., Piasini, E., Lorincz, A., Nusser, Z. & Silver, R. A. (2014). Network structure
within the cerebellar input layer enables lossless sparse encoding. Neuron 83, 960-974.
Cayco-Gajic, N. A., Clopath, C. & Silver, R. A. (2017). Sparse synaptic connectivity is
required for decorrelation and pattern separation in feedforward networks. Nat. Commun. 8, 1116.
Schwartz, E. J. et al. (2012). NMDA receptors with incomplete Mg2+ block enable low-frequency
transmission through the cerebellar cortex. J. Neurosci. 32, 6878-6893.
Jahr, C. E. & Stevens, C. F. (1990). Voltage dependence of NMDA-activated macroscopic
conductances predicted by single-channel kinetics. J. Neurosci. 10, 3178-3182.
De Schepper, R. et al. (2022). Model simulations unveil the structure-function-dynamics
relationship of the cerebellar cortex microcircuit. Commun. Biol. 5, 1240.
Geminiani, A. et al. (2018). Complex dynamics in simplified neuronal models: reproducing Golgi
cell electroresponsiveness. Front. Neuroinform. 12, 88.
Geminiani, A. et al. (2019). Complex electroresponsive dynamics in olivocerebellar neurons
represented with extended-generalized leaky integrate and fire models. Front. Comput.
Neurosci. 13, 35.
Korbo, L. et al. (1993). An efficient method for estimating the total number of neurons in rat
brain cortex. J. Neurosci. Methods 51, 291-299 (granule : Golgi ratio of a few hundred).
Kanichay, R. T. & Silver, R. A. (2008). Synaptic and cellular properties of the feedforward
inhibitory circuit within the input layer of the cerebellar cortex. J. Neurosci. 28, 8955-8967.
Rossi, D. J. & Hamann, M. (1998). Spillover-mediated transmission at inhibitory synapses
promoted by high affinity alpha6 subunit GABA_A receptors. Neuron 20, 783-795.
Ito, M. (2001). Cerebellar long-term depression. Physiol. Rev. 81, 1143-1195.
Yamazaki, T. & Nagao, S. (2012). A computational mechanism for unified gain and timing control
in the cerebellum. PLoS ONE 7, e33319.
Luque, N. R. et al. (2019). Spike burst-pause dynamics of Purkinje cells regulate sensorimotor
adaptation. PLoS Comput. Biol. 15, e1006298 (the cereb-nest sinexp PF-PC rule).
Mathy, A. et al. (2009). Encoding of oscillations by axonal bursts in inferior olive neurons.
Neuron 62, 388-399.
Sugihara, I. et al. (1999). Morphology of single olivocerebellar axons... J. Comp. Neurol.
414, 131-148 (one climbing-fibre axon innervates ~7 Purkinje cells).
Person, A. L. & Raman, I. M. (2012). Purkinje neuron synchrony elicits time-locked spiking in
the cerebellar nuclei. Nature 481, 502-505.
Zhou, H. et al. (2014). Cerebellar modules operate at different frequencies. eLife 3, e02536
(Purkinje simple spikes ~40-100 Hz in vivo).
"""

from __future__ import annotations

from cerebellum.biophysical_params.input_layer import (
    ConductanceGranuleParams,
    LIFGolgiParams,
    PoissonTrainMossyParams,
)
from cerebellum.biophysical_params.membrane import LIFParams
from cerebellum.biophysical_params.output_layer import (
    LIFDCNParams,
    LIFMLIParams,
    LIFPurkinjeParams,
    TimingWindowClimbingParams,
)
from cerebellum.params import CellModelParams

__all__ = [
    "ConductanceGranuleParams",
    "LIFDCNParams",
    "LIFGolgiParams",
    "LIFMLIParams",
    "LIFParams",
    "LIFPurkinjeParams",
    "PoissonTrainMossyParams",
    "TimingWindowClimbingParams",
    "biophysical_cells",
]


def biophysical_cells(**overrides: CellModelParams) -> dict[str, CellModelParams]:
    """The biophysical model of every population (for ``CircuitParams.replace(cells=...)``).

    Parameters
    ----------
    **overrides : CellModelParams
        Replacements by population name (``granule=ConductanceGranuleParams(...)``).

    Returns
    -------
    dict of str to CellModelParams
    """
    cells: dict[str, CellModelParams] = {
        "mossy": PoissonTrainMossyParams(),
        "granule": ConductanceGranuleParams(),
        "golgi": LIFGolgiParams(),
        "mli": LIFMLIParams(),
        "climbing": TimingWindowClimbingParams(),
        "purkinje": LIFPurkinjeParams(),
        "dcn": LIFDCNParams(),
    }
    unknown = sorted(set(overrides) - set(cells))
    if unknown:
        raise ValueError(f"overrides has unknown populations {unknown}; expected {sorted(cells)}")
    cells.update(overrides)
    return cells
