"""Writes that ZooKeeper's audit log records, made with kazoo (argv: host:port).

Run by tests/compat/audit_log_test.ts against Apache ZooKeeper 3.8 and corral serve, both with
audit.enable=true; the test compares the audit events each server wrote. Prints "done" at the end.
"""
import logging
import sys

from kazoo.client import KazooClient
from kazoo.security import ACL, Id

logging.basicConfig(level=logging.CRITICAL)


def attempt(action):
    try:
        action()
    except Exception:  # noqa: BLE001 - failures are what the audit log must record
        pass


zk = KazooClient(hosts=sys.argv[1], timeout=10, auth_data=[("digest", "bob:secret")])
zk.start(timeout=15)
zk.create("/audit", b"a")
zk.create("/audit/s-", b"", sequence=True)
zk.set("/audit", b"b")
zk.set_acls("/audit", [ACL(31, Id("world", "anyone")), ACL(1, Id("digest", "bob:Qc6tc1yTEk8aZ4ZL2OLnrwvZVN8="))])
zk.create("/audit/e", b"", ephemeral=True)
attempt(lambda: zk.delete("/audit/missing"))
attempt(lambda: zk.create("/audit", b""))
attempt(lambda: zk.set("/audit/missing", b""))
ok = zk.transaction()
ok.create("/audit/m", b"")
ok.set_data("/audit/m", b"x")
ok.check("/audit", -1)
ok.commit()
failed = zk.transaction()
failed.create("/audit/n", b"")
failed.delete("/audit/nope")
failed.commit()
zk.delete("/audit/s-0000000000")
zk.get("/audit")  # a read: not audited
zk.stop()
zk.close()
print("done")
