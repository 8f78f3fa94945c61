"""What every figure module shares: a new Axes when none is given, and saving a figure."""

from __future__ import annotations

import matplotlib.pyplot as plt

from models.plotting import save_figure

__all__ = ["save_figure"]


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax
