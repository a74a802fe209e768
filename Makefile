# ganforge: `make demo` trains the demo and prints where the results are; `make test` runs every
# test. Both install what they need first (Debian 12, as root) and are safe to repeat.
BUILD ?= build
JOBS ?= $(shell nproc)
GF := $(BUILD)/ganforge
DEMO_CONFIG ?= configs/cgan_mnist.json
DEMO_RUN ?= runs/demo
DEMO_N ?= 100

.PHONY: all deps data build demo test evaluators bench bench-serve profile format clean \
	experiment-augment experiment-repair install deb fuzz soak test-sanitize

all: build

deps:
	@bash scripts/install_deps.sh

data: deps
	@bash scripts/fetch_data.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DGF_WERROR=ON -DGF_REQUIRE_ALL=ON \
	  $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: data build
	@echo "== training $(DEMO_CONFIG) into $(DEMO_RUN)"
	@$(GF) train --config $(DEMO_CONFIG) --out $(DEMO_RUN) --overwrite
	@$(GF) sample $(DEMO_RUN) -n $(DEMO_N) --seed 0 --out $(DEMO_RUN)/demo_grid.png
	@echo "== demo done: open $(DEMO_RUN)/demo_grid.png ($(DEMO_N) samples) and $(DEMO_RUN)/samples/ (training progress)"

# The evaluators (feature extractors for FID & co.) are trained once and kept under data/evaluators/.
evaluators: data build
	@for d in mnist fashion-mnist; do \
	  [ -f data/evaluators/$$d.clf ] || $(GF) classifier train --dataset $$d; \
	done

# Every test (docs/testing.md, "What runs where"): this build (fuzz targets on) runs the
# integration, slow, browser and fuzz labels; the unit and serve labels run in the ASan + UBSan
# build of test-sanitize. A test skipped for a reason tests/expected_skips.txt does not list
# fails the run.
test: CMAKE_FLAGS += -DGF_BUILD_FUZZ=ON
test: data build
	@cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 1200 -LE '^(unit|serve)$$' \
	  --output-junit junit.xml
	@/usr/bin/python3 scripts/check_skips.py $(BUILD)/junit.xml tests/expected_skips.txt
	@bash scripts/test_sanitize.sh

# The unit and serve tests in an ASan + UBSan build of ganforge's own code (build-sanitize).
test-sanitize: data deps
	@bash scripts/test_sanitize.sh

# Speed against the PyTorch peer; writes BENCHMARKS.md (never part of `make test`).
bench: build
	@/usr/bin/python3 bench/run.py

# Where a training step's time goes, by operator: the PyTorch peers run the same kernels; the
# malloc settings are the ones ganforge makes (keep_freed_memory), so page faults do not hide
# inside the kernels' times.
profile:
	@for m in mlp_gan dcgan; do echo "== $$m"; GF_PROFILE=1 OPENBLAS_CORETYPE=Cooperlake \
	  OPENBLAS_NUM_THREADS=1 MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
	  /usr/bin/python3 bench/peers/$$m.py steps=20 > /dev/null; done

bench-serve: build
	@/usr/bin/python3 bench/serve_bench.py

# The server under load and abuse for SOAK_REQUESTS requests (docs/reliability.md; long, never
# part of `make test`).
SOAK_REQUESTS ?= 100000
soak: build
	@/usr/bin/python3 bench/soak.py gf=$(GF) requests=$(SOAK_REQUESTS)

# The applications' measurements (docs/applications.md; long, never part of `make test`).
experiment-augment: evaluators
	@bash scripts/experiment_augment.sh

experiment-repair: evaluators
	@bash scripts/experiment_repair.sh

# Installs the binary, presets and docs under PREFIX; `make deb` builds the Debian package in
# BUILD (docs/install.md).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

deb: build
	@cd $(BUILD) && cpack -G DEB

# Every libFuzzer target for FUZZ_SECONDS each (default 600); writes docs/reliability.md's table.
FUZZ_SECONDS ?= 600
fuzz: deps
	@bash tests/fuzz/run_all.sh $(FUZZ_SECONDS)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD)
