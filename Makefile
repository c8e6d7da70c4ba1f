# Makefile - the socket lab kit.
#
#   make                  build every step (and the solution, and the tools)
#   make test             build, then run every bats suite
#   make test STEP=03     build, then run one step's suite
#   make demo             build, then run the live simulation
#   make class [PORT=N]   open the chatroom to the class (tools/class)
#   make lab              build, then the network lab's experiments (tools/netlab)
#   make SAN=address,undefined test   the same with ASan+UBSan
#   make SAN=thread test  the same with ThreadSanitizer
#   make valgrind         the solution's and step 05's suites under valgrind
#   make bench            compare the chat servers' speed (BENCHMARKS.md)
#   make mutants          grade the kit's set of student bugs: the kill rate
#   make fuzz             fuzz the parsers, FUZZ_SECONDS (60) each (fuzz/README.md)
#   make handout          the students' copy, with the starter code:
#                         dist/handout/ and dist/handout.tar.gz (tools/handout)
#   make clean            remove every build output
#
# Each step also builds on its own: make -C steps/01-tcp-echo

# Every folder with a Makefile of its own, in the order a student meets them.
PROGRAM_DIRS := $(patsubst %/Makefile,%,$(sort $(wildcard steps/*/Makefile)) \
	$(wildcard solution/Makefile) $(wildcard tools/*/Makefile))

# Which suites `make test` runs: all of them by default, one step's with
# STEP=NN (make test STEP=03), or any list with TESTS=.
TESTS ?= $(if $(STEP),$(wildcard tests/$(STEP)-*.bats))

.PHONY: all test valgrind bench fuzz demo class lab slides clean $(PROGRAM_DIRS)

all: $(PROGRAM_DIRS)

$(PROGRAM_DIRS):
	$(MAKE) -C $@

test: all
	@SAN='$(SAN)' tests/run $(TESTS) || { \
		echo 'make test: to run one step'"'"'s tests: make test STEP=NN (01 to 05)' >&2; \
		exit 1; }

# The heavy tests (floods, hundreds of clients) are left out: under valgrind
# they take minutes and add nothing the others do not check. A small list of
# freed blocks, or the memory it keeps would count in the RSS checks.
VALGRIND := valgrind --leak-check=full --errors-for-leak-kinds=definite,possible \
	--freelist-vol=2000000
valgrind: all
	KIT_DEADLINE=30 KIT_WRAPPER='$(VALGRIND)' tests/run --filter-tags '!heavy' \
		tests/solution.bats tests/05-event-loop-chatroom.bats

# Release builds are the plain ones (-O2). BENCH_ARGS=--tiny for a quick check.
BENCH_ARGS ?=
bench:
	$(MAKE) SAN= all
	tools/bench/run $(BENCH_ARGS)

# libFuzzer targets under ASan+UBSan; they build with clang, not $(CC).
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -C fuzz run FUZZ_SECONDS='$(FUZZ_SECONDS)'

demo: all
	tools/simulate

# The solution on every address, port 4242 (or PORT=), for the whole class.
class:
	tools/class $(if $(PORT),-p '$(PORT)')

# Hosts on a closed network on this machine (root, or an unprivileged user
# namespace): tools/netlab.d/README.md.
lab: all
	tools/netlab experiment all

slides:
	$(MAKE) -C slides

# The starter code is made from the marks in the steps' sources; nothing
# needs building first.
.PHONY: handout
handout:
	tools/handout

clean:
	for d in $(PROGRAM_DIRS) $(wildcard fuzz); do $(MAKE) -C $$d clean SAN= || exit 1; done
	rm -rf dist

# Grading (tools/grading/README.md):
#   make grade SUBMISSION=DIR [STEP=NN]   grade one student's kit-shaped tree
#   make gradescope [STEP=NN]             dist/gradescope.zip, the autograder
.PHONY: grade gradescope mutants

grade:
	@if [ -z '$(SUBMISSION)' ]; then \
		echo 'usage: make grade SUBMISSION=DIR [STEP=NN]' >&2; exit 2; fi
	tools/grade $(if $(STEP),--step '$(STEP)') '$(SUBMISSION)'

gradescope:
	tools/grading/gradescope/build dist/gradescope.zip $(STEP)

# Does the grader catch real bugs? Grades the kit's set of student bugs
# (tools/grading/mutants/) and prints the kill rate. MUTANTS_ARGS=--sample
# grades the few that CI runs (tools/grading/mutants/SAMPLE).
MUTANTS_ARGS ?=
mutants: all
	tools/grading/mutants/run $(MUTANTS_ARGS)
