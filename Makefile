# skbsim — run `make help` for the targets.
GO       ?= go
PKGS     ?= ./...
DEMO_PCAP = $(CURDIR)/.cache/demo.pcap
SIMRUN    = $(CURDIR)/.cache/simrun

.PHONY: help demo test test-short bench generate vet crossbuild build

help: ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s '	'

build: ## build the simrun CLI into .cache/simrun
	@mkdir -p .cache
	$(GO) build -o $(SIMRUN) ./cmd/simrun

demo: build ## replay a generated capture through the built-in scenario and print the report
	$(SIMRUN) gen -preset demo -seed 1 -o $(DEMO_PCAP)
	$(SIMRUN) run $(DEMO_PCAP)

vet: ## go vet and gofmt check
	$(GO) vet $(PKGS)
	@f=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$f" ]; then echo "gofmt needed: $$f"; exit 1; fi

crossbuild: ## prove the model builds off Linux (only the kernel backend is Linux-only)
	GOOS=darwin $(GO) build $$($(GO) list ./... | grep -v -e '/kernel$$' -e '/kernel/bpf' -e '/kernel/diff' -e '/kernel/calibrate' -e '/internal/deps')

test: vet crossbuild ## the whole suite (kernel tests run when SKBSIM_KERNEL_TESTS=1)
	$(GO) test -count=1 -timeout 9m $(PKGS)

test-short: ## the suite without the slow property runs
	$(GO) test -short -count=1 $(PKGS)

bench: build ## packets/s of decode-only, simrun -j 1 and -j 2 on a 1.6M-packet capture with peak RSS, then the Go benchmarks
	@pcap=$(CURDIR)/.cache/bench-large-1600k.pcap; \
	test -s $$pcap || $(SIMRUN) gen -preset large -seed 1 -min-packets 1600000 -o $$pcap || exit 1; \
	ls -l $$pcap | awk '{printf "capture: %s (%.0f MB)\n", $$NF, $$5/1048576}'; \
	dec=$$($(SIMRUN) decode $$pcap) || exit 1; echo "$$dec"; \
	for j in 1 2; do \
		out=$$( { /usr/bin/time -f 'peak RSS %M KB' $(SIMRUN) run -j $$j -format json -o /dev/null -runtime-stats $$pcap; } 2>&1 ) || { echo "$$out"; exit 1; }; \
		echo "simrun run -j $$j: $$(echo "$$out" | grep -o '= [0-9]* packets/s' | cut -c3-), $$(echo "$$out" | grep -o 'peak RSS [0-9]* KB')"; \
		eval "rate$$j=$$(echo "$$out" | grep -o '= [0-9]* packets/s' | awk '{print $$2}')"; \
	done; \
	drate=$$(echo "$$dec" | awk '{print $$(NF-1)}'); \
	awk -v d=$$drate -v a=$$rate1 -v b=$$rate2 'BEGIN { printf "ratios: -j 1 / decode-only = %.2f (target >= 0.33), -j 2 / -j 1 = %.2f (target >= 1.6)\n", a/d, b/a }'
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

generate: ## rebuild the committed eBPF objects in kernel/bpf (needs clang, llvm, libbpf-dev)
	GOFLAGS=-mod=mod $(GO) generate ./kernel/...
