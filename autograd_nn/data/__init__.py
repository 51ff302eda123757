"""Data: minibatch iteration and the bike-sharing data set (real UCI file or synthetic default).

- ``Dataset``, ``TensorDataset``, ``DataLoader``: PyTorch-shaped minibatches of Tensors.
- ``load_bike_sharing(path)``: the UCI ``hour.csv`` (Fanaee-T & Gama 2013,
  doi:10.1007/s13748-013-0040-3), prepared as in the post: 56 features, standardised
  targets, the last 21 days as test and the 60 before as validation.
- ``synthetic_bike_sharing(seed)``: the built-in SYNTHETIC default with the same schema,
  run through the same preprocessing; ``write_synthetic_hour_csv`` saves it as a file.
"""

from ._csv import HOUR_CSV_COLUMNS, DataFormatError
from .bike_sharing import FEATURE_NAMES, BikeSharing, Scaling, Split, load_bike_sharing
from .loader import DataLoader, Dataset, TensorDataset, default_collate
from .synthetic import synthetic_bike_sharing, synthetic_hour_csv, write_synthetic_hour_csv

__all__ = [
    "FEATURE_NAMES", "HOUR_CSV_COLUMNS", "BikeSharing", "DataFormatError", "DataLoader", "Dataset",
    "Scaling", "Split", "TensorDataset", "default_collate", "load_bike_sharing", "synthetic_bike_sharing",
    "synthetic_hour_csv", "write_synthetic_hour_csv",
]  # fmt: skip
