import tomllib

import pytest

from hardodt import Config, ConfigError
from hardodt.config import EXAMPLE_TOML


def test_defaults_are_the_papers():
    c = Config()
    assert (c.quantiles, c.split_points, c.grace_period, c.delta, c.tau, c.step) == (
        8, 10, 200, 1e-3, 0.05, 0.01)
    assert (c.max_depth, c.max_leaves, c.word_bits, c.fraction_bits) == (15, 1024, 32, 30)


def test_example_toml_is_the_default():
    assert Config.from_dict(tomllib.loads(EXAMPLE_TOML)) == Config()


def test_toml_round_trip(tmp_path):
    c = Config(numeric_attributes=["a", "b", "c"], numeric_ranges=[[0, 1], [-5, 5], [2, 3]],
               categorical_values=[3, 4], categorical_names=["u", "v"], classes=["x", "y", "z"],
               quantiles=16, number="float", initial_quantiles="first")
    path = tmp_path / "c.toml"
    path.write_text(c.to_toml())
    assert Config.from_toml(path) == c


def test_counts_become_names():
    c = Config(numeric_attributes=3, categorical_values=[2], classes=4)
    assert c.numeric_attributes == ("x0", "x1", "x2")
    assert c.categorical_names == ("c0",)
    assert c.classes == (0, 1, 2, 3)
    assert c.numeric_ranges == ((-1.0, 1.0),) * 3


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"quantiles": 0}, "quantiles", "1..64"),
    ({"quantiles": 65}, "quantiles", "1..64"),
    ({"split_points": 0}, "split_points", "1..64"),
    ({"classes": 1}, "classes", "2..64"),
    ({"classes": ["a", "a"]}, "classes", "unique"),
    ({"delta": 0.0}, "delta", "(0.0, 1.0)"),
    ({"delta": 1.5}, "delta", "(0.0, 1.0)"),
    ({"tau": -0.1}, "tau", "[0.0, 1.0)"),
    ({"step": 0}, "step", "(0.0, 1.0)"),
    ({"max_depth": 16}, "max_depth", "0..15"),
    ({"max_leaves": 70000}, "max_leaves", "1..65536"),
    ({"elements": 0}, "elements", "1..65536"),
    ({"word_bits": 7}, "word_bits", "8..32"),
    ({"word_bits": 33}, "word_bits", "8..32"),
    ({"fraction_bits": 31}, "fraction_bits", "1..30"),
    ({"count_bits": 24}, "count_bits", "8..23"),
    ({"grace_period": 0}, "grace_period", "1.."),
    ({"number": "double"}, "number", "float"),
    ({"initial_quantiles": "random"}, "initial_quantiles", "range"),
    ({"out_of_range": "ignore"}, "out_of_range", "saturate"),
    ({"numeric_ranges": [[1, 0], [0, 1]]}, "numeric_ranges[0]", "low < high"),
    ({"numeric_ranges": [[0, 1]]}, "numeric_ranges", "2 pairs"),
    ({"categorical_values": [1]}, "categorical_values[0]", "2..256"),
    ({"categorical_values": [300]}, "categorical_values[0]", "2..256"),
    ({"numeric_attributes": 0}, "at least one attribute", ""),
    ({"numeric_attributes": 65}, "numeric_attributes", "0..64"),
    ({"quantiles": "8"}, "quantiles", "integer"),
    ({"word_bits": 12, "fraction_bits": 8}, "step", "9 fraction bits"),
    ({"divider_stage_bits": 0}, "divider_stage_bits", "1..30"),
    ({"count_bits": 8, "divider_stage_bits": 19}, "divider_stage_bits", "1..18"),
    ({"retimed_rows": 0}, "retimed_rows", "1..65536"),
    ({"judge": "fast"}, "judge", "parallel"),
])
def test_impossible_configurations_name_the_field(changes, field, words):
    with pytest.raises(ConfigError) as info:
        Config().replace(**changes)
    assert field in str(info.value)
    assert words in str(info.value)


def test_tiny_words_are_fine_in_float_mode():
    assert Config(word_bits=12, fraction_bits=8, number="float").number == "float"


def test_unknown_field(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("quantile = 8\n")
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['quantile'\]"):
        Config.from_toml(path)


def test_wrong_type_in_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('quantiles = "eight"\n')
    with pytest.raises(ConfigError, match="quantiles: expected an integer"):
        Config.from_toml(path)


def test_bad_toml(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("quantiles = = 8\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.from_toml(path)


def test_capacities():
    c = Config(max_depth=3, max_leaves=1024, elements=1024)
    assert (c.leaf_capacity, c.element_capacity) == (8, 8)
    c = Config(max_depth=10, max_leaves=100, elements=16)
    assert (c.leaf_capacity, c.element_capacity) == (100, 16)
