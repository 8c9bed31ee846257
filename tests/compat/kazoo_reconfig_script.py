"""Dynamic reconfiguration as kazoo sees it; prints one JSON line of what it observed.

Usage: /usr/bin/python3 kazoo_reconfig_script.py ALL_HOSTS PORT_NAMES_JSON

Run by tests/compat/reconfig_kazoo_test.ts against a 3-member Apache ZooKeeper 3.8 ensemble and a
3-member Corral one, both started from one zoo.cfg with reconfigEnabled=true and the super digest
of kazoo's own test harness (kazoo/testing/harness.py: user "super", password "test").

kazoo's own TestReconfig (kazoo/tests/test_client.py), scenario by scenario, without its harness
(which starts its own ZooKeeper): a chrooted client as the harness makes one ("/kazootests<uuid>"),
server_version() as its setUp asks, then test_no_super_auth, test_add_remove_observer and
test_bad_input, each recording what kazoo's assertions look at and more: the reply's config text
(ports named by PORT_NAMES_JSON, {"<port>": "<name>"}, and by this script for the ports it picks),
the reply Stat (fields that do not depend on time or zxid values), the version line against mzxid.
Then a few more reconfigs a kazoo user makes: as super (the joiner kazoo's test_no_super_auth
uses; a duplicate joiner; a whole new membership; three dead voters) and a watch on
/zookeeper/config. Every reconfig that adds server 100 or 999 is undone by the next one.
Zxids and times are never printed raw: only their relations.
"""

import json
import re
import socket
import sys
import threading
import uuid

from kazoo.client import KazooClient

WAIT_SECONDS = 30.0
CONFIG = "/zookeeper/config"
# kazoo/testing/harness.py: the digest it gives ZooKeeper is super:D/InIHSb7yEEbrWz8b9l71RjZJU=.
SUPER_AUTH = ("digest", "super:test")


def outcome(thunk):
    """("ok", value) or (the exception's class name, None): the name is the observation."""
    try:
        return "ok", thunk()
    except Exception as error:  # noqa: BLE001
        return type(error).__name__, None


class Names:
    """Ports -> names, so that two ensembles on different ports print the same text."""

    def __init__(self, given):
        self.ports = dict(given)

    def add(self, port, name):
        self.ports[str(port)] = name

    def config(self, data):
        """Config bytes -> its lines in order, ports named, the version line kept apart."""
        text = data.decode("utf8")
        lines, version = [], None
        for line in text.split("\n"):
            match = re.match(r"^version=([0-9a-f]+)$", line)
            if match:
                version = match.group(1)
                continue
            lines.append(re.sub(r":(\d+)", lambda m: ":" + self.ports.get(m.group(1), "?" + m.group(1)), line))
        return lines, version


def stat_shape(stat, data):
    return {
        "version": stat.version,
        "cversion": stat.cversion,
        "aversion": stat.aversion,
        "czxid": stat.czxid,
        "pzxid": stat.pzxid,
        "ephemeralOwner": stat.ephemeralOwner,
        "numChildren": stat.numChildren,
        "dataLength_matches": stat.dataLength == len(data),
    }


def describe(names, result):
    """A reconfig's (or getData's) outcome: error name, or the config and Stat as relations."""
    name, value = result
    if name != "ok":
        return {"error": name}
    data, stat = value
    lines, version = names.config(data)
    return {
        "error": None,
        "config": lines,
        "ends_with_version_line": version is not None and not data.endswith(b"\n"),
        "version_is_mzxid": version is not None and int(version, 16) == stat.mzxid,
        "stat": stat_shape(stat, data),
    }


def rst_port():
    """kazoo's free_sock_port: a bound, never-listening socket (a connect gets RST; ZOOKEEPER-2202).
    Bound to 127.0.0.1 here (kazoo binds every interface); kept open until the script ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


def main():
    hosts, port_names = sys.argv[1], json.loads(sys.argv[2])
    names = Names(port_names)
    observed = {}
    clients = []
    sockets = []

    def client(chroot, **options):
        options.setdefault("timeout", 15)
        made = KazooClient(hosts=hosts + chroot, **options)
        clients.append(made)
        made.start(timeout=WAIT_SECONDS)
        return made

    try:
        # KazooTestHarness.setup_zookeeper: a chrooted client, its namespace made.
        namespace = "/kazootests" + uuid.uuid4().hex
        plain = client(namespace)
        plain.ensure_path("/")
        # TestReconfig.setUp skips below 3.5 (the version comes from the envi four-letter word).
        version = plain.server_version()
        observed["setup_server_version_at_least_3_5"] = bool(version) and tuple(version) >= (3, 5)

        # test_no_super_auth: NoAuthError for an unauthenticated joiner.
        observed["no_super_auth"] = outcome(lambda: plain.reconfig(
            joining="server.999=0.0.0.0:1234:2345:observer;3456", leaving=None, new_members=None))[0]

        # test_add_remove_observer: a super client adds an observer that never runs, then removes it.
        admin = client(namespace, auth_data=[SUPER_AUTH])
        ports = []
        for name in ("o1", "o2", "o3"):
            sock, port = rst_port()
            sockets.append(sock)
            names.add(port, name)
            ports.append(port)
        joining = "server.100=0.0.0.0:%d:%d:observer;0.0.0.0:%d" % tuple(ports)
        added = outcome(lambda: admin.reconfig(joining=joining, leaving=None, new_members=None))
        observed["add_observer"] = describe(names, added)
        observed["add_observer_reply_has_joiner"] = added[0] == "ok" and joining.encode("utf8") in added[1][0]
        removed = outcome(lambda: admin.reconfig(joining=None, leaving="100", new_members=None))
        observed["remove_observer"] = describe(names, removed)
        observed["remove_observer_reply_has_joiner"] = removed[0] != "ok" or joining.encode("utf8") in removed[1][0]
        # "try to add it again, but a config number in the future" (the unauthenticated client).
        if removed[0] == "ok":
            curver = int(removed[1][0].decode().split("\n")[-1].split("=")[1], base=16)
            observed["future_config_version"] = outcome(lambda: plain.reconfig(
                joining=joining, leaving=None, new_members=None, from_config=curver + 1))[0]
            # More: the current version, unauthenticated (ACL last) and as super.
            observed["current_config_version_no_auth"] = outcome(lambda: plain.reconfig(
                joining=joining, leaving=None, new_members=None, from_config=curver))[0]
            observed["current_config_version_super"] = describe(names, outcome(lambda: admin.reconfig(
                joining=None, leaving=None, new_members=None, from_config=curver)))
            observed["old_config_version_super"] = outcome(lambda: admin.reconfig(
                joining=None, leaving=None, new_members=None, from_config=curver))[0]

        # test_bad_input: BadArgumentsError for a joiner without "=".
        observed["bad_input"] = outcome(lambda: plain.reconfig(
            joining="some thing", leaving=None, new_members=None))[0]
        observed["bad_input_super"] = outcome(lambda: admin.reconfig(
            joining="some thing", leaving=None, new_members=None))[0]

        # test_no_super_auth's joiner, as super: ZooKeeper takes any long as an id.
        big = "server.999=0.0.0.0:1234:2345:observer;3456"
        names.add(1234, "b1")
        names.add(2345, "b2")
        names.add(3456, "b3")
        big_added = outcome(lambda: admin.reconfig(joining=big, leaving=None, new_members=None))
        observed["add_server_999_super"] = describe(names, big_added)
        if big_added[0] == "ok":
            observed["remove_server_999_super"] = describe(names, outcome(lambda: admin.reconfig(
                joining=None, leaving="999", new_members=None)))

        # One joiner listed twice: ZooKeeper's later entry replaces the earlier.
        twice = outcome(lambda: admin.reconfig(joining=joining + "," + joining, leaving=None, new_members=None))
        observed["same_joiner_twice"] = describe(names, twice)
        if twice[0] == "ok":
            observed["same_joiner_twice_undo"] = outcome(lambda: admin.reconfig(
                joining=None, leaving="100", new_members=None))[0]

        # Non-incremental, as kazoo's reconfig docstring shows: the current members plus the observer.
        root = client("")
        root.sync(CONFIG)
        current, _ = root.get(CONFIG)
        members = [line for line in current.decode().split("\n") if line.startswith("server.")]
        whole = outcome(lambda: admin.reconfig(joining=None, leaving=None, new_members=",".join(members + [joining])))
        observed["new_members_whole"] = describe(names, whole)
        if whole[0] == "ok":
            observed["new_members_back"] = describe(names, outcome(lambda: admin.reconfig(
                joining=None, leaving=None, new_members=",".join(members))))

        # Three voters that never run: no synced quorum of six.
        dead = []
        for index in range(3):
            triple = []
            for part in ("q", "e", "c"):
                sock, port = rst_port()
                sockets.append(sock)
                names.add(port, "d%d%s" % (index, part))
                triple.append(port)
            dead.append("server.%d=127.0.0.1:%d:%d:participant;127.0.0.1:%d" % (101 + index, triple[0], triple[1], triple[2]))
        observed["three_dead_voters"] = outcome(lambda: admin.reconfig(
            joining=",".join(dead), leaving=None, new_members=None))[0]

        # A data watch on /zookeeper/config (not chrooted) fires on a reconfig; the node then
        # holds what the reply held.
        fired = threading.Event()
        events = []

        def watcher(event):
            events.append({"type": event.type, "state": event.state, "path": event.path})
            fired.set()

        root.get(CONFIG, watch=watcher)
        last = outcome(lambda: admin.reconfig(joining=None, leaving=None, new_members=None))
        observed["watched_reconfig"] = describe(names, last)
        observed["watch_fired"] = fired.wait(WAIT_SECONDS)
        observed["watch_events"] = events
        root.sync(CONFIG)
        after = outcome(lambda: root.get(CONFIG))
        observed["config_node_after"] = describe(names, after)
        observed["config_node_is_last_reply"] = last[0] == "ok" and after[0] == "ok" and after[1][0] == last[1][0]
        observed["config_node_mzxid_is_last_reply_mzxid"] = (
            last[0] == "ok" and after[0] == "ok" and after[1][1].mzxid == last[1][1].mzxid)
        # Through the chroot the config node is just a missing path.
        observed["config_node_through_chroot"] = outcome(lambda: plain.get(CONFIG))[0]
    except Exception as error:  # noqa: BLE001 - a transcript cut short still compares
        observed["aborted"] = "%s: %s" % (type(error).__name__, error)
    finally:
        for made in clients:
            try:
                made.stop()
                made.close()
            except Exception:  # noqa: BLE001
                pass
        for sock in sockets:
            sock.close()
    sys.stdout.write(json.dumps(observed, sort_keys=True) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
