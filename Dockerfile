# milvus-cdc: one image for the control plane (`milvus-cdc server`) and the
# workers (`milvus-cdc streams`), used by docker-compose.yml.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -o /out/milvus-cdc ./cmd/milvus-cdc

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/milvus-cdc /usr/local/bin/milvus-cdc
COPY config /etc/milvus-cdc
COPY pipelines /usr/share/milvus-cdc/pipelines
USER 65534:65534
ENTRYPOINT ["milvus-cdc"]
CMD ["server", "-c", "/etc/milvus-cdc/server.yaml"]
