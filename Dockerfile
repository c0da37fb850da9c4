# syntax=docker/dockerfile:1
# The Causeway container image. Three stages on one Node 24 slim (Debian) base:
#   build      npm ci + npm run build (TypeScript → dist/; install scripts are not needed to compile)
#   prod-deps  npm ci --omit=dev (native addons such as better-sqlite3 built against the runtime's glibc)
#   runtime    dist/ + production node_modules as a non-root user, without npm; writes only to /tmp and
#              /app/data, so it runs with a read-only root filesystem. Listens on 0.0.0.0:8080 unless
#              the config's http.listen says otherwise.
# The Helm chart (helm/causeway) relies on WORKDIR /app, USER 10001, port 8080 and the config at
# /etc/causeway/gateway.yaml; test/helm/dockerfile.spec.ts keeps the two in step.
#   docker build -t causeway:0.1.0 .
#   docker run -p 8080:8080 -v "$PWD/gateway.yaml:/etc/causeway/gateway.yaml:ro" causeway:0.1.0
#
# The base image is pinned by digest, so a rebuild gets the same bytes. To update it: pick the newest
# node:24.x.y-trixie-slim tag, read its digest (`docker buildx imagetools inspect node:24.x.y-trixie-slim`,
# the multi-platform index digest), replace both below, rebuild and run the tests. Do it for every Node 24
# release (security fixes) and at least monthly (Debian updates).
ARG NODE_IMAGE=node:24.21.0-trixie-slim@sha256:173f125896c3b47ddf056734c7ea789d04595a6a08769a8f78e0df642781fb66

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/prune-dist.js scripts/copy-assets.js scripts/build-info.js scripts/
COPY src/ src/
# The commit shown by `causeway --version` and causeway_build_info: docker build --build-arg CAUSEWAY_COMMIT=$(git rev-parse --short=12 HEAD) .
ARG CAUSEWAY_COMMIT=unknown
RUN CAUSEWAY_COMMIT=${CAUSEWAY_COMMIT} npm run build

FROM ${NODE_IMAGE} AS prod-deps
# A compiler only for the case where no prebuilt binary of a native addon fits; this stage is discarded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# http.listen when the config gives none: reachable through `docker run -p 8080:8080` (the config's
# default, 127.0.0.1:8080, would only be reachable from inside the container).
ENV CAUSEWAY_HTTP_LISTEN=0.0.0.0:8080
WORKDIR /app
# No package manager at run time: npm, npx and corepack are what an attacker in the container would
# use to fetch tools, and nothing of Causeway needs them.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* \
 && groupadd --system --gid 10001 causeway \
 && useradd --system --uid 10001 --gid causeway --home-dir /app --no-create-home --shell /usr/sbin/nologin causeway \
 && mkdir -p /app/data /etc/causeway \
 && chown causeway:causeway /app/data
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/ ./bin/
USER 10001:10001
EXPOSE 8080
# Docker's own liveness check (Kubernetes uses the chart's probes instead): GET /health/live on the
# listen port, in Node because the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "/etc/causeway/gateway.yaml"]
