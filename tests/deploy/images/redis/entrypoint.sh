#!/bin/sh
# Like the official image: a bare `redis-server ARGS` listens on every interface of the container
# with protected mode off (Debian's build keeps it on, which refuses clients from other addresses).
set -eu
if [ "${1:-}" = "redis-server" ]; then
  shift
  set -- redis-server --protected-mode no --dir /data "$@"
fi
exec "$@"
