"""The Docker Compose stack (`perfkit compose generate|validate`).

- plan.py: options -> a plan of services (gateways, MCP servers, databases, registration)
- render.py: the plan rendered with templates/docker-compose.yaml.j2, secrets beside it
- validate.py: a compose file against the Compose Specification schema and the kit's rules
- cli.py: the command line
"""
