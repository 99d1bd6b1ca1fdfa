"""The tuning advisor (make tune, utils/tune.sh): gateway settings tried one by one against the
local stack's own, each in an interleaved A/B, ranked and recommended only when measured better
beyond noise.

- candidates.py: the candidates (config.yaml `tune`, --candidate), checked against the release
- rank.py: a candidate's verdict and effect from its A/B's comparison.json; the ranking
- sweep.py: the sweep folder's files (plan.json, candidates.jsonl, tune.json, ...)
- text.py: the ranked table for the terminal
- envfile.py: recommended.env and .env.example
- page.py: tune.html (templates/tune.html.j2)
- cli.py: `perfkit tune plan|record|fits|winners|report`
"""
