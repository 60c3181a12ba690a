"""A pipelined unsigned divider: one division accepted per cycle, a fixed latency.

The split trial divides twice per candidate (the Gini quality terms) and once
per trial (the gain); a combinational divider would limit the clock and a
sequential one would take tens of cycles per candidate. This is the restoring
long division unrolled into ``ceil(quotient_bits / bits_per_stage)`` register
stages (the first takes the bits left over). With ``radix4`` a stage retires its bits
two at a time, from three subtractions side by side (the shifted remainder less one,
two and three times the divisor, the caller supplying the last) and one choice among
them, instead of two subtractions one after the other: a carry chain less on the
stage's path, for a subtraction and a register more. The caller guarantees
``numerator < divisor * 2^quotient_bits`` (the quotient fits); the quotient is
then ``floor(numerator / divisor)`` exactly.
A divisor of 0 gives an all-ones quotient (callers mask that case).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PipelinedDivider", "stage_bits"]


def stage_bits(quotient_bits: int, bits_per_stage: int) -> list[int]:
    """The quotient bits of each stage, first to last: ``bits_per_stage`` each, and when
    they do not divide evenly the first takes the fewer (its inputs come from the
    caller's registers, often placed far away)."""
    stages = -(-quotient_bits // bits_per_stage)
    return [quotient_bits - bits_per_stage * (stages - 1)] + [bits_per_stage] * (stages - 1)


class PipelinedDivider(wiring.Component):
    """``quotient = numerator // divisor`` after ``latency`` cycles, with a tag alongside.

    Members
    -------
    valid, numerator, divisor, tag : In
        One division per cycle; ``tag`` rides along unchanged.
    divisor3 : In (with ``radix4``)
        ``3 * divisor``, from the caller's registers (the first stage has no time to add).
    out_valid, quotient, out_tag : Out
        The result of the division issued ``latency`` cycles before.
    """

    def __init__(self, numerator_bits: int, divisor_bits: int, quotient_bits: int,
                 tag_bits: int = 1, bits_per_stage: int = 2, radix4: bool = False) -> None:
        self.nb, self.db, self.qb = numerator_bits, divisor_bits, quotient_bits
        self.bits_per_stage, self.radix4 = bits_per_stage, radix4
        self.stages = stage_bits(quotient_bits, bits_per_stage)  # each stage's quotient bits
        self.latency = len(self.stages)
        super().__init__({
            "valid": In(1), "numerator": In(numerator_bits), "divisor": In(divisor_bits),
            **({"divisor3": In(divisor_bits + 2)} if radix4 else {}),
            "tag": In(tag_bits),
            "out_valid": Out(1), "quotient": Out(quotient_bits), "out_tag": Out(tag_bits),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        qb, db = self.qb, self.db
        low_bits = qb  # numerator bits still to bring down, highest first
        # Stage state: remainder (< divisor, so db bits), the numerator's low qb bits,
        # the quotient so far, the divisor, valid and tag.
        rem = Signal(db + 1, name="rem_in")
        m.d.comb += rem.eq(self.numerator >> low_bits)
        low = Signal(qb, name="low_in")
        m.d.comb += low.eq(self.numerator)
        quo = Signal(qb, name="quo_in")
        div, valid, tag = self.divisor, self.valid, self.tag
        div3 = self.divisor3 if self.radix4 else None
        done = 0
        for stage, todo in enumerate(self.stages):
            r, q = rem, quo
            while todo:
                bit = qb - 1 - done
                if self.radix4 and todo % 2 == 0:  # bits ``bit`` and ``bit - 1`` at once
                    r, q = self._two_bits(m, r, q, low, div, div3, bit)
                    done, todo = done + 2, todo - 2
                else:
                    r, q = self._one_bit(m, r, q, low, div, bit)
                    done, todo = done + 1, todo - 1
            rem_r = Signal(db + 1, name=f"s{stage}_rem")
            quo_r = Signal(qb, name=f"s{stage}_quo")
            low_r = Signal(qb, name=f"s{stage}_low")
            div_r = Signal(db, name=f"s{stage}_div")
            valid_r = Signal(name=f"s{stage}_valid")
            tag_r = Signal(len(self.tag), name=f"s{stage}_tag")
            m.d.sync += [rem_r.eq(r), quo_r.eq(q), low_r.eq(low), div_r.eq(div),
                         valid_r.eq(valid), tag_r.eq(tag)]
            if self.radix4:
                div3_r = Signal(db + 2, name=f"s{stage}_div3")
                m.d.sync += div3_r.eq(div3)
                div3 = div3_r
            rem, quo, low, div, valid, tag = rem_r, quo_r, low_r, div_r, valid_r, tag_r
        m.d.comb += [self.out_valid.eq(valid), self.quotient.eq(quo), self.out_tag.eq(tag)]
        return m

    def _one_bit(self, m: Module, r, q, low, div, bit: int):
        """Quotient bit ``bit``: the remainder with the next numerator bit, less the
        divisor if that does not go below 0."""
        db, qb = self.db, self.qb
        shifted = Signal(db + 2, name=f"shifted_{bit}")
        m.d.comb += shifted.eq((r << 1) | low[bit])
        # one subtraction per bit: its sign is the comparison (a second carry chain for
        # ``shifted >= div`` would double the stage's path)
        diff = Signal(signed(db + 3), name=f"diff_{bit}")
        m.d.comb += diff.eq(shifted - div)
        take = Signal(name=f"take_{bit}")
        m.d.comb += take.eq(~diff[-1])
        nr = Signal(db + 1, name=f"rem_{bit}")
        nq = Signal(qb, name=f"quo_{bit}")
        m.d.comb += [nr.eq(Mux(take, diff[:db + 1], shifted)), nq.eq(q | (take << bit))]
        return nr, nq

    def _two_bits(self, m: Module, r, q, low, div, div3, bit: int):
        """Quotient bits ``bit`` and ``bit - 1`` (radix 4): the remainder with the next two
        numerator bits is below four divisors, so the digit is how many of one, two and
        three divisors it holds, the three subtractions' signs, made side by side."""
        db, qb = self.db, self.qb
        shifted = Signal(db + 3, name=f"shifted_{bit}")
        m.d.comb += shifted.eq((r << 2) | low[bit - 1:bit + 1])
        diffs, takes = [], []
        for k, sub in ((1, div), (2, div << 1), (3, div3)):
            diff = Signal(signed(db + 4), name=f"diff{k}_{bit}")
            take = Signal(name=f"take{k}_{bit}")
            m.d.comb += [diff.eq(shifted - sub), take.eq(~diff[-1])]
            diffs.append(diff)
            takes.append(take)
        nr = Signal(db + 1, name=f"rem_{bit}")
        nq = Signal(qb, name=f"quo_{bit}")
        # holding three divisors means holding two, and two one: the digit's high bit
        # picks a pair, each pair's own sign the one of it (per bit two LUTs and the
        # slice's multiplexer between them, not one choice of four by three selects)
        digit = Cat(Mux(takes[1], takes[2], takes[0]), takes[1])
        m.d.comb += [nr.eq(Mux(takes[1], Mux(takes[2], diffs[2][:db + 1], diffs[1][:db + 1]),
                               Mux(takes[0], diffs[0][:db + 1], shifted))),
                     nq.eq(q | (digit << (bit - 1)))]
        return nr, nq
