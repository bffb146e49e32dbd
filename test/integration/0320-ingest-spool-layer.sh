#!/usr/bin/env bash
# 0320: the daemon writes to the spool through the spool layer only.  No
# file of src/daemon names an LMDB symbol (MDB_*, mdb_*): the ingest
# endpoint's commits and its room probe are the commit pipeline's
# (src/lib/spool_commit.c), not a second copy of the txn code above the
# library (fails on 7ec2d66: ingest.c's room_txn, write_txn, unwrite_txn).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
check "src/daemon has C files" test -n "$(ls src/daemon/*.c 2>/dev/null)"
hits=$(grep -n 'MDB_\|mdb_' src/daemon/*.c)
check "no LMDB symbol in src/daemon/*.c${hits:+ (found: $hits)}" \
	test -z "$hits"
finish
