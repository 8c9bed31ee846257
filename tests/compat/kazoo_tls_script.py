"""kazoo over TLS against one server's secure port (argv: host:port, node path, CA file, client
certificate, client key, a CA that did not sign the server's certificate).

Prints one JSON line of observations: a client with a certificate writes and reads; a client
without one; a client trusting the wrong CA; a plaintext client on the TLS port. Run by
tests/compat/tls_kazoo_test.ts against Apache ZooKeeper and against corral, configured alike.
"""
import json
import logging
import sys
import time

from kazoo.client import KazooClient

HOSTS, PATH, CA, CERT, KEY, ROGUE_CA = sys.argv[1:7]
GOOD_START_TIMEOUT_S = 15
# A refused client never connects; kazoo retries until this passes.
REFUSED_START_TIMEOUT_S = 4

logging.basicConfig(level=logging.CRITICAL)


def outcome(action):
    try:
        value = action()
        return "ok" if value is None else value
    except Exception as error:  # the exception's class is the observation
        return type(error).__name__


def session(options, action, start_timeout):
    zk = KazooClient(hosts=HOSTS, timeout=10, connection_retry={"max_tries": -1, "delay": 0.2}, **options)
    result = {"start": outcome(lambda: zk.start(timeout=start_timeout))}
    if result["start"] == "ok":
        result["action"] = outcome(lambda: action(zk))
    result["state"] = zk.state
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass
    return result


def write_and_read(zk):
    zk.create(PATH, b"over tls")
    zk.create(PATH + "/child", b"x" * 70000)
    data, stat = zk.get(PATH)
    big, _ = zk.get(PATH + "/child")
    zk.set(PATH, b"changed")
    changed, stat2 = zk.get(PATH)
    return {
        "data": data.decode(),
        "children": zk.get_children(PATH),
        "big_length": len(big),
        "changed": changed.decode(),
        "version": stat2.version,
    }


def read(zk):
    data, _ = zk.get(PATH)
    return data.decode()


observations = {
    "with_certificate": session({"use_ssl": True, "ca": CA, "certfile": CERT, "keyfile": KEY, "verify_certs": True}, write_and_read, GOOD_START_TIMEOUT_S),
    "without_certificate": session({"use_ssl": True, "ca": CA, "verify_certs": True}, read, REFUSED_START_TIMEOUT_S),
    "untrusted_server": session({"use_ssl": True, "ca": ROGUE_CA, "certfile": CERT, "keyfile": KEY, "verify_certs": True}, read, REFUSED_START_TIMEOUT_S),
    "plaintext": session({}, read, REFUSED_START_TIMEOUT_S),
    "with_certificate_again": session({"use_ssl": True, "ca": CA, "certfile": CERT, "keyfile": KEY, "verify_certs": True}, read, GOOD_START_TIMEOUT_S),
}
print(json.dumps(observations, sort_keys=True))
