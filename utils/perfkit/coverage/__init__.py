"""REST coverage: which of the gateway's operations the kit put under load, computed from the
gateway's own OpenAPI document rather than counted by hand (`make coverage`).

- openapi.py: the document's operations (method + path template), their groups, and the
  matching of a concrete request (GET /servers/3f2a/mcp) to its template
- exercised.py: the requests a run folder shows the kit made - every test of its plan (hey's,
  the MCP paths as resolved), the workflows' requests
- exclusions.py: config.yaml `coverage.exclude` - operations left out on purpose, each with
  its reason, reported apart and never dropped from the count silently
- report.py: `perfkit coverage` - coverage overall and per group, the uncovered operations;
  coverage.json (its schema versions and loader) and the table
"""
