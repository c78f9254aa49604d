# Front door for building, testing and benchmarking nerve; CMake does the work.
# docs/building.md describes the targets and options.

PREFIX ?= /usr/local
MAKEFLAGS += --no-print-directory
NPROC := $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR := build
ASAN_DIR := build-asan
PORTABLE_DIR := build-portable
MEMCHECK_DIR := build-memcheck
CMAKE_FLAGS ?=

# Leaks fail the sanitizer run; UBSan already aborts (-fno-sanitize-recover).
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1 \
                 UBSAN_OPTIONS=print_stacktrace=1

.PHONY: all build run test fuzz bench bench-load bench-dist bench-gemm gpu-debs install clean deps deps-bench deps-fuzz deps-onnx deps-lab check-memory lab

all: build

deps:
	scripts/deps.sh build

deps-bench:
	scripts/deps.sh bench

deps-fuzz:
	scripts/deps.sh fuzz

# python3-onnx, PyTorch, ONNX's node tests and ONNX Runtime for the ONNX
# tests; where they cannot be installed (not root), those tests skip.
deps-onnx:
	scripts/deps.sh onnx || echo "deps: ONNX test tools missing: the ONNX tests will skip"

# chromium, for the lab report's browser test; where it cannot be installed,
# that test skips.
deps-lab:
	scripts/deps.sh lab || echo "deps: chromium missing: the lab report's browser test will skip"

# Configuring every time is cheap (cached) and keeps PREFIX in nerve.pc current.
build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) --parallel $(NPROC)

run: build
	./$(BUILD_DIR)/nerve train examples/fashion_mlp.cfg --save $(BUILD_DIR)/fashion_mlp.safetensors

# The evidence lab (lab/README.md): make lab CLAIM=C07, or every experiment;
# LAB_FLAGS=--smoke for the tiny budgets. The report is rebuilt after.
LAB_OUT ?= lab/results
lab: build
	lab/run.sh $(LAB_FLAGS) --out $(LAB_OUT) $(if $(CLAIM),$(CLAIM),--all)
	lab/report.sh $(LAB_OUT)

# The portable tree is what a distribution or a machine without oneDNN,
# MPI or CUDA builds (docs/building.md, "The portable build"); the ref and
# sealed variants of tests, plain C alike in every tree, run in build/ and
# build-asan/ only.
PORTABLE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DNERVE_WITH_DNNL=OFF -DNERVE_NATIVE=OFF \
                  -DNERVE_MPI=OFF -DNERVE_CUDA=OFF -DNERVE_TEST_BACKEND_VARIANTS=OFF

# The three trees are built and tested even when one fails, so one CI run
# reports every failure; the target fails if any did.
test: build deps-onnx deps-lab
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DNERVE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN_DIR) --parallel $(NPROC)
	cmake -S . -B $(PORTABLE_DIR) $(PORTABLE_FLAGS) $(CMAKE_FLAGS)
	cmake --build $(PORTABLE_DIR) --parallel $(NPROC)
	@status=0; \
	echo "== ctest: $(BUILD_DIR) (Release)"; \
	(cd $(BUILD_DIR) && ctest --output-on-failure -j2) || status=1; \
	echo "== ctest: $(ASAN_DIR) (Debug, ASan+UBSan)"; \
	(cd $(ASAN_DIR) && $(SANITIZER_ENV) ctest --output-on-failure -j2) || status=1; \
	echo "== ctest: $(PORTABLE_DIR) (Release, no oneDNN, MPI or CUDA, no -march=native)"; \
	(cd $(PORTABLE_DIR) && ctest --output-on-failure -j2) || status=1; \
	exit $$status

# libFuzzer, each target for FUZZ_SECONDS on a scratch copy of its seeds and
# past crashers (tests/fuzz/corpus stays as committed); findings go to
# build-fuzz/artifacts/. Fails if any target crashes, hangs, leaks or
# over-allocates. docs/building.md, "Fuzzing".
FUZZ_DIR := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := cfg idx csv text safetensors onnx
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -max_len=8192
fuzz: deps-fuzz
	CC=clang cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=Debug -DNERVE_FUZZ=ON \
	      -DBUILD_TESTING=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) --parallel $(NPROC) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	@status=0; mkdir -p $(FUZZ_DIR)/artifacts; \
	for t in $(FUZZ_TARGETS); do \
	  scratch=$(FUZZ_DIR)/corpus/$$t; rm -rf $$scratch; mkdir -p $$scratch; \
	  cp tests/fuzz/corpus/$$t/* $$scratch/; \
	  if [ -d tests/fuzz/crashers/$$t ]; then cp tests/fuzz/crashers/$$t/* $$scratch/; fi; \
	  dict=; if [ -f tests/fuzz/$$t.dict ]; then dict=-dict=tests/fuzz/$$t.dict; fi; \
	  echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  ./$(FUZZ_DIR)/tests/fuzz/fuzz_$$t $$scratch $$dict -max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) \
	      -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- -print_final_stats=1 || status=1; \
	done; exit $$status

# deps-bench first, alone: two deps.sh running apt-get at once under -j would
# fight over the dpkg lock.
bench: deps-bench
	$(MAKE) build
	bash bench/run.sh

# nerve and PyTorch alone and beside a busy loop (the MLP and the BN-CNN;
# docs/benchmarks.md, "A busy machine").
bench-load: deps-bench
	$(MAKE) build
	/usr/bin/python3 bench/bench_load.py --nerve $(BUILD_DIR)/bench/nerve_bench

# Data-parallel throughput: 2 ranks x 1 thread against 1 rank x 2 threads,
# MPI's own cost, and a shaped TCP link as root (bench/bench_dist.sh).
bench-dist: build
	bash bench/bench_dist.sh

# Measures dnnl_sgemm against OpenBLAS at nerve's GEMM shapes (docs/dependencies.md).
# Needs libopenblas-openmp-dev, which is not a build dependency of nerve
# (scripts/deps.sh bench installs it).
OPENBLAS_DIR := /usr/lib/x86_64-linux-gnu/openblas-openmp
OPENBLAS_INC := /usr/include/x86_64-linux-gnu/openblas-openmp
bench-gemm: deps-bench
	@test -e $(OPENBLAS_DIR)/libopenblas.so -a -e $(OPENBLAS_INC)/cblas.h || \
	  { echo "bench-gemm needs: apt-get install libopenblas-openmp-dev"; exit 1; }
	mkdir -p $(BUILD_DIR)
	cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fopenmp -I$(OPENBLAS_INC) \
	   bench/gemm_blas.c -o $(BUILD_DIR)/gemm_blas \
	   -ldnnl $(OPENBLAS_DIR)/libopenblas.so -Wl,-rpath,$(OPENBLAS_DIR) -lm
	@for threads in 1 2; do \
	  echo "== OMP_NUM_THREADS=$$threads OPENBLAS_CORETYPE=Haswell"; \
	  OMP_NUM_THREADS=$$threads OPENBLAS_CORETYPE=Haswell ./$(BUILD_DIR)/gemm_blas || exit 1; \
	  echo "== OMP_NUM_THREADS=$$threads OPENBLAS_CORETYPE unset"; \
	  env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=$$threads ./$(BUILD_DIR)/gemm_blas || exit 1; \
	done

# What scripts/gpu_check.sh needs on a lent GPU machine without nerve's
# libraries or a network: the .debs and the benchmark data, in .deps/gpu
# (docs/cuda.md).
gpu-debs:
	bash scripts/gpu_debs.sh

# The prefix is baked into nerve.pc at configure time, hence PREFIX on `build`.
# ldconfig makes the new libnerve.so.0 visible when installing for real.
install: build
	cmake --install $(BUILD_DIR)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(PORTABLE_DIR) $(MEMCHECK_DIR) $(FUZZ_DIR)

# Every test under valgrind memcheck: leaks (definite, indirect) and memory
# errors fail it. Slow (an hour or more on 2 cores); not part of `make test`,
# whose ASan/UBSan build covers the same ground quickly. valgrind cannot
# decode AVX-512, hence NERVE_NATIVE=OFF. CHECK_MEMORY_TESTS=regex limits it.
CHECK_MEMORY_TESTS ?= .
check-memory: deps
	@command -v valgrind >/dev/null || { echo "check-memory needs: apt-get install valgrind"; exit 1; }
	cmake -S . -B $(MEMCHECK_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNERVE_NATIVE=OFF \
	      -DNERVE_VALGRIND=ON $(CMAKE_FLAGS)
	cmake --build $(MEMCHECK_DIR) --parallel $(NPROC)
	cd $(MEMCHECK_DIR) && OMP_NUM_THREADS=2 ctest --output-on-failure -j$(NPROC) --timeout 7200 \
	    -R '$(CHECK_MEMORY_TESTS)'
