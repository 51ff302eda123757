"""Data: minibatch iteration.

- ``Dataset``, ``TensorDataset``, ``DataLoader``: PyTorch-shaped minibatches of Tensors.
"""

from .loader import DataLoader, Dataset, TensorDataset, default_collate

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]
