#!/usr/bin/env bash
# Idempotent setup for `npm run demo` and `npm test` on a fresh Debian 12 machine (or a laptop):
# Debian packages (QEMU, Debian kernel, busybox, socat, ser2net, Chromium, lavacli),
# PostgreSQL and Redis when none is reachable, npm dependencies, Prisma clients, DUT images.
# Safe to run again: every step checks first and skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

PG_HOST=127.0.0.1 PG_PORT=${MAGMA_PG_PORT:-5432}
REDIS_PORT=${MAGMA_REDIS_PORT:-6379}

# 1. Debian packages -----------------------------------------------------------------------
need=()
for pkg in qemu-system-x86 linux-image-amd64 busybox-static cpio socat ser2net telnet chromium fonts-dejavu-core lavacli curl git; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
pg_ok() { (exec 3<>/dev/tcp/$PG_HOST/$PG_PORT) 2>/dev/null; }
redis_ok() { (exec 3<>/dev/tcp/127.0.0.1/$REDIS_PORT) 2>/dev/null; }
pg_ok || command -v pg_ctlcluster >/dev/null || need+=(postgresql)
redis_ok || command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# 2. PostgreSQL ----------------------------------------------------------------------------
if ! pg_ok; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -z "$ver" ]; then say "no PostgreSQL cluster found after install"; exit 1; fi
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  # local development machine: trust loopback connections, as the CI machines are set up
  if ! grep -q "magma: trust loopback" "$hba"; then
    as_root sed -i '1i # magma: trust loopback\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || as_root pg_ctlcluster "$ver" main start
  for _ in $(seq 1 50); do pg_ok && break; sleep 0.2; done
  pg_ok || { say "PostgreSQL did not come up on $PG_HOST:$PG_PORT"; exit 1; }
fi

# 3. Redis ---------------------------------------------------------------------------------
if ! redis_ok; then
  say "starting Redis on 127.0.0.1:$REDIS_PORT"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/magma.log
  for _ in $(seq 1 50); do redis_ok && break; sleep 0.2; done
  redis_ok || { say "Redis did not come up on 127.0.0.1:$REDIS_PORT"; exit 1; }
fi

# 4. npm dependencies ----------------------------------------------------------------------
stamp=node_modules/.magma-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# 5. Prisma clients (offline: no engine download), again only when a schema, the Prisma config or
# the installed packages changed (stamp: their hashes), or a generated client is missing ------------
gen_stamp=packages/db/src/generated/.magma-generate-sha
gen_want=$(cat packages/db/prisma/instance/schema.prisma packages/db/prisma/frontend/schema.prisma \
  packages/db/prisma.config.ts package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f packages/db/src/generated/instance/client.ts ] || [ ! -f packages/db/src/generated/frontend/client.ts ] ||
  [ ! -f "$gen_stamp" ] || [ "$(cat "$gen_stamp")" != "$gen_want" ]; then
  say "generating Prisma clients"
  npm run --silent generate -w @magma/db >/dev/null
  echo "$gen_want" > "$gen_stamp"
fi

# 6. DUT images: Debian kernel + busybox initramfs, built at run time -------------------------
bash infra/dut/build-dut.sh
say "ready"
