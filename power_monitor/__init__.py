"""The FPGA run-time power-monitoring case study on an open flow (docs/power.md).

Kernels (:mod:`power_monitor.kernels`) run seeded workloads
(:mod:`power_monitor.workload`) as gate-level netlists of ECP5 cells
(:mod:`power_monitor.gatelevel`) in Verilator, which counts every net's toggles
per window (:mod:`power_monitor.activity`); :mod:`power_monitor.estimate` turns
them into power. :mod:`power_monitor.flow` selects signals, clusters power and
learns online; :mod:`power_monitor.monitor` builds the monitor in hardware;
:mod:`power_monitor.report` writes the tables and plots.
"""
