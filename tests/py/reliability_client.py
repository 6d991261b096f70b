"""Authenticated XML-RPC calls while the daemon is under attack: calls supervisor.getState alternately
over the unix socket (SupervisorTransport, as supervisorctl) and over TCP (plain xmlrpc.client) for a
number of seconds, a new connection per call, and prints one JSON object: per transport the number of
calls, failures, the slowest call and the first error.

usage: reliability_client.py SECONDS UNIX_URL HTTP_URL USER PASSWORD"""
import json
import socket
import sys
import time
import xmlrpc.client

from rpcutil import connect

seconds, unix_url, http_url, user, password = sys.argv[1:6]
socket.setdefaulttimeout(10)
stats = {}
end = time.monotonic() + float(seconds)
while time.monotonic() < end:
    for name, url in (("unix", unix_url), ("tcp", http_url)):
        s = stats.setdefault(name, {"calls": 0, "failed": 0, "max_ms": 0.0, "error": None})
        started = time.monotonic()
        try:
            state = connect(url, user, password).supervisor.getState()
            ok = state.get("statename") == "RUNNING"
            err = None if ok else repr(state)
        except Exception as e:  # any failure counts: HTTP 503, reset, timeout
            ok, err = False, "%s: %s" % (type(e).__name__, e)
        took = (time.monotonic() - started) * 1000
        s["calls"] += 1
        s["max_ms"] = max(s["max_ms"], round(took, 1))
        if not ok:
            s["failed"] += 1
            s["error"] = s["error"] or err
    time.sleep(0.05)
print(json.dumps(stats))
