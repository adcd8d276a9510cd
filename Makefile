# Thin wrapper over CMake; the real build is CMakeLists.txt.
BUILD ?= build
DEPS = cmake gcc make pkg-config python3 lua5.4 liblua5.4-dev libcsv-dev nettle-dev libxlsxwriter-dev libcmocka-dev
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

# Not to build or run kpieval: what `make test-reports` opens the reports
# with (report.html in headless Chromium, report.xlsx recalculated by
# LibreOffice).
REPORT_DEPS = chromium fonts-noto-cjk libreoffice-calc-nogui

.PHONY: all build deps demo install test test-slow test-reports sanitize valgrind fuzz bench clean

all: build

# Installs what is missing (as root), or prints the one line to run.
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    echo "missing packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	@echo
	@echo '$$ $(BUILD)/kpieval run datasets/seoul-2019 --out out/seoul-2019'
	@$(BUILD)/kpieval run datasets/seoul-2019 --out out/seoul-2019; rc=$$?; \
	  echo; echo "open out/seoul-2019/report.html in a browser or out/seoul-2019/report.xlsx in Excel;"; \
	  echo "out/seoul-2019/departments.csv and kpis.csv hold the same tables as CSV"; \
	  exit $$rc

# bin/kpieval, share/man/man1/kpieval.1 and share/kpieval/formulas/ under
# DESTDIR/PREFIX; the binary finds its formulas from its own path, so the
# prefix can be moved as a whole (README.md, Install).
PREFIX ?= /usr/local
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

# The default suite leaves out the tests labelled `fault` (allocation fault
# injection, minutes) and `timing` (which limit trips first, the kill test):
# they are slow, and a busy machine changes their outcome, not their truth;
# and `slow` (batch.shards, a minute under load, kept under sanitize and
# valgrind). `make test-slow` runs just those; CI runs both. It leaves out `browser`
# too (headless Chromium, REPORT_DEPS): `make test-reports` runs it with
# the fast report.html test.
# (Label regexes without anchors: a $ would not survive the sub-make.)
CTEST_SELECT ?= -LE "fault|timing|slow|browser|office"
test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_SELECT)

test-slow:
	$(MAKE) test CTEST_SELECT='-L "fault|timing|slow"'

# The reports opened by the programs people open them with: report.html in
# headless Chromium (label `browser`), report.xlsx recalculated by
# LibreOffice headless (label `office`); a minute or more. Both are test
# tools, not build dependencies (REPORT_DEPS).
test-reports:
	$(MAKE) deps DEPS="$(DEPS) $(REPORT_DEPS)"
	$(MAKE) test CTEST_SELECT='-L "browser|office"'

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer,
# fault injection included (it reports itself skipped: ASan owns malloc);
# not the tests labelled `timing`, whose outcome (which limit trips first)
# ASan's slowdown changes, as valgrind's does.
sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DKPIEVAL_SANITIZE=ON -DKPIEVAL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug" CTEST_SELECT='-LE "timing|browser|office"'

# The whole suite under valgrind memcheck: test programs through CMake's
# emulator prefix, every kpieval run of the test scripts through
# KPIEVAL_TEST_WRAPPER. Tests labelled `timing` (which limit trips first)
# are left out: valgrind's slowdown changes their outcome, not their truth.
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --vgdb=no -q --suppressions=$(CURDIR)/tests/valgrind.supp
empty :=
space := $(empty) $(empty)
valgrind:
	$(MAKE) deps DEPS="$(DEPS) valgrind"
	$(MAKE) build BUILD=build-valgrind CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=Debug '-DCMAKE_CROSSCOMPILING_EMULATOR=$(subst $(space),;,$(VALGRIND))'"
	cd build-valgrind && KPIEVAL_NO_CONFINE=1 KPIEVAL_TEST_WRAPPER="$(VALGRIND)" ctest --output-on-failure -j $(JOBS) -LE "timing|browser|office"

# libFuzzer under ASan+UBSan for FUZZ_SECONDS per target (tests/fuzz/README.md).
FUZZ_SECONDS ?= 60
fuzz:
	tests/fuzz/run_fuzz.sh $(FUZZ_SECONDS)

# kpieval against its peers, then what report.html costs a run; writes
# docs/benchmarks.md (bench/README.md).
bench: build
	BENCH_KPIEVAL=$(BUILD)/kpieval bench/run.sh
	BENCH_KPIEVAL=$(BUILD)/kpieval bench/html.py

clean:
	rm -rf $(BUILD) build-asan build-valgrind build-fuzz out
