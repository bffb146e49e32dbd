# spoolship - GNU Make build.  `make` builds the library and the command,
# `make check` everything under ASan+UBSan and runs every test (under 10
# minutes on 2 cores), `make chaos` the long fault walks whose short
# versions `make check` runs, `make bench` prints the throughput figures,
# `make demo` shows the pipeline, `make deb` builds the Debian packages,
# `make docs` rewrites the files written from the configuration's option
# table (after changing an option).
# Missing Debian packages are installed by tools/deps.sh (as root).

PREFIX ?= /usr/local
DESTDIR ?=
# Everything `make install` writes lies under PREFIX (DESTDIR staging on
# top), unless a directory is given outside it: the configuration in
# $(PREFIX)/etc as GNU tools do, /etc only for PREFIX=/usr (a package);
# the unit where systemd looks for it (it searches
# /usr/local/lib/systemd/system and /usr/lib/systemd/system; for another
# PREFIX pass SYSTEMDUNITDIR=/etc/systemd/system).  docs/operations.md.
ifeq ($(PREFIX),/usr)
SYSCONFDIR ?= /etc
else
SYSCONFDIR ?= $(PREFIX)/etc
endif
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
# The service's spool: the unit's StateDirectory=spoolship, always here.
STATEDIR := /var/lib/spoolship
CC ?= cc
BUILD ?= build
SAN ?=
V ?= 0

PKGS := lmdb libcjson zlib libcrypto
DAEMON_PKGS := libcurl inih libmicrohttpd
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
ifeq ($(SAN),fuzz)
CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -fPIC -pthread -Iinclude \
	$(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LIBS = $(PKG_LIBS) -pthread

# One folder per layer (docs/architecture.md): src/lib is the producer
# library (libspoolship), src/maint the offline spool maintenance the
# command runs (compact, salvage: never in the shared library), src/daemon
# the shipper, ingest endpoint and their helpers (libcurl, inih,
# libmicrohttpd: never in the library), src/cli the command.  Each folder
# is compiled with the include paths of the layers below it only, so a
# library file cannot include a daemon or command header.
LIB_SRC := $(wildcard src/lib/*.c)
MAINT_SRC := $(wildcard src/maint/*.c)
DAEMON_SRC := $(wildcard src/daemon/*.c)
CLI_SRC := $(wildcard src/cli/*.c)
LIB_OBJ := $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
MAINT_OBJ := $(MAINT_SRC:src/%.c=$(BUILD)/obj/%.o)
DAEMON_OBJ := $(DAEMON_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
# Everything above the library links the library's objects through this
# archive (its internal functions too); programs outside the project link
# libspoolship.a or libspoolship.so.
INTERNAL_LIB := $(BUILD)/libspoolship-internal.a
# What the daemon's tests and the fuzz targets link besides the library.
APP_OBJ := $(MAINT_OBJ) $(DAEMON_OBJ)
UNIT_SRC := $(wildcard test/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:test/unit/%.c=$(BUILD)/test/%)
TOOLS := $(BUILD)/append-example $(BUILD)/spool-tool $(BUILD)/bench-append
ifneq ($(wildcard tools/mock-polaris.c),)
TOOLS += $(BUILD)/mock-polaris
endif
TOOLS += $(BUILD)/load-ingest $(BUILD)/faultshim.so
TOOLS += $(BUILD)/gen-docs

# The library's soname is libspoolship.so.$(SOVER): raise SOVER when a
# change breaks the ABI.  The file itself is named after the version.
SOVER := 0
VERSION := $(shell sed -n 's/.*VERSION_STRING "\(.*\)"/\1/p' \
	include/spoolship.h)
all: $(BUILD)/libspoolship.a $(BUILD)/libspoolship.so $(BUILD)/spoolship \
	$(TOOLS)

deps:
	@tools/deps.sh build
deps-test:
	@tools/deps.sh test

LAYER_INC_lib := -Isrc/lib
LAYER_INC_maint := -Isrc/lib -Isrc/maint
LAYER_INC_daemon := -Isrc/lib -Isrc/daemon
LAYER_INC_cli := -Isrc/lib -Isrc/maint -Isrc/daemon -Isrc/cli
ALL_INC := $(LAYER_INC_cli)
HEADERS := $(wildcard src/*/*.h) include/spoolship.h
define layer_rule
$$(BUILD)/obj/$(1)/%.o: src/$(1)/%.c $$(HEADERS) | deps
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(LAYER_INC_$(1)) -fvisibility=hidden -c -o $$@ $$<
endef
$(foreach l,lib maint daemon cli,$(eval $(call layer_rule,$(l))))

# The status page (tools/status.html) as a C string literal for metrics.c:
# backslash, quote and '?' (trigraphs) escaped, one literal per line.
$(BUILD)/gen/status_page.h: tools/status.html
	@mkdir -p $(dir $@)
	sed -e 's/[\\"?]/\\&/g' -e 's/^/"/' -e 's/$$/\\n"/' $< > $@.tmp
	mv $@.tmp $@
$(BUILD)/obj/daemon/metrics.o: $(BUILD)/gen/status_page.h
$(BUILD)/obj/daemon/metrics.o: ALL_CFLAGS += -I$(BUILD)/gen

# The public archive holds one relocatable object: the library's objects
# linked together (ld -r), then every hidden symbol made local, so only
# the spoolship_* functions stay global and a program's own errf or
# array_grow cannot clash with ours (test 0031).
LD ?= ld
OBJCOPY ?= objcopy
$(BUILD)/libspoolship.o: $(LIB_OBJ)
	$(LD) -r -o $@.tmp $^
	$(OBJCOPY) --localize-hidden $@.tmp
	mv $@.tmp $@

$(BUILD)/libspoolship.a: $(BUILD)/libspoolship.o
	rm -f $@ && ar rcs $@ $<

$(INTERNAL_LIB): $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libspoolship.so: $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libspoolship.so.$(SOVER) $(LDFLAGS) -o $@ \
		$^ $(LIBS)

$(BUILD)/spoolship: $(CLI_OBJ) $(APP_OBJ) $(INTERNAL_LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(APP_OBJ) $(INTERNAL_LIB) $(LIBS) \
		$(DAEMON_LIBS)

$(BUILD)/append-example: docs/examples/append-example.c \
		$(BUILD)/libspoolship.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libspoolship.a $(LIBS)

$(BUILD)/spool-tool: test/spool-tool.c $(INTERNAL_LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_INC) $(LDFLAGS) -o $@ $< $(INTERNAL_LIB) $(LIBS)

$(BUILD)/bench-append: tools/bench-append.c $(INTERNAL_LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_INC) $(LDFLAGS) -o $@ $< $(INTERNAL_LIB) $(LIBS)

$(BUILD)/mock-polaris: tools/mock-polaris.c | deps
	$(CC) $(ALL_CFLAGS) -D_GNU_SOURCE $(LDFLAGS) -o $@ $< $(TOOL_LIBS) \
		-lpthread

# The ingest endpoint's load generator (libcurl multi, keep-alive).
$(BUILD)/load-ingest: tools/load-ingest.c | deps
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(shell pkg-config --libs libcurl zlib 2>/dev/null)

# The files written from the option table (src/daemon/config_docs.c):
# config.example.ini, docs/configuration.md's key tables and the man
# page's option list.  test_config fails when one of them differs from
# the table: `make docs` rewrites them.
$(BUILD)/gen-docs: tools/gen-docs.c $(INTERNAL_LIB) $(APP_OBJ)
	$(CC) $(ALL_CFLAGS) $(ALL_INC) $(LDFLAGS) -o $@ $< $(APP_OBJ) \
		$(INTERNAL_LIB) $(LIBS) $(DAEMON_LIBS)

docs: $(BUILD)/gen-docs
	@$(BUILD)/gen-docs

# The I/O fault shim (LD_PRELOAD, test/faultshim.c): never sanitized, so
# it can be preloaded into any build.
$(BUILD)/faultshim.so: test/faultshim.c
	$(CC) -std=c11 -Wall -Wextra -Werror -O2 -g -fPIC -shared -o $@ $< -ldl

$(BUILD)/test/%: test/unit/%.c $(INTERNAL_LIB) $(APP_OBJ) \
		| deps-test
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_INC) $(LDFLAGS) -o $@ $< $(APP_OBJ) \
		$(INTERNAL_LIB) $(LIBS) $(DAEMON_LIBS) -lcmocka

unit: $(UNIT_BIN)

# ---- tests -----------------------------------------------------------------
# Everything built again with sanitizers in build/asan, then run.
# The builds use every core (CHECK_JOBS) unless make was given -j itself.
CHECK_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CHECK_J = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(CHECK_JOBS))
check: deps-test
	@$(MAKE) --no-print-directory $(CHECK_J) BUILD=build/asan SAN=1 all unit
	@$(MAKE) --no-print-directory lint man-lint
	@if command -v clang >/dev/null; then \
		$(MAKE) --no-print-directory $(CHECK_J) -s BUILD=build/clang \
			CC=clang all; \
	else echo "check: clang not installed, gcc build only"; fi
	@BUILD_DIR=$(CURDIR)/build/asan test/run.sh

# ---- chaos ------------------------------------------------------------------
# The fault tests' full walks under ASan: 0710 fails every call of its
# append and ship runs (check: the first, the last and one more of each
# kind of call), 0712 fills the filesystem with a clear spool and with an
# encrypted one (check: the encrypted one).  CHAOS=1 reaches the scripts.
CHAOS_TESTS ?= 0710 0712
chaos: deps-test
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 all unit
	@CHAOS=1 TESTS="$(CHAOS_TESTS)" BUILD_DIR=$(CURDIR)/build/asan \
		test/run.sh

# ---- fuzzing (clang libFuzzer) ------------------------------------------------
# One target per parser of outside input: test/fuzz/fuzz_<target>.c, seeds
# in test/fuzz/corpus/<target>/.  Objects are rebuilt in build/fuzz with
# -fsanitize=fuzzer-no-link; `make fuzz FUZZ_SECONDS=N` runs each target.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:test/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: test/fuzz/%.c $(INTERNAL_LIB) $(APP_OBJ) \
		$(wildcard test/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_INC) -fsanitize=fuzzer,address,undefined \
		-o $@ $< $(APP_OBJ) $(INTERNAL_LIB) $(LIBS) $(DAEMON_LIBS)
fuzz-bin: $(FUZZ_BIN)
fuzz: deps-test
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang SAN=fuzz \
		fuzz-bin
	@test/fuzz/run.sh build/fuzz $(FUZZ_SECONDS)

# ---- soak -------------------------------------------------------------------
SOAK_MINUTES ?= 60
soak: all
	@BUILD_DIR=$(CURDIR)/$(BUILD) SOAK_MINUTES=$(SOAK_MINUTES) tools/soak.sh

# Banned functions (unbounded copies, locale- or TZ-bound conversions)
# never appear in src/ or include/: use snprintf, strtol, gmtime_r.
lint:
	@if grep -nE '\b(sprintf|vsprintf|strcpy|strcat|atoi|atol|gets|localtime|gmtime|asctime|ctime)[[:space:]]*\(' \
		src/*/*.c src/*/*.h include/*.h; then \
		echo "lint: banned function (see the comment above)"; exit 1; fi

# Man pages: mandoc's checker; a warning or worse fails (style notes, such
# as a page not installed yet, do not).
man-lint:
	@mandoc -Tlint -Wwarning docs/man/spoolship.1 docs/man/spoolship.ini.5

# ---- benchmark, demo, install -------------------------------------------------
bench: all
	@BUILD_DIR=$(CURDIR)/$(BUILD) tools/bench.sh

demo: all
	@tools/deps.sh demo
	@BUILD_DIR=$(CURDIR)/$(BUILD) tools/demo.sh

install: $(BUILD)/libspoolship.a $(BUILD)/libspoolship.so $(BUILD)/spoolship
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
		$(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(BUILD)/spoolship $(DESTDIR)$(BINDIR)/spoolship
	install -m 0644 $(BUILD)/libspoolship.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(BUILD)/libspoolship.so \
		$(DESTDIR)$(LIBDIR)/libspoolship.so.$(VERSION)
	ln -sf libspoolship.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libspoolship.so.$(SOVER)
	ln -sf libspoolship.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libspoolship.so
	install -m 0644 include/spoolship.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' \
		tools/spoolship.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/spoolship.pc
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/spoolship
	install -m 0644 docs/man/spoolship.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/spoolship.ini.5 $(DESTDIR)$(MANDIR)/man5/
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		tools/spoolship.service.in \
		> $(DESTDIR)$(SYSTEMDUNITDIR)/spoolship.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/spoolship.service
	@# The example only: a real spoolship.ini is never written.  Its
	@# spool is the unit's state directory (the service's working
	@# directory is /, where ./spool cannot be written).
	sed -e '/^;path = \.\/spool$$/a path = $(STATEDIR)' \
		config.example.ini \
		> $(DESTDIR)$(SYSCONFDIR)/spoolship/spoolship.ini.example
	chmod 0644 $(DESTDIR)$(SYSCONFDIR)/spoolship/spoolship.ini.example

# The Debian packages (debian/): spoolship, libspoolship0,
# libspoolship-dev, in DEBDIR, checked by lintian (docs/operations.md).
DEBDIR ?= build/deb
deb:
	@tools/deps.sh deb
	@tools/make-deb.sh $(DEBDIR)

clean:
	rm -rf build

.PHONY: all deps deps-test check unit lint man-lint bench demo install \
	deb clean fuzz fuzz-bin soak chaos docs
