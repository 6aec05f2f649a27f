# Sitrep's container image. The first stage builds the binary with cgo,
# because the SQLite driver (mattn/go-sqlite3) is C; the second is a small
# glibc image that runs it as a non-root user. dockerfile_test.go runs this
# file's go build and HEALTHCHECK commands, so keep them to one line each.

FROM golang:1.26-bookworm AS build
ENV CGO_ENABLED=1
WORKDIR /src
# The modules get a layer of their own, so that changing the source does
# not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# No -trimpath: the build path is /src in every image, and without it CI's
# test of this line reuses the packages go vet compiled instead of
# compiling SQLite's C code once more.
RUN go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/sitrep ./cmd/sitrep
# An empty directory for the database. Distroless has no shell to make one,
# and WORKDIR would make it root's, so it is copied in owned by nonroot.
RUN mkdir -p /out/data

# distroless/base has glibc and CA certificates, and nothing else: no shell,
# no package manager. It is Debian 12 (bookworm) like the build stage, so
# the binary finds the glibc it was linked against. The binary embeds its
# time zones (time/tzdata).
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/sitrep /usr/local/bin/sitrep
COPY --from=build --chown=65532:65532 /out/data /data
# nonroot, by number, so that a runtime that insists on a non-root user
# (Kubernetes' runAsNonRoot) can tell without reading /etc/passwd.
USER 65532:65532
ENV SITREP_DB=/data/sitrep.db SITREP_ADDR=:8080
# The working directory is the data volume, so a .env mounted there is read.
WORKDIR /data
VOLUME /data
EXPOSE 8080
# There is no curl or shell to check /healthz with; the binary does it.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/sitrep", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/sitrep"]
CMD ["serve"]
