# Veille server image: every stage (ingest, classify, store, serve) runs from
# this one binary; docker-compose.yml and deploy/k8s pick the subcommand.
# Built without chDB (-tags nochdb): in server mode storage is a ClickHouse
# server, so libchdb is neither needed nor shipped.
#
#   docker build -t veille .

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that code changes reuse the download layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -tags nochdb -trimpath -ldflags="-s -w" -o /veille ./cmd/veille

FROM debian:bookworm-slim
# ca-certificates: feeds over HTTPS; curl: the HEALTHCHECK below.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 veille \
 && useradd --system --uid 10001 --gid veille --home-dir /var/lib/veille --create-home veille
COPY --from=build /veille /usr/local/bin/veille
USER 10001:10001
WORKDIR /var/lib/veille
ENV VEILLE_DATA=/var/lib/veille \
    VEILLE_LISTEN=0.0.0.0:8080 \
    VEILLE_OPS=0.0.0.0:8080
EXPOSE 8080
# serve answers /healthz on VEILLE_LISTEN, the other stages on VEILLE_OPS
# (both port 8080 here).
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${VEILLE_LISTEN##*:}/healthz" >/dev/null || exit 1
ENTRYPOINT ["/usr/local/bin/veille"]
CMD ["serve"]
