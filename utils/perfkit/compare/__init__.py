"""Verdicts: a run against a baseline or another run (`perfkit compare`; docs/verdicts.md).

- cli.py: the command - read both sides, judge, write comparison.json and JUnit, print
- engine.py: per test and metric, statistics -> verdict; SLO checks
- model.py: the options and results as dataclasses; owns comparison.json and its loader
- verdict.py: the statistics (Mann-Whitney, Hodges-Lehmann interval, noise, Benjamini-Hochberg)
- drift.py: against a stored baseline, the job's median against earlier jobs' (run-to-run drift)
- sequential.py: when a test's rounds may stop early (a futility-only group-sequential rule)
- geomean.py: the geometric mean of ratios with its t interval (the tuning advisor's effect, the kit's own cost)
- slo.py: absolute SLO rules from config.yaml and their check
- backends.py: an A/B of two databases - the candidate's against the base's over the tests, and which to use
- output.py: the text table, JUnit XML, GitHub annotations and step summary
"""
