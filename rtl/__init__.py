"""Amaranth generators for the Hard-ODT learner (see rtl/README.md)."""

from rtl.divider import PipelinedDivider
from rtl.hardodt import HardODT
from rtl.params import HardwareParams
from rtl.quantile import QuantileStep
from rtl.split_trial import HoeffdingJudge, SerialHoeffdingJudge, SplitTrial

__all__ = ["HardODT", "HardwareParams", "HoeffdingJudge", "PipelinedDivider", "QuantileStep",
           "SerialHoeffdingJudge", "SplitTrial"]
