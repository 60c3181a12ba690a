"""hardodt: online quantile Hoeffding trees (Hard-ODT), golden model and FPGA hardware.

This is the only package users import from.
"""

from hardodt.config import Config, ConfigError
from reference import InputError, QuantileHoeffdingTree

__all__ = ["Config", "ConfigError", "InputError", "QuantileHoeffdingTree"]
__version__ = "0.1.0"
