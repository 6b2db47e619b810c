# Hugo, the peer "newsroom bench" compares a site build with (TestBenchShort
# runs it), built from the Go module proxy at the version tools/hugo pins.
# About two minutes on 2 cores the first time; nothing when already built.
[ -x .bin/hugo ] || GOWORK=off go -C tools/hugo build -o ../../.bin/hugo github.com/gohugoio/hugo
