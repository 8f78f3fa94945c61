"""From a finished biophysical run to a :class:`~cerebellum.engines.base.CircuitRun`.

Counts spikes per presentation from the monitors, decodes every read
(:func:`cerebellum.engines.spiking_analysis.decode`), and gathers rates per phase, the raster
and trace window, PF -> Purkinje weights, the presentation epochs and the resource counts.
"""

from __future__ import annotations

import numpy as np

from cerebellum.engines import spiking_analysis
from cerebellum.engines.base import CircuitRun
from cerebellum.engines.biophysical import BIOPHYSICAL_POPULATIONS, TRACED_POPULATIONS
from cerebellum.engines.readout import Readout

__all__ = ["collect_run"]

_PHASES = ("background", "write", "read")
_KINDS = ("background", "calibration", "rest", "write", "read")


def collect_run(engine) -> CircuitRun:
    """Everything a :class:`~cerebellum.engines.biophysical_run.BiophysicalEngine` measured.

    Parameters
    ----------
    engine : BiophysicalEngine
        After :meth:`~cerebellum.engines.biophysical_run.BiophysicalEngine.run`.

    Returns
    -------
    CircuitRun
    """
    from cerebellum.engines.biophysical_run import (
        BiophysicalDetails,
        _activation,
        _pf_weights,
        _synaptic_events,
    )

    protocol = engine.protocol
    c = protocol.circuit
    spikes = {pop: protocol.spikes(pop) for pop in BIOPHYSICAL_POPULATIONS}
    writes = _write_measures(protocol, engine.write_index, spikes)
    reads = _read_measures(engine, spikes, writes["active"])
    on_s = protocol.steps_on * protocol.dt_s
    rates = _phase_rates(protocol, spikes, on_s)
    window = _window(protocol, engine, spikes)
    onsets = {
        kind: np.nonzero(np.asarray(protocol.kinds) == kind)[0] * protocol.period_s
        for kind in _KINDS
    }
    n_spikes = {pop: int(spikes[pop][0].size) for pop in BIOPHYSICAL_POPULATIONS}
    simulated_s = protocol.n_presentations * protocol.period_s
    n_total = protocol.n_channels_total
    details = BiophysicalDetails(
        read_purkinje=reads["read_purkinje"],
        probe_weights_dcn=reads["probes_dcn"],
        probe_weights_purkinje=reads["probes_purkinje"],
        reference_counts_dcn=reads["references_dcn"],
        reference_counts_purkinje=reads["references_purkinje"],
        granule_match_counts=reads["match_counts"],
        granule_spike_counts=reads["spike_counts"],
        write_granule_spike_counts=np.minimum(writes["counts"], 65535).astype(np.uint16),
        write_match_counts=writes["match"],
        complex_spike_counts=writes["complex"],
        calibration=engine.calibration,
        rates_hz=rates,
        channel_names=_channel_names(c.n_values, c.n_pattern_channels, protocol),
        presentation_s=on_s,
        gap_s=protocol.steps_gap * protocol.dt_s,
        decode_delay_s=engine.decode_delay_s,
        onsets_s=onsets,
    )
    weights = {"before": engine.weights_before, "after": _pf_weights(c, n_total)}
    return CircuitRun(
        engine=engine.name,
        readouts=reads["readouts"],
        spikes=_spike_trains(spikes, rates["read"], simulated_s),
        rates=_read_rates(reads["readouts"], engine.decode_delay_s),
        weights=weights,
        epochs=_epochs(onsets, on_s),
        timings_s=engine.timings,
        counts={
            "simulated_s": simulated_s,
            "n_spikes": n_spikes,
            "n_cells": {pop: int(np.size(r)) for pop, r in rates["read"].items()},
            "n_synaptic_events": _synaptic_events(c, n_spikes),
        },
        figures={
            "populations": {
                **window,
                "onsets_s": onsets,
                "presentation_s": on_s,
                "pf_weights_before": weights["before"],
                "pf_weights_after": weights["after"],
                "channel_names": details.channel_names,
            }
        },
        activation=_activation(engine.params),
        exact_sdm=False,
        details=details,
    )


def _spike_trains(spikes: dict, read_rates: dict, simulated_s: float) -> dict:
    """Every spike of every population over the whole run, as :func:`write_nwb` takes them."""
    return {
        pop: {
            "times_s": np.asarray(times, dtype=np.float64),
            "cells": np.asarray(cells, dtype=np.int64),
            "n_cells": int(np.asarray(read_rates[pop]).size),
            "observed_s": (0.0, float(simulated_s)),
        }
        for pop, (times, cells) in spikes.items()
    }


def _write_measures(protocol, write_index, spikes) -> dict:
    """Granule spikes, match counts and complex spikes of every write."""
    c = protocol.circuit
    counts = protocol.counts("granule", write_index, spikes=spikes["granule"])
    write_bits = np.asarray(protocol.write_bits, dtype=np.uint8)
    cs_monitor = c.monitors["complex_spikes"]
    cs = protocol.counts(
        "purkinje",
        write_index,
        stop_s=protocol.period_s,
        spikes=(np.asarray(cs_monitor.t_), np.asarray(cs_monitor.i)),
    )
    return {
        "counts": counts,
        "active": counts > 0,
        "match": c.wiring.match_counts(write_bits).astype(np.uint8),
        "complex": spiking_analysis.channel_counts(cs, protocol.n_channels_total),
    }


def _read_measures(engine, spikes, write_active) -> dict:
    """Per query set: the Readout (decoded from DCN counts) and the spiking analysis inputs."""
    protocol = engine.protocol
    c = protocol.circuit
    n_total, n_v, n_p = protocol.n_channels_total, c.n_values, c.n_pattern_channels
    delay_s = engine.decode_delay_s
    per_kind = protocol.n_reference_per_kind
    out: dict[str, list] = {
        key: []
        for key in (
            "readouts",
            "read_purkinje",
            "probes_dcn",
            "probes_purkinje",
            "references_dcn",
            "references_purkinje",
            "match_counts",
            "spike_counts",
        )
    }
    for index, queries in zip(engine.read_index, engine.schedule.query_sets, strict=True):
        granule = protocol.counts("granule", index, spikes=spikes["granule"])
        pc, dcn = (
            spiking_analysis.channel_counts(
                protocol.counts(pop, index, start_s=delay_s, spikes=spikes[pop]), n_total
            )
            for pop in ("purkinje", "dcn")
        )
        mli = protocol.counts("mli", index, start_s=delay_s, spikes=spikes["mli"]).sum(axis=1)
        decoded_dcn, ref_dcn = spiking_analysis.decode(dcn, c.n_channels, per_kind)
        decoded_pc, ref_pc = spiking_analysis.decode(pc, c.n_channels, per_kind)
        out["readouts"].append(
            _readout(protocol, index, queries, granule > 0, write_active, pc, dcn, mli,
                     decoded_dcn[:, :n_v], delay_s)
        )  # fmt: skip
        out["read_purkinje"].append(decoded_pc[:, :n_v])
        out["probes_dcn"].append(decoded_dcn[:, n_v : n_v + n_p])
        out["probes_purkinje"].append(decoded_pc[:, n_v : n_v + n_p])
        out["references_dcn"].append(ref_dcn)
        out["references_purkinje"].append(ref_pc)
        out["match_counts"].append(c.wiring.match_counts(queries).astype(np.uint8))
        out["spike_counts"].append(np.minimum(granule, np.iinfo(np.uint16).max).astype(np.uint16))
    return out


def _readout(protocol, index, queries, active, write_active, pc, dcn, mli, read, delay_s):
    """One query set's Readout: spiking active sets, channel counts and the decoded read."""
    c = protocol.circuit
    n_total, n_v, n_ch = protocol.n_channels_total, c.n_values, c.n_channels
    window_s = protocol.steps_on * protocol.dt_s - delay_s
    n_pc = len(c.groups["purkinje"]) // n_total
    n_dcn = len(c.groups["dcn"]) // n_total
    intersections = active.astype(np.float64) @ write_active.T.astype(np.float64)
    total = intersections.sum(axis=1, keepdims=True)
    weights = np.divide(intersections, total, out=np.zeros_like(intersections), where=total > 0)
    # Without probe channels the Readout still has one column per pattern (NaN).
    pc_cols = np.full((pc.shape[0], n_v + write_active.shape[0]), np.nan)
    pc_cols[:, :n_ch] = pc[:, :n_ch]
    return Readout(
        queries=queries,
        active_granule=active,
        golgi_active_count=active.sum(axis=1).astype(np.float64),
        mli_write_count_input=mli.astype(np.float64),
        purkinje_input=pc_cols,
        purkinje_rate_hz=pc_cols / (n_pc * window_s),
        dcn_rate_hz=dcn[:, :n_v] / (n_dcn * window_s),
        read=read,
        pattern_intersections=intersections,
        pattern_weights=weights,
        query_onset_s=index * protocol.period_s,
    )


def _phase_rates(protocol, spikes, on_s: float) -> dict:
    """Mean rate of every cell over the presentations of each phase."""
    kinds = np.asarray(protocol.kinds)
    rates: dict[str, dict[str, np.ndarray]] = {}
    for phase in _PHASES:
        index = np.nonzero(kinds == phase)[0]
        rates[phase] = {}
        for pop in BIOPHYSICAL_POPULATIONS:
            counts = protocol.counts(pop, index, spikes=spikes[pop])
            rates[phase][pop] = counts.sum(axis=0) / (max(len(index), 1) * on_s)
    return rates


def _window(protocol, engine, spikes) -> dict:
    """Rasters and membrane traces over the last writes and the first reads."""
    # Half of the window lies before the first read.
    read_index = engine.read_index
    first_read = int(read_index[0][0]) if len(read_index[0]) else engine.schedule.n_background - 1
    before = int(engine.raster_s / 2 // protocol.period_s)
    start = max(0, first_read - before) * protocol.period_s
    stop = start + engine.raster_s
    raster = {}
    for pop in BIOPHYSICAL_POPULATIONS:
        times, cells = spikes[pop]
        keep = (times >= start) & (times < stop)
        raster[pop] = {"times_s": times[keep], "cells": cells[keep]}
    traces = {}
    for pop in TRACED_POPULATIONS:
        monitor = protocol.circuit.monitors[f"{pop}_traces"]
        t = np.asarray(monitor.t_)
        keep = (t >= start) & (t < stop)
        traces[pop] = {"times_s": t[keep], "v_volt": np.asarray(monitor.v_)[:, keep]}
    return {"raster": raster, "raster_window_s": (start, stop), "traces": traces}


def _channel_names(n_values: int, n_patterns: int, protocol) -> list[str]:
    return (
        [f"value_{k}" for k in range(n_values)]
        + [f"probe_{k}" for k in range(n_patterns)]
        + [
            f"reference_{kind}_{k}"
            for kind in ("zero", "one")
            for k in range(protocol.n_reference_per_kind)
        ]
    )


def _read_rates(readouts: list[Readout], decode_delay_s: float) -> dict:
    """Purkinje and DCN rates of every read presentation, in time order."""
    rates = {}
    if not readouts:
        return rates
    onsets = np.concatenate([readout.query_onset_s for readout in readouts])
    order = np.argsort(onsets, kind="stable")
    for population, field in (("purkinje", "purkinje_rate_hz"), ("dcn", "dcn_rate_hz")):
        stacked = np.concatenate([getattr(readout, field) for readout in readouts])
        rates[population] = {
            "times_s": onsets[order],
            "rate_hz": stacked[order],
            "description": (
                f"mean rate per {population} cell of each channel (value, then probe) in the "
                f"decoding window of each read presentation, from {decode_delay_s} s after "
                "the onset (Hz); timestamps: the onsets"
            ),
        }
    return rates


def _epochs(onsets: dict, presentation_s: float) -> dict:
    """Every presentation as an epoch, in time order."""
    kinds, starts, numbers = [], [], []
    for kind, kind_onsets in onsets.items():
        kind_onsets = np.asarray(kind_onsets, dtype=np.float64)
        kinds += [kind] * kind_onsets.size
        starts.append(kind_onsets)
        numbers.append(np.arange(kind_onsets.size))
    start = np.concatenate(starts) if starts else np.zeros(0)
    order = np.argsort(start, kind="stable")
    return {
        "start_s": start[order],
        "stop_s": start[order] + float(presentation_s),
        "kind": np.asarray(kinds, dtype=object)[order],
        "index": (np.concatenate(numbers) if numbers else np.zeros(0, np.int64))[order],
    }
