"""evaluators.toml: a good file parses; a bad one names the file, the evaluator and the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ConfigError
from models.evaluators import config
from models.evaluators.builtins import BUILTINS

GOOD = """
builtins = ["refusal"]

[[evaluator]]
name = "helpful"
version = 2
kind = "llm"
endpoint = "stub"
model = "gpt-4o-mini"
applies_to = "model=gpt-4o&tag=topic:billing"
sample_rate = 0.25
sample_group = "weekly"
answer = "labels"
labels = ["good", "bad", "off-topic"]
rubric = "Q: {input}\\nA: {output}\\nContext: {context}"

[[evaluator]]
name = "has_citation"
kind = "code"
function = "my_checks:has_citation"
sample_rate = 0.25
sample_group = "weekly"
"""


def test_a_good_file(tmp_path: Path) -> None:
    conf = config.parse(GOOD, "evaluators.toml")
    names = [s.name for s in conf.evaluators]
    assert names == ["helpful", "has_citation", "refusal"]
    helpful = conf.evaluators[0]
    assert helpful.version == "2" and helpful.labels == ("good", "bad", "off-topic")
    assert helpful.sample_key == conf.evaluators[1].sample_key == "weekly"
    assert helpful.feedback_source == "llm_judge"
    assert conf.evaluators[2].builtin == "refusal" and conf.evaluators[2].sample_rate == 1.0


def test_no_file_means_the_builtins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    conf = config.load()
    assert conf.path is None and [s.name for s in conf.evaluators] == list(BUILTINS)
    (tmp_path / "evaluators.toml").write_text("builtins = false\n", encoding="utf-8")
    assert config.load().evaluators == ()


def test_rubric_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "rubric.txt").write_text("Is {output} polite?", encoding="utf-8")
    path = tmp_path / "evals.toml"
    path.write_text('builtins = false\n[[evaluator]]\nname = "polite"\nkind = "llm"\n'
                    'model = "m"\nrubric_file = "rubric.txt"\n', encoding="utf-8")
    assert config.load(path).evaluators[0].rubric == "Is {output} polite?"


LLM = 'name = "judge"\nkind = "llm"\nmodel = "m"\n'


@pytest.mark.parametrize(("body", "message"), [
    ('name = "x"\nkind = "sql"\n', "kind must be one of code, llm"),
    ('name = "x y"\nkind = "code"\nfunction = "m:f"\n', "name must be"),
    ('name = "x"\nkind = "code"\nfunction = "m:f"\nsample_rate = 1.5\n', "sample_rate"),
    ('name = "x"\nkind = "code"\nfunction = "m:f"\nsample_rate = 0\n', "sample_rate"),
    ('name = "x"\nkind = "code"\nfunction = "m:f"\napplies_to = "colour=red"\n',
     "unknown filter field 'colour'"),
    ('name = "x"\nkind = "code"\nfunction = "m:f"\napplies_to = "status=maybe"\n', "status="),
    ('name = "x"\nkind = "code"\n', "exactly one of function"),
    ('name = "x"\nkind = "code"\nfunction = "no_colon"\n', "my_module:my_function"),
    ('name = "x"\nkind = "code"\nbuiltin = "nope"\n', "no built-in 'nope'"),
    ('name = "x"\nkind = "code"\nfunction = "m:f"\nmodel = "m"\n', "unknown key(s) model"),
    ('name = "x"\nkind = "llm"\nrubric = "r"\n', "needs model"),
    (LLM, "exactly one of rubric"),
    (LLM + 'rubric = "Is {answer} ok?"\n', "rubric uses {answer}"),
    (LLM + 'rubric = "bad { brace"\n', "not a valid template"),
    (LLM + 'rubric = "r {output}"\nanswer = "stars"\n', "answer must be one of"),
    (LLM + 'rubric = "r {output}"\nanswer = "labels"\n', "needs labels"),
    (LLM + 'rubric = "r {output}"\nanswer = "labels"\nlabels = ["a", "A"]\n', "distinct"),
    (LLM + 'rubric = "r {output}"\nlabels = ["a", "b"]\n', "only for answer"),
    (LLM + 'rubric = "r"\nmax_tokens = 0\n', "max_tokens"),
    (LLM + 'rubric_file = "missing.txt"\n', "cannot read rubric_file"),
])
def test_errors_name_file_evaluator_and_fault(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "team-evals.toml"
    path.write_text(f"[[evaluator]]\n{body}", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    text = str(err.value)
    assert str(path) in text and message in text
    if "name must be" not in message:
        assert "evaluator 'x'" in text or "evaluator 'judge'" in text


@pytest.mark.parametrize(("text", "message"), [
    ("[[evaluator]\n", "not valid TOML"),
    ("evaluators = 1\n", "unknown top-level key(s) evaluators"),
    ("builtins = [\"refusal\", \"nope\"]\n", "no built-in 'nope'"),
    ('[[evaluator]]\nname = "refusal"\nkind = "code"\nfunction = "m:f"\n'
     '[[evaluator]]\nname = "refusal"\nkind = "code"\nfunction = "m:g"\n', "declared twice"),
])
def test_file_level_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="evals.toml") as err:
        config.parse(text, "evals.toml")
    assert message in str(err.value)


def test_select_only_and_rate() -> None:
    conf = config.default_config()
    narrowed = config.select(conf, ["refusal"], 0.5)
    assert [(s.name, s.sample_rate) for s in narrowed.evaluators] == [("refusal", 0.5)]
    with pytest.raises(ConfigError, match="no evaluator named 'helpful'"):
        config.select(conf, ["helpful"])
    with pytest.raises(ConfigError, match="sample-rate"):
        config.select(conf, None, 0.0)
