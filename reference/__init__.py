"""The golden model of hardodt: the specification the hardware is checked against.

Users import it through :mod:`hardodt`.
"""

from reference.encode import InputError
from reference.tree import QuantileHoeffdingTree

__all__ = ["QuantileHoeffdingTree", "InputError"]
