"""Figures: ``plot_x(arrays..., *, ax=None) -> Axes``; the only modules that import matplotlib."""
