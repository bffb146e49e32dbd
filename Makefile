# spoolship - GNU Make build.  `make` builds the library and the command,
# `make check` everything under ASan+UBSan and runs every test, `make bench`
# prints the throughput figures, `make demo` shows the pipeline.
# Missing Debian packages are installed by tools/deps.sh (as root).

PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
BUILD ?= build
SAN ?=
V ?= 0

PKGS := lmdb libcjson zlib
DAEMON_PKGS := libcurl inih libcrypto libmicrohttpd
TOOL_PKGS := libmicrohttpd libcjson zlib
# Recursive on purpose: evaluated after tools/deps.sh has run.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TOOL_LIBS = $(shell pkg-config --libs $(TOOL_PKGS) 2>/dev/null)
DAEMON_LIBS = $(shell pkg-config --libs $(DAEMON_PKGS) 2>/dev/null)

OPT ?= -O2
CFLAGS ?= $(OPT) -g
ifeq ($(SAN),1)
CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -fPIC -pthread -Iinclude -Isrc \
	$(PKG_CFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -pthread

LIB_SRC := errors.c clock.c record.c validate.c spool.c spool_append.c \
	spool_read.c spool_inspect.c producer.c
# The daemon's modules link libcurl, inih and libcrypto: never part of
# the producer library.
DAEMON_SRC := config.c log.c answer.c auth.c wake.c ship.c ship_auth.c \
	ingest.c
CLI_SRC := cli.c cli_append.c cli_inspect.c cli_run.c $(DAEMON_SRC)
DAEMON_OBJ := $(DAEMON_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
TOOLS := $(BUILD)/append-example $(BUILD)/spool-tool $(BUILD)/bench-append
ifneq ($(wildcard tools/mock-polaris.c),)
TOOLS += $(BUILD)/mock-polaris
endif
TOOLS += $(BUILD)/load-ingest

SOVER := 0
all: $(BUILD)/libspoolship.a $(BUILD)/libspoolship.so $(BUILD)/spoolship \
	$(TOOLS)

deps:
	@tools/deps.sh build
deps-test:
	@tools/deps.sh test

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*.h) include/spoolship.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -c -o $@ $<

$(BUILD)/libspoolship.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libspoolship.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libspoolship.so.$(SOVER) $(LDFLAGS) -o $@ \
		$^ $(LIBS)

$(BUILD)/spoolship: $(CLI_OBJ) $(BUILD)/libspoolship.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libspoolship.a $(LIBS) \
		$(DAEMON_LIBS)

$(BUILD)/append-example: docs/examples/append-example.c \
		$(BUILD)/libspoolship.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libspoolship.a $(LIBS)

$(BUILD)/spool-tool: test/spool-tool.c $(BUILD)/libspoolship.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libspoolship.a $(LIBS)

$(BUILD)/bench-append: tools/bench-append.c $(BUILD)/libspoolship.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libspoolship.a $(LIBS)

$(BUILD)/mock-polaris: tools/mock-polaris.c | deps
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE $(LDFLAGS) -o $@ $< $(TOOL_LIBS) \
		-lpthread

# The ingest endpoint's load generator (libcurl multi, keep-alive).
$(BUILD)/load-ingest: tools/load-ingest.c | deps
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(shell pkg-config --libs libcurl 2>/dev/null)

$(BUILD)/test/%: test/unit/%.c $(BUILD)/libspoolship.a $(DAEMON_OBJ) \
		| deps-test
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(DAEMON_OBJ) \
		$(BUILD)/libspoolship.a $(LIBS) $(DAEMON_LIBS) -lcmocka

unit: $(UNIT_BIN)

# ---- tests -----------------------------------------------------------------
# Everything built again with sanitizers in build/asan, then run.
check: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit
	@$(MAKE) --no-print-directory lint
	@if command -v clang >/dev/null; then \
		$(MAKE) --no-print-directory -s BUILD=build/clang CC=clang all; \
	else echo "check: clang not installed, gcc build only"; fi
	@BUILD_DIR=$(CURDIR)/build/asan test/run.sh

# House style rule 9: banned functions never appear in src/ or include/.
lint:
	@if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets|localtime|gmtime|asctime|ctime)[[:space:]]*\(' \
		src/*.c src/*.h include/*.h; then \
		echo "lint: banned function (STYLE.md rule 9)"; exit 1; fi

# ---- benchmark, demo, install -------------------------------------------------
bench: all
	@BUILD_DIR=$(CURDIR)/$(BUILD) tools/bench.sh

demo: all
	@tools/deps.sh demo
	@BUILD_DIR=$(CURDIR)/$(BUILD) tools/demo.sh

install: $(BUILD)/libspoolship.a $(BUILD)/libspoolship.so $(BUILD)/spoolship
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BUILD)/spoolship $(DESTDIR)$(PREFIX)/bin/spoolship
	install -m 0644 $(BUILD)/libspoolship.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(BUILD)/libspoolship.so \
		$(DESTDIR)$(PREFIX)/lib/libspoolship.so.$(SOVER)
	ln -sf libspoolship.so.$(SOVER) \
		$(DESTDIR)$(PREFIX)/lib/libspoolship.so
	install -m 0644 include/spoolship.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@VERSION@|$(shell sed -n 's/.*VERSION_STRING "\(.*\)"/\1/p' include/spoolship.h)|g' \
		tools/spoolship.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/spoolship.pc

clean:
	rm -rf build

.PHONY: all deps deps-test check unit lint bench demo install clean
