# syntax=docker/dockerfile:1
# One build, four images: docker build --target operator|webhook|control-plane|sidecar (see `make images`).
# Each final image holds only the production install (scripts/pack-install.sh: packed workspaces, --omit=dev),
# runs as a non-root user and works with a read-only root filesystem (nothing is written outside /tmp).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .node-version tsconfig.base.json tsconfig.json ./
COPY sdk/typescript/package.json sdk/typescript/
COPY service-kit/package.json service-kit/
COPY dashboard/package.json dashboard/
COPY control-plane/package.json control-plane/
COPY operator/package.json operator/
COPY webhook/package.json webhook/
COPY sidecar/package.json sidecar/
COPY e2e/package.json e2e/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npx tsc -b && npm run build --workspace=@agentspec/dashboard && scripts/pack-install.sh /app

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=0:0 /app /app
USER 65532:65532

FROM runtime AS operator
ENTRYPOINT ["node", "/app/node_modules/@agentspec/operator/dist/bin/operator.js"]

FROM runtime AS webhook
EXPOSE 8443 8081
ENTRYPOINT ["node", "/app/node_modules/@agentspec/webhook/dist/bin/webhook.js"]

FROM runtime AS control-plane
EXPOSE 8080
ENV AGENTSPEC_DATA_DIR=/tmp/agentspec-data
ENTRYPOINT ["node", "/app/node_modules/@agentspec/control-plane/dist/bin/control-plane.js"]

FROM runtime AS sidecar
EXPOSE 4000 4001
ENTRYPOINT ["node", "/app/node_modules/@agentspec/sidecar/dist/bin/sidecar.js"]
