# Sourced by .ci/run (bash): PostgreSQL and Redis for the tests that need them.
#
#   . .ci/services.sh
#   axiom_services_start   # installs what is missing, starts both on 127.0.0.1
#   trap axiom_services_stop EXIT
#
# axiom_services_start installs Debian's postgresql and redis-server packages
# when they are missing (as root), starts a throw-away PostgreSQL cluster and
# a Redis server on free loopback ports in a temporary directory, and exports
# AXIOM_TEST_POSTGRES_URL and AXIOM_TEST_REDIS_URL. axiom_services_stop stops
# both and removes the directory. Nothing is persisted: Redis saves nothing,
# and the cluster is deleted with the directory.

AXIOM_SERVICES_DIR=""
AXIOM_SERVICES_PGBIN=""

# axiom_pg_bin prints the bin directory of the newest PostgreSQL installed.
axiom_pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; fi
}

# axiom_free_port prints a TCP port on 127.0.0.1 that nothing listens on,
# below the ephemeral range, where outgoing connections take their ports.
axiom_free_port() {
  local port tries=0
  while [ "$tries" -lt 200 ]; do
    port=$((15000 + RANDOM % 15000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
    tries=$((tries + 1))
  done
  echo "no free port found" >&2
  return 1
}

axiom_services_install() {
  local missing=()
  [ -n "$(axiom_pg_bin)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "services: ${missing[*]} missing and not root: apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  echo "services: installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

axiom_services_start() {
  axiom_services_install || return 1
  AXIOM_SERVICES_PGBIN=$(axiom_pg_bin)
  if [ -z "$AXIOM_SERVICES_PGBIN" ]; then
    echo "services: pg_ctl not found under /usr/lib/postgresql" >&2
    return 1
  fi
  AXIOM_SERVICES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/axiom-services.XXXXXX")
  # Whatever fails half-way, nothing is left running.
  if ! axiom_services_postgres || ! axiom_services_redis; then
    axiom_services_stop
    return 1
  fi
  echo "services: PostgreSQL $("$AXIOM_SERVICES_PGBIN/postgres" --version | awk '{print $3}') at $AXIOM_TEST_POSTGRES_URL"
  echo "services: Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') at $AXIOM_TEST_REDIS_URL"
}

# axiom_as_postgres runs a command as the postgres user when root, since
# initdb refuses to run as root, or as the current user otherwise.
axiom_as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

axiom_services_postgres() {
  local pgdata="$AXIOM_SERVICES_DIR/pg" port attempt
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$AXIOM_SERVICES_DIR"
    chmod 755 "$AXIOM_SERVICES_DIR"
  fi
  axiom_as_postgres "$AXIOM_SERVICES_PGBIN/initdb" -D "$pgdata" -U axiom --auth=trust -E UTF8 --no-locale \
    >"$AXIOM_SERVICES_DIR/initdb.log" 2>&1 || { cat "$AXIOM_SERVICES_DIR/initdb.log" >&2; return 1; }
  # Loopback only, sockets in the temporary directory, room for the tests'
  # pools and two servers' at once. A port taken meanwhile: try another.
  for attempt in 1 2 3 4 5; do
    port=$(axiom_free_port) || return 1
    if axiom_as_postgres "$AXIOM_SERVICES_PGBIN/pg_ctl" -D "$pgdata" -l "$AXIOM_SERVICES_DIR/pg.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $AXIOM_SERVICES_DIR -c max_connections=200" start >/dev/null; then
      "$AXIOM_SERVICES_PGBIN/createdb" -h 127.0.0.1 -p "$port" -U axiom axiom || return 1
      export AXIOM_TEST_POSTGRES_URL="postgres://axiom@127.0.0.1:$port/axiom?sslmode=disable"
      return 0
    fi
  done
  cat "$AXIOM_SERVICES_DIR/pg.log" >&2
  return 1
}

axiom_services_redis() {
  local port attempt i
  for attempt in 1 2 3 4 5; do
    port=$(axiom_free_port) || return 1
    rm -f "$AXIOM_SERVICES_DIR/redis.pid"
    redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
      --dir "$AXIOM_SERVICES_DIR" --pidfile "$AXIOM_SERVICES_DIR/redis.pid" --logfile "$AXIOM_SERVICES_DIR/redis.log" ||
      return 1
    for i in $(seq 1 100); do
      # Ours, not another server's that held the port: it runs in our directory.
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" config get dir 2>/dev/null | tail -n 1)" = "$AXIOM_SERVICES_DIR" ]; then
        export AXIOM_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
        return 0
      fi
      # A daemon that could not listen has exited, its pid file removed.
      if [ "$i" -gt 5 ] && [ ! -f "$AXIOM_SERVICES_DIR/redis.pid" ]; then break; fi
      sleep 0.1
    done
  done
  echo "services: Redis did not start" >&2
  cat "$AXIOM_SERVICES_DIR/redis.log" >&2
  return 1
}

axiom_services_stop() {
  [ -n "$AXIOM_SERVICES_DIR" ] || return 0
  if [ -f "$AXIOM_SERVICES_DIR/redis.pid" ]; then
    kill "$(cat "$AXIOM_SERVICES_DIR/redis.pid")" 2>/dev/null || true
  fi
  if [ -f "$AXIOM_SERVICES_DIR/pg/postmaster.pid" ]; then
    axiom_as_postgres "$AXIOM_SERVICES_PGBIN/pg_ctl" -D "$AXIOM_SERVICES_DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$AXIOM_SERVICES_DIR"
  AXIOM_SERVICES_DIR=""
  unset AXIOM_TEST_POSTGRES_URL AXIOM_TEST_REDIS_URL
}
