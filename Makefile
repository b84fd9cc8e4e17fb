# ingot build. `make` builds build/ingot; `make test` runs every test;
# `make asan` runs them under AddressSanitizer + UndefinedBehaviorSanitizer;
# `make demo` runs the main job; `make bench` prints the benchmark figures;
# `make fuzz` builds the libFuzzer drivers (clang). See README.md.

CC      ?= cc
BUILD   ?= build
SAN     ?=
PKGS     = yaml-0.1 jansson libcurl libzip expat xlsxwriter zlib libzstd openssl
DUCKDB_DIR := $(CURDIR)/deps/duckdb

# A system libduckdb wins over the one the bootstrap fetches.
ifeq ($(shell pkg-config --exists duckdb 2>/dev/null && echo y),y)
  DUCKDB_CFLAGS := $(shell pkg-config --cflags duckdb)
  DUCKDB_LIBS   := $(shell pkg-config --libs duckdb)
  DUCKDB_STAMP  :=
else ifneq ($(wildcard /usr/include/duckdb.h),)
  DUCKDB_CFLAGS :=
  DUCKDB_LIBS   := -lduckdb
  DUCKDB_STAMP  :=
else
  DUCKDB_CFLAGS := -isystem $(DUCKDB_DIR)
  DUCKDB_LIBS   := -L$(DUCKDB_DIR) -lduckdb -Wl,-rpath,$(DUCKDB_DIR)
  DUCKDB_STAMP  := $(DUCKDB_DIR)/VERSION
endif

WARN    = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -fvisibility=hidden -Isrc \
             $(DUCKDB_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
             -I/usr/include/mariadb -I/usr/include/postgresql $(SANFLAGS)
LIBS    = $(DUCKDB_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lreadline -lpq \
          -lmariadb -lpthread -lm

ifneq ($(SAN),)
  SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

SRCS    := $(shell find src -name '*.c' ! -path 'src/main.c' | sort)
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
DEPS    := $(OBJS:.o=.d) $(BUILD)/src/main.d
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all build deps test unit e2e asan demo bench fuzz clean distclean format
# The bootstrap runs first (it does nothing when all is there), then a
# sub-make that sees the installed packages' pkg-config flags.
all:
	@scripts/bootstrap.sh
	@$(MAKE) --no-print-directory build

build: $(BUILD)/ingot

deps: $(DUCKDB_STAMP)
$(DUCKDB_DIR)/VERSION:
	scripts/bootstrap.sh

ifeq ($(V),1)
  Q =
  say = @true
else
  Q = @
  say = @printf '  %-6s %s\n'
endif

$(BUILD)/%.o: %.c | $(DUCKDB_STAMP)
	@mkdir -p $(dir $@)
	$(say) CC $<
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libingot.a: $(OBJS)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/ingot: $(BUILD)/src/main.o $(BUILD)/libingot.a
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libingot.a
	@mkdir -p $(dir $@)
	$(say) LINK $@
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libingot.a $(LIBS) -lcmocka

unit: $(UNIT_BINS)
	@tests/run_unit.sh $(UNIT_BINS)

e2e: $(BUILD)/ingot
	@INGOT=$(CURDIR)/$(BUILD)/ingot tests/e2e/run.sh $(E2E_ARGS)

# Every test; the last line is the overall summary "N passed, N failed".
test:
	@scripts/bootstrap.sh --test
	@$(MAKE) --no-print-directory $(BUILD)/ingot $(UNIT_BINS)
	@INGOT=$(CURDIR)/$(BUILD)/ingot E2E_ARGS="$(E2E_ARGS)" tests/run_all.sh $(UNIT_BINS)

# Under the sanitizers: every unit test and the end-to-end tests not tagged
# SLOW or SANITIZED_SKIP (DuckDB runs several times slower under ASan, whose
# allocator it goes through); three test files at a time, as many of them
# wait on daemons and servers rather than compute.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 CC=$(CC) CFLAGS="-O1 -g" \
	  E2E_ARGS="$(or $(ASAN_E2E_ARGS),--sanitized -j3)" test

demo:
	@scripts/bootstrap.sh
	@$(MAKE) --no-print-directory build
	$(BUILD)/ingot demo $(or $(DEMO_DIR),demo-shop)

bench:
	@scripts/bootstrap.sh --test
	@$(MAKE) --no-print-directory build
	@INGOT=$(CURDIR)/$(BUILD)/ingot bench/run.sh $(BENCH)

fuzz:
	@$(MAKE) --no-print-directory -f fuzz/Makefile

clean:
	rm -rf build build-asan build-fuzz

distclean: clean
	rm -rf deps

format:
	clang-format -i $$(find src tests bench fuzz -name '*.[ch]' 2>/dev/null)

-include $(DEPS)
