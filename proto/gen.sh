#!/bin/sh
# Regenerates the Go code of the plugin protocol from its .proto files.
#
# Needs protoc (Debian: apt-get install protobuf-compiler) and the two Go
# plugins, pinned to the versions the committed code was made with:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
# Run from anywhere: proto/gen.sh
set -eu
cd "$(dirname "$0")"
PATH="$(go env GOPATH)/bin:$PATH"
protoc -I . \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  provider/v1/provider.proto
