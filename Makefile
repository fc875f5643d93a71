# Thin wrapper over CMake (as neovim has). `make` builds into build/,
# `make test` builds and runs the whole suite, `make demo` runs the main job.
BUILD_DIR ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure test demo bench clean

all: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

deps:
	@./scripts/install-deps.sh --check-or-install

configure: deps
	@if [ ! -f $(BUILD_DIR)/CMakeCache.txt ]; then \
		cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS); fi

test: all
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) $(CTEST_FLAGS)

demo: all
	@./scripts/demo.sh $(BUILD_DIR)

bench: all
	@./bench/run.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
