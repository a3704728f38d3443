# Tern — build, test, cross-compile, self-test and benchmark.
# Every target installs or builds what it needs first; run as root on Debian 12.

ARCH ?= amd64
ARCHES := amd64 arm64 armhf
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(basename $(notdir $(wildcard Tests/Fuzz/*.swift)))
# Architectures make verify-debs checks (.ci/run checks amd64 and arm64).
DEB_ARCHES ?= $(ARCHES)

# Debian packages the build and the tests need: libraries, ARM emulation, and
# the real WireGuard peers and network tools the integration tests use.
PACKAGES := libsodium-dev libmnl-dev qemu-user-static wireguard-go wireguard-tools \
	iperf3 iproute2 nftables iputils-ping util-linux bc python3 curl

.PHONY: all deps build test integration chaos release release-all selftest demo bench bench-crypto fuzz fuzz-long clean deb verify-debs

all: build

## deps: install the Debian packages Tern needs (idempotent)
deps:
	@if ! dpkg -s $(PACKAGES) >/dev/null 2>&1; then \
		apt-get update -qq || echo "make deps: apt-get update reported errors; continuing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(PACKAGES); \
	fi

## build: SwiftPM debug build of everything
build: deps
	swift build

## test: the whole test suite: unit and namespace tests (swift test), a short
## fuzzing pass over every parser, and the interoperability test with wireguard-go
test: deps
	swift test --disable-xctest
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10
	$(MAKE) --no-print-directory integration

## integration: namespace tests (root): the Embedded ternd --wg against wireguard-go
## and wg/wg-quick, and under a flood of 60,000 bogus handshakes a second, and tern-control
## delivering a map over 1 MiB; then, with the normal Swift build (and its runtime checks),
## ternd configuring the host's interface, routes and nftables, tern-control under attack
## by clients that flood, hold and oversize, and the mesh:
## tern-control with ternd nodes driven by tern, subnet routers (approval, SNAT,
## accept-routes, failover, ACLs on the LAN), nodes whose server is replaced by one
## that floods them with interim HTTP answers, and nodes whose DNS server goes silent
integration: deps
	cross/build.sh amd64
	timeout 300 Tests/Integration/wg-interop.sh build/amd64/ternd
	timeout 120 Tests/Integration/handshake-flood.sh build/amd64/ternd
	timeout 300 Tests/Integration/large-map.sh build/amd64
	swift build
	timeout 120 Tests/Integration/host-network.sh .build/debug/ternd
	timeout 120 Tests/Integration/control-attack.sh .build/debug
	timeout 400 Tests/Integration/mesh.sh .build/debug
	timeout 300 Tests/Integration/subnet-router.sh .build/debug
	timeout 120 Tests/Integration/interim-flood.sh .build/debug
	timeout 120 Tests/Integration/dns-stall.sh .build/debug

## chaos [CHAOS_ROUNDS=100]: kill -9 of ternd and tern-control at random moments while
## nodes log in, routes change and traffic flows; nothing acknowledged may be lost and
## nothing may be left behind (namespaces, root; several minutes)
CHAOS_ROUNDS ?= 100
chaos: deps
	swift build
	timeout 3600 Tests/Integration/chaos.sh .build/debug $(CHAOS_ROUNDS)

## release ARCH=amd64|arm64|armhf: Embedded Swift release binaries in build/<arch>/
release: deps
	cross/build.sh $(ARCH)

release-all: deps
	@for arch in $(ARCHES); do cross/build.sh $$arch || exit 1; done

## selftest ARCH=...: run the shipped ternd's known-answer tests (under qemu for ARM)
selftest: release
	cross/run.sh $(ARCH) ternd selftest
	Tests/Integration/control-smoke.sh $(ARCH)

## demo: the main job: in network namespaces, tern-control, a "pi" subnet router in
## front of a LAN with a legacy web server, and a "laptop" that reaches it through
## the mesh once an admin approves the route; everything is removed at the end
demo: deps
	cross/build.sh amd64
	timeout 120 Tests/Demo/subnet-router.sh build/amd64

## bench: tunnel throughput, CPU, RSS and RTT against wireguard-go (namespaces, iperf3),
## heap allocations per packet, handshakes per second, the packet filter's cost per
## packet against a linear scan, a subnet router's throughput, CPU and RSS against
## plain routing and its failover time, and tern-control under 1,000 simulated
## nodes (registration, one change's fan-out, RSS, state size)
bench: deps
	cross/build.sh amd64
	Tests/Bench/tunnel.sh 10
	Tests/Bench/allocations.sh 5
	cross/run.sh amd64 tern-bench handshake
	cross/run.sh amd64 tern-bench filter
	Tests/Bench/subnet-router.sh build/amd64 10
	Tests/Bench/control-load.sh build/amd64 1000

## bench-crypto: AEAD, BLAKE2s and X25519 throughput of the amd64 release build, against C
bench-crypto: deps
	cross/build.sh amd64
	cross/run.sh amd64 tern-bench crypto

## fuzz: run every libFuzzer target in Tests/Fuzz for FUZZ_SECONDS each
fuzz: deps
	@for target in $(FUZZ_TARGETS); do cross/fuzz.sh $$target $(FUZZ_SECONDS) || exit 1; done

## fuzz-long [FUZZ_LONG_SECONDS=3600] [FUZZ_LONG_RUNS=10000000]: every target for 10 M
## inputs or the time given, whichever ends first, from the committed seeds in
## Tests/Fuzz/Corpus; then the inputs that add coverage are merged into those seeds
## (commit them). Prints the inputs run per target; stops at the first finding.
FUZZ_LONG_SECONDS ?= 3600
FUZZ_LONG_RUNS ?= 10000000
fuzz-long: deps
	@for target in $(FUZZ_TARGETS); do \
		cross/fuzz.sh $$target $(FUZZ_LONG_SECONDS) $(FUZZ_LONG_RUNS) || exit 1; \
		mkdir -p Tests/Fuzz/Corpus/$$target; \
		SWIFT_BACKTRACE=enable=no build/fuzz/$$target/$$target -merge=1 Tests/Fuzz/Corpus/$$target build/fuzz/$$target/corpus \
			>build/fuzz/$$target/merge.log 2>&1 || { tail -20 build/fuzz/$$target/merge.log; exit 1; }; \
		echo "fuzz-long: $$target seeds: $$(ls Tests/Fuzz/Corpus/$$target | wc -l)"; \
	done

## deb ARCH=amd64|arm64|armhf: the tern and tern-control packages in build/deb/,
## from build/<arch>/ (built first if missing or older than the sources)
deb: deps
	packaging/build-deb.sh $(ARCH)

## verify-debs [DEB_ARCHES="amd64 arm64 armhf"]: for each architecture build the
## packages, lint them, install them in a fresh Debian 12 root (ARM under qemu)
## and check them there (self-test, versions, remove, purge); prints sizes.
## The roots are cached in /var/cache/tern/roots (made by debootstrap if missing)
verify-debs: deps
	packaging/verify-debs.sh $(DEB_ARCHES)

clean:
	rm -rf .build build
