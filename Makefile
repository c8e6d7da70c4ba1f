# Makefile - the socket lab kit.
#
#   make                  build every step (and the solution, and the tools)
#   make test             build, then run every bats suite
#   make demo             build, then run the live simulation
#   make SAN=address,undefined test   the same with ASan+UBSan
#   make SAN=thread test  the same with ThreadSanitizer
#   make clean            remove every build output
#
# Each step also builds on its own: make -C steps/01-tcp-echo

# Every folder with a Makefile of its own, in the order a student meets them.
PROGRAM_DIRS := $(patsubst %/Makefile,%,$(sort $(wildcard steps/*/Makefile)) \
	$(wildcard solution/Makefile) $(wildcard tools/*/Makefile))

# Which suites `make test` runs (all of them by default).
TESTS ?=

.PHONY: all test demo slides clean $(PROGRAM_DIRS)

all: $(PROGRAM_DIRS)

$(PROGRAM_DIRS):
	$(MAKE) -C $@

test: all
	SAN='$(SAN)' tests/run $(TESTS)

demo: all
	tools/simulate

slides:
	$(MAKE) -C slides

clean:
	for d in $(PROGRAM_DIRS); do $(MAKE) -C $$d clean SAN= || exit 1; done
	rm -rf dist
