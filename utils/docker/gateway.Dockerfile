# The ContextForge MCP Gateway from PyPI: the same package and constraints the local stack
# installs (utils/local-stack.sh), with the PostgreSQL and Redis extras. Build context: utils/.
#   docker build -f docker/gateway.Dockerfile --build-arg GATEWAY_VERSION=1.0.7.post20260921 utils
FROM python:3.11-slim

ARG GATEWAY_VERSION
COPY pins/gateway-constraints.txt /tmp/gateway-constraints.txt
RUN test -n "${GATEWAY_VERSION}" || { echo "build arg GATEWAY_VERSION is required" >&2; exit 2; }; \
    pip install --no-cache-dir --disable-pip-version-check -c /tmp/gateway-constraints.txt \
      "mcp-contextforge-gateway[postgres,redis]==${GATEWAY_VERSION}"

# an unprivileged user; /data holds the SQLite database (a named volume in the Compose file)
RUN useradd --uid 10001 --create-home gateway && mkdir /data && chown gateway /data
USER gateway
WORKDIR /data
EXPOSE 4444
CMD ["mcpgateway", "--host", "0.0.0.0", "--port", "4444"]
