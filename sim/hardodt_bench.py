"""cocotb bench: the whole learner against the golden model, sample by sample.

Reads the configuration (``HARDODT_CONFIG``) and the encoded stream
(``HARDODT_STREAM``, an ``.npz`` with ``xn``, ``xc``, ``y``, ``learn``), runs the
golden model on the same stream, drives the design with seeded random input
gaps and output back-pressure, and compares every prediction, the statistics
counters and, at the end, the tree and its leaves' counters read back through
the debug port. The figures go to ``HARDODT_REPORT`` (JSON) for the caller.
"""

import json
import os
import time

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from hardodt import Config
from sim.readback import decode_counter, decode_stats, golden_tree, hardware_tree, pack_samples, route


@cocotb.test()
async def stream_agrees(dut):
    cfg = Config.from_toml(os.environ["HARDODT_CONFIG"])
    data = np.load(os.environ["HARDODT_STREAM"])
    xn, xc, y, learn = data["xn"], data["xc"], data["y"], data["learn"].astype(bool)
    gap = float(os.environ.get("BENCH_GAP", "0"))
    stall = float(os.environ.get("BENCH_STALL", "0"))
    rng = np.random.default_rng(int(os.environ.get("BENCH_SEED", "1")))
    report_path = os.environ.get("HARDODT_REPORT")
    progress_path = os.environ.get("HARDODT_PROGRESS")

    from reference import QuantileHoeffdingTree
    from rtl.params import HardwareParams

    params = HardwareParams(cfg)
    # Resets (BENCH_RESETS: sample indices) cut the stream into segments: a reset is
    # pulsed as soon as the segment's last sample is taken, whatever is in flight, and
    # the next segment is checked against a fresh golden model. BENCH_PAUSE "k:n" holds
    # the input for n cycles before sample k.
    cuts = sorted({int(v) for v in os.environ.get("BENCH_RESETS", "").split(",") if v})
    if any(not 0 < c < len(y) for c in cuts):
        raise ValueError(f"BENCH_RESETS {cuts}: each must be inside 1..{len(y) - 1}")
    pause_at, pause_cycles = (int(v) for v in os.environ.get("BENCH_PAUSE", "0:0").split(":"))
    bounds = [0, *cuts, len(y)]
    segments = list(zip(bounds[:-1], bounds[1:], strict=True))
    preload = os.environ.get("HARDODT_PRELOAD")

    def fresh(a):  # the golden model a segment starts from: the preloaded one, or empty
        return QuantileHoeffdingTree.load(preload) if preload and a == 0 else \
            QuantileHoeffdingTree(cfg)

    models = [fresh(a) for a, _b in segments]
    golden = models[-1]  # the last segment's model (stats and tree)
    expected = np.concatenate([model._run(xn[a:b], xc[a:b], y[a:b], learn[a:b])
                               for model, (a, b) in zip(models, segments, strict=True)])
    words = pack_samples(params, xn, xc, y, learn)
    total = len(words)
    pred_mask = (1 << params.prediction_layout.size) - 1

    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.samples__valid.value = 0
    dut.predictions__ready.value = 0
    dut.debug_en.value = 0
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0

    # Per cycle (at the falling edge, where every input of the next rising edge is set):
    # account the transfers of the last rising edge, then drive the next cycle.
    sent = 0
    got = []  # predictions received, by sample index (-1: dropped by a reset)
    cycles = 0
    gaps_on = gap > 0
    stall_on = stall > 0
    started = time.perf_counter()
    accepted_at = {}
    latencies = []
    first_bad = None
    dropped = 0
    for seg, (_a, b) in enumerate(segments):
        last = seg == len(segments) - 1
        offered = False
        out_ready = False
        in_ready = False
        out_valid = False
        out_word = 0
        paused = 0
        while len(got) < b if last else sent < b:
            await FallingEdge(dut.clk)
            cycles += 1
            if offered and in_ready:
                accepted_at[sent] = cycles
                sent += 1
            if out_ready and out_valid:
                k = len(got)
                got.append(out_word & pred_mask)
                latencies.append(cycles - accepted_at[k])
                if first_bad is None and got[k] != expected[k]:
                    first_bad = k
                if progress_path and (k % 4096 == 0 or k + 1 == total):
                    with open(progress_path, "w") as f:
                        f.write(f"{k + 1} {total}\n")
            if first_bad is not None or (not last and sent == b):
                break  # a mismatch: read the tree back; a segment's end: reset
            if not (offered and not in_ready):  # a stream keeps valid up until it is taken
                if sent == pause_at and paused < pause_cycles:
                    paused += 1
                    offered = False
                else:
                    offered = sent < b and not (gaps_on and rng.random() < gap)
            dut.samples__valid.value = int(offered)
            if offered:
                dut.samples__payload.value = words[sent]
            out_ready = not (stall_on and rng.random() < stall)
            dut.predictions__ready.value = int(out_ready)
            in_ready = bool(dut.samples__ready.value)
            out_valid = bool(dut.predictions__valid.value)
            out_word = int(dut.predictions__payload.value) if out_valid else 0
            if cycles > 50 * total + 10_000 + pause_cycles:
                state = {}
                for name in ("awaiting", "commit_at", "entered", "ins_state", "sub",
                             "outstanding"):
                    try:
                        state[name] = int(getattr(dut, name).value)
                    except (AttributeError, ValueError):
                        pass
                raise AssertionError(f"stuck: {sent} samples in, {len(got)} predictions out "
                                     f"after {cycles} cycles; {state}")
        if first_bad is not None:
            break
        if not last:  # reset now, with whatever is in flight: those predictions are lost
            dut.samples__valid.value = 0
            dut.rst.value = 1
            await FallingEdge(dut.clk)
            cycles += 1
            dut.rst.value = 0
            dropped += b - len(got)
            got.extend([-1] * (b - len(got)))
    wall = time.perf_counter() - started
    dut.samples__valid.value = 0
    # Wait until nothing is in flight (a split due right after the last sample goes in too);
    # after a mismatch, the predictions still in flight are taken (and compared) as well.
    dut.predictions__ready.value = 1
    out_valid = False  # the last handshake was counted in the loop
    for _ in range(10_000):
        await FallingEdge(dut.clk)
        if out_ready and out_valid:
            got.append(out_word & pred_mask)
        out_ready = True
        out_valid = bool(dut.predictions__valid.value)
        out_word = int(dut.predictions__payload.value) if out_valid else 0
        if int(dut.idle.value):
            break
    else:
        raise AssertionError("the design never went idle after the stream")

    hw = np.array(got, dtype=np.int64)
    mismatch = np.flatnonzero((hw != expected[:len(hw)]) & (hw >= 0))
    stats_word = int(dut.stats.value)
    hw_stats = decode_stats(stats_word)
    # the hardware counts modulo 2^32 (docs/hardware.md); the golden model does not wrap
    gold_stats = {k: v & 0xFFFFFFFF for k, v in golden.stats.items() if k in hw_stats}

    async def read(level, row):
        dut.debug_en.value = 1
        dut.debug_level.value = level
        dut.debug_row.value = row
        await FallingEdge(dut.clk)
        while not int(dut.debug_valid.value):  # one cycle, or the chain's bytes (rtl.node_readback)
            await FallingEdge(dut.clk)
        got = int(dut.debug_node.value), decode_counter(params, int(dut.debug_counter.value))
        dut.debug_en.value = 0  # a read starts when debug_en rises
        await FallingEdge(dut.clk)
        return got

    hw_tree = await hardware_tree(params, read)
    if first_bad is not None:  # the golden model as far as the hardware got
        start = max(a for a, _b in segments if a <= first_bad)
        golden = fresh(start)
        golden._run(xn[start:sent], xc[start:sent], y[start:sent], learn[start:sent])
    gold_tree = golden_tree(golden)
    report = {
        "samples": int(total),
        "mismatches": int(mismatch.size),
        "first_mismatch": int(mismatch[0]) if mismatch.size else None,
        "cycles": int(cycles),
        "cycles_per_sample": cycles / total,
        "latency_cycles": int(np.median(latencies)) if latencies else None,
        "latency_cycles_min": int(min(latencies)) if latencies else None,
        "trial_cycles_max": int(dut.trial_cycles.value),
        "simulation_seconds": wall,
        "accuracy": float(np.mean(hw[hw >= 0] == y[:len(hw)][hw >= 0])) if len(hw) else 0.0,
        "stats_hardware": hw_stats,
        "stats_golden": gold_stats,
        "tree_agrees": hw_tree == gold_tree,
        "leaves": sum(1 for n in gold_tree if n["kind"] in ("leaf", "inactive")),
        "gap": gap,
        "stall": stall,
        "resets": cuts,
        "dropped": dropped,
    }
    if hw_tree != gold_tree:
        report["tree_hardware"] = hw_tree
        report["tree_golden"] = gold_tree
    if mismatch.size:
        i = int(mismatch[0])
        report["first_mismatch_detail"] = {
            "sample": i, "hardware": int(hw[i]), "golden": int(expected[i]),
            "samples_entered": int(sent),
            "hardware_leaf": route(hw_tree, xn[i], xc[i]),
            "golden_leaf": route(gold_tree, xn[i], xc[i]),
        }
    if report_path:
        with open(report_path, "w") as f:
            json.dump(report, f, indent=1)
    assert mismatch.size == 0, f"{mismatch.size} predictions differ, first at sample {mismatch[0]}"
    assert len(hw) == total and (hw >= 0).sum() == total - dropped
    assert hw_stats == gold_stats, f"statistics differ: {hw_stats} != {gold_stats}"
    assert hw_tree == gold_tree, "the tree read back differs from the golden model's"
