"""kazoo with SASL DIGEST-MD5 against one server (argv: host:port, node path).

Prints one JSON line of observations: bob (good password) creates a node readable by sasl:bob
only and reads it back; bob with a wrong password; alice (another SASL user) reading bob's node;
an anonymous client reading it. Run by tests/compat/sasl_digest_test.ts against Apache ZooKeeper
and against corral, configured with the same JAAS users.
"""
import json
import logging
import sys
import time

from kazoo.client import KazooClient
from kazoo.security import ACL, Id

HOSTS = sys.argv[1]
PATH = sys.argv[2]
START_TIMEOUT_S = 15

logging.basicConfig(level=logging.CRITICAL)


def client(user=None, password=None):
    options = None
    if user is not None:
        options = {"mechanism": "DIGEST-MD5", "username": user, "password": password}
    return KazooClient(hosts=HOSTS, sasl_options=options, timeout=10, connection_retry={"max_tries": 0})


def outcome(action):
    try:
        value = action()
        return "ok" if value is None else value
    except Exception as error:  # the exception's class is the observation
        return type(error).__name__


def session(user, password, action):
    zk = client(user, password)
    started = time.monotonic()
    result = {"start": outcome(lambda: zk.start(timeout=START_TIMEOUT_S))}
    result["start_seconds_under_10"] = time.monotonic() - started < 10
    if result["start"] == "ok":
        result["action"] = outcome(lambda: action(zk))
    result["state"] = zk.state
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass
    return result


def create_and_read(zk):
    zk.create(PATH, b"for bob", acl=[ACL(31, Id("sasl", "bob"))])
    data, _ = zk.get(PATH)
    acls, _ = zk.get_acls(PATH)
    return {"data": data.decode(), "acls": [[a.perms, a.id.scheme, a.id.id] for a in acls]}


def read(zk):
    data, _ = zk.get(PATH)
    return data.decode()


observations = {
    "bob": session("bob", "bobsecret", create_and_read),
    "bob_wrong_password": session("bob", "not-the-password", read),
    "alice": session("alice", "alicesecret", read),
    "anonymous": session(None, None, read),
    "bob_again": session("bob", "bobsecret", read),
}
print(json.dumps(observations, sort_keys=True))
