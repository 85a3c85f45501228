# shellcheck shell=bash
# kernel_stamp KDIR: one line naming the kernel tree a module is built
# against: its resolved path and the checksum of its configuration.
kernel_stamp() {
	echo "$(readlink -f "$1") $(md5sum <"$1/.config" | cut -d' ' -f1)"
}
