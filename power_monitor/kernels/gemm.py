"""A 3 x 3 output-stationary systolic array: the Polybench-gemm-like kernel."""


from amaranth import Module, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

N, K = 3, 16  # N x N processing elements; K products per result


class SystolicGemm(wiring.Component):
    """C = A B in blocks: each valid input brings a column of A (3 x 8 bits) and a row of B
    (3 x 8 bits) into the array's west and north edges; each PE multiplies what reaches it,
    accumulates, and passes A east and B south. After K inputs every PE's sum is latched
    and the results are read out one per cycle. ``data[48]``, the mode, holds B: the north
    edge keeps its row (a product with a constant matrix), only A flows."""

    valid: In(1)
    data: In(49)
    result: Out(32)

    def elaborate(self, platform):
        m = Module()
        a = [[Signal(signed(8), name=f"a{i}{j}") for j in range(N)] for i in range(N)]
        b = [[Signal(signed(8), name=f"b{i}{j}") for j in range(N)] for i in range(N)]
        acc = [[Signal(signed(24), name=f"acc{i}{j}") for j in range(N)] for i in range(N)]
        done = [Signal(signed(24), name=f"c{i}{j}") for i in range(N) for j in range(N)]
        count = Signal(range(K))
        sel = Signal(range(N * N))
        with m.If(self.valid):
            m.d.sync += count.eq(count + 1)
            for i in range(N):
                m.d.sync += a[i][0].eq(self.data[8 * i:8 * i + 8].as_signed())
                with m.If(~self.data[48]):
                    m.d.sync += b[0][i].eq(self.data[24 + 8 * i:32 + 8 * i].as_signed())
            for i in range(N):
                for j in range(N):
                    if j + 1 < N:
                        m.d.sync += a[i][j + 1].eq(a[i][j])
                    if i + 1 < N:
                        m.d.sync += b[i + 1][j].eq(b[i][j])
                    with m.If(count == K - 1):
                        m.d.sync += [done[N * i + j].eq(acc[i][j] + a[i][j] * b[i][j]),
                                     acc[i][j].eq(0)]
                    with m.Else():
                        m.d.sync += acc[i][j].eq(acc[i][j] + a[i][j] * b[i][j])
        m.d.sync += sel.eq(sel + 1)
        with m.If(sel == N * N - 1):
            m.d.sync += sel.eq(0)
        with m.Switch(sel):
            for k in range(N * N):
                with m.Case(k):
                    m.d.sync += self.result.eq(done[k])
        return m
