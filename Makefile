# brook — the two commands: `make run` and `make test`.
#
#   make run     install what is missing, build, run the pipeline on embedded defaults
#   make test    install what is missing, build, run every test twice: a gcc build
#                (unit, integration, fuzz corpora, unit tests under valgrind), then a
#                clang ASan+UBSan build with real libFuzzer targets (unit, integration,
#                fuzz corpora replayed by libFuzzer)
#   make bench   build optimised and run the benchmarks in bench/
#   make fuzz    fuzz each libFuzzer target (clang build in build-asan/) for FUZZ_SECONDS
#   make build   just build (build/brook)

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

.PHONY: all deps build build-asan run test test-plain test-asan bench fuzz clean

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

run: build
	@bash scripts/run.sh $(BUILD)/brook

test: deps test-plain test-asan

test-plain: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
		-DBROOK_SANITIZE=ON -DBROOK_FUZZ=ON $(CMAKE_FLAGS)

build-asan: deps $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS) -LE valgrind

bench: build
	@bash scripts/bench.sh $(BUILD)

# New inputs go to $(ASAN_BUILD)/corpus/<target>/; copy the interesting ones (and any
# crash-* reproducer, once fixed) into tests/fuzz/corpus/<target>/.
fuzz: build-asan
	@for t in $(ASAN_BUILD)/fuzz_*; do \
		name=$$(basename $$t); target=$${name#fuzz_}; \
		mkdir -p $(ASAN_BUILD)/corpus/$$target; \
		echo "== $$name for $(FUZZ_SECONDS)s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) $(ASAN_BUILD)/corpus/$$target \
			tests/fuzz/corpus/$$target || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
