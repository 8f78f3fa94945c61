"""What every figure module shares: a new Axes when none is given, and saving a figure."""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["save_figure"]


def _axes(ax, figsize=(6.0, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def save_figure(ax, path) -> None:
    """Save the figure holding ``ax`` as a 150-dpi PNG and close it.

    Parameters
    ----------
    ax : matplotlib Axes
        Any Axes of the figure to save.
    path : str or path
        Output file (PNG).
    """
    fig = ax.figure
    fig.savefig(path, dpi=150)
    plt.close(fig)
