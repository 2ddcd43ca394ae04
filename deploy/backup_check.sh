#!/usr/bin/env bash
# Prove a backup restores: dump DATABASE_URL with pg_dump (custom format), restore it into a fresh
# database, compare row counts table by table, and run the app against the copy (/healthz, and
# the administrator's sign-in page). Exits non-zero on any difference.
#
#   DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xinqiao deploy/backup_check.sh
#
# Keeps the dump in $BACKUP_DIR (default /tmp); drops the scratch database at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
libpq_url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"
base="${libpq_url%/*}"
source_db="${libpq_url##*/}"
restore_db="${source_db}_restore_check"
dump="${BACKUP_DIR:-/tmp}/${source_db}-$(date -u +%Y%m%dT%H%M%SZ).dump"

echo "== dump ${source_db} -> ${dump}"
pg_dump --format=custom --no-owner --file="$dump" "$libpq_url"
ls -l "$dump"

echo "== restore into a fresh database ${restore_db}"
psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS ${restore_db}" -c "CREATE DATABASE ${restore_db}"
trap 'psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS ${restore_db}"' EXIT
pg_restore --no-owner --exit-on-error --dbname="$base/$restore_db" "$dump"

echo "== row counts, source vs restored"
counts() {
  psql -At "$1" -c "SELECT table_name FROM information_schema.tables
                    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1" |
    while read -r table; do
      echo "$table $(psql -At "$1" -c "SELECT count(*) FROM \"$table\"")"
    done
}
diff <(counts "$libpq_url") <(counts "$base/$restore_db") >/dev/null || {
  echo "row counts differ"; diff <(counts "$libpq_url") <(counts "$base/$restore_db"); exit 1; }
counts "$base/$restore_db" | awk '{ printf "%-32s %8s\n", $1, $2; n += $2 } END { print n " rows in " NR " tables: identical" }'

echo "== smoke test: the app on the restored copy"
DATABASE_URL="${DATABASE_URL%/*}/${restore_db}" XINQIAO_CONFIG=production \
  SECRET_KEY="${SECRET_KEY:-backup-check-only}" FORCE_HTTPS=0 .venv/bin/python - <<'PY'
from sqlalchemy import func, select

from campus import create_app
from campus.extensions import db
from campus.models import Institution, User

app = create_app()
client = app.test_client()
health = client.get("/healthz")
login = client.get("/login")
with app.app_context():
    users = db.session.scalar(select(func.count()).select_from(User))
    institutions = db.session.scalars(select(Institution.code)).all()
print(f"/healthz -> {health.status_code} {health.get_json()}")
print(f"/login -> {login.status_code}; institutions {institutions}; {users} user accounts")
assert health.status_code == 200 and login.status_code == 200 and users > 0
PY
echo "== backup restores: OK"
