#!/usr/bin/env python3
"""Print, as JSON, how Supervisor (supervisord 4.3.0) reads one or more config files.

Usage: dump_supervisor_config.py CONFIG [CONFIG ...]

Output: {"env": {...}, "host_node_name": "...", "results": {CONFIG: RESULT}} where
RESULT is {"ok": true, "config": {...}} or {"ok": false, "error": "..."}. The config
schema is the one procd-config's differential test builds from its own model.
Used by crates/procd-config/tests/differential.rs.
"""
import io
import json
import os
import platform
import socket
import sys

from supervisor import datatypes
from supervisor.options import ServerOptions


class Rejected(Exception):
    pass


def logfile(v):
    if v is datatypes.Automatic:
        return "AUTO"
    if v is None:
        return None
    return v


def autorestart(v):
    if v is datatypes.RestartUnconditionally:
        return "always"
    if v is datatypes.RestartWhenExitUnexpected:
        return "unexpected"
    return "never"


def process(options, p):
    out = {
        "name": p.name,
        "command": p.command,
        "priority": p.priority,
        "autostart": bool(p.autostart),
        "startsecs": p.startsecs,
        "startretries": p.startretries,
        "autorestart": autorestart(p.autorestart),
        "exitcodes": list(p.exitcodes),
        "stopsignal": int(p.stopsignal),
        "stopwaitsecs": p.stopwaitsecs,
        "stopasgroup": bool(p.stopasgroup),
        "killasgroup": bool(p.killasgroup),
        "uid": p.uid,
        "directory": p.directory,
        "umask": p.umask,
        "environment": dict(p.environment or {}),
        "redirect_stderr": bool(p.redirect_stderr),
        "serverurl": p.serverurl or options.serverurl,
    }
    for chan in ("stdout", "stderr"):
        out[chan] = {
            "logfile": logfile(getattr(p, chan + "_logfile")),
            "maxbytes": getattr(p, chan + "_logfile_maxbytes"),
            "backups": getattr(p, chan + "_logfile_backups"),
            "capture_maxbytes": getattr(p, chan + "_capture_maxbytes"),
            "events_enabled": bool(getattr(p, chan + "_events_enabled")),
            "syslog": bool(getattr(p, chan + "_syslog")),
        }
    return out


def group(options, g):
    from supervisor.options import EventListenerPoolConfig, FastCGIGroupConfig
    out = {"name": g.name, "priority": g.priority, "kind": "program"}
    if isinstance(g, EventListenerPoolConfig):
        from supervisor.events import getEventNameByType
        out["kind"] = "eventlistener"
        out["events"] = sorted(getEventNameByType(e) for e in g.pool_events)
        out["buffer_size"] = g.buffer_size
    elif isinstance(g, FastCGIGroupConfig):
        s = g.socket_config
        out["kind"] = "fcgi"
        owner = s.get_owner() if hasattr(s, "get_owner") else None
        out["socket"] = {
            "url": s.url,
            "backlog": s.get_backlog() if s.get_backlog() is not None else socket.SOMAXCONN,
            "owner": list(owner) if owner is not None else None,
            "mode": s.get_mode() if hasattr(s, "get_mode") else None,
        }
    out["processes"] = [process(options, p) for p in g.process_configs]
    return out


def server(c):
    out = {"section": c["section"], "username": c["username"], "password": c["password"]}
    if c["family"] == socket.AF_UNIX:
        out.update(family="unix", file=c["file"], chmod=c["chmod"], chown=list(c["chown"]))
    else:
        out.update(family="inet", host=c["host"], port=c["port"])
    return out


def load(path):
    o = ServerOptions()
    o.stderr = io.StringIO()
    o.stdout = io.StringIO()

    def fail(code=0):
        raise Rejected(o.stderr.getvalue().strip())

    o.exit = fail
    o.realize(args=["-c", path])
    return {
        "supervisord": {
            "logfile": o.logfile,
            "logfile_maxbytes": o.logfile_maxbytes,
            "logfile_backups": o.logfile_backups,
            "loglevel": o.loglevel,
            "pidfile": o.pidfile,
            "umask": o.umask,
            "nodaemon": bool(o.nodaemon),
            "silent": bool(o.silent),
            "minfds": o.minfds,
            "minprocs": o.minprocs,
            "nocleanup": bool(o.nocleanup),
            "childlogdir": o.childlogdir,
            "uid": o.uid,
            "directory": o.directory,
            "strip_ansi": bool(o.strip_ansi),
            "environment": dict(o.configroot.supervisord.environment),
            "identifier": o.identifier,
        },
        "servers": [server(c) for c in o.server_configs],
        "groups": [group(o, g) for g in o.process_group_configs],
        "rpcinterfaces": [
            {"name": name, "extras": extras} for name, _factory, extras in o.rpcinterface_factories
        ],
        "warnings": list(o.parse_warnings),
        "infos": list(o.parse_infos),
    }


def main(paths):
    results = {}
    for path in paths:
        try:
            results[path] = {"ok": True, "config": load(path)}
        except Rejected as e:
            results[path] = {"ok": False, "error": str(e)}
        except Exception as e:  # supervisord would crash with a traceback: also a rejection
            results[path] = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
    json.dump(
        {"env": dict(os.environ), "host_node_name": platform.node(), "results": results},
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    main(sys.argv[1:])
