# Build, run and test the MCU. `make run` and `make test` install what is missing first.
# Sources are found by pattern: every .c under mcu/ media/ signaling/ rooms/ is part of the
# server; tests/unit/test_*.c are cmocka binaries; fuzz/fuzz_*.c are libFuzzer targets.

CC      ?= gcc
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)
PKGS    := libwebsockets openssl libsrtp2 opus jansson sqlite3 speexdsp vpx libsodium libavformat libavcodec libavutil
CFLAGS_BASE := -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers -g -I. \
               -D_GNU_SOURCE -DMCU_VERSION='"$(VERSION)"' -MMD -MP \
               $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC   := $(filter-out mcu/main.c,$(wildcard mcu/*.c media/*.c signaling/*.c rooms/*.c))
TEST_SRC  := $(wildcard tests/unit/test_*.c)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)
BENCH_SRC := $(wildcard bench/*.c)
TOOL_SRC  := $(wildcard tools/*.c)
LOAD_SRC  := $(wildcard tools/load/*.c)   # modules of build/mcu-load

# Three flavours of the same objects: release (build/), sanitized (build/asan/), fuzz (build/fuzz/).
REL_O  := $(LIB_SRC:%.c=build/obj/%.o)
ASAN_O := $(LIB_SRC:%.c=build/asan/obj/%.o)
FUZZ_O := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
REL_CFLAGS  := $(CFLAGS_BASE) -O2
ASAN_CFLAGS := $(CFLAGS_BASE) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined
FUZZ_CFLAGS := $(filter-out -Wextra,$(CFLAGS_BASE)) -O1 -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined
ASAN_LDFLAGS := -fsanitize=address,undefined

TESTS := $(TEST_SRC:tests/unit/%.c=build/asan/tests/%)
FUZZERS := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
BENCHES := $(BENCH_SRC:bench/%.c=build/bench/%)
TOOLS := $(TOOL_SRC:tools/%.c=build/%)
LOAD_O := $(LOAD_SRC:%.c=build/obj/%.o)

# Quiet by default; `make V=1` prints full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @echo "  $(1) $@"
endif

# Objects built only as prerequisites of pattern rules (the fuzz and load objects) are
# "intermediate" to make, which would delete them after every build: keep them.
.SECONDARY:

.PHONY: all asan deps run test unit integration fuzz fuzz-quick bench clean
all: build/mcu $(TOOLS)

deps:
	@bash scripts/deps.sh

build/mcu: $(REL_O) build/obj/mcu/main.o
	$(call say,LD)
	$(Q)$(CC) -o $@ $^ $(LIBS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(REL_CFLAGS) -c -o $@ $<

asan: build/asan/mcu $(TESTS)

build/asan/mcu: $(ASAN_O) build/asan/obj/mcu/main.o
	$(call say,LD)
	$(Q)$(CC) $(ASAN_LDFLAGS) -o $@ $^ $(LIBS)

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)$(CC) $(ASAN_CFLAGS) -c -o $@ $<

build/asan/tests/%: tests/unit/%.c $(ASAN_O)
	@mkdir -p $(dir $@)
	$(call say,LD)
	$(Q)$(CC) $(ASAN_CFLAGS) -o $@ $< $(ASAN_O) $(LIBS) -lcmocka

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC)
	$(Q)clang $(FUZZ_CFLAGS) -c -o $@ $<

build/fuzz/%: fuzz/%.c $(FUZZ_O)
	@mkdir -p $(dir $@)
	$(call say,LD)
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_O) $(LIBS)

build/bench/%: bench/%.c $(REL_O)
	@mkdir -p $(dir $@)
	$(call say,LD)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< $(REL_O) $(LIBS)

build/mcu-load: tools/mcu-load.c $(REL_O) $(LOAD_O)
	$(call say,LD)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< $(REL_O) $(LOAD_O) $(LIBS)

build/%: tools/%.c $(REL_O)
	$(call say,LD)
	$(Q)$(CC) $(REL_CFLAGS) -o $@ $< $(REL_O) $(LIBS)

# Start the server for a person to use: loopback HTTP on 8080, database under var/.
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var
	@echo "Starting the MCU. Admin panel: http://127.0.0.1:8080/admin/  (Ctrl-C stops it)"
	exec ./build/mcu --config $${MCU_CONFIG:-docs/mcu.conf.example}

# Every test under ASan/UBSan: cmocka units, then the integration runner, then fuzz smoke.
test: deps
	@$(MAKE) --no-print-directory asan build/mcu $(TOOLS) $(FUZZERS)
	@bash tests/run.sh

unit: asan
	@bash tests/run.sh unit

integration: asan
	@bash tests/run.sh integration

# Every fuzzer for FUZZ_SECONDS (10 minutes by default) on its seed corpus plus what earlier
# runs found (build/fuzz/corpus/NAME). A failing target (any ASan or UBSan report: UBSan does
# not recover) is reported and the rest still run;
# the summary gives each target's executions and result, and `make fuzz` fails if any did.
# Logs: build/fuzz/logs/NAME.log; crashing inputs: build/fuzz/crashes/NAME/.
FUZZ_SECONDS ?= 600
fuzz: $(FUZZERS)
	@export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1; failed=0; summary=""; mkdir -p build/fuzz/logs; \
	for f in $(FUZZERS); do n=$$(basename $$f | sed 's/^fuzz_//'); log=build/fuzz/logs/$$n.log; \
	  mkdir -p build/fuzz/corpus/$$n build/fuzz/crashes/$$n; seeds=fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "== $$n for $(FUZZ_SECONDS)s (log: $$log)"; \
	  if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/crashes/$$n/ \
	      build/fuzz/corpus/$$n $$seeds >$$log 2>&1; then result=ok; \
	  else result="FAILED: $$(grep -m1 -o 'ERROR: .*\|runtime error: .*\|deadly signal' $$log)"; failed=$$((failed + 1)); fi; \
	  execs=$$(grep -o 'number_of_executed_units: *[0-9]*' $$log | grep -o '[0-9]*$$'); \
	  [ -n "$$execs" ] || execs=$$(grep -o '^#[0-9]*' $$log | tail -1 | tr -d '#'); \
	  summary="$$summary$$(printf '%-14s %12s executions  %s' "$$n" "$${execs:-?}" "$$result")\n"; \
	done; printf '\n%b' "$$summary"; [ $$failed -eq 0 ]

bench: $(BENCHES) build/mcu

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
