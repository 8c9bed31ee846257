"""A kazoo write load for the ensemble failover test: sequential znodes, one acknowledged path a line.

Usage: /usr/bin/python3 kazoo_sequential_load.py HOSTS PARENT STOP_FILE MAX_SECONDS

Creates PARENT/k- sequential znodes through a client that knows every member (HOSTS), printing
"acked PATH" for each create the server acknowledged, until STOP_FILE exists or MAX_SECONDS pass.
A create that fails with a connection error is retried after a short pause (kazoo reconnects to
another member on its own); its first attempt may still have been applied, which is fine: the test
checks only that every printed path survives. Prints "done N" and exits 0 at the end.
"""

import os
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, OperationTimeoutError, SessionExpiredError
from kazoo.handlers.threading import KazooTimeoutError


def main():
    if len(sys.argv) != 5:
        sys.stderr.write("usage: kazoo_sequential_load.py HOSTS PARENT STOP_FILE MAX_SECONDS\n")
        return 2
    hosts, parent, stop_file, max_seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    deadline = time.monotonic() + max_seconds
    client = KazooClient(hosts=hosts, timeout=20.0, connection_retry={"max_tries": -1, "delay": 0.05, "max_delay": 0.5})
    client.start(timeout=20.0)
    client.ensure_path(parent)
    print("started", flush=True)
    acked = 0
    try:
        while not os.path.exists(stop_file) and time.monotonic() < deadline:
            try:
                path = client.create(parent + "/k-", b"kazoo", sequence=True)
            except (ConnectionLoss, OperationTimeoutError, SessionExpiredError, KazooTimeoutError) as error:
                sys.stderr.write("retrying after %s\n" % type(error).__name__)
                time.sleep(0.05)
                continue
            acked += 1
            print("acked " + path, flush=True)
    finally:
        client.stop()
        client.close()
    print("done %d" % acked, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
