"""Output manifest format: write, parse, round-trip, tolerant reading, line-numbered errors."""

from __future__ import annotations

import json

from services.labeling import manifest as mf

DOC_LINE = ('{"source-ref":"s3://AWSDOC-EXAMPLE-BUCKET/example_image.jpg","species":"0","species-metadata":'
            '{"class-name":"dog","confidence":0.00,"type":"groundtruth/image-classification","job-name":'
            '"identify-animal-species","human-annotated":"yes","creation-date":"2018-10-18T22:18:13.527256"}}')  # fmt: skip


def objects() -> list[mf.LabeledObject]:
    return [
        mf.LabeledObject("s3://b/images/a.jpg", (1,), ("Car",), (0.0,), True, "Vehicle-Labels", "2026-11-27T10:00:00.000001"),
        mf.LabeledObject("s3://b/images/b.jpg", (0,), ("Airplane",), (0.67,), True, "Vehicle-Labels", "2026-11-27T10:00:01.000001"),
        mf.LabeledObject("s3://b/images/c.jpg", (1,), ("Car",), (1.0,), False, "Vehicle-Labels", "2026-11-27T10:00:02.000001"),
    ]  # fmt: skip


def test_writer_uses_ground_truths_exact_format() -> None:
    line = mf.write_output_manifest(objects()[:1], "vehicle").splitlines()[0]
    obj = json.loads(line)
    assert list(obj) == ["source-ref", "vehicle", "vehicle-metadata"]
    assert obj["vehicle"] == 1
    assert obj["vehicle-metadata"] == {
        "class-name": "Car", "confidence": 0.0, "type": "groundtruth/image-classification",
        "job-name": "labeling-job/vehicle-labels", "human-annotated": "yes",
        "creation-date": "2026-11-27T10:00:00.000001",
    }  # fmt: skip


def test_round_trip() -> None:
    text = mf.write_output_manifest(objects(), "vehicle")
    parsed = mf.parse_output_manifest(text)
    assert parsed.problems == ()
    assert parsed.label_attribute == "vehicle"
    assert [o.source_ref for o in parsed.objects] == [o.source_ref for o in objects()]
    assert [o.label for o in parsed.objects] == ["Car", "Airplane", "Car"]
    assert parsed.objects[2].human_annotated is False
    assert parsed.categories == ("Airplane", "Car")
    assert parsed.counts() == {"Car": 2, "Airplane": 1}
    assert mf.write_output_manifest(parsed.objects, "vehicle") == text


def test_parser_accepts_string_and_int_labels_and_both_job_name_forms() -> None:
    doc = mf.parse_output_manifest(DOC_LINE)
    assert doc.problems == ()
    assert doc.objects[0].label_indices == (0,) and doc.objects[0].job_name == "identify-animal-species"
    as_int = DOC_LINE.replace('"species":"0"', '"species":0').replace(
        '"identify-animal-species"', '"labeling-job/identify-animal-species"')  # fmt: skip
    parsed = mf.parse_output_manifest(as_int)
    assert parsed.problems == ()
    assert parsed.objects[0].label_indices == (0,)
    assert parsed.objects[0].job_name == "identify-animal-species"
    assert parsed.objects[0].class_names == ("dog",)


def test_multi_label_round_trip() -> None:
    obj = mf.LabeledObject(
        "s3://b/x.jpg", (0, 2), ("Airplane", "Ferry"), (0.9, 0.8), True, "j", "2026-01-01T00:00:00", True
    )
    text = mf.write_output_manifest([obj], "tags")
    meta = json.loads(text)["tags-metadata"]
    assert meta["type"] == "groundtruth/image-classification-multilabel"
    assert meta["class-map"] == {"0": "Airplane", "2": "Ferry"}
    back = mf.parse_output_manifest(text)
    assert back.objects[0] == obj


def test_malformed_lines_are_reported_with_their_numbers() -> None:
    good = mf.write_output_manifest(objects(), "vehicle").splitlines()
    lines = [
        good[0],
        "{not json",
        json.dumps({"vehicle": 1}),
        good[1].replace('"vehicle":0', '"vehicle":"zero"'),
        good[2].replace("groundtruth/image-classification", "groundtruth/bounding-box"),
        "",
        good[1].replace('"class-name":"Airplane"', '"class-name":"Car"'),
        good[2],
    ]
    parsed = mf.parse_output_manifest("\n".join(lines))
    got = {p.line: p.message for p in parsed.problems}
    assert set(got) == {2, 3, 4, 5, 7}
    assert "not valid JSON" in got[2]
    assert "source-ref" in got[3]
    assert "not a label index" in got[4]
    assert "groundtruth/bounding-box" in got[5]
    assert "'Car' here but 'Airplane'" in got[7] or "'Car'" in got[7]
    assert len(parsed.objects) == 2
    assert not parsed.ok


def test_category_check_and_failed_objects() -> None:
    text = mf.write_output_manifest(objects(), "vehicle")
    bad = mf.parse_output_manifest(text, categories=("Car", "Airplane"))
    assert bad.problems and "label list says" in bad.problems[0].message
    failed = json.dumps({"source-ref": "s3://b/z.jpg", "vehicle-metadata": {"failure-reason": "timeout"}})
    parsed = mf.parse_output_manifest(text + failed + "\n", "vehicle")
    assert parsed.unlabeled == 1 and parsed.problems == ()


def test_input_manifest_and_categories() -> None:
    text = mf.input_manifest(["s3://b/1.jpg", "s3://b/2.jpg"])
    assert text == '{"source-ref": "s3://b/1.jpg"}\n{"source-ref": "s3://b/2.jpg"}\n'
    objs, problems = mf.parse_input_manifest(text + "oops\n")
    assert len(objs) == 2 and problems[0].line == 3
    # Both parsers read lines with one reader: the same message, with the column, for a bad line.
    assert problems[0].message == "not valid JSON (Expecting value at column 1)"
    assert mf.parse_output_manifest("oops\n").problems[0].message == problems[0].message
    doc = mf.label_category_document(["Car", "Ferry"])
    assert doc == {"document-version": "2018-11-28", "labels": [{"label": "Car"}, {"label": "Ferry"}]}
    assert mf.parse_label_categories(json.dumps(doc)) == ("Car", "Ferry")
    assert mf.output_manifest_uri("s3://b/out/", "job") == "s3://b/out/job/manifests/output/output.manifest"


def test_locations_beside_the_images_or_the_data_steps_output() -> None:
    from services.labeling.setup import locations

    loc = locations("s3://b/ground-truth-demo/images/", "job")
    assert loc.manifest_uri == "s3://b/ground-truth-demo/labeling/job/input.manifest"
    assert loc.output_path == "s3://b/ground-truth-demo/output"
    assert (
        locations("s3://b/ground-truth-demo/images/", "job", "s3://b/elsewhere/out/").output_path
        == "s3://b/elsewhere/out"
    )
    assert locations("s3://b/images/", "job").base == "s3://b/"


def test_lines_json_cannot_read_are_problems_not_crashes() -> None:
    # Both are valid JSON to a reader without limits; Python's parser refuses them with errors
    # other than JSONDecodeError (a plain ValueError, a RecursionError).
    long_number = '{"source-ref": "s3://b/1.jpg", "n": ' + "1" * 5000 + "}"
    deep = '{"source-ref": "s3://b/2.jpg", "n": ' + "[" * 100_000 + "]" * 100_000 + "}"
    good = '{"source-ref": "s3://b/3.jpg"}'
    objs, problems = mf.parse_input_manifest("\n".join([long_number, deep, good]))
    assert [o["source-ref"] for o in objs] == ["s3://b/3.jpg"]
    assert [(p.line, p.message) for p in problems] == [
        (1, "holds a number too long to read"),
        (2, "is nested too deeply to read"),
    ]
    parsed = mf.parse_output_manifest("\n".join([long_number, deep]))
    assert [p.line for p in parsed.problems] == [1, 2] and not parsed.objects
