# nucleus: build, test, lint, demo, bench.
#
#   make build        release build of the workspace (target/release/nucleus)
#   make test         build, unit tests, then the integration tests (as root) against it,
#                     then test-cgroup2
#   make test-cgroup2 cgroup v2 tests in a QEMU guest (hack/cgroup2-vm: the isolation crate's
#                     guest_v2_* tests and the nucleus binary on real bundles); fails if no boot
#   make integration  only the integration tests; NUCLEUS_BIN=/usr/sbin/runc checks the tests
#   make lint         rustfmt --check and clippy -D warnings
#   make demo         run a small busybox container with nucleus
#   make bench        hack/bench-lifecycle.sh (nucleus vs runc vs crun)
#   make test-e2e     containerd, Docker and podman run containers on nucleus (hack/e2e.sh;
#                     installs the clients with apt; E2E_RUNTIME=/usr/sbin/runc checks the suite)

CARGO ?= cargo
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
NUCLEUS_BIN ?= $(TARGET_DIR)/release/nucleus
# Container tests mostly wait on the kernel and child processes, so a few more threads than
# the CI machine's 2 cores keeps it busy without starving the runtimes under test.
TEST_THREADS ?= 4
DEMO_DIR := $(CURDIR)/build/demo-bundle
DEMO_ROOT := $(CURDIR)/build/demo-root

.PHONY: build test unit integration lint demo bench clean fuzz test-e2e test-cgroup2
.NOTPARALLEL:

build:
	$(CARGO) build --release

unit:
	$(CARGO) test --workspace --exclude integration

test: build unit integration test-cgroup2

integration:
	@test "$$(id -u)" = 0 || { echo "integration tests need root" >&2; exit 1; }
	@test -x "$(NUCLEUS_BIN)" || { echo "no runtime at $(NUCLEUS_BIN) (make build)" >&2; exit 1; }
	NUCLEUS_BIN="$(abspath $(NUCLEUS_BIN))" $(CARGO) test -p integration --no-fail-fast -- --test-threads=$(TEST_THREADS)

test-cgroup2:
	@test "$$(id -u)" = 0 || { echo "cgroup v2 guest tests need root" >&2; exit 1; }
	@test -x "$(NUCLEUS_BIN)" || { echo "no runtime at $(NUCLEUS_BIN) (make build)" >&2; exit 1; }
	hack/cgroup2-vm/test-isolation.sh
	NUCLEUS_BIN="$(abspath $(NUCLEUS_BIN))" hack/cgroup2-vm/test-nucleus.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

demo: build
	rm -rf "$(DEMO_DIR)"
	hack/mkbundle.sh "$(DEMO_DIR)" -- sh -c 'echo "Hello from a nucleus container!"; \
		echo "hostname: $$(hostname)"; echo "id:       $$(id)"; echo "kernel:   $$(uname -srm)"; \
		echo "pid:      $$$$ (pid 1 of its own pid namespace)"'
	"$(NUCLEUS_BIN)" --root "$(DEMO_ROOT)" run --bundle "$(DEMO_DIR)" "demo-$$$$"

E2E_RUNTIME ?= $(NUCLEUS_BIN)
test-e2e:
	@test "$$(id -u)" = 0 || { echo "e2e tests need root" >&2; exit 1; }
	@test -x "$(E2E_RUNTIME)" || { echo "no runtime at $(E2E_RUNTIME) (make build)" >&2; exit 1; }
	hack/clients/install-all.sh
	timeout --foreground 10m hack/e2e.sh --runtime "$(abspath $(E2E_RUNTIME))"

# Bounded differential fuzzing of the seccomp compiler against the reference evaluator
# (cargo-fuzz needs nightly flags; the stable toolchain accepts them with RUSTC_BOOTSTRAP).
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run diff -- -max_total_time=$(FUZZ_SECONDS)

bench: build
	NUCLEUS_BIN="$(abspath $(NUCLEUS_BIN))" hack/bench-lifecycle.sh

clean:
	$(CARGO) clean
	rm -rf build
