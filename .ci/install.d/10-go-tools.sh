# Go tools built from the module proxy into .bin: buf (proto regeneration
# check) and Jaeger v2 (trace assertions). Nothing is downloaded elsewhere.
[ -x .bin/buf ] || GOWORK=off go -C tools/buf build -o ../../.bin/buf github.com/bufbuild/buf/cmd/buf
[ -x .bin/jaeger ] || GOWORK=off go -C tools/jaeger build -o ../../.bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
