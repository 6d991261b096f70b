"""Exercises every supervisor.* and system.* method and every reachable fault over XML-RPC, printing one
JSON line per call. Run against procd and supervisord with the same fixture (tests/integration/rpc.rs);
the Rust test compares the two transcripts.

usage: rpc_methods.py DIR SERVERURL [USER PASSWORD]"""
import re
import sys
import threading

from rpcutil import Recorder, connect, outcome

quick = "--quick" in sys.argv  # skip the sections that take supervisord many ticks
args = [a for a in sys.argv if a != "--quick"]
d, url = args[1], args[2]
user, password = (args[3], args[4]) if len(args) > 4 else (None, None)
conf_path = d + "/supervisord.conf"
s = connect(url, user, password)
r = Recorder(s)

# --- identity and system namespace ------------------------------------------------------------------
for m in ["getAPIVersion", "getVersion", "getSupervisorVersion", "getIdentification", "getState"]:
    r.call(m, "supervisor." + m)
pid = s.supervisor.getPID()
r.emit("getPID is positive int", isinstance(pid, int) and pid > 0)
methods = s.system.listMethods()
r.emit("listMethods", methods)
for m in methods:
    r.call("methodSignature " + m, "system.methodSignature", m)
    help_text = s.system.methodHelp(m)
    r.emit("methodHelp type " + m, type(help_text).__name__)
r.call("methodHelp unknown", "system.methodHelp", "supervisor.nope")
r.call("methodSignature unknown", "system.methodSignature", "nope")

r.wait_state(["web", "echo", "cat", "grp:a", "grp:b", "stubborn"], "RUNNING")

# --- process info -----------------------------------------------------------------------------------
for n in ["web", "web:web", "grp:a", "grp:*", "grp:", "grp", "nope", "nope:x", "manual"]:
    r.call("getProcessInfo " + n, "supervisor.getProcessInfo", n)
r.call("getAllProcessInfo", "supervisor.getAllProcessInfo")
r.call("getAllConfigInfo", "supervisor.getAllConfigInfo")

# --- start/stop/signal faults -----------------------------------------------------------------------
r.call("start running", "supervisor.startProcess", "web")
r.call("start unknown", "supervisor.startProcess", "nope")
r.call("start unknown group", "supervisor.startProcess", "nope:*")
r.call("start no file", "supervisor.startProcess", "nofile")
r.call("start not executable", "supervisor.startProcess", "noexec")
r.call("start directory", "supervisor.startProcess", "isdir")
r.call("start quick", "supervisor.startProcess", "quick")
r.wait_state(["quick"], "FATAL")
r.call("info quick", "supervisor.getProcessInfo", "quick")
r.call("start fatal again", "supervisor.startProcess", "quick", False)
r.wait_state(["quick"], "FATAL")
r.call("stop not running", "supervisor.stopProcess", "manual")
r.call("stop unknown", "supervisor.stopProcess", "nope")
r.call("signal not running", "supervisor.signalProcess", "manual", "HUP")
r.call("signal bad name", "supervisor.signalProcess", "web", "FOO")
r.call("signal bad number", "supervisor.signalProcess", "web", "999")
r.call("signal bad name before state", "supervisor.signalProcess", "manual", "FOO")
r.call("signal unknown", "supervisor.signalProcess", "nope", "HUP")
r.call("signal by number", "supervisor.signalProcess", "web", "28")
r.call("signal SIG prefix", "supervisor.signalProcess", "web", "SIGWINCH")

# ABNORMAL_TERMINATION: stop a process while a waiting start is pending.
slow_result = {}


def start_slow():
    from rpcutil import connect as c2, outcome
    s2 = c2(url, user, password)
    slow_result["v"] = outcome(s2.supervisor.startProcess, "slow")


t = threading.Thread(target=start_slow)
t.start()
r.wait_state(["slow"], "STARTING")
r.call("stop starting", "supervisor.stopProcess", "slow")
t.join(30)
r.emit("start interrupted", slow_result.get("v"))

# --- start/stop round trips -------------------------------------------------------------------------
r.call("start manual", "supervisor.startProcess", "manual")
r.call("info manual running", "supervisor.getProcessInfo", "manual")
r.call("stop manual", "supervisor.stopProcess", "manual")
r.call("info manual stopped", "supervisor.getProcessInfo", "manual")
r.call("start manual nowait", "supervisor.startProcess", "manual", False)
r.wait_state(["manual"], "RUNNING")
r.call("stop manual nowait", "supervisor.stopProcess", "manual", False)
r.wait_state(["manual"], "STOPPED")

# --- groups -----------------------------------------------------------------------------------------
r.call_sorted("stop group", "supervisor.stopProcessGroup", "grp")
r.call_sorted("stop group again", "supervisor.stopProcessGroup", "grp")
r.call_sorted("start group", "supervisor.startProcessGroup", "grp")
r.call("start group again", "supervisor.startProcessGroup", "grp")
r.call("stop group unknown", "supervisor.stopProcessGroup", "nope")
r.call("start group unknown", "supervisor.startProcessGroup", "nope")
r.call_sorted("stop grp:*", "supervisor.stopProcess", "grp:*")
r.call_sorted("start grp:*", "supervisor.startProcess", "grp:*")
r.call("stop grp:a nowait", "supervisor.stopProcess", "grp:a", False)
r.wait_state(["grp:a"], "STOPPED")
r.call("start grp: nowait", "supervisor.startProcessGroup", "grp", False)
r.wait_state(["grp:a", "grp:b"], "RUNNING")
r.call("signal group", "supervisor.signalProcessGroup", "grp", "WINCH")
r.call("signal group bad", "supervisor.signalProcessGroup", "grp", "FOO")
r.call("signal group unknown", "supervisor.signalProcessGroup", "nope", "WINCH")
r.call("signal grp:*", "supervisor.signalProcess", "grp:*", "CONT")
r.call("signal all", "supervisor.signalAllProcesses", "WINCH")
r.call("signal all bad", "supervisor.signalAllProcesses", "FOO")

# --- stdin and remote comm --------------------------------------------------------------------------
r.call("stdin", "supervisor.sendProcessStdin", "cat", "hello\n")
r.wait_for("cat echo", lambda: "hello" in s.supervisor.readProcessStdoutLog("cat", 0, 0))
r.call("cat log", "supervisor.readProcessStdoutLog", "cat", 0, 0)
r.call("stdin not running", "supervisor.sendProcessStdin", "manual", "x")
r.call("stdin unknown", "supervisor.sendProcessStdin", "nope", "x")
r.call("stdin group", "supervisor.sendProcessStdin", "grp:*", "x")
r.call("stdin int", "supervisor.sendProcessStdin", "cat", 5)
r.call("remote comm", "supervisor.sendRemoteCommEvent", "mytype", "some data")

# --- process logs -----------------------------------------------------------------------------------
r.wait_for("echo output", lambda: s.supervisor.readProcessStdoutLog("echo", 0, 0) == "out1\n")
r.wait_for("echo stderr", lambda: s.supervisor.readProcessStderrLog("echo", 0, 0) == "err1\n")
for args in [(0, 0), (-4, 0), (1, 2), (0, 100), (100, 0), (-100, 0), (-1, 5), (0, -1), (-1, -1)]:
    r.call("read stdout %r" % (args,), "supervisor.readProcessStdoutLog", "echo", *args)
r.call("readProcessLog alias", "supervisor.readProcessLog", "echo", 0, 0)
r.call("read stderr", "supervisor.readProcessStderrLog", "echo", 0, 0)
r.call("read stderr of merged", "supervisor.readProcessStderrLog", "web", 0, 0)
for args in [(0, 3), (0, 100), (2, 2), (100, 10), (5, 0), (0, 0)]:
    r.call("tail stdout %r" % (args,), "supervisor.tailProcessStdoutLog", "echo", *args)
r.call("tailProcessLog alias", "supervisor.tailProcessLog", "echo", 0, 100)
r.call("tail stderr", "supervisor.tailProcessStderrLog", "echo", 0, 100)
r.call("read no log", "supervisor.readProcessStdoutLog", "nolog", 0, 0)
r.call("tail no log", "supervisor.tailProcessStdoutLog", "nolog", 0, 100)
r.call("read unknown", "supervisor.readProcessStdoutLog", "nope", 0, 0)
r.call("tail unknown", "supervisor.tailProcessStdoutLog", "nope", 0, 10)
r.call("read group", "supervisor.readProcessStdoutLog", "grp:*", 0, 0)
r.call("clear echo", "supervisor.clearProcessLogs", "echo")
r.call("read cleared", "supervisor.readProcessStdoutLog", "echo", 0, 0)
r.call("clearProcessLog alias", "supervisor.clearProcessLog", "cat")
r.call("clear unknown", "supervisor.clearProcessLogs", "nope")
if not quick:
    r.call("clear all", "supervisor.clearAllProcessLogs")

# --- main log ---------------------------------------------------------------------------------------
main = s.supervisor.readLog(0, 0)
r.emit("readLog has start line", "supervisord started with pid" in main)
r.call("readMainLog bad args", "supervisor.readMainLog", -1, 5)
r.call("readLog negative length", "supervisor.readLog", 0, -1)
tail = s.supervisor.readLog(-20, 0)
r.emit("readLog tail length", len(tail))
r.call("clearLog", "supervisor.clearLog")

# --- parameter and method-name errors ---------------------------------------------------------------
r.call("too few params", "supervisor.getProcessInfo")
r.call("too many params", "supervisor.getState", 1)
r.call("too many params start", "supervisor.startProcess", "web", True, 3)
for m in ["supervisor.nope", "nope", "system.nope", "a.b.c", "supervisor._update", "supervisor.getState.x"]:
    r.call("unknown method " + m, m)

# --- multicall --------------------------------------------------------------------------------------
r.call("multicall mixed", "system.multicall", [
    {"methodName": "supervisor.getAPIVersion", "params": []},
    {"methodName": "supervisor.getProcessInfo", "params": ["nope"]},
    {"methodName": "supervisor.getState"},
    {"methodName": "system.multicall", "params": [[]]},
    {"params": []},
    {"methodName": "supervisor.nope", "params": []},
    {"methodName": "supervisor.getProcessInfo", "params": []},
])
if not quick:
  r.call("multicall restart", "system.multicall", [
      {"methodName": "supervisor.startProcess", "params": ["manual"]},
      {"methodName": "supervisor.stopProcess", "params": ["manual"]},
      {"methodName": "supervisor.startProcess", "params": ["manual"]},
      {"methodName": "supervisor.getProcessInfo", "params": ["manual"]},
  ])
r.call("multicall empty", "system.multicall", [])

# --- configuration changes --------------------------------------------------------------------------
r.call("reloadConfig unchanged", "supervisor.reloadConfig")
original = open(conf_path).read()
changed = original.replace("startretries=3", "startretries=4")
changed = re.sub(r"\[program:nolog\][^\[]*", "", changed)
changed += "\n[program:extra]\ncommand=sleep 1000\nstartsecs=0\n"
open(conf_path, "w").write(changed)
r.call("reloadConfig changed", "supervisor.reloadConfig")
r.call("config info after reread", "supervisor.getAllConfigInfo")
r.call("add extra", "supervisor.addProcessGroup", "extra")
r.call("add extra again", "supervisor.addProcessGroup", "extra")
r.call("add unknown", "supervisor.addProcessGroup", "nope")
r.wait_state(["extra"], "RUNNING")
r.call("remove running", "supervisor.removeProcessGroup", "extra")
r.call("stop extra", "supervisor.stopProcess", "extra")
r.call("remove extra", "supervisor.removeProcessGroup", "extra")
r.call("remove unknown", "supervisor.removeProcessGroup", "nope")
r.call("remove nolog", "supervisor.removeProcessGroup", "nolog")
r.call("info removed", "supervisor.getProcessInfo", "nolog")
open(conf_path, "w").write(changed + "\n[program:bad]\ncommand=sleep 1\nautostart=maybe\n")
res = outcome(s.supervisor.reloadConfig)
# The parser's wording differs (procd adds file:line); the code and the cause must match.
r.emit("reloadConfig bad code", res.get("fault", [None])[0])
r.emit("reloadConfig bad names the cause", "not a valid boolean value: 'maybe'" in res.get("fault", [0, ""])[1])
open(conf_path, "w").write(original)

# --- all-process operations -------------------------------------------------------------------------
if quick:
    r.call("stop stubborn", "supervisor.stopProcess", "stubborn")
    r.call("start stubborn", "supervisor.startProcess", "stubborn")
    r.call("start manual", "supervisor.startProcess", "manual")
else:
  r.call_sorted("stop all", "supervisor.stopAllProcesses")
  r.call("info after stop all", "supervisor.getAllProcessInfo")
  r.call_sorted("start all", "supervisor.startAllProcesses")
  r.wait_state(["stubborn", "web"], "RUNNING")
  # quick (startretries=0) dies after 0.3 s. supervisord leaves it in BACKOFF until its next loop pass,
  # procd makes it FATAL at once; waiting for FATAL keeps "stop all nowait" from racing that difference.
  r.wait_state(["quick"], "FATAL")
  r.call("stop all nowait", "supervisor.stopAllProcesses", False)
  r.wait_for("all stopped", lambda: all(p["statename"] in ("STOPPED", "EXITED", "FATAL")
                                        for p in s.supervisor.getAllProcessInfo()))
  r.call("start all nowait", "supervisor.startAllProcesses", False)
  r.wait_state(["stubborn", "web", "grp:a", "manual"], "RUNNING")

# --- shutdown gating (stubborn ignores SIGTERM, so the daemon stays in SHUTDOWN for a while) --------
r.call("shutdown", "supervisor.shutdown")
r.call("getState while shutting down", "supervisor.getState")
r.call("getAPIVersion while shutting down", "supervisor.getAPIVersion")
r.call("shutdown again", "supervisor.shutdown")
r.call("listMethods while shutting down", "system.listMethods")
r.call("remote comm while shutting down", "supervisor.sendRemoteCommEvent", "t", "d")
