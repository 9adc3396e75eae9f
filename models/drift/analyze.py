"""The analysis job behind `reviewdeck analyze`: embed new events, cluster, map, drift table.

It holds the warehouse only to read its inputs, to add new vectors to the cache, and to write
the results in one short transaction at the end; embedding, clustering and UMAP run without the
file, so dashboards and ingests keep working meanwhile. A run with nothing new returns at once.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ingest.db import connect
from ingest.errors import ConfigError, ReviewdeckError
from models.drift import cluster as clu
from models.drift import embed as emb
from models.drift import projection, store, topic_seeds
from models.drift import statistics as drf

DEFAULT_MAP_POINTS = 25_000
# Refit the TF-IDF embedder when more than this share of new texts is mostly unseen words.
REFIT_UNSEEN_SHARE = 0.05
MIN_MAP_POINTS = 20_000


class AnalysisError(ReviewdeckError):
    """The analysis cannot run on this warehouse as asked."""


@dataclass(frozen=True)
class AnalyzeOptions:
    field: str = "input"
    embedder: str = "wordllama"  # "wordllama" (offline default), "tfidf" or "openai"
    embed_model: str | None = None
    embed_base_url: str | None = None
    embed_batch: int = 256
    embed_price: float | None = None  # USD per 1M tokens, overrides the built-in table
    embed_dim: int = 96
    k: int | None = None
    seed: int = 0
    full: bool = False  # recluster from scratch and refit the map
    refit_embedder: bool = False  # fit a new TF-IDF embedder (re-embeds everything)
    map_points: int = DEFAULT_MAP_POINTS
    reference_weeks: int = 4
    max_spend_usd: float | None = None
    make_map: bool = True  # False skips UMAP (tests and callers that only need clusters)
    name_model: str | None = None  # chat model for optional short cluster names
    name_base_url: str | None = None


@dataclass(frozen=True)
class AnalyzeResult:
    run_id: int | None
    mode: str  # "nothing-new", "full" or "incremental"
    embedder_id: str
    n_events: int
    n_new_events: int
    n_embedded: int
    n_clusters: int
    n_map_points: int
    spend_estimate_usd: float | None
    spent_usd: float | None
    timings: dict[str, float] = field(default_factory=dict)


def options_from_env(**overrides: Any) -> AnalyzeOptions:
    """Options with REVIEWDECK_EMBEDDER / _EMBED_MODEL / _EMBED_BASE_URL as defaults."""
    base: dict[str, Any] = {}
    if os.environ.get("REVIEWDECK_EMBEDDER"):
        base["embedder"] = os.environ["REVIEWDECK_EMBEDDER"]
    if os.environ.get("REVIEWDECK_EMBED_MODEL"):
        base["embed_model"] = os.environ["REVIEWDECK_EMBED_MODEL"]
    if os.environ.get("REVIEWDECK_EMBED_BASE_URL"):
        base["embed_base_url"] = os.environ["REVIEWDECK_EMBED_BASE_URL"]
    base.update({k: v for k, v in overrides.items() if v is not None})
    return AnalyzeOptions(**base)


def _openai_embedder(opts: AnalyzeOptions) -> emb.OpenAIEmbedder:
    if not opts.embed_model:
        raise ConfigError(
            "the openai embedder needs a model: pass --embed-model (e.g. text-embedding-3-small)"
            " or set REVIEWDECK_EMBED_MODEL"
        )
    return emb.OpenAIEmbedder(
        model=opts.embed_model, base_url=opts.embed_base_url, batch_size=opts.embed_batch,
        price_per_mtok=opts.embed_price,
    )


def run_analysis(
    db_path: str | os.PathLike[str],
    options: AnalyzeOptions | None = None,
    *,
    log: Callable[[str], None] | None = None,
) -> AnalyzeResult:
    """Bring the analysis up to date with the events in the warehouse at `db_path`."""
    opts = options or AnalyzeOptions()
    say = log or (lambda _msg: None)
    if opts.field not in store.FIELDS:
        raise ConfigError(f"--field {opts.field!r}; use one of {', '.join(store.FIELDS)}")
    if opts.embedder not in emb.EMBEDDERS:
        raise ConfigError(f"--embedder {opts.embedder!r}; use one of {', '.join(emb.EMBEDDERS)}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - since, 3)
        return now

    # 1. Read inputs (short, under the lock).
    openai_emb = _openai_embedder(opts) if opts.embedder == "openai" else None
    static_emb = emb.WordLlamaEmbedder() if opts.embedder == "wordllama" else None
    with connect(db_path) as con:
        prev_run = store.last_run(con)
        row = None
        if openai_emb is not None:
            embedder_id = openai_emb.embedder_id
        elif static_emb is not None:
            embedder_id = static_emb.embedder_id
        elif not opts.refit_embedder:
            row = store.load_embedder_row(con, emb.TFIDF_KIND)
            embedder_id = row[0] if row else ""
        else:
            embedder_id = ""
        same_setup = (
            prev_run is not None and prev_run["embedder_id"] == embedder_id
            and prev_run["field"] == opts.field and prev_run["seed"] == opts.seed
        )
        if same_setup and not opts.full:
            new, gone = store.count_unassigned(con, opts.field)
            if new == 0 and gone == 0:
                timings["total"] = round(time.perf_counter() - t0, 3)
                n = con.execute("SELECT count(*) FROM cluster_members").fetchall()[0][0]
                k = con.execute("SELECT count(*) FROM clusters WHERE active").fetchall()[0][0]
                say("nothing new to analyse")
                return AnalyzeResult(
                    prev_run["run_id"], "nothing-new", embedder_id, int(n), 0, 0, int(k), 0,
                    None, None, timings,
                )
        events = store.events_frame(con, opts.field)
        texts = store.unique_texts(con, opts.field)
        cached = store.cached_hashes(con, embedder_id) if embedder_id else set()
        hashes_cached, x_cached = (
            store.load_vectors(con, embedder_id) if cached else ([], np.zeros((0, 0)))
        )
        prev = store.previous_clusters(con)
        old_members = store.current_members(con) if prev is not None else None
        old_map = store.map_frame(con)
        names_cache = store.cached_names(con) if opts.name_model else {}
        prev_params = (prev_run or {}).get("params", {})
        prev_map_embedder = prev_params.get("map_embedder")
        prev_map_rate = prev_params.get("map_rate")
    if events.height == 0:
        raise AnalysisError(
            "no LLM events with input text to analyse: ingest events first "
            "(reviewdeck ingest FILE, or reviewdeck demo-data)"
        )
    t = lap("read", t0)

    # 2. Embed what is not cached (no lock).
    all_hashes: list[str] = texts["content_hash"].to_list()
    all_texts: list[str] = texts["text"].to_list()
    embedder: Any
    new_model_blob: bytes | None = None
    if openai_emb is not None:
        embedder = openai_emb
    elif static_emb is not None:
        embedder = static_emb
    elif row is not None:
        embedder = emb.TfidfEmbedder.from_bytes(row[0], row[3], row[1], row[2])
    else:
        say(f"fitting the default embedder on {len(all_texts):,} distinct texts")
        embedder = emb.TfidfEmbedder.fit(all_texts, dim=opts.embed_dim, seed=opts.seed)
        embedder_id = embedder.embedder_id
        new_model_blob = embedder.to_bytes()
        cached, hashes_cached, x_cached = set(), [], np.zeros((0, 0))
    todo = [i for i, h in enumerate(all_hashes) if h not in cached]
    todo_texts = [all_texts[i] for i in todo]
    if isinstance(embedder, emb.TfidfEmbedder) and new_model_blob is None and len(todo) >= 20:
        unseen = embedder.unseen_share(todo_texts)
        if unseen > REFIT_UNSEEN_SHARE:
            say(f"{unseen:.0%} of the new texts use words the embedder never saw: refitting it")
            embedder = emb.TfidfEmbedder.fit(all_texts, dim=opts.embed_dim, seed=opts.seed)
            embedder_id = embedder.embedder_id
            new_model_blob = embedder.to_bytes()
            cached, hashes_cached, x_cached = set(), [], np.zeros((0, 0))
            todo, todo_texts = list(range(len(all_hashes))), all_texts
    t = lap("fit_embedder", t)
    estimate = None
    if openai_emb is not None:
        est = openai_emb.estimate(todo_texts)
        estimate = est.usd
        say(f"embedding {est.texts:,} texts with {openai_emb.model}: about {est.tokens:,} tokens,"
            f" ~${est.usd:.4f}")
        if opts.max_spend_usd is not None and est.usd > opts.max_spend_usd:
            raise AnalysisError(
                f"embedding would cost about ${est.usd:.2f}, over --max-spend "
                f"${opts.max_spend_usd:.2f}; raise the cap or embed fewer events"
            )
    elif todo:
        say(f"embedding {len(todo):,} new distinct texts")
    new_vectors = embedder.embed(todo_texts) if todo else np.zeros((0, embedder.dim), np.float32)
    t = lap("embed", t)

    # 3. Cache the new vectors (short write; content-addressed so safe on its own).
    if todo or new_model_blob is not None:
        with connect(db_path) as con:
            if new_model_blob is not None:
                store.save_embedder(con, embedder_id, embedder.kind, embedder.dim,
                                    embedder.params, new_model_blob)
            elif openai_emb is not None:
                store.save_embedder(con, embedder_id, emb.OPENAI_KIND, int(new_vectors.shape[1]),
                                    {"model": openai_emb.model}, None)
            elif static_emb is not None:
                store.save_embedder(con, embedder_id, static_emb.kind, static_emb.dim,
                                    static_emb.params, None)
            store.save_vectors(con, embedder_id, [all_hashes[i] for i in todo], new_vectors)
    t = lap("write_vectors", t)

    # 4. Vectors per distinct text, weights = events per text.
    x = _assemble(all_hashes, hashes_cached, x_cached, todo, new_vectors)
    hash_index = {h: i for i, h in enumerate(all_hashes)}
    ev_hash_idx = np.fromiter(
        (hash_index[h] for h in events["content_hash"].to_list()), dtype=np.int64,
        count=events.height,
    )
    weights = np.bincount(ev_hash_idx, minlength=len(all_hashes)).astype(np.float64)
    assigned = events["assigned"].to_numpy()
    n_new_events = int((~assigned).sum())

    # 5. Cluster with stable identity. The old clusters are re-placed in the current space as
    # the mean of their members' vectors (so this works after an embedder refit too), k-means
    # starts from them plus seeds for any new topic, and the result is matched back to them.
    full = opts.full or prev is None or old_members is None or old_members.height == 0
    old_c = np.zeros((0, x.shape[1]), dtype=np.float32)
    old_ids: list[int] = []
    if not full:
        both = events.select("event_id").with_row_index("row").join(old_members, on="event_id")
        rows = both["row"].to_numpy().astype(np.int64)
        old_idx, old_inv = np.unique(both["cluster_id"].to_numpy(), return_inverse=True)
        old_ids = [int(c) for c in old_idx]
        member_x = x[ev_hash_idx[rows]]
        sums = np.zeros((len(old_ids), x.shape[1]), dtype=np.float64)
        np.add.at(sums, old_inv, member_x)
        old_c = clu.unit(sums)
        old_sims = np.einsum("nd,nd->n", member_x, old_c[old_inv])
        old_radii = clu.radii(old_sims, old_inv, len(old_ids))
        new_idx = np.unique(ev_hash_idx[~assigned])
        typical = int(np.median(np.bincount(old_inv))) if len(old_inv) else 20
        seeds = clu.novel_seeds(
            x[new_idx], old_c, old_radii,
            min_points=max(20, int(0.003 * events.height)),
            min_far_share=2.5 * clu.RADIUS_PERCENTILE / 100, typical_size=max(typical, 20),
            seed=opts.seed,
        )
        new_weeks = list(np.unique(_days(events.filter(~events["assigned"]))))
        topic_c = topic_seeds.weekly_seeds(
            x[ev_hash_idx], _days(events), weeks=_mondays(new_weeks),
            groups=events["grp"].to_numpy(),
            existing=np.vstack([old_c, seeds]) if len(seeds) else old_c, seed=opts.seed,
        )
        seeds = np.vstack([seeds, topic_c]) if len(topic_c) else seeds
        if len(seeds):
            say(f"{len(seeds)} new topic(s) among the new events")
        init = np.vstack([old_c, seeds]) if len(seeds) else old_c
        cl = clu.fit_clusters(x, weights, init=init, seed=opts.seed)
    else:
        cl = clu.fit_clusters(x, weights, k=opts.k or clu.auto_k(events.height), seed=opts.seed)
        # Seed a cluster for each new topic the weekly novelty tests find, so none merges into
        # a catch-all (models/drift/topic_seeds.py).
        topic_c = topic_seeds.weekly_seeds(
            x[ev_hash_idx], _days(events), existing=cl.centroids, seed=opts.seed,
            groups=events["grp"].to_numpy(),
        )
        if len(topic_c):
            say(f"{len(topic_c)} new topic(s) given clusters of their own")
            cl = clu.add_centroids(x, cl, topic_c)
    t = lap("cluster", t)
    k = len(cl.centroids)
    sizes = np.bincount(cl.labels, weights=weights, minlength=k)
    order = np.lexsort((np.arange(k), -sizes))  # biggest first, for deterministic new ids
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    centroids = cl.centroids[order]
    labels_u = rank[cl.labels]
    sizes = sizes[order]
    if not full:
        ids = clu.match_ids(centroids, old_c, old_ids, prev.next_id)
    elif prev is not None and old_members is not None:
        both = events.select("event_id").with_row_index("row").join(old_members, on="event_id")
        rows = both["row"].to_numpy().astype(np.int64)
        ids = clu.match_by_overlap(
            labels_u[ev_hash_idx[rows]], both["cluster_id"].to_numpy(), list(range(k)),
            next_id=prev.next_id,
        )
    else:
        ids = list(range(1, k + 1))
    ids_arr = np.asarray(ids, dtype=np.int64)
    cluster_radii = clu.radii(cl.similarity, labels_u, k)

    # 6. Labels: matched clusters keep theirs; new ones get keywords and examples.
    keep = {c for c in ids if prev is not None and c in prev.labels}
    fresh = [j for j, c in enumerate(ids) if c not in keep]
    keywords: dict[int, list[str]] = {}
    examples: dict[int, list[str]] = {}
    if fresh:
        sample = _label_sample(labels_u, fresh, seed=opts.seed)
        kw = clu.ctfidf_keywords([all_texts[i] for i in sample], labels_u[sample])
        ex = clu.representative_examples(all_texts, cl.similarity, labels_u, keywords=kw)
        for j in fresh:
            keywords[j] = kw.get(j, [])
            examples[j] = ex.get(j, [])
    t = lap("label", t)
    cluster_rows = []
    for j, c in enumerate(ids):
        if c in keep:
            label, kws, exs = prev.labels[c], prev.keywords[c], prev.examples[c]
            llm_name, first = prev.llm_names.get(c), prev.first_run.get(c)
        else:
            kws, exs = keywords[j], examples[j]
            label, llm_name, first = clu.label_from_keywords(kws, f"cluster {c}"), None, None
        cluster_rows.append({
            "cluster_id": int(c), "label": label, "keywords": list(kws), "examples": list(exs),
            "llm_name": llm_name, "size": int(sizes[j]),
            "centroid": centroids[j].astype(np.float32).tolist(),
            "radius": float(cluster_radii[j]), "embedder_id": embedder_id,
            "first_run_id": first,
        })
    new_names: dict[str, str] = {}
    if opts.name_model:
        from models.drift.cluster_names import NameRequest, write_names

        wanted = [NameRequest(r["cluster_id"], r["keywords"], r["examples"])
                  for r in cluster_rows if not r["llm_name"]]
        named, new_names = write_names(wanted, names_cache, model=opts.name_model,
                                       base_url=opts.name_base_url, log=say)
        for r in cluster_rows:
            r["llm_name"] = r["llm_name"] or named.get(r["cluster_id"])
        t = lap("names", t)
    clusters_df = pl.DataFrame(
        cluster_rows,
        schema={
            "cluster_id": pl.Int32, "label": pl.Utf8, "keywords": pl.List(pl.Utf8),
            "examples": pl.List(pl.Utf8), "llm_name": pl.Utf8, "size": pl.Int64,
            "centroid": pl.List(pl.Float32), "radius": pl.Float64, "embedder_id": pl.Utf8,
            "first_run_id": pl.Int32,
        },
    )
    ev_cluster = ids_arr[labels_u[ev_hash_idx]]
    members = pl.DataFrame({
        "event_id": events["event_id"],
        "cluster_id": pl.Series(ev_cluster, dtype=pl.Int32),
        "similarity": pl.Series(cl.similarity[ev_hash_idx], dtype=pl.Float32),
    })

    # 7. Map: refit on a stratified sample, or add a sample of the new events to the old map at
    # the rate the refit sampled (a picture needs no more; placing every new event made a second
    # 1M chunk cost 1,148 s and a 1M-row map table).
    ts_us = events["ts"].dt.epoch("us").to_numpy()
    refit_map = full or old_map.height == 0 or prev_map_embedder != embedder_id
    map_target = max(opts.map_points, MIN_MAP_POINTS)
    map_rate: float | None = None
    strata = (ts_us // (7 * 86_400 * 1_000_000)) * 100_000 + ev_cluster  # week x cluster
    if not opts.make_map:
        map_df = pl.DataFrame(schema={"event_id": pl.Utf8, "x": pl.Float32, "y": pl.Float32,
                                      "fitted": pl.Boolean})
    elif refit_map:
        pick = projection.stratified_sample(strata, map_target, seed=opts.seed)
        map_rate = len(pick) / events.height
        uniq = np.unique(ev_hash_idx[pick])
        say(f"fitting the map (UMAP) on {len(pick):,} events ({len(uniq):,} distinct texts)")
        xy_u = projection.fit_umap(x[uniq], seed=opts.seed)
        pos = np.full(len(all_hashes), -1, dtype=np.int64)
        pos[uniq] = np.arange(len(uniq))
        xy = xy_u[pos[ev_hash_idx[pick]]]
        map_df = pl.DataFrame({
            "event_id": events["event_id"].gather(pick),
            "x": pl.Series(xy[:, 0], dtype=pl.Float32), "y": pl.Series(xy[:, 1], dtype=pl.Float32),
            "fitted": pl.Series(np.ones(len(pick), dtype=bool)),
        })
    else:
        map_rate = _incremental_map_rate(
            prev_map_rate, int(old_map["fitted"].sum()), int(assigned.sum()), map_target,
            events.height,
        )
        row_ids = events.select("event_id").with_row_index("row")
        old_map = old_map.join(row_ids, on="event_id", how="semi")  # eligible events only
        on_map = np.zeros(events.height, dtype=bool)
        on_map[row_ids.join(old_map, on="event_id", how="semi")["row"].to_numpy()] = True
        candidates = np.flatnonzero(~assigned & ~on_map)
        u = projection.stable_uniform(events["event_id"].gather(candidates).to_list(), opts.seed)
        new_rows = candidates[projection.sample_at_rate(
            strata[candidates], u, map_rate, existing=strata[on_map],
        )]
        say(f"placing {len(new_rows):,} of {len(candidates):,} new events on the map"
            f" (sampling rate {map_rate:.3g})")
        fitted = old_map.filter(pl.col("fitted")).join(
            events.select("event_id", "content_hash"), on="event_id"
        ).unique("content_hash", keep="first", maintain_order=True)
        fit_idx = np.asarray([hash_index[h] for h in fitted["content_hash"].to_list()], np.int64)
        new_texts, text_of_row = np.unique(ev_hash_idx[new_rows], return_inverse=True)
        xy = projection.interpolate(
            x[new_texts], x[fit_idx],
            np.column_stack([fitted["x"].to_numpy(), fitted["y"].to_numpy()]),
        )[text_of_row]
        map_df = pl.concat([
            old_map,
            pl.DataFrame({
                "event_id": events["event_id"].gather(new_rows),
                "x": pl.Series(xy[:, 0], dtype=pl.Float32),
                "y": pl.Series(xy[:, 1], dtype=pl.Float32),
                "fitted": pl.Series(np.zeros(len(new_rows), dtype=bool)),
            }),
        ])
    t = lap("map", t)

    # 8. Drift table for the default windows (previous weeks against the latest week).
    latest = dt.datetime.fromtimestamp(int(ts_us.max()) / 1e6, dt.UTC).date()
    reference, current = drf.default_windows(latest, opts.reference_weeks)
    in_ref = _in_window(ts_us, reference)
    in_cur = _in_window(ts_us, current)
    # Only the MMD and the share tests are stored. The novelty test is the page's to run
    # (report.compute_drift, on sampled events, with their sessions): run here, it was 2-5 s of
    # each incremental analysis thrown away.
    overall, shifts = drf.mmd_and_share_tests(
        x[ev_hash_idx[in_ref]], x[ev_hash_idx[in_cur]], ids,
        np.bincount(labels_u[ev_hash_idx[in_ref]], minlength=k),
        np.bincount(labels_u[ev_hash_idx[in_cur]], minlength=k), seed=opts.seed,
    )
    drift_overall = {
        "reference_start": reference.start, "reference_end": reference.end,
        "current_start": current.start, "current_end": current.end,
        "method": overall.method, "statistic": overall.statistic, "p_value": overall.p_value,
        "drifted": overall.drifted, "n_reference": int(in_ref.sum()),
        "n_current": int(in_cur.sum()),
    }
    drift_clusters = pl.DataFrame(
        [s.__dict__ for s in shifts],
        schema={"cluster_id": pl.Int32, "n_reference": pl.Int64, "n_current": pl.Int64,
                "share_reference": pl.Float64, "share_current": pl.Float64,
                "p_value": pl.Float64, "p_adjusted": pl.Float64, "status": pl.Utf8},
    )
    t = lap("drift", t)

    # 9. Swap the results in, in one short transaction.
    run = {
        "started_at": started, "embedder_id": embedder_id, "field": opts.field,
        "seed": opts.seed, "n_events": events.height, "n_new_events": n_new_events,
        "n_embedded": len(todo), "n_clusters": k, "mode": "full" if full else "incremental",
        "params": {"k": opts.k, "map_points": opts.map_points,
                   "reference_weeks": opts.reference_weeks,
                   "map_embedder": embedder_id if opts.make_map else None,
                   "map_rate": map_rate},
        "embed_cost_usd": openai_emb.spent_usd if openai_emb is not None else None,
    }
    out = store.AnalysisOutput(run, clusters_df, members, map_df, drift_overall, drift_clusters,
                               new_names, opts.name_model)
    timings["total"] = round(time.perf_counter() - t0 + 0.0, 3)
    run["timings"] = timings
    with connect(db_path) as con:
        run_id = store.write_results(con, out)
    lap("write_results", t)
    timings["total"] = round(time.perf_counter() - t0, 3)
    spent = openai_emb.spent_usd if openai_emb is not None else None
    if spent is not None:
        say(f"embedding spend: {openai_emb.tokens_used:,} tokens, ${spent:.4f}")
    return AnalyzeResult(
        run_id, run["mode"], embedder_id, events.height, n_new_events, len(todo), k,
        map_df.height, estimate, spent, timings,
    )


def _incremental_map_rate(
    stored: float | None, n_fitted: int, n_old_events: int, target: int, n_events: int
) -> float:
    """The share of new events an incremental run puts on the map.

    The rate is kept in the run's params (set by the run that fitted the map, carried by each
    later run) rather than derived from the map table, because the table alone cannot tell it:
    fitted points over today's events shrinks with every run, so new weeks would get ever
    fewer points than old ones. A map fitted before the rate was kept falls back to fitted
    points over the events analysed so far (the fitting run's rate if no incremental run came
    since, lower otherwise). A rate of 1 means the refit took every event (fewer than the
    sample size): new events all go on until the warehouse outgrows the sample size, and from
    then on at the rate a full run would take, or the map would again grow by one per event.
    """
    rate = float(stored) if stored is not None else n_fitted / max(n_old_events, 1)
    if rate >= 1.0:
        rate = min(1.0, target / max(n_events, 1))
    return rate


def _assemble(
    all_hashes: list[str], hashes_cached: list[str], x_cached: np.ndarray, todo: list[int],
    new_vectors: np.ndarray,
) -> np.ndarray:
    dim = new_vectors.shape[1] if len(todo) else x_cached.shape[1]
    x = np.zeros((len(all_hashes), dim), dtype=np.float32)
    if hashes_cached:
        where = {h: i for i, h in enumerate(hashes_cached)}
        rows = [(i, where[h]) for i, h in enumerate(all_hashes) if h in where]
        if rows:
            dst, src = (np.asarray(v, dtype=np.int64) for v in zip(*rows, strict=True))
            x[dst] = x_cached[src]
    if todo:
        x[np.asarray(todo, dtype=np.int64)] = new_vectors
    return x


def _label_sample(labels: np.ndarray, wanted: list[int], *, seed: int,
                  per_cluster: int = 400) -> np.ndarray:
    """Up to `per_cluster` distinct texts of every cluster (c-TF-IDF needs all clusters to
    weigh terms, not only the new ones)."""
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if len(members) > per_cluster:
            members = np.sort(rng.choice(members, per_cluster, replace=False))
        picks.append(members)
    return np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)


def _days(events: pl.DataFrame) -> np.ndarray:
    """The UTC date of each event, as datetime64[D]."""
    return events["ts"].dt.convert_time_zone("UTC").dt.date().to_numpy().astype("datetime64[D]")


def _mondays(days: list[Any]) -> list[dt.date]:
    return sorted({(d - np.timedelta64(int((d.astype("int64") + 3) % 7), "D")).astype(dt.date)
                   for d in days})


def _in_window(ts_us: np.ndarray, window: drf.Window) -> np.ndarray:
    lo = dt.datetime.combine(window.start, dt.time(), dt.UTC).timestamp() * 1e6
    hi = dt.datetime.combine(window.end + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp() * 1e6
    return (ts_us >= lo) & (ts_us < hi)
