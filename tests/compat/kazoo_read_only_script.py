"""Read-only mode as kazoo sees it; prints one JSON line of what it observed.

Usage: /usr/bin/python3 kazoo_read_only_script.py SURVIVOR_HOST:PORT ALL_HOSTS

Run by tests/compat/read_only_kazoo_test.ts against an Apache ZooKeeper 3.8 ensemble and a Corral
one, both with read-only mode on (and ZooKeeper's local sessions, which its read-only clients need).
It talks to the test over stdin/stdout, one line each way:
  prints "ready"      once the data is written and a client of the ensemble holds a session;
  waits  "stopped"    (the test stopped every member but SURVIVOR), then observes the read-only phase;
  prints "read-only"  once done there;
  waits  "restarted"  (the test started the members again), then waits to be read-write again;
  prints the JSON line of observations and exits.
Like kazoo's own TestReadOnlyMode (kazoo/tests/test_connection.py), with more observations.
Session ids are never printed raw: only whether they changed.
"""

import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.protocol.states import KazooState, KeeperState

WAIT_SECONDS = 30.0


def error_name(thunk):
    try:
        thunk()
        return "ok"
    except Exception as error:  # noqa: BLE001 - the name is the observation
        return type(error).__name__


def wait_line(expected):
    line = sys.stdin.readline().strip()
    if line != expected:
        raise RuntimeError("expected %r from the test, got %r" % (expected, line))


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def wait_state(client, state, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if client.client_state == state:
            return True
        time.sleep(0.05)
    return False


def watched_client(hosts, read_only, states):
    client = KazooClient(hosts=hosts, timeout=10.0, read_only=read_only)
    client.add_listener(lambda state: states.append(state))
    return client


def main():
    survivor, hosts = sys.argv[1], sys.argv[2]
    observed = {}

    writer = KazooClient(hosts=hosts, timeout=10.0)
    writer.start(timeout=WAIT_SECONDS)
    writer.ensure_path("/ro")
    writer.create("/ro/data", b"written before")
    writer.stop()
    writer.close()
    # A session of the ensemble (an ephemeral makes it global under local sessions too), on the
    # member that will be left alone: it may not be resumed there while that member is read-only.
    ensemble_states = []
    ensemble_client = watched_client(survivor, True, ensemble_states)
    ensemble_client.start(timeout=WAIT_SECONDS)
    ensemble_client.create("/ro/ephemeral", ephemeral=True)
    say("ready")

    wait_line("stopped")
    ensemble_since = len(ensemble_states)
    reader_states = []
    reader = watched_client(survivor, True, reader_states)
    observed["reader_start"] = error_name(lambda: reader.start(timeout=WAIT_SECONDS))
    observed["reader_read_only"] = reader.client_state == KeeperState.CONNECTED_RO
    if observed["reader_read_only"]:
        observed["get_children"] = sorted(reader.get_children("/ro"))
        observed["get"] = reader.get("/ro/data")[0].decode()
        observed["exists_missing"] = reader.exists("/ro/missing") is None
        observed["create"] = error_name(lambda: reader.create("/ro/new"))
        observed["set"] = error_name(lambda: reader.set("/ro/data", b"x"))
        observed["delete"] = error_name(lambda: reader.delete("/ro/data"))
        observed["sync"] = error_name(lambda: reader.sync("/ro"))
        transaction = reader.transaction()
        transaction.create("/ro/in-multi")
        observed["multi"] = error_name(transaction.commit)
        # kazoo's test waits for pings here: the session stays up while read-only.
        time.sleep(3)
        observed["reader_still_read_only"] = reader.client_state == KeeperState.CONNECTED_RO
    plain = KazooClient(hosts=survivor, timeout=10.0)
    observed["plain_client_start"] = error_name(lambda: plain.start(timeout=4))
    plain.stop()
    plain.close()
    observed["ensemble_session_resumed_read_only"] = KazooState.CONNECTED in ensemble_states[ensemble_since:]
    ensemble_client.stop()
    ensemble_client.close()
    # From here the test restarts members: whatever the reader sees next is their doing (a fast
    # member may be back before "restarted" arrives).
    since = len(reader_states)
    say("read-only")

    wait_line("restarted")
    observed["reader_read_write_again"] = wait_state(reader, KeeperState.CONNECTED, WAIT_SECONDS * 2)
    observed["reader_session_lost_on_the_way"] = KazooState.LOST in reader_states[since:]
    if observed["reader_read_write_again"]:
        observed["create_after"] = error_name(lambda: reader.create("/ro/after"))
        observed["children_after"] = sorted(reader.get_children("/ro"))
    reader.stop()
    reader.close()
    say(json.dumps(observed, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
