#!/usr/bin/env bash
# A lab's PDU, played by a script (test tool): switches a simulated U-Boot board or a QEMU DUT on and
# off, keeping its pid in a pidfile. Device dictionaries call it as their power commands:
#   power_on_command:   bash tests/tools/power-controller.sh --dir DIR on bbb-01
#   power_off_command:  bash tests/tools/power-controller.sh --dir DIR off bbb-01
#   hard_reset_command: bash tests/tools/power-controller.sh --dir DIR reset bbb-01
# DIR/<device>.conf (bash) says what the device is:
#   KIND=uboot-sim   BOARD_TTY=/path/board-end-of-the-socat-pair   SIM_ARGS=(--bootdelay 2 …)
#   KIND=qemu        BOARD_TTY=…   QEMU_ARGS=(-machine pc,accel=tcg -m 256M -kernel … -initrd … -append …)
# The serial "cable" (socat PTY pair, ser2net on the other end) outlives power cycles, as a USB
# serial adapter does. Output of the board/QEMU goes to DIR/<device>.log. Exit status 0 on success;
# 2 for usage or configuration errors; 1 when the device would not start or stop.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${MAGMA_POWER_DIR:-}"
if [ "${1:-}" = "--dir" ]; then dir="${2:-}"; shift 2; fi
action="${1:-}"
dev="${2:-}"
if [ -z "$dir" ] || [ -z "$dev" ] || [[ ! "$action" =~ ^(on|off|reset|status)$ ]]; then
  echo "usage: power-controller.sh --dir DIR on|off|reset|status DEVICE" >&2
  exit 2
fi
conf="$dir/$dev.conf"
pidfile="$dir/$dev.pid"
log="$dir/$dev.log"
if [ ! -f "$conf" ]; then
  echo "power-controller: $dev: no configuration $conf" >&2
  exit 2
fi
KIND=""
BOARD_TTY=""
SIM_ARGS=()
QEMU_ARGS=()
# shellcheck source=/dev/null
. "$conf"

is_on() { [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

power_off() {
  if is_on; then
    local pid
    pid="$(cat "$pidfile")"
    kill -TERM "$pid" 2>/dev/null || true
    # wait for the process to go (a condition, bounded), then insist
    timeout 5 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  echo "$dev: power off"
}

power_on() {
  if is_on; then
    echo "$dev: already on (pid $(cat "$pidfile"))"
    return
  fi
  if [ ! -e "$BOARD_TTY" ]; then
    echo "power-controller: $dev: serial line $BOARD_TTY does not exist (is the socat cable running?)" >&2
    exit 1
  fi
  case "$KIND" in
    uboot-sim)
      setsid node "$here/uboot-sim.mjs" --tty "$BOARD_TTY" "${SIM_ARGS[@]}" >>"$log" 2>&1 </dev/null &
      echo $! >"$pidfile"
      ;;
    qemu)
      # -daemonize returns once QEMU is initialised and has written its pidfile
      if ! qemu-system-x86_64 "${QEMU_ARGS[@]}" -chardev "tty,id=con0,path=$BOARD_TTY" -serial chardev:con0 \
        -display none -monitor none -no-reboot -daemonize -pidfile "$pidfile" >>"$log" 2>&1 </dev/null; then
        echo "power-controller: $dev: QEMU did not start:" >&2
        tail -n 5 "$log" >&2
        exit 1
      fi
      ;;
    *)
      echo "power-controller: $dev: unknown KIND '$KIND' in $conf (uboot-sim or qemu)" >&2
      exit 2
      ;;
  esac
  echo "$dev: power on (pid $(cat "$pidfile"))"
}

case "$action" in
  on) power_on ;;
  off) power_off ;;
  reset) power_off; power_on ;;
  status) if is_on; then echo "$dev: on"; else echo "$dev: off"; fi ;;
esac
