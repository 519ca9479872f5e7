# criu — checkpoint/restore in userspace.
#
#   make            build criu/criu
#   make test       install missing packages, build, run unit + end-to-end tests
#   make demo       install missing packages, build, walk through the external
#                   bind mount scenario
#   make bench      benchmarks: mounts (1,000 and 10,000) and a process with
#                   1 GiB of memory (dump, restore, restore --auto-dedup)
#   make fuzz       build the libFuzzer targets and run each briefly
#   make check-asan run the tests with AddressSanitizer/UBSan

CC       ?= gcc
PKGS     := libprotobuf-c libarchive libcap zlib libnftables
# CFLAGS/LDLIBS may be set on the command line (e.g. sanitizers); the flags
# the build needs are added on top with override.
CFLAGS   ?= -O2 -g
# warnings are errors, but in sanitizer builds (check-asan), whose -O1 makes false ones
WERROR   ?= -Werror
override CFLAGS += -Wall -Wextra $(WERROR) -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	    -Icriu/include -Iinclude -Iimages $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lprotobuf-c -larchive -lcap -lz -lnftables)
VERSION  := 0.1

PROTOS   := $(wildcard images/*.proto)
PB_SRCS  := $(PROTOS:.proto=.pb-c.c)
PB_HDRS  := $(PROTOS:.proto=.pb-c.h)
PB_OBJS  := $(PROTOS:.proto=.pb-c.o)

LIB_SRCS := $(filter-out criu/crtools.c,$(wildcard criu/*.c criu/*/*.c))
LIB_OBJS := $(LIB_SRCS:.c=.o) $(PB_OBJS)
UNIT_SRCS := $(wildcard test/unit/test-*.c)
UNIT_BINS := $(UNIT_SRCS:.c=.bin)

HELPER_SRCS := $(wildcard test/helpers/*.c)
HELPER_BINS := $(HELPER_SRCS:.c=)

all: criu/criu libcriu $(HELPER_BINS)

# Test workloads: dynamically linked unless their name says -static (those
# run inside busybox roots without a libc). They are what criu dumps, not
# criu: built the same whatever CFLAGS say (no sanitizers, which can't be
# static and would change the programs under test).
HELPER_CFLAGS := -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE

test/helpers/%-static: test/helpers/%-static.c test/helpers/outfile.h test/helpers/statecheck.h
	$(CC) $(HELPER_CFLAGS) -static -o $@ $< -lpthread

test/helpers/%: test/helpers/%.c
	$(CC) $(HELPER_CFLAGS) -o $@ $< -lpthread

# Clients of libcriu: built against the library in the tree, found there at
# run time. Not workloads: with the library's sanitizers (check-asan), whose
# runtime must come first in a program that loads it.
LIBCRIU_CLIENT_CFLAGS = $(HELPER_CFLAGS) $(filter -fsanitize=%,$(CFLAGS))

test/helpers/libcriu-%: test/helpers/libcriu-%.c include/criu.h lib/c/libcriu.so
	$(CC) $(LIBCRIU_CLIENT_CFLAGS) -Iinclude -o $@ $< -Llib/c -lcriu -Wl,-rpath,$(CURDIR)/lib/c -ldl

test/helpers/dlsym-check: test/helpers/dlsym-check.c
	$(CC) $(LIBCRIU_CLIENT_CFLAGS) -o $@ $< -ldl

images/%.pb-c.c images/%.pb-c.h: images/%.proto
	protoc-c --proto_path=images --c_out=images $<

images/%.pb-c.o: images/%.pb-c.c
	$(CC) $(CFLAGS) -Wno-error -c -o $@ $<

# Every object depends on the generated headers being present.
criu/%.o: criu/%.c $(PB_HDRS)
	$(CC) $(CFLAGS) -DCRIU_VERSION=\"$(VERSION)\" -MMD -MP -c -o $@ $<

criu/criu: criu/crtools.o $(LIB_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# libcriu: the client library (include/criu.h) that runtimes such as crun
# load to drive criu over RPC. Only the criu_* API is exported.
LIBCRIU_SRCS := $(wildcard lib/c/*.c)
LIBCRIU_OBJS := $(LIBCRIU_SRCS:.c=.o) lib/c/rpc.pb-c.o
LIBCRIU_CFLAGS = $(CFLAGS) -fPIC -fvisibility=hidden -Ilib/c

lib/c/%.o: lib/c/%.c include/criu.h lib/c/criu-private.h images/rpc.pb-c.h
	$(CC) $(LIBCRIU_CFLAGS) -c -o $@ $<

lib/c/rpc.pb-c.o: images/rpc.pb-c.c images/rpc.pb-c.h
	$(CC) $(LIBCRIU_CFLAGS) -Wno-error -c -o $@ $<

lib/c/libcriu.so.2: $(LIBCRIU_OBJS)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libcriu.so.2 -Wl,--no-undefined -o $@ $^ \
		$(shell pkg-config --libs libprotobuf-c 2>/dev/null || echo -lprotobuf-c)

lib/c/libcriu.so: lib/c/libcriu.so.2
	ln -sf libcriu.so.2 $@

lib/c/libcriu.a: $(LIBCRIU_OBJS)
	$(AR) rcs $@ $^

libcriu: lib/c/libcriu.so.2 lib/c/libcriu.so lib/c/libcriu.a

# make install [PREFIX=/usr/local] [DESTDIR=]: criu, its man page, libcriu,
# criu.h and criu.pc where a Debian user looks for them.
PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man

install: criu/criu libcriu
	install -D -m 755 criu/criu $(DESTDIR)$(SBINDIR)/criu
	install -D -m 644 Documentation/criu.8 $(DESTDIR)$(MANDIR)/man8/criu.8
	install -D -m 644 include/criu.h $(DESTDIR)$(INCLUDEDIR)/criu/criu.h
	install -D -m 755 lib/c/libcriu.so.2 $(DESTDIR)$(LIBDIR)/libcriu.so.2
	ln -sf libcriu.so.2 $(DESTDIR)$(LIBDIR)/libcriu.so
	install -D -m 644 lib/c/libcriu.a $(DESTDIR)$(LIBDIR)/libcriu.a
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' lib/c/criu.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/criu $(DESTDIR)$(MANDIR)/man8/criu.8 $(DESTDIR)$(INCLUDEDIR)/criu/criu.h \
	      $(DESTDIR)$(LIBDIR)/libcriu.so.2 $(DESTDIR)$(LIBDIR)/libcriu.so $(DESTDIR)$(LIBDIR)/libcriu.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/criu.pc
	-rmdir $(DESTDIR)$(INCLUDEDIR)/criu 2>/dev/null
	if [ -z "$(DESTDIR)" ]; then ldconfig; fi

# The generated protobuf code (the fuzz build compiles it itself).
protos: $(PB_SRCS) $(PB_HDRS)

# Each unit test links the objects of what it tests and of what those use,
# no more: test/unit/deps.mk lists them (UNIT_DEPS_<test> := folder/module
# ...), so it is the map of what depends on what, and the linker keeps it
# honest. A test with no entry there stops the build, saying so.
include test/unit/deps.mk
unit_objs = $(addprefix criu/,$(addsuffix .o,$(UNIT_DEPS_$(1))))
define unit_rule
test/unit/$(1).bin: test/unit/$(1).c $(wildcard test/unit/*.h) $(call unit_objs,$(1)) $(PB_OBJS)
	$$(if $$(UNIT_DEPS_$(1)),,$$(error test/unit/$(1).c has no UNIT_DEPS_$(1) in test/unit/deps.mk: list the modules it links))
	$$(CC) $$(CFLAGS) -Itest/unit -o $$@ $$< $(call unit_objs,$(1)) $(PB_OBJS) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRCS:test/unit/%.c=%),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_BINS)

deps:
	@bash scripts/install-deps.sh

test: deps
	$(MAKE) all unit
	bash test/run.sh

demo: deps
	$(MAKE) all
	bash scripts/demo.sh

bench: deps
	$(MAKE) all
	bash scripts/bench.sh

fuzz: deps
	bash test/fuzz/run.sh

check-asan: deps
	$(MAKE) clean
	$(MAKE) all unit CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" WERROR= \
		LDLIBS="-fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1 bash test/run.sh

format:
	clang-format -i criu/*.c criu/*/*.c criu/include/*.h criu/include/*/*.h lib/c/*.c lib/c/*.h include/*.h test/unit/*.c test/unit/*.h test/fuzz/*.c

clean:
	rm -f $(HELPER_BINS) criu/*.o criu/*/*.o criu/*.a criu/*.d criu/*/*.d criu/criu images/*.pb-c.* test/unit/*.bin test/fuzz/*.fuzz \
	      lib/c/*.o lib/c/libcriu.*

.PHONY: all protos unit deps test demo bench fuzz check-asan format clean libcriu install uninstall
.SECONDARY: $(PB_SRCS) $(PB_HDRS)
-include $(wildcard criu/*.d criu/*/*.d)
