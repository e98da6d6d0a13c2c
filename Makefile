# lkit - one flat makefile.  make, make check, make demo, make bench.
VERSION = 0.1.0

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
EXAMPLEDIR ?= $(PREFIX)/share/doc/lkit/examples

CC ?= cc
CFLAGS ?= -O2 -g
PKGS ?= msgpack libpcre2-8 zlib libdeflate libzstd libssl libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libjq-dev 1.6 ships no .pc file
JQ_LIBS ?= -ljq
override CPPFLAGS += -MMD -MP -DLKIT_VERSION='"$(VERSION)"'
override CFLAGS += -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
	$(PKG_CFLAGS)
override LDFLAGS += -Wl,--as-needed
LDLIBS = $(PKG_LIBS) $(JQ_LIBS) -lm

ifeq ($(SANITIZE),1)
B ?= build-san
override CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
override LDFLAGS += -fsanitize=address,undefined
else
B ?= build
endif

# a program is cmd/NAME.c, or every .c in cmd/NAME/ (one past ~1,000
# lines, split by concern): adding one needs no change here
FILE_TOOLS = $(basename $(notdir $(wildcard cmd/*.c)))
DIR_TOOLS = $(patsubst cmd/%/,%,$(sort $(dir $(wildcard cmd/*/*.c))))
TOOLS = $(sort $(FILE_TOOLS) $(DIR_TOOLS))
# the objects of a program
tool_obj = $(if $(wildcard cmd/$(1)/*.c),$(patsubst %.c,$(B)/%.o,$(wildcard cmd/$(1)/*.c)),$(B)/cmd/$(1).o)
TOOL_OBJ = $(foreach t,$(TOOLS),$(call tool_obj,$(t)))
COMMON_SRC = $(sort $(wildcard common/*.c))
COMMON_OBJ = $(COMMON_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(wildcard tests/unit/t_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/unit/%)
BINS = $(TOOLS:%=$(B)/%)

all: $(BINS)

$(B)/common/%.o: common/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libcommon.a: $(COMMON_OBJ)
	rm -f $@
	$(AR) rcs $@ $(COMMON_OBJ)

$(B)/cmd/%.o: cmd/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icommon -c -o $@ $<

# libcurl for lhttp alone
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
CURL_LIBS = $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
$(B)/cmd/lhttp/%.o: override CFLAGS += $(CURL_CFLAGS)
$(B)/lhttp: LDLIBS += $(CURL_LIBS)

.SECONDEXPANSION:
$(BINS): $(B)/%: $$(call tool_obj,$$*) $(B)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $(call tool_obj,$*) $(B)/libcommon.a $(LDLIBS)

$(B)/unit/%: tests/unit/%.c $(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icommon $(LDFLAGS) -o $@ $< \
		$(B)/libcommon.a $(LDLIBS)

# lbuffer's chunk files are tested through its own objects (not lbuffer.o,
# which has main and the state the test defines)
LBUFFER_STORE_OBJ = $(patsubst %,$(B)/cmd/lbuffer/%.o,store chunk intake job \
	recover)
$(B)/unit/t_lbuffer_store: tests/unit/t_lbuffer_store.c $(LBUFFER_STORE_OBJ) \
		$(B)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Icommon $(LDFLAGS) -o $@ $< \
		$(LBUFFER_STORE_OBJ) $(B)/libcommon.a $(LDLIBS)

unit: $(UNIT_BIN)

deps:
	@sh tests/deps.sh

check: deps
	@$(MAKE) --no-print-directory all unit
	@B=$(B) sh tests/run.sh $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) sh bench/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) sh bench/bench.sh

FUZZ_SECONDS ?= 60
FUZZ_TARGETS = fuzz_stream fuzz_json fuzz_http fuzz_handshake fuzz_bulkresp \
	fuzz_container fuzz_syslog_frame fuzz_jqfast fuzz_gz
fuzz: deps
	@mkdir -p build-fuzz
	@for t in $(FUZZ_TARGETS); do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c99 \
			-D_POSIX_C_SOURCE=200809L -Icommon $(PKG_CFLAGS) \
			-o build-fuzz/$$t fuzz/$$t.c $(COMMON_SRC) $(LDLIBS) \
			|| exit 1; \
	done
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=build-fuzz/$$t- \
			build-fuzz/corpus-$$t fuzz/seeds/$$t || exit 1; \
	done

lint:
	mandoc -Tlint -W warning man/*.[157]

install: all
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(EXAMPLEDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(TOOLS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 man/lkit-stream.5 $(DESTDIR)$(MANDIR)/man5
	install -m 0644 man/lkit.7 man/lkit-migrate.7 $(DESTDIR)$(MANDIR)/man7
	for t in $(TOOLS); do \
		install -m 0644 completions/lkit.bash \
			$(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; \
		install -m 0644 completions/fish/$$t.fish \
			$(DESTDIR)$(FISHCOMPDIR)/$$t.fish || exit 1; \
	done
	install -m 0644 completions/_lkit $(DESTDIR)$(ZSHCOMPDIR)/_lkit
	install -m 0644 contrib/systemd/*.service $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 contrib/examples/*.pipeline $(DESTDIR)$(EXAMPLEDIR)

# a Debian package, built by dpkg-buildpackage in a copy of the tree under
# DEB_DIR (tracked and new files, not ignored ones), which also gets the
# .deb: the tree itself is left as it was
DEB_DIR ?= build-deb
DEB_SRC = $(DEB_DIR)/lkit-$(VERSION)
deb:
	rm -rf $(DEB_SRC)
	mkdir -p $(DEB_SRC)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z -c -o --exclude-standard | \
			tar --null --ignore-failed-read -T - -cf -; \
	else \
		tar --exclude='./build*' -cf - .; \
	fi | tar -xf - -C $(DEB_SRC)
	chmod +x $(DEB_SRC)/debian/rules
	cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u B \
		-u SANITIZE dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_SRC)
	@ls $(DEB_DIR)/lkit_$(VERSION)_*.deb

.PHONY: deb

uninstall:
	for t in $(TOOLS); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
			$(DESTDIR)$(BASHCOMPDIR)/$$t \
			$(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done
	rm -f $(DESTDIR)$(MANDIR)/man5/lkit-stream.5 \
		$(DESTDIR)$(MANDIR)/man7/lkit.7 $(DESTDIR)$(ZSHCOMPDIR)/_lkit \
		$(DESTDIR)$(MANDIR)/man7/lkit-migrate.7 \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lkit@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/lkit-aggregator@.service
	rm -rf $(DESTDIR)$(EXAMPLEDIR)

clean:
	rm -rf build build-san build-fuzz $(B)

.PHONY: all unit deps check demo bench fuzz lint install uninstall clean
.SECONDARY:

-include $(COMMON_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(UNIT_BIN:=.d)
