"""Embeddings, clusters and drift: the `analyze` job and everything the Drift page reads.

`embed` turns texts into vectors (offline by default); `cluster` groups them and keeps cluster
identity across runs; `cluster_names` labels clusters with keywords and examples; `projection`
makes the 2-D map; `statistics` holds the drift tests (MMD with permutations, per-cluster share
tests); `report` and `cluster_quality` join drift with feedback; `store` is the only module that
reads and writes analysis tables; `analyze` runs the job end to end.
"""
