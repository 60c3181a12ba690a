"""cocotb co-simulation of the generated RTL against the golden model (Verilator)."""
