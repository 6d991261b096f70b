"""Shared helpers for the XML-RPC compatibility scripts: connect like supervisorctl does (unix socket via
SupervisorTransport, TCP via plain xmlrpc.client), record results as JSON lines, mask volatile numbers."""
import json
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

VOLATILE_INTS = {"pid", "start", "stop", "now"}


def connect(url, user=None, password=None):
    if url.startswith("unix://"):
        transport = SupervisorTransport(user, password, url)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
    if user:
        url = url.replace("http://", "http://%s:%s@" % (user, password))
    return xmlrpc.client.ServerProxy(url + "/RPC2")


def norm(v):
    """Replace values that differ between runs (pids, timestamps) by markers, keep zero vs non-zero."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in VOLATILE_INTS and isinstance(x, int):
                out[k] = "<set>" if x else 0
            else:
                out[k] = norm(x)
        return out
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def outcome(fn, *args):
    try:
        return {"ok": norm(fn(*args))}
    except xmlrpc.client.Fault as f:
        return {"fault": [f.faultCode, f.faultString]}
    except xmlrpc.client.ProtocolError as e:
        return {"http": e.errcode}


class Recorder:
    def __init__(self, server):
        self.s = server

    def emit(self, label, value):
        now = time.time()
        if now - getattr(self, "last", now) > 0.5:
            sys.stderr.write("slow step: %.1fs before %s\n" % (now - self.last, label))
        self.last = now
        sys.stdout.write(json.dumps({"label": label, "value": value}, sort_keys=True) + "\n")
        sys.stdout.flush()

    def call(self, label, method, *args):
        fn = self.s
        for part in method.split("."):
            fn = getattr(fn, part)
        r = outcome(fn, *args)
        self.emit(label, r)
        return r

    def call_sorted(self, label, method, *args):
        """Like call, for group operations that wait: their result structs arrive in completion order,
        which depends on timing in supervisord too, so sort them by (group, name)."""
        fn = self.s
        for part in method.split("."):
            fn = getattr(fn, part)
        r = outcome(fn, *args)
        if isinstance(r.get("ok"), list):
            r["ok"].sort(key=lambda x: (x.get("group"), x.get("name")))
        self.emit(label, r)
        return r

    def state(self, name):
        try:
            return self.s.supervisor.getProcessInfo(name)["statename"]
        except xmlrpc.client.Fault as f:
            return "fault %d" % f.faultCode

    def wait_state(self, names, state, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.state(n) == state for n in names):
                return
            time.sleep(0.05)
        raise SystemExit("timed out waiting for %s to be %s (now %s)" % (names, state, [self.state(n) for n in names]))

    def wait_for(self, what, cond, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cond():
                return
            time.sleep(0.05)
        raise SystemExit("timed out waiting for " + what)
