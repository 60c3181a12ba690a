"""Board builds (bitstreams) and the host link's throughput, side by side.

Builds: each board's default design (``hardodt build --board B``: yosys, nextpnr and the
packer from the YoWASP wheels), reporting the time of each step, the utilisation and
the Fmax against the learner's clock. The ULX3S-85F's default design takes the longest
(place and route of the full learner). Link: the bundled Electricity stream through the
simulated board (``hardodt stream --sim``: the driver against the UART pins in
Verilator), clean and with corrupted and dropped bytes, as a fraction of what the UART
allows; beside it what the learner itself could take at its clock. Load: a tree learned
in software on the first half of those samples sent over the link (LOAD) and continued
on the second half; and the LOAD frames and line time of the tree of the whole stream.

    python benchmarks/boards.py [--boards icebreaker ulx3s-25f ulx3s-85f] [--link-samples 2000]
                                [--skip-builds] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hardodt.boards import BoardError, board, board_config, build  # noqa: E402
from hardodt.protocol import DesignInfo  # noqa: E402


def run_builds(names, out: Path) -> list[dict]:
    rows = []
    for name in names:
        spec = board(name)
        started = time.perf_counter()
        print(f"[{name}] building ...", file=sys.stderr, flush=True)
        last = [0.0]

        def say(text, name=name, last=last, started=started):
            now = time.perf_counter()
            if now - last[0] > 30 or not text.startswith("place and route: Info"):
                last[0] = now
                print(f"[{name} {now - started:6.0f} s] {text}", file=sys.stderr, flush=True)

        try:
            r = build(board_config(spec), spec, out / name, progress=say)
        except BoardError as exc:
            r = {"board": name, "error": str(exc)}
        r["total_seconds"] = round(time.perf_counter() - started, 1)
        rows.append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "critical_path"}), file=sys.stderr)
    return rows


def run_link(samples: int, out: Path) -> list[dict]:
    from hardodt.streams import bundled_electricity
    from sim.board_sim import simulate_board
    from sim.cosim import encode_stream

    stream = bundled_electricity()
    cfg = stream.config({})
    xn, xc, y = encode_stream(cfg, stream)
    xn, xc, y = xn[:samples], xc[:samples], y[:samples]
    rows = []
    for label, faults in (("clean", {}),
                          ("faults", {"corrupt": 0.005, "drop": 0.002, "reply_corrupt": 0.005, "seed": 1})):
        t0 = time.perf_counter()
        r = simulate_board(cfg, xn, xc, y, build_dir=out / "link", divisor=8, faults=faults)
        r["label"], r["wall_seconds"] = label, round(time.perf_counter() - t0, 1)
        rows.append(r)
        print(json.dumps({k: r[k] for k in ("label", "samples", "mismatches", "tree_agrees",
                                             "link_efficiency", "resends")}), file=sys.stderr)
    import numpy as np

    from reference import QuantileHoeffdingTree

    half = samples // 2
    model = QuantileHoeffdingTree(cfg)
    model._run(xn[:half], xc[:half], y[:half], np.ones(half, bool))
    t0 = time.perf_counter()
    r = simulate_board(cfg, xn[half:], xc[half:], y[half:], build_dir=out / "link", divisor=8,
                       load_tree=model, load_at=0)
    r["label"], r["wall_seconds"] = f"LOAD a tree of {half} samples, then on", \
        round(time.perf_counter() - t0, 1)
    rows.append(r)
    print(json.dumps({k: r[k] for k in ("label", "samples", "mismatches", "tree_agrees", "loaded")}),
          file=sys.stderr)
    return rows


def load_cost(baud: int = 115200) -> dict:
    """LOAD frames for the tree of the whole Electricity stream, and their time on the line."""
    import numpy as np

    from hardodt.driver import load_frames
    from hardodt.protocol import LOAD_LEN
    from hardodt.streams import bundled_electricity
    from reference import QuantileHoeffdingTree
    from rtl.params import HardwareParams
    from rtl.preload import load_rows, preload_image
    from sim.cosim import encode_stream

    stream = bundled_electricity()
    cfg = stream.config({})
    xn, xc, y = encode_stream(cfg, stream)
    model = QuantileHoeffdingTree(cfg)
    model._run(xn, xc, y, np.ones(len(y), bool))
    p = HardwareParams(cfg)
    rows = load_rows(p, preload_image(p, model))
    frames = len(load_frames(cfg, model))
    return {"samples": len(y), "leaves": model.n_leaves, "rows": len(rows), "frames": frames,
            "baud": baud, "seconds": frames * (6 + LOAD_LEN) * 10 / baud}


def markdown(builds: list[dict], link: list[dict]) -> str:
    lines = [f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}; "
             f"{date.today().isoformat()}. Command: `python benchmarks/boards.py --markdown`.", ""]
    if builds:
        lines += ["| board | device | design | learner clock | Fmax | logic | FF | block RAM | DSP | "
                  "synthesis | place and route | total |", "|" + "---|" * 12]
        for r in builds:
            if "error" in r:
                lines.append(f"| {r['board']} | | | | failed: {r['error'][:120]} | | | | | | | "
                             f"{r['total_seconds']:.0f} s |")
                continue
            u = r.get("utilisation", {})

            def cell(*names, u=u):
                for n in names:
                    if n in u:
                        return f"{u[n]['used']:,} / {u[n]['available']:,}"
                return "-"

            s = r.get("seconds", {})
            lines.append(
                f"| {r['board']} | {r['device']} | {board(r['board']).config or 'default'} | "
                f"{r['learner_clock_mhz']:g} MHz | {r.get('fmax_mhz', 0):.1f} MHz | "
                f"{cell('ICESTORM_LC', 'TRELLIS_COMB')} | {cell('TRELLIS_FF')} | "
                f"{cell('ICESTORM_RAM', 'DP16KD')} | {cell('ICESTORM_DSP', 'MULT18X18D')} | "
                f"{s.get('synthesis', 0):.0f} s | {s.get('place and route', 0):.0f} s | "
                f"{r['total_seconds']:.0f} s |")
        lines.append("")
    if link:
        lines += ["| link (Electricity, simulated board, 8 cycles/bit) | samples | mismatches | tree | "
                  "samples/s of UART time | of the UART's cap | resends | rejections |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in link:
            lines.append(f"| {r['label']} {json.dumps(r['faults']) if r['faults'] else ''} | "
                         f"{r['samples']} | {r['mismatches']} | "
                         f"{'equal' if r['tree_agrees'] else 'DIFFERS'} | "
                         f"{r['samples_per_second']:,.0f} | {100 * r['link_efficiency']:.1f} % | "
                         f"{r['resends']} | {r['rejections'] or 'none'} |")
        for r in link:
            if r.get("loaded"):
                ld = r["loaded"]
                lines += ["", f"LOAD: a tree learned in software on {ld['samples']:,} samples "
                          f"({ld['leaves']} leaves) took {ld['frames']} LOAD frames, "
                          f"{1e3 * ld['sim_seconds']:.2f} ms of simulated line time at "
                          f"{r['baud_simulated'] / 1e6:g} Mbaud (8 cycles per bit); the board "
                          f"then agreed with it on the next {r['samples']:,} samples "
                          f"({r['mismatches']} mismatches, tree "
                          f"{'equal' if r['tree_agrees'] else 'DIFFERS'})."]
        c = load_cost()
        lines += [f"The tree of the whole stream ({c['samples']:,} samples, {c['leaves']} leaves) is "
                  f"{c['rows']} rows, {c['frames']} LOAD frames: {c['seconds']:.1f} s of line time "
                  f"at {c['baud']} baud."]
        from hardodt.streams import bundled_electricity

        info = DesignInfo.of(bundled_electricity().config({}))
        frame_in, frame_out = 6 + info.sample_bytes, 6 + 5
        lines += ["", f"At 115200 baud a SAMPLE frame of the default design is {frame_in} bytes and its "
                  f"reply {frame_out}: the UART caps the learner at {11520 / max(frame_in, frame_out):,.0f} "
                  "samples/s; the learner takes one sample per cycle (12.5 million samples/s at "
                  "the ULX3S's 12.5 MHz learner clock)."]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--boards", nargs="+", default=["icebreaker", "ulx3s-25f", "ulx3s-85f"])
    ap.add_argument("--skip-builds", action="store_true")
    ap.add_argument("--link-samples", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="hardodt-boards-"))
    builds = [] if args.skip_builds else run_builds(args.boards, out)
    link = run_link(args.link_samples, out) if args.link_samples else []
    if args.json:
        args.json.write_text(json.dumps({"builds": builds, "link": link}, indent=1))
    text = markdown(builds, link)
    print(text if args.markdown else json.dumps({"builds": builds, "link": link}, indent=1))
    failed = any("error" in r for r in builds) or any(r["mismatches"] for r in link)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
