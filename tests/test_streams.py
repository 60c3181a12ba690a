import numpy as np
import pytest

from hardodt.streams import GENERATORS, bundled_electricity, generate


def test_bundled_electricity_matches_the_shared_copy():
    s = bundled_electricity()
    assert len(s) == 45312 and s.numeric.shape == (45312, 6)
    assert s.numeric_names == ["period", "nswprice", "nswdemand", "vicprice", "vicdemand",
                               "transfer"]
    assert s.classes == ["0", "1"]
    assert s.numeric[0].tolist() == [0.0, 0.05644299999999999, 0.439155, 0.003467, 0.422915,
                                     0.414912]


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generators_are_seeded(name):
    a, b, c = generate(name, 500, 7), generate(name, 500, 7), generate(name, 500, 8)
    assert (a.labels == b.labels).all() and np.array_equal(a.features, b.features)
    assert not np.array_equal(a.features, c.features)
    cfg = a.config()
    assert cfg.n_numeric + cfg.n_categorical == a.features.shape[1]


def test_unknown_generator():
    with pytest.raises(ValueError, match="unknown generator 'foo'"):
        generate("foo", 10)
