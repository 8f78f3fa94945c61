"""What figure modules share: saving a figure for a reader (matplotlib only here and in the
figure modules that import it)."""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["save_figure"]


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
