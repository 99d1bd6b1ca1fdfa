# The kit's benchmark MCP server (bench_server.py) and the one-shot registration script, with
# the `mcp` SDK pinned as in pins/requirements.txt. Build context: utils/.
#   docker build -f docker/bench-server.Dockerfile utils
FROM python:3.11-slim

COPY pins/requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --disable-pip-version-check \
      "$(grep -E '^mcp[<>=!~ ]' /tmp/requirements.txt)"

COPY servers/bench_server.py docker/register_servers.py /app/
RUN useradd --uid 10001 --no-create-home bench
USER bench
EXPOSE 9101
CMD ["python", "/app/bench_server.py", "--host", "0.0.0.0", "--port", "9101"]
