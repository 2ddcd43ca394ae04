#!/usr/bin/env bash
# Prove a backup restores: dump DATABASE_URL with pg_dump (custom format) from one exported
# snapshot, count every table's rows in that same snapshot, restore the dump into a fresh
# database, compare its row counts with the snapshot's, and run the app against the copy
# (/healthz, and the sign-in page). Exits non-zero on any difference. Safe on a live primary:
# writes that land while the dump runs are in neither the dump nor the counts.
#
#   DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xinqiao deploy/backup_check.sh
#
# Keeps the dump (mode 600) in a new private directory (mode 700) under $BACKUP_DIR (default
# $TMPDIR or /tmp) and prints its path; drops the scratch database at the end.
set -euo pipefail
umask 077
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
libpq_url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"
base="${libpq_url%/*}"
source_db="${libpq_url##*/}"
restore_db="${source_db}_restore_check"
workdir="$(mktemp -d "${BACKUP_DIR:-${TMPDIR:-/tmp}}/xinqiao-backup.XXXXXX")"
dump="${workdir}/${source_db}-$(date -u +%Y%m%dT%H%M%SZ).dump"

# Every table's row count, in whatever snapshot the surrounding transaction reads.
COUNTS_SQL="SELECT table_name, (xpath('/row/n/text()', query_to_xml(format(
    'SELECT count(*) AS n FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text
  FROM information_schema.tables
  WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1;"

echo "== export a snapshot of ${source_db} (held open until the dump is taken)"
coproc SNAPSHOT { psql -qAtX -v ON_ERROR_STOP=1 "$libpq_url"; }
snapshot_pid="$SNAPSHOT_PID"
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT pg_export_snapshot();" >&"${SNAPSHOT[1]}"
read -r -t 60 snapshot <&"${SNAPSHOT[0]}"
echo "snapshot ${snapshot}"

echo "== row counts inside the snapshot"
psql -qAtX -v ON_ERROR_STOP=1 -F ' ' "$libpq_url" >"$workdir/snapshot.counts" <<SQL
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
SET TRANSACTION SNAPSHOT '${snapshot}';
${COUNTS_SQL}
COMMIT;
SQL

echo "== dump the snapshot -> ${dump}"
pg_dump --format=custom --no-owner --snapshot="$snapshot" --file="$dump" "$libpq_url"
echo "COMMIT;" >&"${SNAPSHOT[1]}"
exec {SNAPSHOT[1]}>&-
wait "$snapshot_pid"
chmod 600 "$dump"
ls -ld "$workdir" "$dump"

echo "== restore into a fresh database ${restore_db}"
psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS ${restore_db}" -c "CREATE DATABASE ${restore_db}"
trap 'psql -q "$base/postgres" -c "DROP DATABASE IF EXISTS ${restore_db}"' EXIT
pg_restore --no-owner --exit-on-error --dbname="$base/$restore_db" "$dump"

echo "== row counts, snapshot vs restored"
psql -qAtX -v ON_ERROR_STOP=1 -F ' ' "$base/$restore_db" -c "$COUNTS_SQL" >"$workdir/restored.counts"
diff "$workdir/snapshot.counts" "$workdir/restored.counts" || { echo "row counts differ"; exit 1; }
awk '{ printf "%-32s %8s\n", $1, $2; n += $2 } END { print n " rows in " NR " tables: identical" }' \
  "$workdir/restored.counts"
rm "$workdir/snapshot.counts" "$workdir/restored.counts"

echo "== smoke test: the app on the restored copy"
DATABASE_URL="${DATABASE_URL%/*}/${restore_db}" XINQIAO_CONFIG=production \
  SECRET_KEY="${SECRET_KEY:-backup-check-only}" FORCE_HTTPS=0 \
  MFA_SECRET_KEY="${MFA_SECRET_KEY:-bvF0w8qWRuNOwlVRVm2Uq9ef5fnsdXdIGKpGrz9QKlw=}" .venv/bin/python - <<'PY'
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
echo "== backup restores: OK (dump kept: ${dump})"
