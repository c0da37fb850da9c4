# syntax=docker/dockerfile:1
# The Causeway container image. Three stages on one Node 24 slim (Debian) base:
#   build      npm ci + npm run build (TypeScript → dist/; install scripts are not needed to compile)
#   prod-deps  npm ci --omit=dev (native addons such as better-sqlite3 built against the runtime's glibc)
#   runtime    dist/ + production node_modules as a non-root user; writes only to /tmp and /app/data,
#              so it runs with a read-only root filesystem.
# The Helm chart (helm/causeway) relies on WORKDIR /app, USER 10001, port 8080 and the config at
# /etc/causeway/gateway.yaml; test/helm/dockerfile.spec.ts keeps the two in step.
#   docker build -t causeway:0.1.0 .
#   docker run -p 8080:8080 -v "$PWD/gateway.yaml:/etc/causeway/gateway.yaml:ro" causeway:0.1.0
ARG NODE_IMAGE=node:24-slim

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
WORKDIR /app
RUN groupadd --system --gid 10001 causeway \
 && useradd --system --uid 10001 --gid causeway --home-dir /app --no-create-home --shell /usr/sbin/nologin causeway \
 && mkdir -p /app/data /etc/causeway \
 && chown causeway:causeway /app/data
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin/ ./bin/
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["node", "dist/main.js"]
CMD ["serve", "--config", "/etc/causeway/gateway.yaml"]
