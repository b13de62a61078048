# overlay-boot — build, test and install.
VERSION   = 0.1
PREFIX    = /usr
SBINDIR   = $(PREFIX)/sbin
BINDIR    = $(PREFIX)/bin
LIBDIR    = $(PREFIX)/lib/overlay-boot
MANDIR    = $(PREFIX)/share/man/man8
DESTDIR   =

CC       ?= cc
MUSLCC   ?= musl-gcc
CFLAGS   ?= -O2
CWARN     = -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
# The reaper is pid 1 of every subhost: static, small, no allocation.
REAPER_CFLAGS = -std=c11 -Os -static -s -Wall -Wextra -Werror \
	-fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections \
	-Wl,--gc-sections

SCRIPTS  = overlay-boot overlay-stop overlay-go overlay-list \
	$(wildcard overlay-share overlay-diskfile overlay-clean-root)
HOOKS    = overlay-init overlay-premount overlay-postmount
# run by overlay-boot's supervisor, from the library directory
STAGES   = overlay-supervisor overlay-mount-stage
PIVOT_SRCS = src/overlay-pivot.c $(wildcard src/pivot-*.c) src/msg.c
# Shared by every C program but the reaper.
COMMON_HDRS = src/msg.h src/mount-api.h
PIVOT_HDRS = $(wildcard src/pivot-*.h) $(COMMON_HDRS)

SMALL_HELPERS = $(patsubst %.c,%,$(wildcard src/share-into.c src/clean-root.c \
	src/userns-make.c src/upper-xattrs.c src/netns-view.c))
HELPERS  = src/reaper src/overlay-pivot $(SMALL_HELPERS)

all: $(HELPERS) src/ovroot

src/reaper: src/reaper.c
	$(MUSLCC) $(REAPER_CFLAGS) -o $@ $<

# overlay-pivot is static with musl too: no dynamic loader runs in the
# set-user-id helper (it drops the loader's variables itself), and its
# start costs ~1.5 ms less per run. It is a static PIE, so that its code
# is placed at a random address like any PIE's (musl-gcc's specs cannot
# link one: its start files are named here). musl ships no kernel headers:
# the linux/ and asm/ directories it lacks, and only those, come from the
# system's through build/kinc.
REALCC   ?= gcc
MULTIARCH := $(shell $(REALCC) -print-multiarch 2>/dev/null)
MUSL_LIB ?= /usr/lib/$(MULTIARCH:-gnu=-musl)
PIVOT_CRT_BEGIN = $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o \
	$(shell $(REALCC) -print-file-name=crtbeginS.o)
PIVOT_CRT_END = $(shell $(REALCC) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o
PIVOT_OBJS = $(patsubst %.c,build/%.o,$(PIVOT_SRCS))

build/kinc:
	mkdir -p $@
	ln -sfn /usr/include/linux $@/linux
	ln -sfn /usr/include/asm-generic $@/asm-generic
	ln -sfn /usr/include/$(MULTIARCH)/asm $@/asm

build/src/%.o: src/%.c $(PIVOT_HDRS) | build/kinc
	@mkdir -p $(@D)
	$(MUSLCC) $(CWARN) $(CFLAGS) -fPIE -idirafter build/kinc -c -o $@ $<

src/overlay-pivot: $(PIVOT_OBJS)
	$(REALCC) -static-pie -nostdlib -o $@ $(PIVOT_CRT_BEGIN) $(PIVOT_OBJS) \
		-L$(MUSL_LIB) -lc $(shell $(REALCC) -print-libgcc-file-name) $(PIVOT_CRT_END)

# The small helpers: one source file each, with the shared messages.
$(SMALL_HELPERS): src/%: src/%.c src/msg.c $(COMMON_HDRS)
	$(CC) $(CWARN) $(CFLAGS) -o $@ $< src/msg.c

src/ovroot: src/overlay-pivot
	ln -sf overlay-pivot $@

# `make demo`, `make check` and `make bench` first install the Debian
# packages they need that are missing: the list is the file `packages`,
# tests/deps installs from it (as root, with apt-get), .ci/run and
# debian/control's Build-Depends agree with it.
DEPS = sh tests/deps

check:
	$(DEPS) build check
	$(MAKE) all
	sh tests/run

demo:
	$(DEPS) build demo
	$(MAKE) all
	sh tests/demo

# Installation: commands, library, hooks, helpers, man pages (section 8,
# built from man/*.adoc), the init script, the systemd unit, bash
# completion and /etc/subhosts.conf (kept when it exists already).
SYSCONFDIR    = /etc
UNITDIR      := $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions
ASCIIDOCTOR   = asciidoctor
# A page for every command that is here, the helper's, and subhosts(8).
MANPAGES = $(patsubst %,man/%.8,$(filter $(notdir $(SCRIPTS)) overlay-pivot subhosts,\
	$(patsubst man/%.adoc,%,$(wildcard man/*.adoc))))

man: $(MANPAGES)

man/%.8: man/%.adoc
	$(ASCIIDOCTOR) -b manpage -a mansource='overlay-boot $(VERSION)' -o $@ $<

install: all man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(SCRIPTS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 functions $(DESTDIR)$(LIBDIR)/functions
	install -d $(DESTDIR)$(LIBDIR)/lib
	install -m 0644 lib/*.sh $(DESTDIR)$(LIBDIR)/lib/
	install -m 0755 $(HOOKS) $(STAGES) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(HELPERS) subhosts-unit $(DESTDIR)$(LIBDIR)/
	ln -sf ../lib/overlay-boot/overlay-pivot $(DESTDIR)$(BINDIR)/ovroot
	install -d $(DESTDIR)$(MANDIR)
	install -m 0644 $(MANPAGES) $(DESTDIR)$(MANDIR)/
	if [ -f man/overlay-pivot.8 ]; then ln -sf overlay-pivot.8 $(DESTDIR)$(MANDIR)/ovroot.8; fi
	install -D -m 0755 subhosts.sh $(DESTDIR)$(SYSCONFDIR)/init.d/subhosts
	[ -e $(DESTDIR)$(SYSCONFDIR)/subhosts.conf ] || \
		install -D -m 0644 subhosts.conf $(DESTDIR)$(SYSCONFDIR)/subhosts.conf
	install -D -m 0644 subhosts@.service $(DESTDIR)$(UNITDIR)/subhosts@.service
	install -D -m 0644 completion/overlay-boot $(DESTDIR)$(COMPLETIONDIR)/overlay-boot
	for c in $(filter-out overlay-boot,$(notdir $(SCRIPTS))); do \
		ln -sf overlay-boot $(DESTDIR)$(COMPLETIONDIR)/$$c; done

# The Debian package, built from a clean tree; dpkg-buildpackage puts the
# .deb in the parent directory.
deb:
	dpkg-buildpackage -us -uc -b

.PHONY: man deb

clean:
	rm -f $(HELPERS) src/ovroot
	rm -rf build

.PHONY: all check demo install clean

# Linked like overlay-pivot (static PIE, musl), so that the ratio is fair.
build/bench/floor.o: bench/floor.c | build/kinc
	@mkdir -p $(@D)
	$(MUSLCC) $(CWARN) -O2 -fPIE -idirafter build/kinc -c -o $@ $<

bench/floor: build/bench/floor.o
	$(REALCC) -static-pie -nostdlib -o $@ $(PIVOT_CRT_BEGIN) $< \
		-L$(MUSL_LIB) -lc $(shell $(REALCC) -print-libgcc-file-name) $(PIVOT_CRT_END)

bench:
	$(DEPS) build bench
	$(MAKE) all bench/floor
	sh bench/run.sh

.PHONY: bench

# overlay-pivot's argument and spec parser under libFuzzer (clang, ASan,
# UBSan). The tests run it for a few seconds; this runs it for
# FUZZ_SECONDS with a corpus that persists in tests/fuzz/work (not kept).
FUZZ_SECONDS ?= 600
src/fuzz-parse: tests/fuzz/fuzz-parse.c src/pivot-parse.c src/pivot-parse.h
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-D_GNU_SOURCE -std=c11 -Isrc -o $@ tests/fuzz/fuzz-parse.c src/pivot-parse.c

fuzz: src/fuzz-parse
	mkdir -p tests/fuzz/work
	src/fuzz-parse -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-artifact_prefix=tests/fuzz/ tests/fuzz/work tests/fuzz/corpus

.PHONY: fuzz

# The fault suite's long version: many more iterations, 20-way boots
# repeated (SOAK=1 is read by tests/faults/*.bats).
soak: all
	SOAK=1 bats -r tests/faults

.PHONY: soak
