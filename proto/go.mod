module github.com/newsroom/newsroom/proto

go 1.26.0

require (
	github.com/newsroom/newsroom/pkg v0.0.0-00010101000000-000000000000
	google.golang.org/protobuf v1.36.12
)

tool google.golang.org/protobuf/cmd/protoc-gen-go

replace github.com/newsroom/newsroom/pkg => ../pkg
