"""Drives a ZooKeeper-compatible server with kazoo and prints one JSON line of what it observed.

Usage: /usr/bin/python3 kazoo_script.py HOST:PORT [ROOT]

Run by tests/compat/kazoo_test.ts against Apache ZooKeeper and against Corral; the test compares
the line with the expected observations. Every scenario records observations (values, exception
class names, event lists) rather than asserting, so a difference shows exactly what changed.
Session ids, zxids and times are never printed raw: only relations between them.
"""

import json
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.security import ACL, Id, make_digest_acl, Permissions

WAIT_SECONDS = 10.0


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: kazoo_script.py HOST:PORT [ROOT]\n")
        return 2
    hosts = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else "/kazoo"
    client = connect(hosts)
    results = {}
    try:
        client.create(root)
        for name, scenario in SCENARIOS:
            try:
                results[name] = scenario(client, hosts, root + "/" + name)
            except Exception as error:  # noqa: BLE001 - record, keep going, the test shows the diff
                results[name] = {"unexpected": "%s: %s" % (type(error).__name__, error)}
    finally:
        client.stop()
        client.close()
    print(json.dumps(results, sort_keys=True))
    return 0


def connect(hosts, auth_data=None):
    client = KazooClient(hosts=hosts, timeout=10.0, auth_data=auth_data or [])
    client.start(timeout=WAIT_SECONDS)
    return client


def error_name(thunk):
    """Runs thunk; returns 'ok' or the class name of the kazoo exception it raised."""
    try:
        thunk()
        return "ok"
    except Exception as error:  # noqa: BLE001
        return type(error).__name__


def stat_view(stat):
    """The deterministic part of a ZnodeStat (no zxids, times or session ids)."""
    return {
        "version": stat.version,
        "cversion": stat.cversion,
        "aversion": stat.aversion,
        "dataLength": stat.dataLength,
        "numChildren": stat.numChildren,
        "ephemeral": stat.ephemeralOwner != 0,
    }


class EventLog:
    """Watch callbacks run on kazoo's handler thread; this collects them in arrival order."""

    def __init__(self):
        self._events = []
        self._condition = threading.Condition()

    def watcher(self, label):
        def record(event):
            with self._condition:
                self._events.append([label, event.type, event.path])
                self._condition.notify_all()
        return record

    def wait_for(self, count):
        deadline = time.monotonic() + WAIT_SECONDS
        with self._condition:
            while len(self._events) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            return [list(event) for event in self._events]


def scenario_basic(client, hosts, base):
    out = {}
    client.create(base)
    path = base + "/a"
    out["created"] = client.create(path, b"hello") == path
    data, stat = client.get(path)
    out["get"] = {"data": data.decode(), "stat": stat_view(stat)}
    out["zxids_at_create"] = stat.czxid == stat.mzxid == stat.pzxid and stat.ctime == stat.mtime
    stat2 = client.set(path, b"world", version=0)
    out["set"] = stat_view(stat2)
    out["set_moves_mzxid_only"] = stat2.mzxid > stat.mzxid and stat2.czxid == stat.czxid and stat2.pzxid == stat.pzxid
    out["set_stale_version"] = error_name(lambda: client.set(path, b"again", version=0))
    out["create_existing"] = error_name(lambda: client.create(path))
    out["create_without_parent"] = error_name(lambda: client.create(base + "/missing/child"))
    out["makepath"] = client.create(base + "/deep/er/node", makepath=True)
    out["delete_not_empty"] = error_name(lambda: client.delete(base + "/deep"))
    out["delete_bad_version"] = error_name(lambda: client.delete(path, version=5))
    out["delete"] = error_name(lambda: client.delete(path, version=1))
    out["exists_after_delete"] = client.exists(path)
    out["get_missing"] = error_name(lambda: client.get(path))
    client.create(base + "/empty", b"")
    data, stat = client.get(base + "/empty")
    out["empty_data"] = {"data": data.decode(), "dataLength": stat.dataLength}
    out["delete_recursive"] = error_name(lambda: client.delete(base + "/deep", recursive=True))
    out["children_after"] = sorted(client.get_children(base))
    return out


def scenario_children(client, hosts, base):
    out = {}
    client.create(base)
    for name in ["z", "x", "y"]:
        client.create(base + "/" + name)
    out["children"] = sorted(client.get_children(base))
    _, stat = client.get(base)
    out["parent"] = stat_view(stat)
    client.delete(base + "/y")
    _, stat = client.get(base)
    out["parent_after_delete"] = stat_view(stat)
    out["children_after_delete"] = sorted(client.get_children(base))
    out["children_of_missing"] = error_name(lambda: client.get_children(base + "/nope"))
    return out


def scenario_watches(client, hosts, base):
    out = {}
    log = EventLog()
    client.create(base, b"0")
    client.get(base, watch=log.watcher("data"))
    client.get_children(base, watch=log.watcher("child"))
    client.exists(base + "/new", watch=log.watcher("exists"))
    client.set(base, b"1")
    client.create(base + "/new")
    client.set(base, b"2")  # the one-shot data watch is used up: no event
    client.get_children(base, watch=log.watcher("child2"))
    client.exists(base + "/new", watch=log.watcher("deleted"))
    client.delete(base + "/new")
    # A final event fences the others: notifications arrive in order, so a repeat would show first.
    client.exists(base + "/fence", watch=log.watcher("fence"))
    client.create(base + "/fence")
    out["events"] = log.wait_for(6)
    return out


def scenario_ephemerals(client, hosts, base):
    out = {}
    log = EventLog()
    client.create(base)
    owner = connect(hosts)
    try:
        out["ephemeral"] = owner.create(base + "/eph", b"e", ephemeral=True)
        out["ephemeral_sequential"] = owner.create(base + "/seq-", ephemeral=True, sequence=True)
        _, stat = client.get(base + "/eph")
        out["owner_is_session"] = stat.ephemeralOwner == owner.client_id[0]
        out["child_of_ephemeral"] = error_name(lambda: client.create(base + "/eph/child"))
        client.exists(base + "/eph", watch=log.watcher("exists"))
        client.get_children(base, watch=log.watcher("child"))
    finally:
        owner.stop()
        owner.close()
    # Session close deletes ephemerals in an unspecified order: compare the events as a set.
    out["events_after_close"] = sorted(log.wait_for(2))
    out["children_after_close"] = sorted(client.get_children(base))
    out["exists_after_close"] = client.exists(base + "/eph")
    return out


def scenario_sequentials(client, hosts, base):
    out = {}
    client.create(base)
    names = [client.create(base + "/n-", sequence=True) for _ in range(3)]
    client.delete(names[1])
    names.append(client.create(base + "/n-", sequence=True))
    client.create(base + "/plain")
    names.append(client.create(base + "/m-", b"", sequence=True))
    out["names"] = [name[len(base) + 1:] for name in names]
    out["children"] = sorted(client.get_children(base))
    _, stat = client.get(base)
    out["parent"] = stat_view(stat)
    return out


def scenario_transaction(client, hosts, base):
    out = {}
    client.create(base)
    t = client.transaction()
    t.create(base + "/a", b"x")
    t.create(base + "/a/b")
    t.set_data(base + "/a", b"y")
    t.check(base + "/a", 1)
    t.delete(base + "/a/b")
    out["committed"] = [describe_result(result, base) for result in t.commit()]
    data, stat = client.get(base + "/a")
    out["after_commit"] = {"data": data.decode(), "stat": stat_view(stat)}
    t = client.transaction()
    t.create(base + "/c")
    t.check(base + "/a", 99)
    t.create(base + "/d")
    out["failed"] = [describe_result(result, base) for result in t.commit()]
    out["failed_is_atomic"] = client.exists(base + "/c") is None and client.exists(base + "/d") is None
    return out


def describe_result(result, base):
    if isinstance(result, Exception):
        return type(result).__name__
    if isinstance(result, str):
        return result[len(base):]
    if isinstance(result, bool):
        return result
    return {"stat": stat_view(result)}


def scenario_acl(client, hosts, base):
    out = {}
    client.create(base)
    alice = connect(hosts, auth_data=[("digest", "alice:secret")])
    anonymous = connect(hosts)
    try:
        secure = base + "/secure"
        alice.create(secure, b"s", acl=[make_digest_acl("alice", "secret", all=True)])
        out["owner_get"] = error_name(lambda: alice.get(secure))
        out["anonymous_get"] = error_name(lambda: anonymous.get(secure))
        out["anonymous_set"] = error_name(lambda: anonymous.set(secure, b"x"))
        out["anonymous_get_acls"] = error_name(lambda: anonymous.get_acls(secure))
        acls, stat = alice.get_acls(secure)
        out["owner_acls"] = [[acl.perms, acl.id.scheme, acl.id.id] for acl in acls]
        out["owner_acl_stat"] = stat_view(stat)
        anonymous.add_auth("digest", "alice:secret")
        out["after_add_auth_get"] = error_name(lambda: anonymous.get(secure))

        readonly = base + "/readonly"
        client.create(readonly, b"r", acl=[ACL(Permissions.READ, Id("world", "anyone"))])
        out["readonly_get"] = error_name(lambda: client.get(readonly))
        out["readonly_set"] = error_name(lambda: client.set(readonly, b"w"))
        out["readonly_create_child"] = error_name(lambda: client.create(readonly + "/child"))

        mixed = base + "/mixed"
        alice.create(mixed, acl=[ACL(Permissions.READ, Id("world", "anyone")), make_digest_acl("alice", "secret", all=True)])
        acls, _ = client.get_acls(mixed)
        out["masked_acls_without_admin"] = [[acl.perms, acl.id.scheme, acl.id.id] for acl in acls]

        out["invalid_world_id"] = error_name(lambda: client.create(base + "/bad", acl=[ACL(Permissions.ALL, Id("world", "someone"))]))
        stat = alice.set_acls(secure, [make_digest_acl("alice", "secret", all=True), ACL(Permissions.READ, Id("world", "anyone"))])
        out["set_acls_stat"] = stat_view(stat)
        out["get_after_set_acls"] = error_name(lambda: client.get(secure))
        out["set_acls_stale_version"] = error_name(lambda: alice.set_acls(secure, [ACL(Permissions.ALL, Id("world", "anyone"))], version=0))
    finally:
        for session in (alice, anonymous):
            session.stop()
            session.close()
    return out


SCENARIOS = [
    ("basic", scenario_basic),
    ("children", scenario_children),
    ("watches", scenario_watches),
    ("ephemerals", scenario_ephemerals),
    ("sequentials", scenario_sequentials),
    ("transaction", scenario_transaction),
    ("acl", scenario_acl),
]

if __name__ == "__main__":
    sys.exit(main())
