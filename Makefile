# SPDX-License-Identifier: GPL-2.0-only
# dm-cowsnap: top-level build.
#
#   make                 module (against KDIR) and the tool
#   make KDIR=/path      build the module against another kernel tree
#   make check           every test (installs what it needs)
#   make demo            the main job, narrated, in a QEMU VM
#   make vm              an interactive shell in the test VM (KERNEL=6.12)
#   make deps            install missing Debian packages
#   make lint            checkpatch --strict, sparse and W=1 on three kernels
#   make clean

# Default KDIR: the running kernel's headers, else Debian's 6.12 headers.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
ifeq ($(origin KDIR),undefined)
  ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
    KDIR := $(RUNNING_KDIR)
  else
    KDIR := $(lastword $(sort $(wildcard /lib/modules/6.12.*+deb12-amd64/build)))
    KDIR_NOTE := KDIR: the running kernel has no headers; using $(KDIR)
  endif
endif

KERNEL ?= 6.12

.PHONY: all module tool deps check demo vm lint bench clean install

all: module tool

module:
	$(if $(KDIR_NOTE),@echo "$(KDIR_NOTE)")
	@test -n "$(KDIR)" -a -f "$(KDIR)/Makefile" || \
		{ echo "KDIR '$(KDIR)' is not a kernel build tree (try 'make deps')" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tool:
	$(MAKE) -C userspace

deps:
	@qemu/deps.sh

check: deps
	@tests/check.sh

demo: deps
	@qemu/demo.sh $(KERNEL)

vm: deps
	@qemu/vm.sh $(KERNEL)

lint: deps
	@tests/check.sh --only "lint build"

bench: deps
	@qemu/bench.sh $(if $(filter-out 0,$(QUICK)),quick,full)

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR)))

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C userspace clean
	rm -rf build/mod build/vm build/check build/initramfs
