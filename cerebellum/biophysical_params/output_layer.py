"""Output-side cell models: interneurons, climbing fibres, Purkinje cells, nuclear cells.

The molecular-layer interneurons (the normaliser), the climbing fibres and their plasticity
rule (the teacher), the Purkinje cells (the counters) and the deep-nuclear cells (the read).
Parameters and sources: :mod:`cerebellum.biophysical_params`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from brian2 import Hz, Quantity, ms, mV, nS, second, siemens

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

__all__ = [
    "LIFDCNParams",
    "LIFMLIParams",
    "LIFPurkinjeParams",
    "TimingWindowClimbingParams",
]


@dataclass(frozen=True, kw_only=True)
class LIFMLIParams(LIFParams, **membrane(14.6, 9.125, -68.0, -53.0, -78.0, 1.59, 20.0)):
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
        :func:`cerebellum.circuit.biophysical.common.parallel_fibre_scale`). Measured on the
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
        fast, slow = float(self.tau_fast), float(self.tau_slow)
        return math.log(slow / fast) * slow * fast / (slow - fast) * second

    @property
    def kernel_peak(self) -> float:
        """``k_max = e^{-s*/tau_slow} - e^{-s*/tau_fast}`` (the kernel is divided by it)."""
        peak = float(self.kernel_peak_time)
        return math.exp(-peak / float(self.tau_slow)) - math.exp(-peak / float(self.tau_fast))


@dataclass(frozen=True, kw_only=True)
class LIFPurkinjeParams(LIFParams, **membrane(334.0, 47.0, -59.0, -43.0, -69.0, 0.5, 600.0)):
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
        _set(self, "n_per_channel", check_int(self.n_per_channel, "n_per_channel", low=1))
        _set(self, "n_mli_inputs", check_int(self.n_mli_inputs, "n_mli_inputs", low=1))
        _set(self, "n_background", check_int(self.n_background, "n_background", low=0))
        _set(
            self,
            "n_reference_per_kind",
            check_int(self.n_reference_per_kind, "n_reference_per_kind", low=1),
        )


@dataclass(frozen=True, kw_only=True)
class LIFDCNParams(LIFParams, **membrane(142.0, 33.0, -45.0, -36.0, -55.0, 1.5, 130.0)):
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
    g_purkinje: Quantity = _q(3.0 * nS, unit=siemens, low=0)
    tau_purkinje: Quantity = _q(3.0 * ms, unit=second, **_POS)
    e_gaba: Quantity = _volt(-70.0 * mV)
    n_per_channel: int = 48
    n_background: int = 100
    background_rate: Quantity = _q(10.0 * Hz, unit=Hz, low=0)
    g_background: Quantity = _q(1.0 * nS, unit=siemens, low=0)

    def __post_init__(self) -> None:
        super().__post_init__()
        _set(self, "n_per_channel", check_int(self.n_per_channel, "n_per_channel", low=1))
        _set(self, "n_background", check_int(self.n_background, "n_background", low=0))
