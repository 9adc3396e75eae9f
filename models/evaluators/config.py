"""`evaluators.toml`: the evaluators a team keeps with its code, read into plain records.

Every error names the file, the evaluator and what is wrong, so a typo is fixed in one go. The
format (docs/evaluators.md, examples/evaluators.toml):

    builtins = true            # also run the built-in checks (default); false, or a list of names

    [[evaluator]]
    name = "helpful"           # becomes feedback.name
    version = "2"              # a new version scores again, keeping the old rows
    kind = "llm"               # or "code"
    applies_to = "model=gpt-4o&tag=topic:billing"   # the explorer's filter syntax
    sample_rate = 0.1          # 0 < rate <= 1
    sample_group = "weekly"    # optional: evaluators sharing a group see the same events
    endpoint = "openai"        # llm: a named endpoint (docs/playground.md)
    model = "gpt-4o-mini"
    answer = "pass_fail"       # or "score_1_5", or "labels" with labels = [...]
    rubric = "Is {output} a helpful answer to {input}?"
    # code: function = "my_checks:has_citation"  (module on the working directory's path)
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.errors import ConfigError

DEFAULT_FILE = "evaluators.toml"
KINDS = ("code", "llm")
ANSWERS = ("pass_fail", "score_1_5", "labels")
STRUCTURED = ("auto", "always", "never")
RUBRIC_VARIABLES = ("input", "output", "system_prompt", "context", "correction")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_FUNCTION = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

_COMMON = {"name", "version", "kind", "applies_to", "sample_rate", "sample_group",
           "description"}
_KEYS = {
    "code": _COMMON | {"function", "builtin"},
    "llm": _COMMON | {"endpoint", "model", "rubric", "rubric_file", "answer", "labels",
                      "structured", "temperature", "max_tokens", "system"},
}


@dataclass(frozen=True)
class EvaluatorSpec:
    name: str
    version: str
    kind: str  # 'code' | 'llm'
    applies_to: str = ""  # filter text (models.filters.parse_where)
    sample_rate: float = 1.0
    sample_group: str | None = None
    function: str | None = None  # code: "module:function"
    builtin: str | None = None  # code: the name of a built-in check
    endpoint: str | None = None  # llm
    model: str | None = None
    rubric: str | None = None
    answer: str = "pass_fail"
    labels: tuple[str, ...] = ()
    structured: str = "auto"
    temperature: float | None = 0.0
    max_tokens: int | None = 300
    system: str | None = None
    source: str = "built-in"  # the file it was declared in
    description: str = ""

    @property
    def sample_key(self) -> str:
        return self.sample_group or self.name

    @property
    def feedback_source(self) -> str:
        return "llm_judge" if self.kind == "llm" else "code"

    def describe(self) -> dict[str, Any]:
        """What the run records in `evaluator_runs.evaluators` (no rubric text, no secrets)."""
        out: dict[str, Any] = {"name": self.name, "version": self.version, "kind": self.kind,
                               "applies_to": self.applies_to, "sample_rate": self.sample_rate,
                               "sample_group": self.sample_group}
        if self.kind == "llm":
            out.update(endpoint=self.endpoint, model=self.model, answer=self.answer,
                       labels=list(self.labels))
        else:
            out["function"] = self.function or f"builtin:{self.builtin}"
        return out


@dataclass(frozen=True)
class Config:
    evaluators: tuple[EvaluatorSpec, ...]
    path: str | None = None  # None: the built-ins alone, no file
    extra: dict[str, Any] = field(default_factory=dict)


def _fail(path: str, where: str, what: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {what}")


def builtin_specs(names: list[str] | None = None, source: str = "built-in"
                  ) -> list[EvaluatorSpec]:
    from models.evaluators.builtins import BUILTINS

    chosen = list(BUILTINS) if names is None else names
    return [EvaluatorSpec(name=n, version=BUILTINS[n].version, kind="code", builtin=n,
                          source=source, description=BUILTINS[n].summary) for n in chosen]


def default_config() -> Config:
    """No evaluators.toml: the built-ins over every LLM event."""
    return Config(tuple(builtin_specs()))


def _rate(path: str, where: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise _fail(path, where, f"sample_rate must be a number in (0, 1], got {raw!r}")
    if not 0.0 < float(raw) <= 1.0:
        raise _fail(path, where, f"sample_rate must be in (0, 1], got {raw!r}")
    return float(raw)


def _rubric_variables(path: str, where: str, rubric: str) -> None:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(rubric) if f is not None]
    except ValueError as exc:
        raise _fail(path, where, f"rubric is not a valid template ({exc}); write literal "
                    "braces as {{ and }}") from exc
    for name in fields:
        if name not in RUBRIC_VARIABLES:
            raise _fail(path, where, f"rubric uses {{{name}}}; the variables are "
                        + ", ".join(f"{{{v}}}" for v in RUBRIC_VARIABLES))


def _spec(path: str, base: Path, index: int, raw: Any) -> EvaluatorSpec:
    from models.filters import FilterError, parse_where

    where = f"evaluator #{index + 1}"
    if not isinstance(raw, dict):
        raise _fail(path, where, "each [[evaluator]] must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, where, f"name must be letters, digits, _ . : - (got {name!r})")
    where = f"evaluator {name!r}"
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _fail(path, where, f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    unknown = sorted(set(raw) - _KEYS[kind])
    if unknown:
        raise _fail(path, where, f"unknown key(s) {', '.join(unknown)} for kind {kind!r}; "
                    f"known: {', '.join(sorted(_KEYS[kind]))}")
    version = raw.get("version", "1")
    if isinstance(version, int) and not isinstance(version, bool):
        version = str(version)
    if not isinstance(version, str) or not version.strip():
        raise _fail(path, where, f"version must be a string such as \"1\" (got {version!r})")
    applies_to = raw.get("applies_to", "")
    if not isinstance(applies_to, str):
        raise _fail(path, where, "applies_to must be a filter string such as 'model=gpt-4o'")
    try:
        parse_where(applies_to)
    except FilterError as exc:
        raise _fail(path, where, f"applies_to: {exc}") from exc
    group = raw.get("sample_group")
    if group is not None and (not isinstance(group, str) or not group):
        raise _fail(path, where, "sample_group must be a non-empty string")
    spec = EvaluatorSpec(name=name, version=version.strip(), kind=kind, applies_to=applies_to,
                         sample_rate=_rate(path, where, raw.get("sample_rate", 1.0)),
                         sample_group=group, source=path,
                         description=str(raw.get("description", "")))
    if kind == "code":
        return _code(path, where, raw, spec)
    return _llm(path, base, where, raw, spec)


def _code(path: str, where: str, raw: dict, spec: EvaluatorSpec) -> EvaluatorSpec:
    from models.evaluators.builtins import BUILTINS

    function, builtin = raw.get("function"), raw.get("builtin")
    if (function is None) == (builtin is None):
        raise _fail(path, where, "a code evaluator needs exactly one of function = "
                    "\"module:function\" or builtin = \"<name>\"")
    if builtin is not None and builtin not in BUILTINS:
        raise _fail(path, where, f"no built-in {builtin!r}; built-ins: {', '.join(BUILTINS)}")
    if function is not None and (not isinstance(function, str) or not _FUNCTION.match(function)):
        raise _fail(path, where, f"function must look like \"my_module:my_function\" "
                    f"(got {function!r})")
    return replace(spec, function=function, builtin=builtin)


def _llm(path: str, base: Path, where: str, raw: dict, spec: EvaluatorSpec) -> EvaluatorSpec:
    model = raw.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _fail(path, where, "an llm evaluator needs model = \"<judge model>\"")
    endpoint = raw.get("endpoint")
    if endpoint is not None and not isinstance(endpoint, str):
        raise _fail(path, where, "endpoint must be the name of an endpoint (docs/playground.md)")
    rubric, rubric_file = raw.get("rubric"), raw.get("rubric_file")
    if (rubric is None) == (rubric_file is None):
        raise _fail(path, where, "an llm evaluator needs exactly one of rubric = \"...\" or "
                    "rubric_file = \"path\"")
    if rubric_file is not None:
        file = (base / str(rubric_file))
        try:
            rubric = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise _fail(path, where, f"cannot read rubric_file {file}: {exc.strerror}") from exc
    if not isinstance(rubric, str) or not rubric.strip():
        raise _fail(path, where, "rubric must be non-empty text")
    _rubric_variables(path, where, rubric)
    answer = raw.get("answer", "pass_fail")
    if answer not in ANSWERS:
        raise _fail(path, where, f"answer must be one of {', '.join(ANSWERS)} (got {answer!r})")
    labels = raw.get("labels")
    if answer == "labels":
        if (not isinstance(labels, list) or len(labels) < 2
                or not all(isinstance(x, str) and x.strip() for x in labels)):
            raise _fail(path, where, "answer = \"labels\" needs labels = [\"a\", \"b\", ...] "
                        "(two or more strings)")
        if len({x.strip().lower() for x in labels}) != len(labels):
            raise _fail(path, where, "labels must be distinct")
    elif labels is not None:
        raise _fail(path, where, f"labels are only for answer = \"labels\" (answer is {answer!r})")
    structured = raw.get("structured", "auto")
    if structured not in STRUCTURED:
        raise _fail(path, where, f"structured must be one of {', '.join(STRUCTURED)}")
    temperature = raw.get("temperature", 0.0)
    if temperature is not None and (isinstance(temperature, bool)
                                    or not isinstance(temperature, int | float)):
        raise _fail(path, where, "temperature must be a number")
    max_tokens = raw.get("max_tokens", 300)
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                   or max_tokens < 1):
        raise _fail(path, where, "max_tokens must be a positive integer")
    system = raw.get("system")
    if system is not None and not isinstance(system, str):
        raise _fail(path, where, "system must be text")
    return replace(spec, endpoint=endpoint, model=model.strip(), rubric=rubric, answer=answer,
                   labels=tuple(x.strip() for x in labels or ()), structured=structured,
                   temperature=None if temperature is None else float(temperature),
                   max_tokens=max_tokens, system=system)


def parse(text: str, path: str = DEFAULT_FILE, base: Path | None = None) -> Config:
    """A config from TOML text; `path` names the file in errors, `base` resolves rubric_file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(data) - {"evaluator", "builtins"})
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; write "
                          "evaluators as [[evaluator]] tables (and optionally builtins = ...)")
    raw_list = data.get("evaluator", [])
    if not isinstance(raw_list, list):
        raise ConfigError(f"{path}: evaluators are [[evaluator]] tables (an array of tables)")
    specs = [_spec(path, base or Path(path).parent, i, raw) for i, raw in enumerate(raw_list)]
    from models.evaluators.builtins import BUILTINS

    builtins = data.get("builtins", True)
    if builtins is True:
        names = list(BUILTINS)
    elif builtins is False:
        names = []
    elif isinstance(builtins, list) and all(isinstance(x, str) for x in builtins):
        bad = [x for x in builtins if x not in BUILTINS]
        if bad:
            raise ConfigError(f"{path}: builtins: no built-in {bad[0]!r}; built-ins: "
                              f"{', '.join(BUILTINS)}")
        names = list(dict.fromkeys(builtins))
    else:
        raise ConfigError(f"{path}: builtins must be true, false or a list of built-in names")
    declared = {s.name for s in specs}
    specs += [s for s in builtin_specs(names, source=path) if s.name not in declared]
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise ConfigError(f"{path}: evaluator {s.name!r}: the name is declared twice")
        seen.add(s.name)
    return Config(tuple(specs), path)


def load(path: str | Path | None = None) -> Config:
    """The config at `path`, else ./evaluators.toml when it exists, else the built-ins alone."""
    if path is None:
        default = Path(DEFAULT_FILE)
        if not default.is_file():
            return default_config()
        path = default
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the evaluators file: {exc.strerror}") from exc
    return parse(text, str(path), path.parent)


def select(config: Config, only: list[str] | None = None,
           sample_rate: float | None = None) -> Config:
    """The config narrowed to `only` (names) and with every rate set to `sample_rate`."""
    specs = list(config.evaluators)
    if only:
        names = {s.name for s in specs}
        for n in only:
            if n not in names:
                raise ConfigError(f"{config.path or 'built-ins'}: no evaluator named {n!r}; "
                                  f"known: {', '.join(sorted(names))}")
        specs = [s for s in specs if s.name in set(only)]
    if sample_rate is not None:
        if not 0.0 < sample_rate <= 1.0:
            raise ConfigError(f"--sample-rate must be in (0, 1], got {sample_rate}")
        specs = [replace(s, sample_rate=sample_rate) for s in specs]
    return replace(config, evaluators=tuple(specs))
