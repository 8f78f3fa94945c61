"""Input-layer cell models: mossy fibres, granule cells (the hard locations), Golgi cells.

Parameters and sources: :mod:`cerebellum.biophysical_params`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from brian2 import Quantity, farad, ms, mV, nS, pF, second, siemens

from cerebellum.biophysical_params.membrane import (
    _POS,
    LIFParams,
    _check_order,
    _q,
    _volt,
    membrane,
)
from cerebellum.params import CellModelParams, _set
from models.validation import check_int, check_real

__all__ = ["ConductanceGranuleParams", "LIFGolgiParams", "PoissonTrainMossyParams"]


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
class LIFGolgiParams(LIFParams, **membrane(145.0, 44.0, -62.0, -55.0, -75.0, 2.0, 32.0)):
    """Spiking Golgi cell: conductance-based LIF with feed-forward and feedback excitation.

    ``C dv/dt = g_L (E_L - v) + g_e (E_exc - v) + I_e``; mossy-fibre and granule-cell
    (parallel-fibre / ascending-axon) spikes raise ``g_e``; each Golgi spike raises the
    GABA_A conductance of the granule cells it contacts by ``inhibition_scale * g_inhibition``.
    The sparseness of the granule layer emerges from this inhibition and the granule cell's
    tonic GABA; :func:`cerebellum.engines.biophysical.calibrate_golgi` sets
    ``inhibition_scale`` for a target active fraction.

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
