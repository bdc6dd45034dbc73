#!/bin/sh
# First start: a cluster owned by POSTGRES_USER with POSTGRES_PASSWORD,
# reachable over the network with it (scram-sha-256), and POSTGRES_DB.
# Later starts find PG_VERSION and only run the server.
set -eu
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
  initdb --pgdata="$PGDATA" --username="$user" --pwfile="$password_file" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 >/dev/null
  rm -f "$password_file"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\" OWNER \"$user\";" \
      | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "database $db initialised for $user"
fi
exec postgres -D "$PGDATA" "$@"
