"""What each feedback signal means, as SQL over `feedback AS f`, for every layer.

The loader's derived tables (ingest/load/derived.py) and the shared filter (models/filters.py) both
need "negative", "explicit" and friends to mean exactly the same thing, and ingest sits below
models, so the definitions live here.
"""

# Heavy edit = the user changed at least half of the output
# (feedback name 'edited', value = share of characters changed).
HEAVY_EDIT = 0.5
NEGATIVE_SQL = (
    "((f.name = 'thumbs' AND f.value = 0) OR f.name = 'regenerated' "
    f"OR (f.name = 'edited' AND f.value >= {HEAVY_EDIT}))"
)
# The events list's summary of an event's feedback: its distinct names. trend_facts keeps it
# (ingest/load/derived.py) and the list asks `feedback` the same way for events not folded yet.
FEEDBACK_NAMES_SQL = "string_agg(DISTINCT f.name, ', ' ORDER BY f.name)"
# A judge or code score counts as low below this (scores are normalised to 0..1).
LOW_SCORE = 0.5

FEEDBACK_CHOICES = {
    "thumbs_up": "f.name = 'thumbs' AND f.value = 1",
    "thumbs_down": "f.name = 'thumbs' AND f.value = 0",
    "negative": NEGATIVE_SQL,
    "regenerated": "f.name = 'regenerated'",
    "corrected": "f.kind = 'correction'",
    "low_score": f"f.kind = 'score' AND f.value < {LOW_SCORE}",
    "any_explicit": "f.kind IN ('vote', 'correction', 'label') OR f.source = 'reviewer'",
    "any": "TRUE",
}

# An evaluator's rows carry its version; a new version never overwrites an old one's rows, and
# a metric made of scores counts only each evaluator's latest version (the one written last):
# mixing v1 and v2 would average two different questions. Rows without a version (imported
# scores, the demo's nightly judge) always count.
# (name, version) of each evaluator's latest version: the one whose rows were written last, the
# higher version on a tie. The one definition: pages' metrics (CURRENT_VERSION_SQL) and the
# judge-trust reports (models.judge_trust.data) both read it.
LATEST_VERSIONS_SQL = (
    "SELECT name, first(evaluator_version ORDER BY ingested_at DESC, evaluator_version DESC) "
    "AS version FROM feedback WHERE evaluator_version IS NOT NULL "
    "AND source IN ('llm_judge', 'code') GROUP BY name"
)
CURRENT_VERSION_SQL = (
    "(f.evaluator_version IS NULL OR f.name || chr(31) || f.evaluator_version IN ("
    f"SELECT name || chr(31) || version FROM ({LATEST_VERSIONS_SQL})))"
)
