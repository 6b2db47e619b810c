# syntax=docker/dockerfile:1
# The enrichment service. Build context: the repository root.
#   docker build -f deploy/docker/enrichment.Dockerfile -t newsroom/enrichment .
# Only pkg/, proto/ and services/enrichment/ are copied: the module builds on its own
# (GOWORK=off) through the replace lines in its go.mod.

FROM golang:1.26-bookworm AS build
ENV GOWORK=off CGO_ENABLED=0 GOFLAGS=-trimpath
WORKDIR /src
# Module files first: the download layer is reused until dependencies change.
COPY pkg/go.mod pkg/go.sum pkg/
COPY proto/go.mod proto/go.sum proto/
COPY services/enrichment/go.mod services/enrichment/go.sum services/enrichment/
RUN --mount=type=cache,target=/go/pkg/mod \
    cd services/enrichment && go mod download
COPY pkg/ pkg/
COPY proto/ proto/
COPY services/enrichment/ services/enrichment/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    cd services/enrichment \
    && go build -ldflags="-s -w" -o /out/enrichment ./cmd/enrichment \
    && go build -ldflags="-s -w" -o /out/probe github.com/newsroom/newsroom/pkg/daemon/probe

# Static binaries on distroless: no shell, no package manager, CA
# certificates and time zones only; uid 65532 ("nonroot").
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/enrichment /out/probe /usr/local/bin/
USER 65532:65532
ENV HTTP_ADDR=0.0.0.0:8082
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/probe", "http://127.0.0.1:8082/readyz"]
ENTRYPOINT ["/usr/local/bin/enrichment"]
