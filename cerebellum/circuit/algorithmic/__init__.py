"""The algorithmic cell models: an exact SDM as a Brian2 event network, one module per population.

Importing a module registers its builder (:func:`cerebellum.circuit.base.register_model`); the
table of :mod:`cerebellum.circuit` maps each population to its SDM role.
"""
