"""Several users: made on demand through the gateway's admin API, driven by Locust, removed again.

- people.py: `perfkit workflows-people` - users and teams with memberships and logins, a
  ledger of what was made, removal (deactivation where the gateway cannot delete)
- locustfile.py: the Locust users of each workload (baseline, share, collaborate, token,
  agent, mixed), each request a named step carrying its gateway user
- rest.py: the workload rest - the REST API operation by operation (tools, resources,
  prompts, servers, gateways, A2A agents, teams, tokens, RBAC, users, export/import, roots,
  an operator's reads, compliance, protocol), each answer checked, what it makes removed
- drive.py: a run on Locust in a process of its own (gevent), every request's exact time kept,
  the JSON written and the report printed
- metrics.py: per step, per user and in total from those times; whether the generator was busy
- slo.py: `perfkit workflows-slo` - the run against config.yaml's slos (`workflows/...`)
- rounds.py: `perfkit workflows-rounds` - a run cut into the kit's rounds of hey's files (the
  scenario workflows of run-configurable.sh), and that scenario's test names
"""
