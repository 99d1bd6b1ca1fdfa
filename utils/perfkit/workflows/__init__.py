"""Several users: made on demand through the gateway's admin API, and removed again.

- people.py: `perfkit workflows-people` - users and teams with memberships and logins, a
  ledger of what was made, removal (deactivation where the gateway cannot delete)
"""
