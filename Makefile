# skbsim — run `make help` for the targets.
GO       ?= go
PKGS     ?= ./...
DEMO_PCAP = $(CURDIR)/.cache/demo.pcap
SIMRUN    = $(CURDIR)/.cache/simrun
BENCH_ROUNDS ?= 3
# BENCH_GEN names the capture generator's version in the cached bench capture, so a
# generator change (2: TCP responses with PSH on their last segment only; 3:
# IPv6 TCP segments that fit a 1500-byte MTU) makes
# a new one.
BENCH_GEN ?= 3

.PHONY: help demo test test-short bench icount generate vet crossbuild build pgo

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

# The packages whose tests use the real kernel run one at a time, after the
# rest: their namespaces reuse device names (vA, vB), and the kfree_skb
# probes watch devices by name, so one package's drops would reach
# another's probe.
KERNEL_PKGS_RE = -e '/kernel$$' -e '/kernel/calibrate$$' -e '/kernel/diff$$'

test: vet crossbuild ## the whole suite (kernel tests run when SKBSIM_KERNEL_TESTS=1)
	$(GO) test -count=1 -timeout 9m $$($(GO) list $(PKGS) | grep -v $(KERNEL_PKGS_RE))
	@k=$$($(GO) list $(PKGS) | grep $(KERNEL_PKGS_RE)); if [ -n "$$k" ]; then echo $(GO) test -p 1 -count=1 -timeout 9m $$k; $(GO) test -p 1 -count=1 -timeout 9m $$k; fi

test-short: ## the suite without the slow property runs
	$(GO) test -short -count=1 $(PKGS)

bench: build ## packets/s of decode-only, simrun -j 1 and -j 2 on a 1.6M-packet capture (best of BENCH_ROUNDS) with peak RSS, then the Go benchmarks
	@pcap=$(CURDIR)/.cache/bench-large-1600k-$(BENCH_GEN).pcap; \
	test -s $$pcap || $(SIMRUN) gen -preset large -seed 1 -min-packets 1600000 -o $$pcap || exit 1; \
	ls -l $$pcap | awk '{printf "capture: %s (%.0f MB)\n", $$NF, $$5/1048576}'; \
	sh scripts/bench-rates.sh $(SIMRUN) $$pcap $(BENCH_ROUNDS)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

icount: build ## steady-state CPU instructions per packet of decode-only and simrun run -j 1 (valgrind; independent of the host's load)
	sh scripts/icount.sh $(SIMRUN)

PGO_CACHE = $(CURDIR)/.cache/pgo

pgo: ## rebuild cmd/simrun/default.pgo, the CPU profile go build uses for profile-guided optimisation (default, mixed and overlay replays)
	@mkdir -p $(PGO_CACHE)
	$(GO) build -pgo=off -o $(PGO_CACHE)/simrun ./cmd/simrun
	$(PGO_CACHE)/simrun gen -preset large -seed 1 -n 1600000 -o $(PGO_CACHE)/large.pcap
	$(PGO_CACHE)/simrun gen -preset mixed -seed 5 -n 300000 -o $(PGO_CACHE)/mixed.pcap
	$(PGO_CACHE)/simrun gen -preset overlay-node -seed 5 -n 300000 -o $(PGO_CACHE)/overlay.pcap
	$(PGO_CACHE)/simrun run -j 1 -format json -o /dev/null -cpuprofile $(PGO_CACHE)/large.prof $(PGO_CACHE)/large.pcap
	$(PGO_CACHE)/simrun run -j 1 -format json -o /dev/null -cpuprofile $(PGO_CACHE)/mixed.prof $(PGO_CACHE)/mixed.pcap
	$(PGO_CACHE)/simrun run -j 1 -format json -o /dev/null -scenario examples/overlay.yaml -cpuprofile $(PGO_CACHE)/overlay.prof $(PGO_CACHE)/overlay.pcap
	$(GO) tool pprof -proto $(PGO_CACHE)/large.prof $(PGO_CACHE)/mixed.prof $(PGO_CACHE)/overlay.prof > cmd/simrun/default.pgo
	@echo "wrote cmd/simrun/default.pgo; commit it"

generate: ## rebuild the committed eBPF objects in kernel/bpf (needs clang, llvm, libbpf-dev)
	GOFLAGS=-mod=mod $(GO) generate ./kernel/...

# Property, fuzz and mutation suites (proptest/).
SOAK      ?= 20
FUZZTIME  ?= 5000x
FUZZMINIMIZE ?= 100x
FUZZ_PKGS ?= ./capture ./proptest

.PHONY: mutants soak fuzz-short

mutants: ## apply each seeded bug of proptest/mutants to a copy of the committed tree, one at a time; last line "mutants: caught X of Y" (minutes)
	$(GO) run ./proptest/cmd/mutants

soak: ## the proptest property suites with SOAK times the CI check count (millions of steps; stops by itself)
	PROPTEST_SOAK=$(SOAK) $(GO) test -count=1 -timeout 0 -run '$(or $(SOAK_RUN),.)' ./proptest/

# FUZZTIME is a count of executions ("Nx"), not a duration: with a
# duration, go1.26's fuzz coordinator can report "context deadline exceeded"
# and fail a target that found nothing when the deadline lands while a worker
# is mid-call (go.dev/issue/75804, fixed in go1.27). A count has no deadline to
# race. FUZZMINIMIZE bounds the minimisation of each new interesting input,
# which otherwise takes the whole budget on a multi-kilobyte scenario file.
# Each target starts from its seeds and testdata/fuzz only (a private fuzz
# cache, removed after), so the baseline does not grow with earlier runs on
# the same machine.
fuzz-short: ## run every fuzz target of FUZZ_PKGS for FUZZTIME executions each (CI smoke)
	@cache=$$(mktemp -d); trap 'rm -rf "$$cache"' EXIT; \
	for p in $(FUZZ_PKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep '^Fuzz'); do \
			echo "fuzz $$p $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$p -test.fuzzcachedir="$$cache" || exit 1; \
		done; \
	done

# The design comparison report (docs/analysis.md, docs/*.svg).
REPORT_CACHE = $(CURDIR)/.cache/report
REPORT_DATA  = $(CURDIR)/docs/generated

.PHONY: report

report: build ## compare every design on the example scenarios and regenerate docs/analysis.md, its tables and charts
	@mkdir -p $(REPORT_CACHE) $(REPORT_DATA)
	$(SIMRUN) gen -preset lb -seed 1 -o $(REPORT_CACHE)/lb.pcap
	$(SIMRUN) gen -preset tap -seed 1 -o $(REPORT_CACHE)/tap.pcap
	$(SIMRUN) gen -preset demo -seed 1 -o $(REPORT_CACHE)/demo.pcap
	$(SIMRUN) gen -preset overlay-node -seed 1 -n 2000 -o $(REPORT_CACHE)/overlay.pcap
	$(SIMRUN) gen -preset quic -seed 1 -o $(REPORT_CACHE)/quic.pcap
	$(SIMRUN) gen -preset quic-router -seed 1 -o $(REPORT_CACHE)/quic-router.pcap
	@set -e; for run in edge-lb:examples/edge-lb.yaml:lb overlay:examples/overlay.yaml:overlay \
		tap-clone:examples/tap-clone.yaml:tap udp-gso:examples/udp-gso.yaml:quic \
		udp-gro-router:examples/udp-gro-router.yaml:quic-router default::demo; do \
		name=$${run%%:*}; rest=$${run#*:}; scen=$${rest%%:*}; pcap=.cache/report/$${rest#*:}.pcap; \
		sflag=; if [ -n "$$scen" ]; then sflag="-scenario $$scen"; fi; \
		echo "$(SIMRUN) compare -designs all $$sflag -chart docs/$$name.svg $$pcap"; \
		$(SIMRUN) compare -designs all $$sflag -chart docs/$$name.svg -o $(REPORT_DATA)/$$name.txt $$pcap; \
		$(SIMRUN) compare -designs all $$sflag -format json -o $(REPORT_DATA)/$$name.json $$pcap; \
	done
	$(GO) run ./compare/internal/mkreport render -data $(REPORT_DATA) -o docs/analysis.md docs/analysis.tmpl.md
	$(SIMRUN) transitions -o docs/transitions.md
	@echo "wrote docs/analysis.md, docs/transitions.md, docs/generated/ and docs/*.svg"
