"""Analysis over the warehouse: filters, statistics, embeddings, clusters, drift, reruns."""
