#!/bin/bash
# Backup and restore of the demo deployment: time and size (docs/reliability.md, Backups).
#
#   bench/backup_roundtrip.sh WORKDIR                       # SQLite
#   bench/backup_roundtrip.sh WORKDIR SOURCE_URL TARGET_URL # PostgreSQL: two empty databases
#
# Loads the demo into a fresh HOME (and database), verifies it, backs it up, then restores
# the backup into a fresh HOME and database at the same path (a new machine with the same
# configuration) and verifies the restored ledger against the backup's checkpoint.
# WORKDIR is deleted first.
set -euo pipefail
SL="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/searchledger"
WORK=${1:?usage: $0 WORKDIR [SOURCE_DATABASE_URL TARGET_DATABASE_URL]}
rm -rf "$WORK"
mkdir -p "$WORK"
export SEARCHLEDGER_HOME="$WORK/home" SEARCHLEDGER_CHECKPOINT_LOG=""
if [ $# -ge 3 ]; then
    export DATABASE_URL=$2
    TARGET=$3
else
    unset DATABASE_URL
    TARGET="sqlite:///$WORK/home/searchledger.sqlite3"
fi
"$SL" init >/dev/null
"$SL" manage migrate -v0
"$SL" load-demo >/dev/null
echo "== verify the demo"
/usr/bin/time -f "   verify: %e s" "$SL" verify
echo "== backup"
/usr/bin/time -f "   backup: %e s, max RSS %M KB" "$SL" backup "$WORK/backup"
du -sb "$WORK/backup" | awk '{print "   backup size: " $1 " bytes"}'
ls -l "$WORK/backup" | tail -n +2 | sed 's/^/   /'
echo "== restore into a fresh HOME and database"
mv "$WORK/home" "$WORK/old-home"
mkdir "$WORK/home"
DATABASE_URL=$TARGET /usr/bin/time -f "   restore (checks, restores, verifies): %e s" \
    "$SL" restore "$WORK/backup"
python3 -c "import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))['ledger']['checkpoint']['note'])" \
    "$WORK/backup/manifest.json" >"$WORK/backup-checkpoint.txt"
DATABASE_URL=$TARGET "$SL" verify --checkpoint "$WORK/backup-checkpoint.txt"
