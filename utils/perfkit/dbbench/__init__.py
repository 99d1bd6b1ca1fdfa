"""The database apart from the API: the gateway's own service layer and models called directly
in the gateway's venv, timed like a hey round (scenario `database`).

- ops.py: the operations (service-layer lists as admin, team member and public; a server's
  tools; lookups; writes rolled back), the driver that times N calls C at a time in hey's CSV
  layout, and the SQL each call sent (statements counted and timed through SQLAlchemy's
  engine events)
- client.py: the kit's side of an ops.py worker (`serve`): a probe or round sent over its Unix
  socket, so a round costs its calls, not a new gateway Python
- plans.py: after the rounds, each operation called alone: its statements timed, the slow ones
  explained (EXPLAIN QUERY PLAN / EXPLAIN (ANALYZE, BUFFERS)) and the index a scan suggests
  measured on a scratch copy or in a transaction rolled back (database-plans.json)
- pool.py: the gateway's connection pool under one operation called by more and more threads
  at once: calls/s, latency, checkout wait, connections checked out, CPU, PostgreSQL's
  pg_stat_activity (database-pool.json)
- migrate.py: in the newer release's venv, its bootstrap_db timed on an older release's database
  (utils/migration-cost.sh)
"""
