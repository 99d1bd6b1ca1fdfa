"""Stored baselines: baselines/baseline_<name>.json and their history (`perfkit baseline`).

- file.py: the baseline file format - its model, versions and loader; naming a run's baseline
- store.py: where baselines live; history first, then an atomic write, then a log line
- manager.py: save, load, list, delete, roll back, accept
- jobs.py: history/<name>/jobs.jsonl - every job's medians, the run-to-run history verdicts weigh
- promotion.py: after each comparison, the job joins the history; a baseline follows an
  improvement only once it is sustained
- cli.py: the command line
"""
