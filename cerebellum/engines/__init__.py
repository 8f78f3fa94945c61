"""Engines: what runs a circuit, behind one interface, and the result every engine fills.

Nothing here is imported eagerly: ``from cerebellum.engines.algorithmic import ...`` loads
Brian2, ``cerebellum.engines.readout`` does not.
"""
