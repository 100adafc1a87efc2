package calibrate

// calib.c includes vmlinux.h from package kernel/bpf's headers directory
// (dumped once from the project's 6.18 kernel; see kernel/bpf/gen.go).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -target bpfel -tags linux -cflags "-O2 -g -Wall -Werror" -type phase -type cal_result -type cal_cfg Calib calib.c -- -I../bpf/headers
