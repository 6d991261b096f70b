"""Checks the shipped deployment files without a Docker daemon or a cluster: every YAML file loads with
yaml.safe_load and has the fields procd's deployment relies on; the Dockerfile parses into known
instructions with the stages, copies, entrypoint and healthcheck docs/deployment.md describes; the
systemd unit has the settings procd needs. Prints one line per file checked; any problem exits 1."""
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(sys.argv[1])
problems = []


def need(cond, what):
    if not cond:
        problems.append(what)


def check_compose():
    path = ROOT / "deploy/compose.yaml"
    doc = yaml.safe_load(path.read_text())
    app = doc["services"]["app"]
    need(app["build"]["dockerfile"] == "deploy/Dockerfile", "compose: builds deploy/Dockerfile")
    need((ROOT / "deploy" / app["build"]["context"] / app["build"]["dockerfile"]).is_file(),
         "compose: build context + dockerfile names a file")
    hc = app["healthcheck"]
    need(hc["test"][:3] == ["CMD", "procctl", "check"], "compose: healthcheck runs procctl check")
    for key in ("interval", "timeout", "retries", "start_period"):
        need(key in hc, f"compose: healthcheck {key}")
    need(app.get("stop_signal") == "SIGTERM", "compose: stop_signal SIGTERM")
    need(re.fullmatch(r"\d+s", app.get("stop_grace_period", "")), "compose: stop_grace_period")
    need(not app.get("init", False), "compose: no extra init (procd is PID 1)")
    print(f"ok {path.relative_to(ROOT)}")


def check_kubernetes():
    kinds = {}
    for path in sorted((ROOT / "deploy/kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            need(isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc,
                 f"{path.name}: apiVersion and kind")
            kinds[doc["kind"]] = doc
        print(f"ok {path.relative_to(ROOT)}")
    dep = kinds["Deployment"]
    spec = dep["spec"]["template"]["spec"]
    need(spec["terminationGracePeriodSeconds"] >= 30, "deployment: terminationGracePeriodSeconds")
    need(dep["spec"]["selector"]["matchLabels"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(),
         "deployment: selector matches the pod labels")
    c = spec["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/readyz")):
        get = c[probe]["httpGet"]
        need(get["path"] == path, f"deployment: {probe} on {path}")
        need(get["port"] in ports, f"deployment: {probe} port is a named container port")
    need(ports.get("http") == 9001, "deployment: port 9001 (PROCD_HTTP_PORT in the image)")
    volumes = {v["name"] for v in spec["volumes"]}
    need({m["name"] for m in c["volumeMounts"]} <= volumes, "deployment: mounts name volumes")
    need({m["mountPath"] for m in c["volumeMounts"]} >= {"/run", "/tmp"},
         "deployment: writable /run and /tmp under readOnlyRootFilesystem")
    svc = kinds["Service"]
    need(svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(),
         "service: selector matches the pods")


INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
                "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}


def dockerfile_instructions(text):
    """(instruction, arguments) pairs, with line continuations joined and comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        word, _, rest = current.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        need(word in INSTRUCTIONS, f"Dockerfile: unknown instruction {word!r}")
        current = ""
    need(not current, "Dockerfile: dangling line continuation")
    return out


def check_dockerfile():
    path = ROOT / "deploy/Dockerfile"
    ins = dockerfile_instructions(path.read_text())
    froms = [a for i, a in ins if i == "FROM"]
    need(len(froms) >= 2, "Dockerfile: multi-stage")
    stages = [a.split()[-1] for a in froms if " AS " in a.upper()]
    need("build" in stages, "Dockerfile: a stage named build")
    runs = " ".join(a for i, a in ins if i == "RUN")
    need("unknown-linux-musl" in runs and "--release" in runs, "Dockerfile: static musl release build")
    need("-p procd" in runs and "-p procctl" in runs, "Dockerfile: builds procd and procctl")
    need("ln -s procctl" in runs and "supervisorctl" in runs, "Dockerfile: supervisorctl link")
    last = max(i for i, (w, _) in enumerate(ins) if w == "FROM")
    final = ins[last:]
    copies = [a for i, a in final if i == "COPY"]
    need(any(a.startswith("--from=build") for a in copies), "Dockerfile: final stage copies the binaries")
    for src, dst in (("deploy/supervisord.conf", "/etc/supervisor/supervisord.conf"),
                     ("deploy/conf.d/", "/etc/supervisor/conf.d/")):
        need(f"{src} {dst}" in copies, f"Dockerfile: COPY {src}")
        need((ROOT / src).exists(), f"Dockerfile: {src} exists")
    entry = [a for i, a in final if i == "ENTRYPOINT"]
    need(entry and entry[-1].startswith("[") and '"-n"' in entry[-1] and '"procd"' in entry[-1],
         "Dockerfile: exec-form ENTRYPOINT procd -n")
    need(any(i == "HEALTHCHECK" and "procctl" in a and "check" in a for i, a in final),
         "Dockerfile: HEALTHCHECK procctl check")
    need(any(i == "ENV" and "PROCD_HTTP_PORT=9001" in a for i, a in final), "Dockerfile: PROCD_HTTP_PORT")
    print(f"ok {path.relative_to(ROOT)}")


def check_unit():
    path = ROOT / "conf/procd.service"
    settings = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    need(settings.get("Type") == ["notify"], "unit: Type=notify")
    need(settings.get("KillMode") == ["mixed"], "unit: KillMode=mixed")
    need("$MAINPID" in "".join(settings.get("ExecReload", [])), "unit: ExecReload signals $MAINPID")
    need(" -n " in settings.get("ExecStart", [""])[0], "unit: ExecStart runs procd -n")
    need("TimeoutStopSec" in settings, "unit: TimeoutStopSec")
    need("CapabilityBoundingSet" not in settings and "User" not in settings,
         "unit: procd keeps root so user= works")
    print(f"ok {path.relative_to(ROOT)}")


check_compose()
check_kubernetes()
check_dockerfile()
check_unit()
for p in problems:
    print(f"PROBLEM: {p}")
sys.exit(1 if problems else 0)
