"""Amaranth generators for the Hard-ODT learner (see rtl/README.md)."""

from rtl.board import BoardTop, LinkedLearner
from rtl.divider import PipelinedDivider
from rtl.hardodt import HardODT
from rtl.hoeffding import HoeffdingJudge
from rtl.host_link import HostLink
from rtl.params import HardwareParams
from rtl.quantile import QuantileStep
from rtl.split_trial import SplitTrial

__all__ = ["BoardTop", "HardODT", "HardwareParams", "HoeffdingJudge", "HostLink", "LinkedLearner",
           "PipelinedDivider", "QuantileStep", "SplitTrial"]
