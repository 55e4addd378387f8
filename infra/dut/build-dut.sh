#!/usr/bin/env bash
# Builds Magma's DUT images (Debian kernel + busybox initramfs) into ${MAGMA_CACHE_DIR:-<repo>/.magma}/dut/.
#
# Outputs:  vmlinuz             newest /boot/vmlinuz-* (linux-image-amd64)
#           initramfs.cpio.gz   busybox-static initramfs whose /init gives a root shell on ttyS0 with the
#                               prompt "magma-dut:/# " (written by this script)
# Idempotent: nothing is rebuilt when both outputs are newer than this script and the kernel.
# Exits non-zero (printing the apt-get command) when the Debian packages are missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${MAGMA_CACHE_DIR:-$repo/.magma}"
out="$cache/dut"

missing=()
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v cpio >/dev/null 2>&1 || missing+=(cpio)
command -v qemu-system-x86_64 >/dev/null 2>&1 || missing+=(qemu-system-x86)
kernel="$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)"
[ -n "$kernel" ] || missing+=(linux-image-amd64)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build-dut: missing Debian packages: ${missing[*]}" >&2
  echo "build-dut: install them with: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! /bin/busybox --list >/dev/null 2>&1; then
  echo "build-dut: /bin/busybox does not list its applets; install busybox-static:" >&2
  echo "build-dut: apt-get install -y --no-install-recommends busybox-static" >&2
  exit 1
fi

mkdir -p "$out"
script="${BASH_SOURCE[0]}"
if [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio.gz" ] \
  && [ "$out/vmlinuz" -nt "$script" ] && [ "$out/initramfs.cpio.gz" -nt "$script" ] \
  && [ "$out/vmlinuz" -nt "$kernel" ]; then
  echo "build-dut: up to date in $out"
  ls -l "$out/vmlinuz" "$out/initramfs.cpio.gz" | awk '{print "  " $9 " " $5 " bytes"}'
  exit 0
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/magma-dut.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cp "$kernel" "$tmp/vmlinuz"
chmod 0644 "$tmp/vmlinuz"

root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run,var/log}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
# Linking "busybox" itself would replace the binary with a self-link: the kernel then panics
# "No working init found" (reference/dut.md).
for applet in $(/bin/busybox --list-full); do
  name="$(basename "$applet")"
  [ "$name" = "busybox" ] && continue
  dir="$root/$(dirname "$applet")"
  mkdir -p "$dir"
  [ -e "$dir/$name" ] || ln -s /bin/busybox "$dir/$name"
done

# e1000 (QEMU's default NIC) is a module in Debian's kernel: ship it so /init can bring eth0 up
# (transfer_overlay downloads the job overlay from the worker over QEMU user networking).
kver="$(basename "$kernel" | sed 's/^vmlinuz-//')"
e1000="/lib/modules/$kver/kernel/drivers/net/ethernet/intel/e1000/e1000.ko"
if [ -f "$e1000" ]; then
  mkdir -p "$root/lib/modules"
  cp "$e1000" "$root/lib/modules/e1000.ko"
fi
mkdir -p "$root/etc/udhcpc"
cat > "$root/etc/udhcpc/default.script" <<'DHCP'
#!/bin/sh
# busybox udhcpc hook: apply the lease (address, default route, DNS)
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
DHCP
chmod 0755 "$root/etc/udhcpc/default.script"

cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
GROUP
echo magma-dut > "$root/etc/hostname"
cat > "$root/etc/profile" <<'PROFILE'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
export TERM=vt100
# "\h:\w# " with cwd / gives exactly "magma-dut:/# ", the prompt jobs wait for.
export PS1='\h:\w# '
cd /
PROFILE

cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
hostname magma-dut
# keep kernel messages from interleaving with test output
echo 1 > /proc/sys/kernel/printk
ip link set lo up 2>/dev/null
# A NIC (QEMU user networking: -netdev user,id=n0 -device e1000,netdev=n0, or QEMU's default NIC)
# gets a DHCP lease quietly. The e1000 link takes ~3 s to come up under TCG, so by default the
# lease is taken in the background (the prompt is not delayed) and /run/network-up appears once
# it is done; "magma.net=wait" on the kernel command line waits for it before the shell starts
# (for jobs whose first command needs the network, e.g. LAVA's transfer_overlay).
[ -f /lib/modules/e1000.ko ] && insmod /lib/modules/e1000.ko 2>/dev/null
if [ -e /sys/class/net/eth0 ]; then
  dhcp() {
    ip link set eth0 up
    # up to ~20 s: the link comes up later on a loaded machine
    timeout 25 udhcpc -i eth0 -q -n -t 20 -T 1 -s /etc/udhcpc/default.script >/dev/null 2>&1 && touch /run/network-up
  }
  case " $(cat /proc/cmdline) " in
    *" magma.net=wait "*) dhcp ;;
    *) dhcp & ;;
  esac
fi
cd /
stty -F /dev/ttyS0 cols 4096 2>/dev/null
echo "magma-dut: ready (busybox $(busybox | head -n 1 | cut -d' ' -f2))" > /dev/ttyS0
while true; do
  setsid cttyhack sh -l < /dev/ttyS0 > /dev/ttyS0 2>&1
  sleep 1
done
INIT
chmod 0755 "$root/init"

(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9 > "$tmp/initramfs.cpio.gz"

mv -f "$tmp/vmlinuz" "$out/vmlinuz"
mv -f "$tmp/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
echo "build-dut: built in $out (kernel from $kernel)"
ls -l "$out/vmlinuz" "$out/initramfs.cpio.gz" | awk '{print "  " $9 " " $5 " bytes"}'
