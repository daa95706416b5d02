import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck.errors import DataFileError
from gradcheck.report import ReportSchemaError, RunReport, dumps, load_json, loads, save_json
from gradcheck.report.serialize import read_json
from tests.budget import examples


def test_json_round_trip_is_equal(run_report, tmp_path):
    path = save_json(run_report, tmp_path / "run.json")
    assert load_json(path) == run_report
    assert loads(dumps(run_report, indent=2)) == run_report


def test_json_is_strict_and_encodes_nonfinite_explicitly(run_report):
    text = dumps(run_report)
    json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in JSON"))
    assert '"nan"' in text and '"inf"' in text


def test_loads_rejects_invalid_documents():
    with pytest.raises(ReportSchemaError, match="`checks`"):
        loads('{"kind": "run", "schema_version": "1.0", "title": "t", "checks": 3}')


def test_read_json_of_a_directory_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="cannot be read.*saved as .json"):
        read_json(tmp_path)


def test_read_json_errors_name_the_file(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        read_json(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataFileError, match="is not a JSON file"):
        read_json(bad)


floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=examples(30), deadline=None)
@given(st.lists(st.one_of(floats, st.none()), min_size=1, max_size=30), floats)
def test_round_trip_of_arbitrary_floats(values, error):
    monitor = {
        "kind": "monitor",
        "findings": [],
        "series": {"step": list(range(len(values))), "loss": values, "metrics": {}},
    }
    check = {"kind": "gradient_check", "passed": False, "max_rel_error": error}
    report = RunReport.from_objects(checks=[check], monitor=monitor)
    back = loads(dumps(report))
    assert back == report
    decoded = [None if v is None else float(v) for v in back.monitor["series"]["loss"]]
    for original, again in zip(values, decoded, strict=True):
        assert (
            (original is None and again is None)
            or (math.isnan(original) and math.isnan(again))
            or original == again
        )
