"""Data sources and the shared :class:`Dataset`."""
from ssvae.data.dataset import Dataset
from ssvae.data.sources import SOURCES, load_dataset

__all__ = ["Dataset", "SOURCES", "load_dataset"]
