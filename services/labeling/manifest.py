"""Ground Truth manifests: the input manifest, the label category file, and output.manifest.

The output format is the one Ground Truth writes for image classification (sms-data-output): each
input line plus `<attr>` (the label's index in the category list) and `<attr>-metadata` with
class-name, confidence, type, job-name, human-annotated and creation-date. Real jobs write the label
as an integer and job-name as `labeling-job/<lowercased name>`; the doc examples write "0" and the
bare name. The parser accepts all of these; the writer writes what real jobs write.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

SINGLE_TYPE = "groundtruth/image-classification"
MULTI_TYPE = "groundtruth/image-classification-multilabel"
CATEGORY_DOC_VERSION = "2018-11-28"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
_TOO_DEEP = "is nested too deeply to read"
_TOO_LONG_NUMBER = "holds a number too long to read"
MAX_LINE_CHARS = 100_000  # "Each JSON object in the manifest file can be no larger than 100,000 characters."


@dataclass(frozen=True)
class LabeledObject:
    """One line of an output manifest."""

    source_ref: str
    label_indices: tuple[int, ...]  # one index for single label; any number for multi-label
    class_names: tuple[str, ...]
    confidences: tuple[float, ...]
    human_annotated: bool = True
    job_name: str = ""
    creation_date: str = ""
    multi: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False)  # other keys, passed through

    @property
    def label(self) -> str:
        return ", ".join(self.class_names)

    @property
    def confidence(self) -> float:
        return min(self.confidences) if self.confidences else 0.0

    def confidence_text(self) -> str:
        """Each label's confidence as the job wrote it (two decimals, as Ground Truth writes them),
        in label order: a multi-label object's lowest alone would hide the others."""
        return ", ".join(f"{c:.2f}" for c in self.confidences) or "0.00"


@dataclass(frozen=True)
class ManifestProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParsedManifest:
    objects: tuple[LabeledObject, ...]
    problems: tuple[ManifestProblem, ...]
    label_attribute: str
    categories: tuple[str, ...]  # index -> class name, as far as the manifest tells
    job_names: tuple[str, ...]
    unlabeled: int = 0  # lines without a label (failed objects)

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.objects)

    def counts(self) -> dict[str, int]:
        return label_counts(self.objects)


def label_counts(objects: tuple[LabeledObject, ...] | list[LabeledObject]) -> dict[str, int]:
    """Objects per class name (a multi-label object counts once for each of its labels)."""
    c: Counter[str] = Counter()
    for obj in objects:
        for name in obj.class_names:
            c[name] += 1
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


# -- input side ------------------------------------------------------------------------------
def input_manifest(uris: list[str]) -> str:
    """One `{"source-ref": ...}` line per image, in the order given."""
    return "".join(json.dumps({"source-ref": u}) + "\n" for u in uris)


def label_category_document(labels: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {"document-version": CATEGORY_DOC_VERSION, "labels": [{"label": label} for label in labels]}


def parse_label_categories(text: str) -> tuple[str, ...]:
    doc = json.loads(text)
    return tuple(str(item["label"]) for item in doc["labels"])


def parse_input_manifest(text: str) -> tuple[list[dict[str, Any]], list[ManifestProblem]]:
    objects: list[dict[str, Any]] = []
    problems: list[ManifestProblem] = []
    for n, obj in _json_lines(text, problems):
        if not isinstance(obj, dict) or not ({"source-ref", "source"} & set(obj)):
            problems.append(ManifestProblem(n, "needs a source-ref (or source) key"))
            continue
        objects.append(obj)
    return objects, problems


# -- output side -----------------------------------------------------------------------------
def job_name_field(job_name: str) -> str:
    """What real jobs write in job-name: labeling-job/<lowercased name>."""
    return job_name if job_name.startswith("labeling-job/") else f"labeling-job/{job_name.lower()}"


def bare_job_name(value: str) -> str:
    return value.removeprefix("labeling-job/")


def output_line(obj: LabeledObject, attribute: str) -> str:
    """One output.manifest line, keys in Ground Truth's order."""
    out: dict[str, Any] = {"source-ref": obj.source_ref}
    if obj.extra:
        skip = ("source-ref", attribute, f"{attribute}-metadata")
        out.update({k: v for k, v in obj.extra.items() if k not in skip})
    meta: dict[str, Any]
    if obj.multi:
        out[attribute] = list(obj.label_indices)
        meta = {
            "class-map": {str(i): n for i, n in zip(obj.label_indices, obj.class_names, strict=True)},
            "confidence-map": {str(i): c for i, c in zip(obj.label_indices, obj.confidences, strict=True)},
            "type": MULTI_TYPE,
        }
    else:
        out[attribute] = obj.label_indices[0]
        meta = {"class-name": obj.class_names[0], "confidence": obj.confidences[0], "type": SINGLE_TYPE}
    meta["job-name"] = job_name_field(obj.job_name)
    meta["human-annotated"] = "yes" if obj.human_annotated else "no"
    meta["creation-date"] = obj.creation_date
    out[f"{attribute}-metadata"] = meta
    return json.dumps(out, separators=(",", ":"))


def write_output_manifest(objects: list[LabeledObject] | tuple[LabeledObject, ...], attribute: str) -> str:
    return "".join(output_line(o, attribute) + "\n" for o in objects)


def parse_output_manifest(
    text: str, attribute: str | None = None, categories: tuple[str, ...] | None = None
) -> ParsedManifest:
    """Parse an output manifest; every bad line is reported with its number, good lines kept."""
    objects: list[LabeledObject] = []
    problems: list[ManifestProblem] = []
    found_categories: dict[int, str] = {}
    job_names: list[str] = []
    unlabeled = 0
    attr = attribute
    for n, obj in _json_lines(text, problems, max_chars=MAX_LINE_CHARS):
        if not isinstance(obj, dict):
            problems.append(ManifestProblem(n, "is not a JSON object"))
            continue
        src = obj.get("source-ref")
        if not isinstance(src, str) or not src.startswith("s3://"):
            problems.append(ManifestProblem(n, "needs a source-ref with an s3:// URI"))
            continue
        if attr is None:
            attr = _guess_attribute(obj)
            if attr is None:
                problems.append(
                    ManifestProblem(n, "has no <label>-metadata key, so no label attribute was found")
                )
                continue
        meta = obj.get(f"{attr}-metadata")
        if attr not in obj:
            if isinstance(meta, dict) and "failure-reason" in meta:
                unlabeled += 1
                continue
            problems.append(ManifestProblem(n, f"has no '{attr}' label"))
            continue
        if not isinstance(meta, dict):
            problems.append(ManifestProblem(n, f"has no '{attr}-metadata' object"))
            continue
        try:
            labeled = _labeled(obj, attr, meta, categories)
        except ValueError as exc:
            problems.append(ManifestProblem(n, str(exc)))
            continue
        for i, name in zip(labeled.label_indices, labeled.class_names, strict=True):
            known = found_categories.get(i)
            if known is not None and known != name:
                problems.append(
                    ManifestProblem(n, f"label {i} is '{name}' here but '{known}' on an earlier line")
                )
                break
            twin = next((k for k, v in found_categories.items() if v == name and k != i), None)
            if twin is not None:
                problems.append(
                    ManifestProblem(n, f"'{name}' is label {i} here but label {twin} on an earlier line")
                )
                break
            found_categories[i] = name
        else:
            objects.append(labeled)
            if labeled.job_name and labeled.job_name not in job_names:
                job_names.append(labeled.job_name)
    if categories:
        cats = tuple(categories)
    else:
        top = max(found_categories, default=-1)
        cats = tuple(found_categories.get(i, f"(label {i})") for i in range(top + 1))
    return ParsedManifest(tuple(objects), tuple(problems), attr or "", cats, tuple(job_names), unlabeled)


def _labeled(
    obj: dict[str, Any], attr: str, meta: dict[str, Any], categories: tuple[str, ...] | None
) -> LabeledObject:
    kind = meta.get("type")
    if kind not in (SINGLE_TYPE, MULTI_TYPE):
        raise ValueError(f"type is {kind!r}; expected {SINGLE_TYPE} or {MULTI_TYPE}")
    human = meta.get("human-annotated", "yes")
    if human not in ("yes", "no"):
        raise ValueError(f"human-annotated is {human!r}; expected 'yes' or 'no'")
    job = meta.get("job-name", "")
    if not isinstance(job, str):
        raise ValueError("job-name is not a string")
    created = meta.get("creation-date", "")
    if not isinstance(created, str):
        raise ValueError("creation-date is not a string")
    extra = {k: v for k, v in obj.items() if k not in ("source-ref", attr, f"{attr}-metadata")}
    if kind == SINGLE_TYPE:
        index = _index(obj[attr])
        name = meta.get("class-name")
        if not isinstance(name, str) or not name:
            raise ValueError("class-name is missing from the metadata")
        if categories and (index >= len(categories) or categories[index] != name):
            expected = categories[index] if index < len(categories) else "(no such label)"
            raise ValueError(f"label {index} is '{name}' but the label list says '{expected}'")
        conf = _confidence(meta.get("confidence", 0.0))
        return LabeledObject(obj["source-ref"], (index,), (name,), (conf,), human == "yes", bare_job_name(job),
                             created, False, extra)  # fmt: skip
    raw = obj[attr]
    if not isinstance(raw, list) or not raw:
        raise ValueError("a multi-label value must be a non-empty list of label indices")
    indices = tuple(_index(v) for v in raw)
    cmap = meta.get("class-map")
    if not isinstance(cmap, dict):
        raise ValueError("class-map is missing from the metadata")
    conf_map = meta.get("confidence-map") or {}
    try:
        names = tuple(str(cmap[str(i)]) for i in indices)
    except KeyError as exc:
        raise ValueError(f"class-map has no name for label {exc.args[0]}") from None
    confs = tuple(_confidence(conf_map.get(str(i), 0.0)) for i in indices)
    return LabeledObject(obj["source-ref"], indices, names, confs, human == "yes", bare_job_name(job), created,
                         True, extra)  # fmt: skip


def _index(value: Any) -> int:
    """A label index written as 0 or "0"."""
    if isinstance(value, bool):
        raise ValueError(f"label {value!r} is not a label index")
    if isinstance(value, int):
        index = value
    elif isinstance(value, str) and value.strip().isdigit():
        index = int(value.strip())
    else:
        raise ValueError(f'label {value!r} is not a label index (expected 0, 1, ... or "0", "1", ...)')
    if index < 0:
        raise ValueError(f"label {index} is negative")
    return index


def _confidence(value: Any) -> float:
    try:
        conf = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"confidence {value!r} is not a number") from None
    if not 0.0 <= conf <= 1.0:
        raise ValueError(f"confidence {conf} is outside 0..1")
    return conf


def _guess_attribute(obj: dict[str, Any]) -> str | None:
    for key, value in obj.items():
        if (
            key.endswith("-metadata")
            and isinstance(value, dict)
            and value.get("type", "").startswith("groundtruth/")
        ):
            return key.removesuffix("-metadata")
    return None


def _json_lines(
    text: str, problems: list[ManifestProblem], max_chars: int | None = None
) -> Iterator[tuple[int, Any]]:
    """Each non-blank line's JSON value with its line number; a line that cannot be read is added
    to `problems` (with its number) and skipped, never raised."""
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if not raw.strip():
            continue
        if max_chars is not None and len(raw) > max_chars:
            problems.append(ManifestProblem(n, f"longer than {max_chars} characters"))
            continue
        try:
            yield n, json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(ManifestProblem(n, f"not valid JSON ({exc.msg} at column {exc.colno})"))
        except ValueError:  # json's only other error: an integer past Python's digit limit
            problems.append(ManifestProblem(n, _TOO_LONG_NUMBER))
        except RecursionError:  # e.g. "[[[[…": deeper than the parser's stack
            problems.append(ManifestProblem(n, _TOO_DEEP))


# -- S3 layout -------------------------------------------------------------------------------
def output_manifest_uri(output_path: str, job_name: str) -> str:
    """Where Ground Truth writes output.manifest: <S3OutputPath>/<job>/manifests/output/output.manifest."""
    return f"{output_path.rstrip('/')}/{job_name}/manifests/output/output.manifest"


def job_prefix(output_path: str, job_name: str) -> str:
    return f"{output_path.rstrip('/')}/{job_name}/"
