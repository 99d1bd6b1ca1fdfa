"""What one run leaves on disk, and the files made from it (docs/internals.md, "The run folder").

- run.py: run.json - the target, environment fingerprint and settings (`perfkit run-init`)
- plan.py: plan.tsv - the tests run-configurable.sh planned (written by bash, read here)
- events.py: events.jsonl - how each test ended (`perfkit record`)
- csvstats.py: one hey round's CSV and GNU time file -> per-round statistics
- summary.py: summary.json - the run's model and its one loader
- summarize.py: builds summary.json from the files above (`perfkit summarize`)
- samples.py: the per-round samples of a summary, the unit every comparison works on
- database.py: database-*.json - the gateway's database state and rows around a run (`perfkit database-rows`)
- dbqueries.py: the database scenario's SQL - statements per test from raw/*/round-*.sql.json, and database-plans.json's slow queries, plans and measured indexes - into summary.json's database.queries, the text after a run
- dbpool.py: the database scenario's connection pool analysis - database-pool.json's levels, where throughput peaks and the pool fills, the sizing it recommends - into summary.json's database.pool, the text after a run
- servers.py: servers-*.json - the benchmark MCP servers' own call counts (`perfkit servers-stats`)
- upstream.py: raw/<id>/upstream-*.txt - where a test's time went, by the benchmark MCP servers' own account
- stalls.py: moments a test's rounds show the target answering nothing while half its clients
  or more waited (periodic whole-gateway stalls) - summary.json's per-test `stalls`
- run_all.py: runs.json - what run-all.sh ran (`perfkit run-all-record`)
- speed.py: the machine-speed reference - a fixed unit of CPU work timed before each test's
  rounds (`perfkit speed-reference`, raw/<id>/speed-reference.json) - into summary.json's
  machine_speed
"""
