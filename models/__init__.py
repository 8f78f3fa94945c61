"""PyTorch mirror of Sparse Distributed Memory and the attention it approximates.

This package never imports Brian2 (see ``tests/test_layering.py``): a machine-learning user
can use the exact SDM theory, the SDM memories and attention on their own.
"""
