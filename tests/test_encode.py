"""The batch and the one-sample encoders give identical numbers (the hardware's inputs)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hardodt import Config
from reference.encode import SampleEncoder, encode_numeric

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(lo=finite, width=st.floats(min_value=1e-3, max_value=1e6), values=st.lists(finite, min_size=1,
       max_size=8), word=st.integers(16, 32), number=st.sampled_from(["fixed", "float"]))
def test_batch_and_sample_encoders_agree(lo, width, values, word, number):
    cfg = Config(numeric_attributes=1, numeric_ranges=[[lo, lo + width]], word_bits=word,
                 fraction_bits=word - 2, number=number)
    batch, n_batch = encode_numeric(cfg, np.array(values).reshape(-1, 1))
    enc = SampleEncoder(cfg)
    one = [enc.numeric([v]) for v in values]
    assert [o[0][0] for o in one] == batch[:, 0].tolist()
    assert sum(o[1] for o in one) == n_batch


def test_edges_by_hand():
    cfg = Config(numeric_attributes=1, numeric_ranges=[[0, 4]], word_bits=8, fraction_bits=4,
                 step=0.25, quantiles=1)
    # 0 -> -1.0 = -16; 4 -> +16; 1 -> -0.5 = -8; 2.25 -> 0.125 * 16 = 2; 2.5 -> 0.25*16 = 4
    values = np.array([[0.0], [4.0], [1.0], [2.25], [2.5], [9.0]])
    enc, n_out = encode_numeric(cfg, values)
    assert enc[:, 0].tolist() == [-16, 16, -8, 2, 4, 16] and n_out == 1
    # a tie rounds to even: 2.0625 -> 0.03125 * 16 = 0.5 -> 0
    assert encode_numeric(cfg, np.array([[2.0625]]))[0][0, 0] == 0
