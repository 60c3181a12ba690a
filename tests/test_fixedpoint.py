from fractions import Fraction

from hardodt import Config
from reference.fixedpoint import fixed_constants, round_half_even, tie_samples


def test_steps_by_hand():
    # lambda = 0.25 and Q = 3 are exact in binary: alpha = 1/4, 2/4, 3/4, 1.0 = 256.
    c = fixed_constants(Config(step=0.25, quantiles=3, word_bits=10, fraction_bits=8))
    assert c.one == 256
    assert c.step_up == (16, 32, 48)  # 0.25 * alpha * 256
    assert c.step_down == (48, 32, 16)  # 0.25 * (1 - alpha) * 256
    assert c.alpha == (64, 128, 192)
    assert (c.word_min, c.word_max) == (-512, 511)


def test_split_positions_round_half_even():
    # P = 3: 1/4, 2/4, 3/4 of 2^2 = 1, 2, 3; P = 1 with 1 fraction bit: 1/2 * 2 = 1.
    assert fixed_constants(Config(split_points=3, word_bits=8, fraction_bits=2,
                                  number="float")).split_position == (1, 2, 3)
    assert round_half_even(Fraction(5, 2)) == 2
    assert round_half_even(Fraction(7, 2)) == 4


def test_hoeffding_constants_by_hand():
    # K = ln(1000) / 2 = 3.45387763949..., * 2^32 = 14834291506.4 -> 14834291506;
    # K / 0.05^2 = 1381.55.
    c = fixed_constants(Config())
    assert c.hoeffding_k == 14834291506
    assert c.tie_samples == 1381
    assert tie_samples(1e-3, 0.0) == -1


def test_default_steps():
    c = fixed_constants(Config())
    # 0.01 * 1/9 * 2^30 = 1193046.47 -> 1193046 ; 0.01 * 8/9 * 2^30 = 9544371.7 -> 9544372
    assert c.step_up[0] == 1193046
    assert c.step_down[0] == 9544372
    assert c.count_max == 2**20 - 1
