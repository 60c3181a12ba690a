"""Streams: CSV files with a schema, the bundled Electricity stream, seeded generators."""

from hardodt.streams.csvfile import CSVError, bundled_electricity, read_csv
from hardodt.streams.generators import GENERATORS, generate
from hardodt.streams.table import Stream

__all__ = ["CSVError", "GENERATORS", "Stream", "bundled_electricity", "generate", "read_csv"]
