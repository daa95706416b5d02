import copy
import json

import pytest

from gradcheck.report import SCHEMA, validate


def test_fixture_run_is_valid(run_dict):
    assert validate(run_dict) == []


def test_schema_is_json_and_versioned():
    text = json.dumps(SCHEMA)
    assert "2020-12" in SCHEMA["$schema"]
    assert json.loads(text)["properties"]["schema_version"]["enum"] == ["1.0"]


def _set(data, dotted, value):
    keys = dotted.split(".")
    target = data
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is DELETE:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value


DELETE = object()

BAD = [
    ("title-not-string", "title", 5, "`title`: expected string, got int 5"),
    ("missing-checks", "checks", DELETE, "missing required field `checks`"),
    ("wrong-version", "schema_version", "2.0", "`schema_version`: expected one of '1.0'"),
    ("passed-not-bool", "checks.0.passed", "yes", "`checks.0.passed`"),
    ("unknown-check-kind", "checks.0.kind", "other", "expected one of 'gradient_check'"),
    ("nan-as-text", "checks.1.max_rel_error", "NaN", "`checks.1.max_rel_error`: expected"),
    ("index-not-ints", "checks.1.failures.0.index", [0.5], "failures[0].index[0]"),
    ("bad-severity", "monitor.findings.0.severity", "fatal", "severity`: expected one of"),
    ("missing-message", "monitor.findings.1.message", DELETE, "missing required field `message`"),
    ("layer-without-name", "checks.2.layers.1.name", DELETE, "layers[1]`: missing required"),
    ("bool-as-step", "monitor.findings.0.step", True, "expected integer or null, got bool"),
    (
        "histogram-edges",
        "monitor.series.histograms.first.activations.relu1.edges",
        "x",
        "histograms.first.activations.relu1.edges`: expected array",
    ),
    ("series-misaligned", "monitor.series.loss", [1.0, 2.0], "has 2 values but"),
]


@pytest.mark.parametrize(
    ("where", "value", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_invalid_documents_are_reported(small_run_dict, where, value, message):
    data = copy.deepcopy(small_run_dict)
    _set(data, where, value)
    problems = validate(data)
    assert problems, "expected a problem"
    text = "\n".join(problems).replace("[", ".").replace("]", "")
    assert message.replace("[", ".").replace("]", "") in text, problems


def test_top_level_not_an_object():
    assert validate([1, 2]) == ["`(top level)`: expected object, got list [1, 2]"]


def test_subset_keywords_on_a_custom_schema():
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "a": {"anyOf": [{"type": "integer"}, {"enum": ["x"]}]},
            "b": {"type": "array", "items": {"const": 1}},
        },
        "if": {"properties": {"a": {"const": "x"}}},
        "then": {"required": ["b"]},
    }
    assert validate({"a": 1}, schema) == []
    assert validate({"a": "x", "b": [1, 1]}, schema) == []
    assert validate({"a": "x"}, schema) == ["`(top level)`: missing required field `b`"]
    assert validate({"a": 2.5, "c": 0}, schema) == [
        "`a`: expected integer / one of 'x', got float 2.5",
        "`(top level)`: unexpected field `c`",
    ]
    assert validate({"b": [1, 2]}, schema) == ["`b[1]`: expected one of 1, got int 2"]
