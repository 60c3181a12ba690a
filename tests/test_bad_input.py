"""Every kind of bad input gets a clear error, or a documented and counted behaviour."""

import numpy as np
import pytest

from hardodt import Config, InputError, QuantileHoeffdingTree
from hardodt.streams import CSVError, read_csv


def model(**kw):
    base = dict(numeric_attributes=["a", "b"], numeric_ranges=[[0, 10], [0, 1]],
                categorical_values=[3], categorical_names=["c"], classes=["no", "yes"])
    base.update(kw)
    return QuantileHoeffdingTree(Config(**base))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_infinities_raise(value):
    m = model()
    with pytest.raises(InputError, match="'a' is .*NaN and infinities"):
        m.learn_one({"a": value, "b": 0.5, "c": 1}, "no")
    with pytest.raises(InputError, match="row 1: attribute 'b'"):
        m.partial_fit([[1, 0.5, 0], [1, value, 0]], ["no", "yes"])
    assert m.stats["learned"] == 0  # the bad batch left no trace


def test_wrong_number_of_attributes():
    m = model()
    with pytest.raises(InputError, match="expected 3 attributes"):
        m.partial_fit(np.zeros((4, 2)), ["no"] * 4)
    with pytest.raises(InputError, match=r"missing \['c'\], unknown \['d'\]"):
        m.learn_one({"a": 1, "b": 0.5, "d": 2}, "no")
    with pytest.raises(InputError, match="must be numbers"):
        m.learn_one({"a": "high", "b": 0.5, "c": 1}, "no")


def test_undeclared_label():
    m = model()
    with pytest.raises(InputError, match=r"label 'maybe' is not a declared class"):
        m.learn_one({"a": 1, "b": 0.5, "c": 1}, "maybe")
    with pytest.raises(InputError, match="differ from the configured classes"):
        m.partial_fit([[1, 0.5, 0]], ["no"], classes=["no", "yes", "maybe"])


def test_labels_match_by_text():
    m = QuantileHoeffdingTree(Config(numeric_attributes=1, classes=2))
    m.learn_one({"x0": 0.1}, "1")
    m.learn_one({"x0": 0.1}, np.int64(1))
    assert m._elem[0][0].tolist() == [0, 2]


def test_categorical_out_of_range_or_not_a_code():
    m = model()
    with pytest.raises(InputError, match=r"'c' = 3 is outside 0..2"):
        m.learn_one({"a": 1, "b": 0.5, "c": 3}, "no")
    with pytest.raises(InputError, match="'c' = 1.5 is not an integer code"):
        m.learn_one({"a": 1, "b": 0.5, "c": 1.5}, "no")


@pytest.mark.parametrize("number", ["fixed", "float"])
def test_out_of_range_saturates_and_counts(number):
    m = model(number=number)
    m.learn_one({"a": 12.0, "b": -3.0, "c": 0}, "no")
    assert m.saturated_values == 2 and m.stats["saturated_values"] == 2
    top = m.config.fixed.one if number == "fixed" else 1.0
    assert m._elem[5][0, 0] == top  # max of 'a' is the clamped +1
    assert m._elem[4][0, 1] == -top


def test_out_of_range_error_policy():
    m = model(out_of_range="error")
    with pytest.raises(InputError, match=r"row 0: attribute 'a' = 12.0 is outside its declared "
                                         r"range \[0.0, 10.0\]"):
        m.learn_one({"a": 12.0, "b": 0.5, "c": 0}, "no")


def write(tmp_path, text, name="s.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(("text", "message"), [
    ("a,b,y\n1,2,0\n3,4\n", r"s.csv:3: 2 fields, the header has 3"),
    ("a,b,y\n1,2,0\n3,x,1\n", r"s.csv:3: column 'b': 'x' is not a number"),
    ("a,b,y\n1,nan,0\n", r"s.csv:2: column 'b': 'nan' \(NaN"),
    ("a,b,y\n1,inf,0\n", r"s.csv:2: column 'b': 'inf'"),
    ("a,b,y\n1,,0\n", r"s.csv:2: column 'b': '' is not a number"),
    ("a,b,y\n1,2,\n", r"s.csv:2: the label 'y' is empty"),
    ("a,b,y\n1,2,0\n\n3,4,1\n", r"s.csv:3: empty line"),
    ("a,b,y\n", r"no samples after the header"),
    ("", r"empty file"),
    ("a,b,z\n1,2,0\n", r"no label column 'y'"),
    ("a,a,y\n1,2,0\n", r"duplicate column names \['a'\]"),
])
def test_malformed_csv(tmp_path, text, message):
    with pytest.raises(CSVError, match=message):
        read_csv(write(tmp_path, text), "y")


def test_csv_missing_file(tmp_path):
    with pytest.raises(CSVError, match="no such file"):
        read_csv(tmp_path / "none.csv", "y")


def test_csv_categorical_levels(tmp_path):
    p = write(tmp_path, "a,day,y\n1,mon,0\n2,tue,1\n3,mon,1\n")
    s = read_csv(p, "y", ["day"])
    assert s.categorical_levels == [["mon", "tue"]]
    assert s.categorical[:, 0].tolist() == [0, 1, 0]
    with pytest.raises(CSVError, match=r"s.csv:3: column 'day': 'tue' is not one of"):
        read_csv(p, "y", {"day": ["mon", "wed"]})


def test_csv_undeclared_label_in_config(tmp_path):
    s = read_csv(write(tmp_path, "a,y\n1,0\n2,1\n3,2\n"), "y")
    m = QuantileHoeffdingTree(s.config({"classes": ["0", "1"]}))
    with pytest.raises(InputError, match="label '2' is not a declared class"):
        m.partial_fit(s.features, s.labels)


def test_config_declaring_other_attributes_than_the_stream(tmp_path):
    from hardodt import ConfigError

    s = read_csv(write(tmp_path, "a,y\n1,0\n2,1\n"), "y")
    with pytest.raises(ConfigError, match=r"numeric_attributes: the configuration declares"):
        s.config({"numeric_attributes": ["a", "b"]})


def test_integer_labels_are_checked_like_any_label():
    m = model(classes=[0, 1])
    with pytest.raises(InputError, match="label 5 is not a declared class"):
        m.prequential([[1, 0.5, 0], [1, 0.5, 0]], np.array([0, 5]))
    with pytest.raises(InputError, match="2 samples but 1 labels"):
        m.prequential([[1, 0.5, 0], [1, 0.5, 0]], np.array([0]))
    with pytest.raises(InputError, match="class indices must be in 0..1"):
        m.prequential_encoded(np.zeros((1, 2), np.int64), np.zeros((1, 1), np.int64),
                              np.array([2]))
