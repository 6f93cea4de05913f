# telebridge container image.
#
#   docker build -t telebridge:dev .
#   docker run --rm -v "$PWD/bridge.yaml:/etc/telebridge/telebridge.yaml:ro" -p 8080:8080 telebridge:dev
#
# The Kafka client is librdkafka through cgo (bundled, statically linked
# into the binary), which needs glibc: build on the Debian-based Go image
# and run on Debian slim with CA certificates, as a non-root user.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/telebridge ./cmd/telebridge

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/telebridge --create-home telebridge
COPY --from=build /out/telebridge /usr/local/bin/telebridge
USER 10001:10001
# The delivery history (SQLite) lives here; mount a volume to keep it.
WORKDIR /var/lib/telebridge
# /healthz, /readyz, /metrics, /api/v1 and the dashboard (http.listen).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/telebridge"]
CMD ["run", "-c", "/etc/telebridge/telebridge.yaml"]
