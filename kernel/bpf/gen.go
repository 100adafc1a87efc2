// Package bpf holds the eBPF C sources of package kernel and the objects and
// Go bindings that bpf2go generates from them (committed, so building needs
// no clang). Use package kernel; these bindings are its implementation.
//
// Regenerate with `make generate` (needs clang, llvm and libbpf-dev).
package bpf

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -tags linux -cflags "-O2 -g -Wall -Werror" -type rec -type action Recorder recorder.c -- -I./headers
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -tags linux -cflags "-O2 -g -Wall -Werror" -type skval -type ctl -type pstat SkStorage skstorage.c -- -I./headers
