"""Identity resolution: a plain-Python core (normalise, block, compare, score, cluster, explain)
that imports no Django, and a Django side (match settings, candidate pairs, judgements, tasks)."""
