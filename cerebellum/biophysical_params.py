"""Parameters of the biophysical cerebellum: one frozen dataclass per population's cell model.

Selected through :class:`cerebellum.params.CellModels` (``CircuitParams.cells``) with
``DynamicsParams(mode="biophysical")``; the builders are in
:mod:`cerebellum.circuit.biophysical` and the protocol in :mod:`cerebellum.engines.biophysical`.
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

from dataclasses import dataclass
from typing import ClassVar

from brian2 import Hz, Quantity, amp, farad, ms, mV, nS, pA, pF, second, siemens, volt

from cerebellum.params import CellModelParams, _set
from models.validation import check_int, check_real

__all__ = [
    "ConductanceGranuleParams",
    "LIFDCNParams",
    "LIFGolgiParams",
    "LIFMLIParams",
    "LIFPurkinjeParams",
    "PoissonTrainMossyParams",
    "TimingWindowClimbingParams",
    "biophysical_cells",
]

from cerebellum.params import quantity_field as _q

_POS = {"low": 0, "low_open": True}


def _volt(default: Quantity) -> object:
    return _q(default, unit=volt)


def _check_order(section, low_name: str, high_name: str) -> None:
    low, high = getattr(section, low_name), getattr(section, high_name)
    if not low < high:
        raise ValueError(f"{low_name} must be below {high_name}; got {low!r} >= {high!r}")


@dataclass(frozen=True, kw_only=True)
class PoissonTrainMossyParams(CellModelParams):
    """Mossy fibres as dead-time Poisson trains, push-pull coded (rates in ``DynamicsParams``).

    Fibre ``2 i + b`` fires at ``mf_rate_on`` while bit ``i`` of the presented address equals
    ``b`` and at ``mf_rate_off`` otherwise, and every fibre fires at ``mf_rate_off`` in the gaps
    (active mossy fibres fire tens to hundreds of Hz, background a few Hz: Rancz et al. 2007;
    Arenz et al. 2008; van Kan et al. 1993). Each train is a renewal process: a dead time
    ``tau`` after every spike, then a constant hazard ``rate / (1 - rate tau)``, so the mean
    rate is ``rate`` and the inter-spike CV is ``1 - rate tau`` (regular firing at high rates,
    as many mossy fibres fire tonically and regularly: van Kan et al. 1993; Arenz et al. 2008;
    the renewal model is our choice).

    Parameters
    ----------
    dead_time : Quantity (time)
        ``tau``, >= 0; ``mf_rate_on * tau < 1`` is required. 5 ms (our choice: CV 0.25 at
        150 Hz, ~1 at a few Hz).
    """

    model: ClassVar[str] = "poisson-train"
    dead_time: Quantity = _q(5.0 * ms, unit=second, low=0)


@dataclass(frozen=True, kw_only=True)
class ConductanceGranuleParams(CellModelParams):
    """Conductance-based integrate-and-fire granule cell (Billings et al. 2014).

    ``C dv/dt = g_L (E_L - v) + g_t (E_GABA - v) + (g_d + g_s)(E_AMPA - v)
    + g_N B(v) (E_NMDA - v) + g_G (E_GABA - v)`` with ``B(v) = 1 / (1 + [Mg] e^{-0.062 v/mV}
    / 3.57 mM)`` (Jahr & Stevens 1990); each mossy-fibre spike raises the direct AMPA ``g_d``,
    the spillover AMPA ``g_s`` and the NMDA conductance (rise ``tau_nmda_rise``, decay
    ``tau_nmda_decay``, normalised to its peak); Golgi spikes raise the phasic GABA_A ``g_G``
    (its peak is set by :class:`LIFGolgiParams`).

    Parameters
    ----------
    c_m : Quantity (capacitance)
        3.2 pF (Billings et al. 2014; Cayco-Gajic et al. 2017).
    g_leak : Quantity (conductance)
        1.06 nS (same sources).
    e_leak : Quantity (voltage)
        -80 mV (same sources, -79.9 mV).
    g_tonic : Quantity (conductance)
        Tonic GABA_A, 0.44 nS (Cayco-Gajic et al. 2017; Brickley et al. 1996 for its origin).
    e_gaba : Quantity (voltage)
        -75 mV (Billings et al. 2014).
    v_threshold, v_reset : Quantity (voltage)
        -40 mV and -63 mV (Billings et al. 2014).
    refractory : Quantity (time)
        2 ms (Billings et al. 2014).
    e_ampa, e_nmda : Quantity (voltage)
        0 mV (Billings et al. 2014).
    g_ampa_direct, tau_ampa_direct : Quantity
        Peak 0.6 nS, decay 1 ms: the fast direct AMPA component of Schwartz et al. (2012) /
        Billings et al. (2014) (sub-ms rise, ~0.5-1 ms decay), one exponential (our reduction).
    g_ampa_spillover, tau_ampa_spillover : Quantity
        Peak 0.3 nS, decay 6 ms: the slower spillover component (same sources; amplitude our
        choice within their ~1/3-1/2 of the direct peak).
    g_nmda, tau_nmda_rise, tau_nmda_decay : Quantity
        Peak 0.3 nS, rise 1 ms, decay 30 ms (Schwartz et al. 2012: NMDA ~20-40 ms decay at
        granule cells; amplitude our choice within their range).
    mg_concentration_mm : float
        Extracellular Mg2+ in mM, > 0: 1 mM (Schwartz et al. 2012 recordings; Jahr & Stevens
        1990 form).
    tau_gaba : Quantity (time)
        Decay of the phasic Golgi GABA_A conductance, 10 ms (Rossi & Hamann 1998: fast ~5 ms
        and spillover ~20-30 ms components, one exponential here: our reduction).
    """

    model: ClassVar[str] = "conductance-lif"
    c_m: Quantity = _q(3.2 * pF, unit=farad, **_POS)
    g_leak: Quantity = _q(1.06 * nS, unit=siemens, **_POS)
    e_leak: Quantity = _volt(-80.0 * mV)
    g_tonic: Quantity = _q(0.44 * nS, unit=siemens, low=0)
    e_gaba: Quantity = _volt(-75.0 * mV)
    v_threshold: Quantity = _volt(-40.0 * mV)
    v_reset: Quantity = _volt(-63.0 * mV)
    refractory: Quantity = _q(2.0 * ms, unit=second, low=0)
    e_ampa: Quantity = _volt(0.0 * mV)
    e_nmda: Quantity = _volt(0.0 * mV)
    g_ampa_direct: Quantity = _q(0.6 * nS, unit=siemens, low=0)
    tau_ampa_direct: Quantity = _q(1.0 * ms, unit=second, **_POS)
    g_ampa_spillover: Quantity = _q(0.3 * nS, unit=siemens, low=0)
    tau_ampa_spillover: Quantity = _q(6.0 * ms, unit=second, **_POS)
    g_nmda: Quantity = _q(0.3 * nS, unit=siemens, low=0)
    tau_nmda_rise: Quantity = _q(1.0 * ms, unit=second, **_POS)
    tau_nmda_decay: Quantity = _q(30.0 * ms, unit=second, **_POS)
    mg_concentration_mm: float = 1.0
    tau_gaba: Quantity = _q(10.0 * ms, unit=second, **_POS)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
        _check_order(self, "tau_nmda_rise", "tau_nmda_decay")
        _set(
            self,
            "mg_concentration_mm",
            check_real(self.mg_concentration_mm, "mg_concentration_mm", low=0.0, low_open=True),
        )


@dataclass(frozen=True, kw_only=True)
class LIFGolgiParams(CellModelParams):
    """Spiking Golgi cell: conductance-based LIF with feed-forward and feedback excitation.

    ``C dv/dt = g_L (E_L - v) + g_e (E_exc - v) + I_e``; mossy-fibre and granule-cell
    (parallel-fibre / ascending-axon) spikes raise ``g_e``; each Golgi spike raises the
    GABA_A conductance of the granule cells it contacts by ``inhibition_scale * g_inhibition``.
    The sparseness of the granule layer emerges from this inhibition and the granule cell's
    tonic GABA; :func:`cerebellum.engines.biophysical.calibrate_golgi` sets ``inhibition_scale`` for a
    target active fraction.

    Parameters
    ----------
    c_m, tau_m, e_leak, v_threshold, v_reset, refractory : Quantity
        145 pF, 44 ms, -62 mV, -55 mV, -75 mV, 2 ms (BSB mouse Golgi cell, De Schepper et al.
        2022 / Geminiani et al. 2018).
    i_e : Quantity (current)
        32 pA: our choice, giving ~10 Hz spontaneous firing in this LIF reduction (Golgi cells
        fire ~5-30 Hz in vivo: Vos et al. 1999; Holtzman et al. 2006).
    e_exc, tau_exc : Quantity
        0 mV, 2 ms (AMPA; Kanichay & Silver 2008: sub-2 ms EPSC decay).
    g_mossy : Quantity (conductance)
        Peak per mossy-fibre spike, 0.25 nS (our choice; Kanichay & Silver 2008 report ~0.5-2 nS
        unitary MF -> Golgi conductances).
    g_granule : Quantity (conductance)
        Peak per granule-cell spike, 0.05 nS (our choice: weak, many synapses; Cesana et al.
        2013).
    g_inhibition : Quantity (conductance)
        Golgi -> granule GABA_A peak per spike at ``inhibition_scale = 1``, 0.5 nS (our
        choice; ~0.3-1 nS unitary, Rossi & Hamann 1998; Billings et al. 2014).
    inhibition_scale : float
        Multiplies ``g_inhibition``, >= 0 (1 by default; set by the calibration).
    granule_per_golgi : int
        Granule cells per Golgi cell, 400 (a few hundred: Korbo et al. 1993).
    n_mossy_inputs : int
        Mossy fibres per Golgi cell, 16 (our choice; sampled without replacement, capped at the
        number of fibres).
    n_granule_inputs : int
        Granule cells per Golgi cell, 400 (our choice; capped at the number of granule cells).
    n_golgi_per_granule : int
        Golgi cells inhibiting each granule cell, 4 (one per glomerulus of its ~4 dendrites:
        Eccles et al. 1967; Billings et al. 2014), capped at the number of Golgi cells.
    """

    model: ClassVar[str] = "lif"
    c_m: Quantity = _q(145.0 * pF, unit=farad, **_POS)
    tau_m: Quantity = _q(44.0 * ms, unit=second, **_POS)
    e_leak: Quantity = _volt(-62.0 * mV)
    v_threshold: Quantity = _volt(-55.0 * mV)
    v_reset: Quantity = _volt(-75.0 * mV)
    refractory: Quantity = _q(2.0 * ms, unit=second, low=0)
    i_e: Quantity = _q(32.0 * pA, unit=amp)
    e_exc: Quantity = _volt(0.0 * mV)
    tau_exc: Quantity = _q(2.0 * ms, unit=second, **_POS)
    g_mossy: Quantity = _q(0.25 * nS, unit=siemens, low=0)
    g_granule: Quantity = _q(0.05 * nS, unit=siemens, low=0)
    g_inhibition: Quantity = _q(0.5 * nS, unit=siemens, low=0)
    inhibition_scale: float = 1.0
    granule_per_golgi: int = 400
    n_mossy_inputs: int = 16
    n_granule_inputs: int = 400
    n_golgi_per_granule: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
        _set(
            self, "inhibition_scale", check_real(self.inhibition_scale, "inhibition_scale", low=0.0)
        )
        for name in (
            "granule_per_golgi",
            "n_mossy_inputs",
            "n_granule_inputs",
            "n_golgi_per_granule",
        ):
            _set(self, name, check_int(getattr(self, name), name, low=1))


@dataclass(frozen=True, kw_only=True)
class LIFMLIParams(CellModelParams):
    """Molecular-layer interneurons (stellate/basket): LIF cells driven by parallel fibres.

    Their GABA_A inhibition of the Purkinje cells (conductance in :class:`LIFPurkinjeParams`)
    grows with the number of active parallel fibres: the feed-forward normaliser of the read.

    Parameters
    ----------
    c_m, tau_m, e_leak, v_threshold, v_reset, refractory : Quantity
        14.6 pF, 9.125 ms, -68 mV, -53 mV, -78 mV, 1.59 ms (BSB mouse stellate/basket cell,
        De Schepper et al. 2022; Geminiani et al. 2019).
    i_e : Quantity (current)
        20 pA: our choice, below the LIF rheobase (24 pA), so that spontaneous firing comes
        from the background fibres below (MLIs fire ~5-30 Hz in vivo: Jorntell & Ekerot 2002;
        Hausser & Clark 1997). Near rheobase the LIF's rate rises steeply with current: at
        24.2 pA without background the cells fired 17 Hz at rest and 34 Hz in reads.
    e_exc, tau_exc : Quantity
        0 mV, 2 ms (PF -> MLI AMPA; Carter & Regehr 2002: ~1-2 ms EPSC decay).
    g_parallel : Quantity (conductance)
        Peak per parallel-fibre spike at ``r = 2e4`` granule cells, 0.008 nS (our choice: many
        weak synapses; scaled by ``2e4 / r``, see
        :func:`cerebellum.circuit.biophysical.parallel_fibre_scale`). Measured on the
        ``biophysical`` preset (seed 0), with the background below: MLIs fire ~11 Hz at rest
        and ~24 Hz in reads, so their feed-forward inhibition of the Purkinje cells grows
        ~2.3-fold with the parallel-fibre activity of a read.
    n_cells : int
        MLIs in the circuit, 256 (our choice). Each Purkinje cell receives
        ``LIFPurkinjeParams.n_mli_inputs`` of them at random, so the cells of one channel
        share few of their interneurons, as in vivo, where MLIs outnumber Purkinje cells
        ~16-fold and each contacts only a few of them (Palkovits et al. 1971; Loebner 1989).
        In the ``biophysical`` preset an MLI reaches ~40 Purkinje cells: fewer, busier
        interneurons stand for the many (a sampling choice, as for the DCN cells).
    connection_probability : float
        Probability that a granule cell contacts a given MLI, in (0, 1] (0.05: our choice;
        1000 of the ``2e4`` granule cells, standing for the ~3.6e3 parallel fibres a stellate
        cell receives, Loebner 1989).
    n_background, background_rate, g_background
        Unmodelled parallel fibres of each MLI (a ``PoissonInput``, independent per cell, AMPA
        with ``tau_exc``): 500 fibres at 2 Hz, 0.03 nS peak (our choice, as for the Purkinje
        cells' background: the parallel fibres outside the model fire at a few Hz at rest;
        the fluctuations make the cells fire irregularly below rheobase). 0 fibres turns it
        off.
    """

    model: ClassVar[str] = "lif"
    c_m: Quantity = _q(14.6 * pF, unit=farad, **_POS)
    tau_m: Quantity = _q(9.125 * ms, unit=second, **_POS)
    e_leak: Quantity = _volt(-68.0 * mV)
    v_threshold: Quantity = _volt(-53.0 * mV)
    v_reset: Quantity = _volt(-78.0 * mV)
    refractory: Quantity = _q(1.59 * ms, unit=second, low=0)
    i_e: Quantity = _q(20.0 * pA, unit=amp)
    e_exc: Quantity = _volt(0.0 * mV)
    tau_exc: Quantity = _q(2.0 * ms, unit=second, **_POS)
    g_parallel: Quantity = _q(0.008 * nS, unit=siemens, low=0)
    n_cells: int = 256
    connection_probability: float = 0.05
    n_background: int = 500
    background_rate: Quantity = _q(2.0 * Hz, unit=Hz, low=0)
    g_background: Quantity = _q(0.03 * nS, unit=siemens, low=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
        _set(self, "n_cells", check_int(self.n_cells, "n_cells", low=1))
        _set(self, "n_background", check_int(self.n_background, "n_background", low=0))
        _set(
            self,
            "connection_probability",
            check_real(
                self.connection_probability,
                "connection_probability",
                low=0.0,
                low_open=True,
                high=1.0,
            ),
        )


@dataclass(frozen=True, kw_only=True)
class TimingWindowClimbingParams(CellModelParams):
    """Inferior-olive climbing fibres and the timing-dependent PF -> Purkinje rule.

    During a write, the climbing fibre of every Purkinje channel whose value bit is 1 fires a
    burst of ``n_burst_spikes`` spikes ``burst_delay`` after the presentation onset; each spike
    is a complex spike of that channel's Purkinje cells. Plasticity (only while the protocol's
    ``plasticity_gate`` is 1, i.e. during writes):

    - LTP: every parallel-fibre spike adds ``ltp_step`` to its weight (PF alone: Ito 2001;
      Lev-Ram et al. 2002);
    - LTD: every complex spike subtracts ``ltd_step * k(t_CF - t_PF)`` summed over the
      synapse's earlier PF spikes, ``k(s) = (e^{-s/tau_slow} - e^{-s/tau_fast}) / k_max``
      (peak 1 at ``s* = ln(tau_slow/tau_fast) tau_slow tau_fast / (tau_slow - tau_fast)``):
      PF spikes that precede the CF by tens to ~200 ms depress, as in the cereb-nest sinexp
      rule (Luque et al. 2019) and Yamazaki & Nagao (2012); the difference-of-exponentials
      shape is our choice.

    Weights stay in ``[0, w_max]`` (hard bounds), starting at ``w_initial``.

    Parameters
    ----------
    burst_delay : Quantity (time)
        CF burst onset after the write onset, 50 ms (our choice: the PF activity of the
        presentation then falls inside the LTD window).
    n_burst_spikes : int
        Spikes per climbing-fibre burst, 3 (IO axonal bursts of 1-5 spikes: Mathy et al. 2009).
    burst_interval : Quantity (time)
        Interval between burst spikes, 2.5 ms (~400 Hz, Mathy et al. 2009).
    tau_fast, tau_slow : Quantity (time)
        20 ms and 100 ms: kernel peak at 40 ms, 13 % at 200 ms (our choice of shape inside
        the timing windows cited above).
    ltd_step : float
        Peak LTD per complex spike and PF spike, 0.08 (our choice, with ``ltp_step``: a few
        writes move a weight by tens of % of its range without hitting a bound).
    ltp_step : float
        LTP per PF spike, 0.002 (our choice).
    w_initial, w_max : float
        0.5 and 1 (dimensionless; our choice: the midpoint leaves room for LTP and LTD).
    """

    model: ClassVar[str] = "timing-window"
    burst_delay: Quantity = _q(50.0 * ms, unit=second, low=0)
    n_burst_spikes: int = 3
    burst_interval: Quantity = _q(2.5 * ms, unit=second, **_POS)
    tau_fast: Quantity = _q(20.0 * ms, unit=second, **_POS)
    tau_slow: Quantity = _q(100.0 * ms, unit=second, **_POS)
    ltd_step: float = 0.08
    ltp_step: float = 0.002
    w_initial: float = 0.5
    w_max: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, "n_burst_spikes", check_int(self.n_burst_spikes, "n_burst_spikes", low=1))
        _check_order(self, "tau_fast", "tau_slow")
        for name in ("ltd_step", "ltp_step"):
            _set(self, name, check_real(getattr(self, name), name, low=0.0))
        _set(self, "w_max", check_real(self.w_max, "w_max", low=0.0, low_open=True))
        _set(
            self,
            "w_initial",
            check_real(
                self.w_initial,
                "w_initial",
                low=0.0,
                high=self.w_max,
                context=f"for w_max={self.w_max}",
            ),
        )

    @property
    def kernel_peak_time(self) -> Quantity:
        """``s*``, the PF-before-CF delay of maximal LTD."""
        import math

        fast, slow = float(self.tau_fast), float(self.tau_slow)
        return math.log(slow / fast) * slow * fast / (slow - fast) * second

    @property
    def kernel_peak(self) -> float:
        """``k_max = e^{-s*/tau_slow} - e^{-s*/tau_fast}`` (the kernel is divided by it)."""
        import math

        peak = float(self.kernel_peak_time)
        return math.exp(-peak / float(self.tau_slow)) - math.exp(-peak / float(self.tau_fast))


@dataclass(frozen=True, kw_only=True)
class LIFPurkinjeParams(CellModelParams):
    """Spiking Purkinje cells with spontaneous simple spikes; a microzone per channel.

    ``C dv/dt = g_L (E_L - v) + (g_pf + g_cf)(E_exc - v) + g_i (E_GABA - v) + I_e``. Each
    channel (value bit, one-hot probe, or decoding reference) has ``n_per_channel`` cells
    sharing one climbing fibre. PF spikes raise ``g_pf`` by ``g_parallel * w``; MLI spikes raise
    ``g_i``; a climbing-fibre spike raises ``g_cf`` (the complex spike) and is the
    post-synaptic event of the plasticity rule.

    Parameters
    ----------
    c_m, tau_m, e_leak, v_threshold, v_reset, refractory : Quantity
        334 pF, 47 ms, -59 mV, -43 mV, -69 mV, 0.5 ms (BSB mouse Purkinje cell, De Schepper et
        al. 2022; Geminiani et al. 2019).
    i_e : Quantity (current)
        600 pA: our choice, for ~60 Hz spontaneous simple spikes in this LIF reduction
        (40-100 Hz in vivo: Zhou et al. 2014; intrinsic pacemaking, Raman & Bean 1999).
    e_exc : Quantity (voltage)
        0 mV.
    g_parallel, tau_parallel : Quantity
        PF -> PC peak per spike at weight 1 and ``r = 2e4`` granule cells, 0.3 nS (scaled by
        ``2e4 / r``), decay 3 ms (our choice of amplitude, for simple spikes below 100 Hz in
        reads: measured on the ``biophysical`` preset, seed 0, 91 Hz in reads; 0.4 nS gave
        106 Hz once writes were spaced by rests; PF EPSCs decay in a few ms, Isope & Barbour
        2002).
    g_mli, tau_mli, e_gaba : Quantity
        MLI -> PC GABA_A peak 7 nS, decay 8 ms, -70 mV (BSB GABA reversal; decay after
        Hausser & Clark 1997; amplitude our choice: from ``n_mli_inputs`` = 16 MLIs at ~24 Hz
        in reads it keeps simple spikes below 100 Hz -- 5 nS gave 105 Hz).
    g_climbing, tau_climbing : Quantity
        Climbing-fibre peak 50 nS, decay 5 ms (our choice: a depolarisation that fires a burst,
        the complex spike).
    n_per_channel : int
        Purkinje cells per channel, 7 (one climbing fibre contacts ~7 PCs: Sugihara et al.
        1999).
    n_background, background_rate, g_background
        Unmodelled parallel fibres of each cell (a ``PoissonInput``, independent per cell):
        500 fibres at 2 Hz, 0.5 nS peak (our choice: the ~1.75e5 PFs of a real PC, Napper &
        Harvey 1988, fire at a few Hz at rest; this background keeps the cells of a channel
        from locking to their common input).
    n_mli_inputs : int
        MLIs that inhibit each Purkinje cell, drawn at random (distinct) from
        ``LIFMLIParams.n_cells``; all of them if it exceeds that. 16 (our choice, below the
        ~26 stellate cells per Purkinje cell, Loebner 1989). Measured on the ``biophysical``
        preset (seed 0): with every MLI on every Purkinje cell (16 MLIs at 7 nS), the shared
        IPSCs synchronised a channel's cells (spike-count correlation in 2 ms bins 0.32 within
        a channel, 0.07 between) and the DCN read's bit agreement at noise 0 was 0.91; with 16
        of 256 MLIs per cell the correlation is 0.06 (0.05 between) and the agreement 0.97.
    n_reference_per_kind : int
        Decoding reference channels of each kind (LTP only / LTD on every write), >= 1: 4 (our
        choice: the decoded read divides by the difference of the two kinds' mean counts, and
        averaging ``k`` channels divides that mean's count variance by ``k``; measured on the
        ``biophysical`` preset, seed 0, a per-read fit to the mirror in place of one channel of
        each kind raised the DCN read's bit agreement by 3-4 points).
    """

    model: ClassVar[str] = "lif"
    c_m: Quantity = _q(334.0 * pF, unit=farad, **_POS)
    tau_m: Quantity = _q(47.0 * ms, unit=second, **_POS)
    e_leak: Quantity = _volt(-59.0 * mV)
    v_threshold: Quantity = _volt(-43.0 * mV)
    v_reset: Quantity = _volt(-69.0 * mV)
    refractory: Quantity = _q(0.5 * ms, unit=second, low=0)
    i_e: Quantity = _q(600.0 * pA, unit=amp)
    e_exc: Quantity = _volt(0.0 * mV)
    g_parallel: Quantity = _q(0.3 * nS, unit=siemens, low=0)
    tau_parallel: Quantity = _q(3.0 * ms, unit=second, **_POS)
    g_mli: Quantity = _q(7.0 * nS, unit=siemens, low=0)
    tau_mli: Quantity = _q(8.0 * ms, unit=second, **_POS)
    e_gaba: Quantity = _volt(-70.0 * mV)
    g_climbing: Quantity = _q(50.0 * nS, unit=siemens, low=0)
    tau_climbing: Quantity = _q(5.0 * ms, unit=second, **_POS)
    n_per_channel: int = 7
    n_background: int = 500
    background_rate: Quantity = _q(2.0 * Hz, unit=Hz, low=0)
    g_background: Quantity = _q(0.5 * nS, unit=siemens, low=0)
    n_reference_per_kind: int = 4
    n_mli_inputs: int = 16

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
        _set(self, "n_per_channel", check_int(self.n_per_channel, "n_per_channel", low=1))
        _set(self, "n_mli_inputs", check_int(self.n_mli_inputs, "n_mli_inputs", low=1))
        _set(self, "n_background", check_int(self.n_background, "n_background", low=0))
        _set(
            self,
            "n_reference_per_kind",
            check_int(self.n_reference_per_kind, "n_reference_per_kind", low=1),
        )


@dataclass(frozen=True, kw_only=True)
class LIFDCNParams(CellModelParams):
    """Spiking deep-cerebellar-nuclear cells inhibited by their channel's Purkinje cells.

    ``C dv/dt = g_L (E_L - v) + g_i (E_GABA - v) + I_e``; each Purkinje spike of the channel
    raises ``g_i`` by ``g_purkinje``.

    Parameters
    ----------
    c_m, tau_m, e_leak, v_threshold, v_reset, refractory : Quantity
        142 pF, 33 ms, -45 mV, -36 mV, -55 mV, 1.5 ms (BSB mouse DCN glutamatergic cell,
        De Schepper et al. 2022; Geminiani et al. 2019).
    i_e : Quantity (current)
        130 pA: our choice, for tens of Hz under spontaneous Purkinje inhibition (DCN cells
        fire ~20-60 Hz in vivo: Person & Raman 2012); measured on the ``biophysical`` preset
        (seed 0): 54 Hz at rest, 32 Hz in reads (with 8 cells per channel, 150 pA gave 67 Hz
        at rest).
    g_purkinje, tau_purkinje, e_gaba : Quantity
        PC -> DCN GABA_A peak 3 nS per spike, decay 3 ms, -70 mV (fast IPSCs, 2.5 ms decay:
        Person & Raman 2012; amplitude our choice). The fast decay makes the DCN cells follow
        the timing of their Purkinje cells, not only their count, so the DCN read needs the
        cells of a channel not to fire in synchrony (``LIFPurkinjeParams.n_mli_inputs``).
    n_per_channel : int
        DCN cells per channel, 48 (our choice: ~40 PCs converge on a DCN cell, Person & Raman
        2012; each of these DCN cells receives all PCs of its channel). A DCN cell fires ~2
        spikes in a 50 ms read, so the read is decoded from the pooled count of many cells;
        measured on the ``biophysical`` preset (seed 0), while every MLI still inhibited every
        Purkinje cell, the DCN read's bit agreement at noise 0 was 0.84 with 8 cells and
        0.91-0.93 with 32-48. Our 7 Purkinje cells per
        channel stand for the many of a microzone, so that DCN cells outnumber them here is a
        sampling choice, not anatomy (Purkinje cells outnumber nuclear cells in vivo).
    n_background, background_rate, g_background
        Unmodelled mossy-fibre collaterals of each DCN cell (a ``PoissonInput``, independent
        per cell, AMPA at 0 mV with ``tau_purkinje``'s decay): 100 fibres at 10 Hz, 1 nS
        (our choice; DCN cells receive mossy-fibre collaterals, Person & Raman 2012 review).
    """

    model: ClassVar[str] = "lif"
    c_m: Quantity = _q(142.0 * pF, unit=farad, **_POS)
    tau_m: Quantity = _q(33.0 * ms, unit=second, **_POS)
    e_leak: Quantity = _volt(-45.0 * mV)
    v_threshold: Quantity = _volt(-36.0 * mV)
    v_reset: Quantity = _volt(-55.0 * mV)
    refractory: Quantity = _q(1.5 * ms, unit=second, low=0)
    i_e: Quantity = _q(130.0 * pA, unit=amp)
    g_purkinje: Quantity = _q(3.0 * nS, unit=siemens, low=0)
    tau_purkinje: Quantity = _q(3.0 * ms, unit=second, **_POS)
    e_gaba: Quantity = _volt(-70.0 * mV)
    n_per_channel: int = 48
    n_background: int = 100
    background_rate: Quantity = _q(10.0 * Hz, unit=Hz, low=0)
    g_background: Quantity = _q(1.0 * nS, unit=siemens, low=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_order(self, "v_reset", "v_threshold")
        _set(self, "n_per_channel", check_int(self.n_per_channel, "n_per_channel", low=1))
        _set(self, "n_background", check_int(self.n_background, "n_background", low=0))


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
