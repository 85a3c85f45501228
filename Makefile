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
#   make install         the module (modules_install, depmod) and the tool
#                        (PREFIX=/usr/local, DESTDIR=; man page too)
#   make dkms-install    the module through DKMS, for KERNELRELEASE
#                        (default: the running kernel)
#   make fuzz            fuzz the tool's store reader for FUZZ_TIME seconds
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

.PHONY: all module tool deps check demo vm lint bench clean install \
	dkms-install fuzz

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
	@qemu/bench.sh $(if $(filter-out 0,$(QUICK)),quick,full) $(or $(DEVICE),brd)

install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install
	depmod -a $(notdir $(patsubst %/build,%,$(KDIR)))
	$(MAKE) -C userspace install

# DKMS: the module's sources in /usr/src/dm-cowsnap-<version>, then
# dkms add (once), build and install for one kernel.
VERSION := $(shell sed -n 's/^\#define COWSNAP_VERSION[[:space:]]*"\(.*\)"$$/\1/p' dm-cowsnap/cowsnap-version.h)
KERNELRELEASE ?= $(shell uname -r)
DKMS_SRC := /usr/src/dm-cowsnap-$(VERSION)

dkms-install:
	rm -rf $(DKMS_SRC) && mkdir -p $(DKMS_SRC)/dm-cowsnap
	cp Kbuild dkms.conf $(DKMS_SRC)/
	cp dm-cowsnap/Kbuild dm-cowsnap/*.[ch] $(DKMS_SRC)/dm-cowsnap/
	dkms status -m dm-cowsnap -v $(VERSION) | grep -q . || \
		dkms add -m dm-cowsnap -v $(VERSION)
	dkms build -m dm-cowsnap -v $(VERSION) -k $(KERNELRELEASE) --force
	dkms install -m dm-cowsnap -v $(VERSION) -k $(KERNELRELEASE) --force

fuzz:
	$(MAKE) -C userspace fuzz $(if $(FUZZ_TIME),FUZZ_TIME=$(FUZZ_TIME))

# Kbuild's clean removes build products below M=, so it is pointed at
# the module's directory only: never at build/ (the cached debug kernel).
clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/dm-cowsnap clean 2>/dev/null
	rm -f Module.symvers modules.order .modules.order.cmd .Module.symvers.cmd \
		.module-common.o ..module-common.o.cmd
	$(MAKE) -C userspace clean
	rm -rf build/mod build/vm build/check build/initramfs
