"""Optional LLM cluster names over real HTTP (tests/openai_stub.py): written once, cached, and
never required — a failing model leaves the keyword labels and the analysis completes."""

from __future__ import annotations

from ingest.db import connect
from models.drift.analyze import AnalyzeOptions, run_analysis
from tests.models.analyze_data import insert_events, make_events
from tests.openai_stub import OpenAIStub

MODEL = "gpt-4o-mini"


def _reply(body: dict) -> str:
    prompt = body["messages"][0]["content"]
    keywords = prompt.split("Keywords: ")[1].split("\n")[0].split(", ")
    return f'"{keywords[0].title()} questions."\nextra line ignored'


def test_names_are_written_cached_and_shown(db_path) -> None:
    with connect(db_path) as con:
        insert_events(con, make_events(400, seed=1))
    with OpenAIStub(replies={MODEL: _reply}) as stub:
        opts = AnalyzeOptions(
            k=4, make_map=False, embed_dim=16, name_model=MODEL, name_base_url=stub.base_url
        )
        run_analysis(db_path, opts)
        assert stub.count("chat") == 4
        with connect(db_path, read_only=True) as con:
            rows = con.execute("SELECT label, llm_name FROM clusters WHERE active").fetchall()
            cached = con.execute("SELECT count(*) FROM cluster_names").fetchall()[0][0]
        assert cached == 4
        for label, name in rows:
            # first line only, quotes and the final full stop stripped
            assert name == f"{label.split(' / ')[0].title()} questions"
        # A full recluster with the same keywords/examples reuses the cached names.
        run_analysis(
            db_path,
            AnalyzeOptions(
                k=4,
                make_map=False,
                embed_dim=16,
                full=True,
                name_model=MODEL,
                name_base_url=stub.base_url,
            ),
        )
        assert stub.count("chat") == 4


def test_a_failing_name_model_never_blocks_the_analysis(db_path) -> None:
    with connect(db_path) as con:
        insert_events(con, make_events(300, seed=2))
    with OpenAIStub() as stub:
        stub.fail_model(MODEL, 500)
        result = run_analysis(
            db_path,
            AnalyzeOptions(
                k=4, make_map=False, embed_dim=16, name_model=MODEL, name_base_url=stub.base_url
            ),
        )
    assert result.n_clusters == 4
    with connect(db_path, read_only=True) as con:
        names = con.execute("SELECT llm_name FROM clusters WHERE active").fetchall()
    assert names == [(None,)] * 4


def test_keywords_skip_misspellings_and_keep_topic_words():
    import numpy as np

    from models.drift.cluster import ctfidf_keywords

    texts = (["the siren went off adn the police came"] * 5
             + ["siren keeps sounding and police called thhe office"] * 20
             + ["epolice came after siren"] * 3
             + ["my bill is wrong on the form this month"] * 10 + ["bill charged twice"] * 10)
    kw = ctfidf_keywords(texts, np.array([0] * 28 + [1] * 20))
    # a swapped or doubled letter of a stop word, and a misspelling of a common word of the
    # cluster, are not keywords; "bill" (on scikit-learn's stop list) and "form" (one swap
    # from "from") are
    assert not {"adn", "thhe", "epolice"} & {w for k in kw[0] for w in k.split()}
    assert "police" in kw[0] and "siren" in kw[0]
    assert kw[1][0] == "bill" and "form" in kw[1]


def test_a_new_topic_takes_its_clusters_llm_name(db_path) -> None:
    import datetime as dt

    import polars as pl

    from models.drift.report import compute_drift
    from models.drift.statistics import Window
    from tests.models.analyze_data import START

    before = make_events(1500, weeks=5, seed=1)
    now = make_events(400, weeks=1, seed=2, start=START + dt.timedelta(weeks=5), id_prefix="w6-",
                      topics={"refund": 1, "password": 1, "shipping": 1, "invoice": 1,
                              "crypto": 1.5})
    with connect(db_path) as con:
        insert_events(con, pl.concat([before, now]))
    with OpenAIStub(replies={MODEL: _reply}) as stub:
        run_analysis(db_path, AnalyzeOptions(make_map=False, name_model=MODEL,
                                             name_base_url=stub.base_url))
    monday = (START + dt.timedelta(weeks=5)).date()
    with connect(db_path, read_only=True) as con:
        report = compute_drift(con, Window(START.date(), monday - dt.timedelta(days=1)),
                               Window(monday, monday + dt.timedelta(days=6)))
        top = report.new_topics[0]
        (name,) = con.execute("SELECT llm_name FROM clusters WHERE cluster_id = ?",
                              [top.cluster_id]).fetchone()
    assert top.cluster_share >= 0.6 and name and top.label == name
    assert any(w in " ".join(top.keywords) for w in ("crypto", "bitcoin", "usdt", "ethereum"))
