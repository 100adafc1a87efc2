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
	$(SIMRUN) gen -o $(DEMO_PCAP) -seed 1 -preset demo
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

bench: ## benchmarks with allocation counts
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

generate: ## rebuild the committed eBPF objects in kernel/bpf (needs clang, llvm, libbpf-dev)
	GOFLAGS=-mod=mod $(GO) generate ./kernel/...
