# build.mk - what every step's Makefile would otherwise repeat.
#
# A step's Makefile sets PROGRAMS (and, for a program made of several files,
# NAME_SRCS), then includes this file. Each program NAME is built from
# NAME.c (or NAME_SRCS) and the common/ layer.
#
#   make                      plain build: ./server and ./client in the step
#   make SAN=address,undefined  sanitizer build into build/address-undefined/
#   make SAN=thread           ThreadSanitizer build into build/thread/
#   make CFLAGS='-O0 -g'      your own flags replace the defaults
#
# Objects go under build/FLAVOUR/, so the flavours never mix.

COMMON_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

CC ?= cc
CFLAGS ?= -std=c11 -Wall -Wextra -pedantic -O2
# Feature macros are set here, not in the sources: POSIX.1-2008 and nothing more.
override CPPFLAGS += -D_POSIX_C_SOURCE=200809L -I$(COMMON_DIR) -MMD -MP
LDLIBS += -pthread
override CFLAGS += -pthread

# CI treats every warning as an error.
ifeq ($(CI),true)
override CFLAGS += -Werror
endif

comma := ,
ifeq ($(strip $(SAN)),)
FLAVOUR := plain
OUT := .
else
FLAVOUR := $(subst $(comma),-,$(SAN))
OUT := build/$(FLAVOUR)
override CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -g -O1
override LDFLAGS += -fsanitize=$(SAN)
endif
# STARTER=1 defines STARTER: the kit's reference code then compiles the
# #else branch of each "#ifndef STARTER" region instead, the starter code
# tools/handout gives students. It goes to build/starter/ (with SAN=thread,
# build/starter-thread/), never over ./server and ./client; a suite runs
# on it with KIT_OUT=build/starter (and most of its tests must fail).
ifneq ($(strip $(STARTER)),)
override CPPFLAGS += -DSTARTER
FLAVOUR := starter$(patsubst %,-%,$(filter-out plain,$(FLAVOUR)))
OUT := build/$(FLAVOUR)
endif
OBJ := build/$(FLAVOUR)

COMMON_SRCS := $(wildcard $(COMMON_DIR)/*.c)
COMMON_OBJS := $(patsubst $(COMMON_DIR)/%.c,$(OBJ)/common/%.o,$(COMMON_SRCS))

BINS := $(addprefix $(OUT)/,$(PROGRAMS))

.PHONY: all clean
all: $(BINS)

# One link rule per program: its own objects, then the common layer.
define program_rule
$(1)_SRCS ?= $(1).c
$(OUT)/$(1): $$(patsubst %.c,$(OBJ)/%.o,$$($(1)_SRCS)) $(COMMON_OBJS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(p))))

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(OBJ)/common/%.o: $(COMMON_DIR)/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

clean:
	rm -rf build $(PROGRAMS)

-include $(wildcard $(OBJ)/*.d $(OBJ)/common/*.d)
