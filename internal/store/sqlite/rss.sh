#!/usr/bin/env bash
# Measures the resident memory of `axiom serve` on a large SQLite database:
# after start, then idle after a round of requests (lists, searches, a
# create). Reads VmRSS, RssAnon, RssFile and VmHWM from /proc/PID/status.
#
#   internal/store/sqlite/rss.sh DB ACCOUNT_ID [PORT]
#
# DB is changed (a key and a lead are added): pass a copy, e.g. of the
# million-lead file the scale benchmarks keep in os.TempDir() (PERF.md).
# AXIOM_BIN names an axiom binary to run instead of building one.
set -euo pipefail
db=$1 account=$2 port=${3:-18931}
cd "$(dirname "$0")/../../.."
bin=${AXIOM_BIN:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/axiom
  go build -o "$bin" ./cmd/axiom
fi
key=$("$bin" keys create --db "$db" --plan enterprise --account "$account" | tail -1)

"$bin" serve --db "$db" --addr "127.0.0.1:$port" --rate-limit off --log-level warn 2>"$db.serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf -o /dev/null -H "X-API-Key: $key" "http://127.0.0.1:$port/v1/leads?limit=1" && break
  sleep 0.1
done

rss() { printf '%-28s' "$1"; grep -E '^(VmRSS|RssAnon|RssFile|VmHWM)' "/proc/$pid/status" | awk '{printf "%s %6.1f MB  ", $1, $2/1024}'; echo; }
sleep 2
rss "after start:"

get() { curl -s -o /dev/null -w "%{http_code} %{time_total}s  GET /v1/$1\n" -H "X-API-Key: $key" "http://127.0.0.1:$port/v1/$1"; }
for q in "leads?limit=20" "leads?limit=100&sort=name&order=asc" "leads?limit=20&page=500&sort=email" \
  "leads?limit=20&search=customer" "leads?limit=20&search=investor" "leads?limit=20&search=trade" \
  "leads?limit=20&search=ma&page=10" "leads?limit=20&search=gonzalez&sort=updated_at"; do
  get "$q"
done
curl -s -o /dev/null -w "%{http_code} %{time_total}s  POST /v1/leads/add\n" -H "X-API-Key: $key" \
  -H 'Content-Type: application/json' -d "{\"name\":\"Rss Probe\",\"email\":\"rss.$RANDOM.$$@example.com\"}" \
  "http://127.0.0.1:$port/v1/leads/add"
sleep 10
rss "idle after the requests:"
