"""Resource use while a run measures (`perfkit monitor`).

- sampler.py: the sampling loop; owns resources.jsonl (its name, versions and loader)
- sample.py: what one sample measures (host, processes per role, PostgreSQL connections)
- summary.py: resource figures per run and per test for summary.json
"""
