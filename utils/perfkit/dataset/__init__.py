"""Populated gateways: datasets of users, teams, gateways, tools, servers, prompts, resources and
metric history, written into the gateway's own database with its own models.

- spec.py: datasets/<NAME>.yaml - counts and shape, checked; the estimate of --dry-run
- plan.py: the rows a dataset stands for, made from its seed (standard library only)
- estimate.py: what --dry-run says - the rows per table a dataset will make, its size and time
- writer.py: runs inside the gateway's venv - writes a plan in batches, finds and removes what
  the kit made (reset), validates the database afterwards
- cli.py: `perfkit dataset` - the kit's side: plan, estimate, check through the gateway's API,
  report
"""
