#!/usr/bin/env bash
# A small "notes" app on SQLite, at schema 6, whose upstream has migration
# 0007 (tags, backfilled from the old category column).
#
# DIR/origin.git     upstream, one commit ahead (0007)
# DIR/notes          the deployed checkout: app.db, config/app.conf (local,
#                    git-ignored), scripts/maintenance.sh, scripts/selfcheck.sh
# DIR/notes-legacy   an old checkout nobody uses any more (a wrong turn)
# Needs sqlite3 and git. Nothing leaves DIR; no network. Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d "$dir/.work.XXXXXX")
git init -q -b main "$work"
git -C "$work" config user.email dev@example.com
git -C "$work" config user.name dev
mkdir -p "$work/migrations" "$work/scripts" "$work/config" "$work/backups"

cat >"$work/README.md" <<'EOF'
# notes

A small notes service. The database is `app.db` (SQLite); migrations are plain
SQL files in `migrations/`, applied in order, each recording its version in
`schema_migrations`. `config/app.conf` (local, not in git) says which schema
version the running code expects: the app refuses to start when it differs.
EOF
cat >"$work/.gitignore" <<'EOF'
app.db
app.db-*
config/app.conf
backups/*
!backups/.gitkeep
run/
EOF
touch "$work/backups/.gitkeep"
cat >"$work/Makefile" <<'EOF'
.PHONY: run test lint

run:
	python3 -m notes --config config/app.conf

test:
	./scripts/selfcheck.sh

lint:
	sqlite3 app.db "PRAGMA foreign_key_check"
EOF
cat >"$work/config/app.conf.example" <<'EOF'
# notes configuration (copy to config/app.conf)
listen = 127.0.0.1:8080
database = app.db
schema_version = 6
session_ttl_hours = 72
EOF

cat >"$work/migrations/0001_init.sql" <<'EOF'
BEGIN;
CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL
);
CREATE TABLE notes (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
INSERT INTO schema_migrations (version, applied_at) VALUES (1, '2024-03-02 10:14:00');
COMMIT;
EOF
cat >"$work/migrations/0002_notes_updated_at.sql" <<'EOF'
BEGIN;
ALTER TABLE notes ADD COLUMN updated_at TEXT;
UPDATE notes SET updated_at = created_at;
INSERT INTO schema_migrations (version, applied_at) VALUES (2, '2024-04-11 09:30:00');
COMMIT;
EOF
cat >"$work/migrations/0003_sessions.sql" <<'EOF'
BEGIN;
CREATE TABLE sessions (
  token TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  expires_at TEXT NOT NULL
);
INSERT INTO schema_migrations (version, applied_at) VALUES (3, '2024-06-20 16:02:00');
COMMIT;
EOF
cat >"$work/migrations/0004_notes_user_index.sql" <<'EOF'
BEGIN;
CREATE INDEX notes_user ON notes(user_id);
INSERT INTO schema_migrations (version, applied_at) VALUES (4, '2024-09-05 11:45:00');
COMMIT;
EOF
cat >"$work/migrations/0005_notes_category.sql" <<'EOF'
BEGIN;
ALTER TABLE notes ADD COLUMN category TEXT;
INSERT INTO schema_migrations (version, applied_at) VALUES (5, '2025-01-14 08:20:00');
COMMIT;
EOF
cat >"$work/migrations/0006_users_display_name.sql" <<'EOF'
BEGIN;
ALTER TABLE users ADD COLUMN display_name TEXT;
UPDATE users SET display_name = substr(email, 1, instr(email, '@') - 1);
INSERT INTO schema_migrations (version, applied_at) VALUES (6, '2025-06-03 14:10:00');
COMMIT;
EOF

cat >"$work/scripts/maintenance.sh" <<'SH'
#!/usr/bin/env bash
# Maintenance mode: while on, the app refuses new sessions and lets the open
# ones finish. Usage: maintenance.sh on|off|status
root=$(cd "$(dirname "$0")/.." && pwd)
flag="$root/run/maintenance"
mkdir -p "$root/run"
case "${1:-status}" in
on)
  if [ -f "$flag" ]; then echo "maintenance: already on since $(cat "$flag")"; exit 0; fi
  date +%H:%M:%S >"$flag"
  echo "maintenance: on — new sessions are refused"
  echo "3 active sessions are draining (they end within 60s)"
  ;;
off)
  rm -f "$flag"
  echo "maintenance: off — accepting sessions"
  ;;
status)
  if [ -f "$flag" ]; then
    echo "maintenance: on since $(cat "$flag"), 0 active sessions"
  else
    echo "maintenance: off"
  fi
  ;;
*) echo "usage: maintenance.sh on|off|status" >&2; exit 2 ;;
esac
SH
cat >"$work/scripts/selfcheck.sh" <<'SH'
#!/usr/bin/env bash
# What the app checks before it serves: config and database agree on the
# schema, the database is sound, maintenance mode is off.
root=$(cd "$(dirname "$0")/.." && pwd)
conf="$root/config/app.conf"
db="$root/$(awk -F' = ' '$1 == "database" { print $2 }' "$conf")"
fail() { echo "selfcheck: FAIL $*" >&2; exit 1; }
[ -f "$db" ] || fail "no database at $db"
want=$(awk -F' = ' '$1 == "schema_version" { print $2 }' "$conf")
have=$(sqlite3 "$db" "SELECT max(version) FROM schema_migrations")
[ "$want" = "$have" ] || fail "config expects schema $want, database is at $have"
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || fail "integrity_check reports problems"
[ -z "$(sqlite3 "$db" "PRAGMA foreign_key_check")" ] || fail "foreign key violations"
[ ! -f "$root/run/maintenance" ] || fail "maintenance mode is on"
notes=$(sqlite3 "$db" "SELECT count(*) FROM notes")
extra=""
if [ "$have" -ge 7 ]; then
  untagged=$(sqlite3 "$db" "SELECT count(*) FROM notes n WHERE category IS NOT NULL AND NOT EXISTS (SELECT 1 FROM note_tags t WHERE t.note_id = n.id)")
  [ "$untagged" -eq 0 ] || fail "$untagged notes with a category have no tag"
  extra=", $(sqlite3 "$db" "SELECT count(*) FROM tags") tags"
fi
echo "selfcheck: ok (schema $have, $notes notes$extra)"
SH
chmod +x "$work/scripts/"*.sh
git -C "$work" add -A
git -C "$work" commit -q -m "notes: schema 6"

git init -q --bare -b main "$dir/origin.git"
git -C "$work" push -q "$dir/origin.git" HEAD:main
git clone -q "$dir/origin.git" "$dir/notes"

# The deployed app: local config and a database at schema 6 with data.
cp "$dir/notes/config/app.conf.example" "$dir/notes/config/app.conf"
for m in "$dir"/notes/migrations/000[1-6]_*.sql; do sqlite3 "$dir/notes/app.db" <"$m"; done
sqlite3 "$dir/notes/app.db" <<'EOF'
WITH RECURSIVE u(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM u WHERE i < 40)
INSERT INTO users (id, email, created_at, display_name)
SELECT i, 'user' || i || '@example.com', '2024-05-01 09:00:00', 'user' || i FROM u;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1284)
INSERT INTO notes (id, user_id, title, body, created_at, updated_at, category)
SELECT i, 1 + (i * 7) % 40, 'note ' || i, 'text of note ' || i, '2025-02-01 12:00:00', '2025-02-01 12:00:00',
       CASE i % 4 WHEN 0 THEN 'work' WHEN 1 THEN 'personal' WHEN 2 THEN 'recipes' ELSE NULL END
FROM n;
EOF

# Upstream moves on: migration 0007 replaces categories with tags.
cat >"$work/migrations/0007_note_tags.sql" <<'EOF'
-- 0007: tags replace the single category per note. Backfills one tag per
-- note from its category; the category column stays until 0008.
BEGIN;
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE note_tags (
  note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id),
  PRIMARY KEY (note_id, tag_id)
);
INSERT INTO tags (name) SELECT DISTINCT category FROM notes WHERE category IS NOT NULL ORDER BY category;
INSERT INTO note_tags (note_id, tag_id)
  SELECT n.id, t.id FROM notes n JOIN tags t ON t.name = n.category;
CREATE INDEX note_tags_tag ON note_tags(tag_id);
INSERT INTO schema_migrations (version, applied_at) VALUES (7, datetime('now'));
COMMIT;
EOF
sed -i 's/^schema_version = 6/schema_version = 7/' "$work/config/app.conf.example"
git -C "$work" add -A
git -C "$work" commit -q -m "Migration 0007: note tags"
git -C "$work" push -q "$dir/origin.git" HEAD:main

# An old checkout from before the move to SQLite migrations.
git init -q -b legacy "$dir/notes-legacy"
printf '# notes (legacy)\n\nSuperseded by ../notes. Do not deploy from here.\n' >"$dir/notes-legacy/README.md"
git -C "$dir/notes-legacy" add -A
git -C "$dir/notes-legacy" -c user.email=dev@example.com -c user.name=dev commit -q -m "legacy notes"
rm -rf "$work"
echo "scenario ready in $dir"
