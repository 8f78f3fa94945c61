"""The spiking cerebellum (Brian2) that implements a Sparse Distributed Memory."""
