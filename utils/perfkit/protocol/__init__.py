"""The MCP protocol path: what the `mcp` scenario needs beyond a plain HTTP request.

- prepare.py: before a test is probed, resolve its endpoint (`{server:NAME}` -> the virtual
  server's id) and build its JSON-RPC request from what the gateway lists there (tool arguments
  from the tool's inputSchema, prompt arguments, a listed resource)
- session.py: a stateful MCP session opened with the official SDK client and ended with DELETE
- setup_cost.py: what starting a session costs a client (initialize to the first call's answer),
  timed with the official SDK client and written as hey's CSV
- overhead.py: one run's same operation over /rpc, /servers/<id>/mcp and /mcp side by side
  (req/s, p50, p95, and the ratio to /rpc with its interval), for the table and the report
- sizes.py: the large answers (1 KiB, 100 KiB, 1 MiB resource reads and tool results) by size
- federation.py: a tool call through a federated peer gateway beside the same call made directly
"""
