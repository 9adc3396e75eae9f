"""The weekly review pack: one week's report as plain frozen data, built from trends, clusters,
reruns and reviewers' notes, and frozen as JSON so last month's numbers stay last month's.

`model` holds the report's dataclasses and week helpers; `sections` and `clusters` compute its
parts; `build` assembles a whole report; `notes` keeps reviewers' notes; `snapshot` freezes and
reopens packs.
"""
