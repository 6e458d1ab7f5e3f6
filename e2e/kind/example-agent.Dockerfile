# The fitness coach example as the image examples/fitness-coach/agent.yaml names, for `make kind-e2e`: the sidecar's
# image already holds Node and the SDK the example imports.
ARG BASE=ghcr.io/agentspec/sidecar:0.1.0
FROM ${BASE}
COPY examples/fitness-coach /app/examples/fitness-coach
EXPOSE 8000
ENTRYPOINT ["node", "/app/examples/fitness-coach/agent.mjs"]
