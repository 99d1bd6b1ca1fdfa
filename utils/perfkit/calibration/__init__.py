"""The kit's own detection checks: how often a verdict is a false alarm, how often it catches a
real slowdown.

- target.py: `perfkit calibrate` - runs against a target whose latency the kit sets
  (utils/calibrate.sh): the decision method alone, within one job
- jobs.py: `perfkit calibrate-jobs` - whole jobs on the real gateway, as a CI would run them
  (utils/calibrate-jobs.sh): stored baselines across jobs and interleaved A/B
- rounds.py: the A/B jobs of `calibrate-jobs` judged again on fewer rounds and under the
  stopping rule (perfkit.compare.sequential): verdict quality against time
- rates.py: rates with their Wilson intervals and the result file, as both write them
"""
