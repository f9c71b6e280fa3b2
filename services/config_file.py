"""The session's choices as a TOML file: `sagewiz export` writes it, `sagewiz apply` and
`sagewiz --plain --config` read it.

Layout (every table optional):

    version = 1
    region = "eu-north-1"
    account = "123456789012"        # optional guard: apply refuses another account
    [notebook]  name, and the Notebook step's settings (instance_type, volume_gb, ...)
    [bucket]    name
    [role]      arn
    [data]      prefix, and the Data step's settings (source, ...)
    [labels]    categories, job, output_manifest, and the Labels step's settings
    [training]  job, model, and the Train step's settings (algorithm, instance_type, hyperparameters ...)
    [tuning]    job, and the Tune step's settings
    [extra.*]   anything else a step keeps in WizardState.extra

Errors name the key and the line: tomllib gives the line of a syntax error; for a bad value the
line is found by scanning the text for the key inside its table (TOML parsers keep no positions).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.errors import ValidationError
from services.regions import region_problem
from services.sagemaker_model import NameShape, name_rule
from services.state import WizardState

FORMAT_VERSION = 1
STEP_TABLES = ("notebook", "bucket", "role", "data", "labels", "training", "tuning")
TOP_KEYS = {"version", "region", "account", "extra", *STEP_TABLES}
# (table, key) -> WizardState field
FIELD_MAP: dict[tuple[str, str], str] = {
    ("notebook", "name"): "notebook_name",
    ("bucket", "name"): "bucket",
    ("role", "arn"): "role_arn",
    ("data", "prefix"): "data_prefix",
    ("labels", "categories"): "labels",
    ("labels", "job"): "labeling_job",
    ("labels", "output_manifest"): "output_manifest",
    ("training", "job"): "training_job",
    ("training", "model"): "model_name",
    ("tuning", "job"): "tuning_job",
}
# The API model's shape for each name the file may hold.
_NAME_SHAPES = {
    "notebook.name": NameShape.NOTEBOOK_INSTANCE,
    "labels.job": NameShape.LABELING_JOB,
    "training.job": NameShape.TRAINING_JOB,
    "training.model": NameShape.MODEL,
    "tuning.job": NameShape.TUNING_JOB,
}


class ConfigError(ValidationError):
    """A configuration file problem; `key` is the dotted key, `line` its line (0 when unknown)."""

    def __init__(self, path: str, key: str, line: int, message: str, hint: str = "") -> None:
        where = f"{path}, line {line}" if line else path
        super().__init__(
            f"configuration key {key}" if key else "configuration file", f"{where}: {message}", hint
        )
        self.key = key
        self.line = line
        self.path = path


@dataclass(frozen=True)
class SagewizConfig:
    """A validated configuration. `tables` holds each step's settings beyond the mapped fields."""

    region: str = ""
    account: str = ""
    state: dict[str, Any] = field(default_factory=dict)  # WizardState field -> value
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # step table -> its other keys
    extra: dict[str, Any] = field(default_factory=dict)  # [extra.*]
    source: str = ""

    def setting(self, table: str, key: str, default: Any = None) -> Any:
        return self.tables.get(table, {}).get(key, default)

    def to_state(self, state: WizardState | None = None) -> WizardState:
        """A WizardState holding these choices (a given state is updated in place)."""
        state = state or WizardState()
        values: dict[str, Any] = dict(self.state)
        if self.region:
            values["region"] = self.region
        if self.account:
            values["account"] = self.account
        state.update(**values)
        extra = dict(state.extra)
        extra.update({k: dict(v) for k, v in self.tables.items() if v})
        extra.update(self.extra)
        state.extra = extra
        return state


# -- export ------------------------------------------------------------------------------------
def config_from_state(state: WizardState) -> dict[str, Any]:
    """The TOML document (as a dict) for a WizardState; empty values are left out."""
    doc: dict[str, Any] = {"version": FORMAT_VERSION}
    if state.region:
        doc["region"] = state.region
    if state.account:
        doc["account"] = state.account
    tables: dict[str, dict[str, Any]] = {t: {} for t in STEP_TABLES}
    for (table, key), attr in FIELD_MAP.items():
        value = _tomlable(getattr(state, attr))  # a journal may hold anything: TOML holds no null
        if value not in ("", None, [], (), {}):
            tables[table][key] = value
    other: dict[str, Any] = {}
    for key, value in (state.extra or {}).items():
        clean = _tomlable(value)
        if clean is None:
            continue
        if key in tables and isinstance(clean, dict):
            for k, v in clean.items():
                tables[key].setdefault(k, v)  # a mapped field wins over a copy in extra
        else:
            other[key] = clean
    for table in STEP_TABLES:
        if tables[table]:
            doc[table] = tables[table]
    if other:
        doc["extra"] = other
    return doc


def dumps(state: WizardState, *, note: str = "") -> str:
    return _dumps_doc(config_from_state(state), note)


def _dumps_doc(doc: dict[str, Any], note: str) -> str:
    import tomli_w

    from services.terminal_text import safe_line

    header = [
        f"# sagewiz configuration, written {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        "# Replay it with:  sagewiz apply FILE --dry-run   (then without --dry-run)",
        "# No credentials are stored here: the AWS profile and keys come from your environment.",
    ]
    if note:
        header.append(f"# {safe_line(note, 200)}")
    return "\n".join(header) + "\n\n" + tomli_w.dumps(doc)


@dataclass(frozen=True)
class Exported:
    """A written configuration, and the values left out of it because `apply` would refuse them
    (a damaged or ill-typed journal line): each as "key: why"."""

    path: Path
    left_out: tuple[str, ...] = ()


def export(state: WizardState, path: Path | str, *, note: str = "") -> Exported:
    """Write `state`'s choices to `path`; the file is checked with the same rules `apply` reads it
    by, and a value they refuse is left out (and named) rather than written."""
    path = Path(path)
    if not str(path).strip():
        raise ValidationError("output file", "the file name is empty", "Give a file name, e.g. sagewiz.toml.")
    doc, left_out = _acceptable(config_from_state(state))
    text = _dumps_doc(doc, note)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # never leave a half-written file behind
    except OSError as exc:
        raise ValidationError(
            "output file", f"{path} could not be written: {exc.strerror}", "Pick a writable path."
        ) from exc
    return Exported(path, tuple(left_out))


def _acceptable(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`doc` without the values `validate` refuses (each removal named)."""
    import tomli_w

    left_out: list[str] = []
    for _ in range(200):  # each round removes one value; a journal holds far fewer
        try:
            loads(tomli_w.dumps(doc), "<export>")
            return doc, left_out
        except ConfigError as exc:
            if not exc.key or not _drop(doc, exc.key.split(".")):
                raise ValidationError(
                    "journal",
                    f"the session's choices cannot be written as a file apply accepts: {exc.message}",
                    "Run the wizard again to record fresh choices.",
                ) from exc
            left_out.append(f"{exc.key}: {exc.message.split(': ', 1)[-1]}")
    raise ValidationError("journal", "the session holds too many values apply would refuse")


def _drop(doc: dict[str, Any], parts: list[str]) -> bool:
    node: Any = doc
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        return False
    del node[parts[-1]]
    return True


def _tomlable(value: Any) -> Any:
    """TOML has no null: drop None; tuples and sets become lists; dataclasses become tables."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        out = {str(k): _tomlable(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return [x for x in (_tomlable(v) for v in items) if x is not None]
    if isinstance(value, (str, int, float, bool, datetime)):
        return value
    return str(value)


# -- load --------------------------------------------------------------------------------------
# A configuration is a few dozen lines; these bounds refuse anything else before it is parsed.
MAX_CONFIG_BYTES = 1_000_000
MAX_DEPTH = 8  # [extra.step.setting] is 3 deep; a table 5,000 deep would exhaust the parser's stack


def load(path: Path | str) -> SagewizConfig:
    from services.bounded_read import read_regular_file

    shown = str(path)
    try:
        raw = read_regular_file(path, MAX_CONFIG_BYTES, "configuration file")
    except ValidationError as exc:
        hint = (
            "Check the path, or write one with `sagewiz export FILE`."
            if "does not exist" in exc.message
            else exc.hint
        )
        raise ConfigError(shown, "", 0, exc.message, hint) from exc
    path = Path(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(str(path), "", line, "the file is not UTF-8 text", "Save it as UTF-8.") from exc
    return loads(text, str(path))


def loads(text: str, source: str = "<config>") -> SagewizConfig:
    too_deep = _nesting_problem(text)
    if too_deep:
        line, message = too_deep
        raise ConfigError(
            source, "", line, message, "A sagewiz configuration nests tables a few levels at most."
        )
    try:
        doc = tomllib.loads(text)
    except RecursionError as exc:
        raise ConfigError(source, "", 0, f"nested more than {MAX_DEPTH} levels deep") from exc
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
        line = int(m.group(1)) if m else 0
        if not m and "end of document" in msg:
            line = max(1, len(text.splitlines()))
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "invalid TOML"
        if m:
            reason += f" (column {m.group(2)})"
        raise ConfigError(
            source, "", line, f"not valid TOML: {reason}", "Fix the TOML syntax on that line."
        ) from exc
    return validate(doc, text, source)


def _nesting_problem(text: str) -> tuple[int, str] | None:
    """(line, why) when brackets or braces outside strings nest deeper than MAX_DEPTH (a cheap
    scan before the parser recurses), or a dotted header or key is longer than that."""
    depth = 0
    line = 1
    quote = ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
            if quote in ('"', "'"):
                quote = ""  # a one-line string ends with its line (an unclosed one is tomllib's to report)
        elif quote:
            if ch == "\\" and quote in ('"', '"""'):
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            i += 2
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH * 2:  # a table header's [[ ]] and an array of tables count twice
                return line, f"nested more than {MAX_DEPTH} levels deep"
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def _too_deep(doc: dict[str, Any]) -> str:
    """The dotted key (its first levels) of a value nested deeper than MAX_DEPTH; "" when none is."""
    stack: list[tuple[Any, list[str]]] = [(doc, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            return ".".join(path[:3])
        if isinstance(node, dict):
            stack.extend((v, [*path, str(k)]) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, [*path, str(i)]) for i, v in enumerate(node))
    return ""


def validate(doc: dict[str, Any], text: str = "", source: str = "<config>") -> SagewizConfig:
    lines = _KeyLines(text)

    def fail(key: str, message: str, hint: str = "") -> ConfigError:
        return ConfigError(source, key, lines.line_of(key), message, hint)

    deep = _too_deep(doc)
    if deep:
        raise fail(
            deep, f"nested more than {MAX_DEPTH} levels deep", "Write the key at most a few levels deep."
        )

    for key in doc:
        if key not in TOP_KEYS:
            from services.config_schema import unknown_key

            raise fail(key, *unknown_key(key, TOP_KEYS, "the file"))
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise fail(
            "version",
            f"version {version!r} is not supported",
            f"This sagewiz reads version {FORMAT_VERSION}.",
        )
    region = _str(doc, "region", fail)
    if region:
        problem = region_problem(region)
        if problem:
            raise fail("region", problem, "Use a region name like eu-north-1.")
    account = _str(doc, "account", fail)
    if account and not re.fullmatch(r"\d{12}", account):
        raise fail(
            "account", f"'{account}' is not a 12-digit AWS account ID", "Remove it or use the 12-digit ID."
        )

    from services.config_schema import check_across, check_table

    state: dict[str, Any] = {}
    tables: dict[str, dict[str, Any]] = {}
    for table in STEP_TABLES:
        body = doc.get(table, {})
        if not isinstance(body, dict):
            raise fail(table, f"'{table}' must be a table ([{table}])", f"Write it as a [{table}] section.")
        bad = check_table(table, body)  # unknown keys, types, ranges, allowed values
        if bad:
            raise fail(*bad)
        rest = {}
        for key, value in body.items():
            attr = FIELD_MAP.get((table, key))
            if attr:
                state[attr] = _check_field(table, key, value, fail)
            else:
                rest[key] = value
        _check_settings(table, rest, fail)
        tables[table] = rest
    across = check_across(doc)  # rules that join tables
    if across:
        raise fail(*across)
    extra = doc.get("extra", {})
    if not isinstance(extra, dict):
        raise fail("extra", "'extra' must be a table", "Write it as [extra] or [extra.<name>] sections.")
    return SagewizConfig(region, account, state, tables, dict(extra), source)


def _str(doc: dict[str, Any], key: str, fail: Any) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str):
        raise fail(
            key,
            f"'{key}' must be a string in quotes, not {type(value).__name__}",
            f'Write it as {key} = "..."',
        )
    return value.strip()


def _check_field(table: str, key: str, value: Any, fail: Any) -> Any:
    dotted = f"{table}.{key}"
    if key == "categories":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(
                dotted, "labels must be a list of strings", 'Write it as categories = ["Car", "Ferry"]'
            )
        try:
            from services.labeling.rules import check_labels

            check_labels(value)
        except ImportError:
            if len({v.strip() for v in value}) != len(value) or any(not v.strip() for v in value):
                raise fail(dotted, "labels must be non-empty and different from each other") from None
        except ValidationError as exc:
            raise fail(dotted, exc.message, exc.hint) from exc
        return [v.strip() for v in value]
    if not isinstance(value, str):
        raise fail(
            dotted,
            f"{dotted} must be a string in quotes, not {type(value).__name__}",
            f'Write it as {key} = "..."',
        )
    value = value.strip()
    if not value:
        return value
    if dotted == "bucket.name":
        from services.buckets.naming import validate_bucket_name

        try:
            validate_bucket_name(value)
        except ValidationError as exc:
            raise fail(dotted, exc.message, exc.hint) from exc
    elif dotted == "role.arn":
        from services.roles.listing import role_arn_problem

        problem = role_arn_problem(value)
        if problem:
            raise fail(dotted, problem, "Copy the ARN from the IAM console or `sagewiz export`.")
    elif dotted in {"data.prefix", "labels.output_manifest"}:
        from services.s3uri import parse_s3_uri

        try:
            parse_s3_uri(value, dotted)
        except ValidationError as exc:
            raise fail(dotted, exc.message, exc.hint) from exc
    elif dotted in _NAME_SHAPES:
        rule = name_rule(_NAME_SHAPES[dotted])
        limit = rule.max_length
        if not rule.matches(value):
            raise fail(
                dotted,
                f"'{value}' is not a valid SageMaker name (letters, digits and hyphens, at most {limit}, "
                "starting and ending with a letter or digit)",
                "Remove underscores, dots and spaces.",
            )
    return value


def _check_settings(table: str, rest: dict[str, Any], fail: Any) -> None:
    """The settings a step keeps beyond the mapped fields: only the shapes are checked here; the
    step's own service checks their meaning when the plan is built (before any AWS call)."""
    algo = rest.get("algorithm")
    if table == "training" and algo is not None:
        from services.algorithms import algorithms
        from services.terminal_text import echo

        known = list(algorithms())
        if algo not in known:
            raise fail(
                "training.algorithm",
                f"{echo(algo)} is not an algorithm sagewiz trains",
                f"Use one of: {', '.join(known)}.",
            )
    hp = rest.get("hyperparameters")
    if hp is not None:
        if not isinstance(hp, dict):
            raise fail(
                f"{table}.hyperparameters",
                "hyperparameters must be a table",
                f"Write it as [{table}.hyperparameters].",
            )
        for k, v in hp.items():
            if isinstance(v, (dict, list)):
                raise fail(
                    f"{table}.hyperparameters.{k}", "a hyperparameter value must be a string or a number"
                )
        algo = rest.get("algorithm")
        if isinstance(algo, str) and table == "training":
            try:
                from services.algorithms import validate as validate_hp

                problems = validate_hp(algo, {k: str(v) for k, v in hp.items()})
            except (ImportError, KeyError):
                problems = {}  # an unknown algorithm is reported by the Train step's own check
            # A missing required value is for the Train step to fill in; wrong values are errors now.
            problems = {k: m for k, m in problems.items() if not m.endswith("is required.")}
            if problems:
                name, message = next(iter(problems.items()))
                key = f"{table}.hyperparameters.{name}" if name in hp else f"{table}.hyperparameters"
                raise fail(key, message, "Fix the value or remove it to use the algorithm's default.")
    for key in ("free_of_pii", "free_of_adult_content", "acknowledged", "early_stopping", "spot"):
        v = rest.get(key)
        if v is not None and not isinstance(v, bool):
            raise fail(
                f"{table}.{key}",
                f"{key} must be true or false, not {v!r}",
                f"Write {key} = true (no quotes).",
            )
    for key in ("instance_count", "volume_gb", "max_runtime_seconds", "max_jobs", "max_parallel_jobs"):
        v = rest.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise fail(f"{table}.{key}", f"{key} must be a whole number of at least 1, not {v!r}")


class _KeyLines:
    """Line numbers of `table.key` in TOML text (tables, dotted tables, inline `a.b = `)."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-.]+(?:\s*\.\s*[A-Za-z0-9_\-"']+)*)\s*=""")

    def __init__(self, text: str) -> None:
        self.index: dict[str, int] = {}
        table = ""
        for n, line in enumerate(text.splitlines(), start=1):
            h = self._HEADER.match(line)
            if h:
                table = _unquote_dotted(h.group(1))
                self.index.setdefault(table, n)
                continue
            k = self._KEY.match(line)
            if k:
                key = _unquote_dotted(k.group(1))
                self.index.setdefault(f"{table}.{key}" if table else key, n)

    def line_of(self, dotted: str) -> int:
        parts = dotted.split(".")
        while parts:  # the key itself, else the nearest enclosing table that is written out
            line = self.index.get(".".join(parts))
            if line:
                return line
            parts.pop()
        return 0


def _unquote_dotted(text: str) -> str:
    return ".".join(p.strip().strip('"').strip("'") for p in text.split("."))
