"""deployment_k8s: test_deploy_manifests' checks of deploy/kubernetes: each
file parses, the kustomization lists them, and the objects agree (selectors,
ports, Service names in the endpoints, the Secret and its mount, the
autoscaler's target and metric, the pods' sandbox and grace period).
"""
import os
import shutil
import subprocess

import yaml

from deployment import check_env_names, endpoint, host_port, project_version

NAMESPACE = "caseflow"
QUEUE_GAUGE = "caseflow_broker_queue_events"


def load(folder):
    """({file: [objects]}, problems) for every *.yaml in folder."""
    files, problems = {}, []
    for name in sorted(os.listdir(folder)):
        if name.endswith((".yaml", ".yml")):
            try:
                files[name] = [d for d in yaml.safe_load_all(open(os.path.join(folder, name))) if d]
            except yaml.YAMLError as e:
                problems.append(f"{name}: {e}")
    return files, problems


def kustomize(c, folder):
    """(the process, the objects) of `kubectl kustomize folder` (offline);
    (None, []) with a note when kubectl is not there."""
    if not shutil.which("kubectl"):
        c.note(f"kubectl not found: kustomize rendering of {os.path.basename(folder)} not tried")
        return None, []
    run = subprocess.run(["kubectl", "kustomize", folder], capture_output=True, text=True,
                         timeout=120)
    return run, [d for d in yaml.safe_load_all(run.stdout) if d] if run.returncode == 0 else []


def check_kustomize(c, folder, objects):
    """When kubectl is there: `kubectl kustomize` (offline) renders the same
    objects as the files, every one in the namespace."""
    run, rendered = kustomize(c, folder)
    if run is None:
        return
    key = lambda o: (o.get("kind"), o.get("metadata", {}).get("name"))
    want = {key(o) for o in objects if o.get("kind") != "Kustomization"} - {
        ("Secret", "caseflow-hmac"), ("Secret", "caseflow-curve"), ("Secret", "caseflow-web")}
    c.check(run.returncode == 0 and {key(o) for o in rendered} == want,
            "k8s: kubectl kustomize renders every object but the placeholder secret",
            run.stderr.strip()[-300:])


def find(objects, kind, name=None):
    return [o for o in objects if o.get("kind") == kind
            and (name is None or o.get("metadata", {}).get("name") == name)]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod(obj):
    return obj.get("spec", {}).get("template", {})


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def ports_of(container):
    return {p.get("name"): p["containerPort"] for p in container.get("ports", [])}


def check_workload(c, obj, progs, grace):
    """A caseflow Deployment: its selector, program, variables, sandbox."""
    name = obj["metadata"]["name"]
    template = pod(obj)
    spec = template.get("spec", {})
    c.check(selects(obj["spec"].get("selector", {}).get("matchLabels"),
                    template.get("metadata", {}).get("labels", {})),
            f"k8s {name}: the selector matches its pods")
    c.check(spec.get("terminationGracePeriodSeconds", 30) > grace,
            f"k8s {name}: terminationGracePeriodSeconds above the {grace:g} s drain")
    c.check(spec.get("enableServiceLinks") is False,
            f"k8s {name}: no service links (their CASEFLOW_* names would look like settings)")
    c.check(spec.get("securityContext", {}).get("runAsNonRoot") is True, f"k8s {name}: runAsNonRoot")
    for ct in spec.get("containers", []):
        prog = progs.get((ct.get("command") or [""])[0])
        if c.check(prog is not None, f"k8s {name}: runs a caseflow daemon", str(ct.get("command"))):
            check_env_names(c, prog, env_of(ct), f"k8s {name}")
            flags = [a.split("=")[0] for a in ct.get("args", []) if a.startswith("--")]
            c.check(all(f in prog.flags for f in flags), f"k8s {name}: its flags are in --help")
        check_sandbox(c, f"k8s {name}", ct)
        check_metrics(c, f"k8s {name}", template, ct)


def check_metrics(c, where, template, ct):
    """CASEFLOW_METRICS, the metrics port, the scrape annotation and the
    liveness probe name the same port."""
    metrics = host_port(env_of(ct).get("CASEFLOW_METRICS"))
    ports = ports_of(ct)
    notes = template.get("metadata", {}).get("annotations", {})
    c.check(metrics and metrics[1] == ports.get("metrics") == int(notes.get("prometheus.io/port", 0)),
            f"{where}: CASEFLOW_METRICS, the metrics port and the scrape annotation agree")
    probe = ct.get("livenessProbe", {}).get("httpGet", {})
    c.check(probe.get("path") == "/metrics" and probe.get("port") in ("metrics", ports.get("metrics")),
            f"{where}: the liveness probe asks /metrics", str(probe))


def check_sandbox(c, where, ct):
    sc = ct.get("securityContext", {})
    c.check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
            and sc.get("capabilities", {}).get("drop") == ["ALL"],
            f"{where}: read-only root, no privilege escalation, drop ALL")
    c.check(bool(ct.get("resources", {}).get("requests")) and
            bool(ct.get("resources", {}).get("limits")), f"{where}: resources set")
    c.check("readinessProbe" in ct, f"{where}: readiness probe")


def check_service(c, svc, workload):
    """A Service selects the workload's pods and targets ports it has."""
    name = svc["metadata"]["name"]
    ct = pod(workload)["spec"]["containers"][0]
    c.check(selects(svc["spec"].get("selector"), pod(workload)["metadata"]["labels"]),
            f"k8s Service {name}: selects {workload['metadata']['name']}")
    have = ports_of(ct)
    for p in svc["spec"]["ports"]:
        t = p.get("targetPort", p["port"])
        c.check(t in have or t in have.values(), f"k8s Service {name}: port {p['name']} -> a container port",
                f"{t} not in {have}")
    return {p["port"]: p.get("name") for p in svc["spec"]["ports"]}


def check_kubernetes(c, progs, grace, folder, check_health_check):
    files, problems = load(folder)
    c.check(not problems, "k8s: every manifest parses", "; ".join(problems))
    objects = [o for docs in files.values() for o in docs]
    kust = find(objects, "Kustomization")
    listed = set(kust[0].get("resources", [])) if kust else set()
    c.check(listed == set(files) - {"kustomization.yaml", "secret.yaml"},
            "k8s: kustomization.yaml lists every manifest but the placeholder secret", str(listed))
    for o in objects:
        if o.get("kind") not in ("Kustomization", "Namespace"):
            c.check(o.get("metadata", {}).get("namespace") == NAMESPACE,
                    f"k8s {o.get('kind')} {o.get('metadata', {}).get('name')}: in namespace {NAMESPACE}")
    c.check(bool(find(objects, "Namespace", NAMESPACE)), f"k8s: namespace {NAMESPACE} defined")
    check_kustomize(c, folder, objects)
    broker = (find(objects, "Deployment", "caseflow-broker") or [None])[0]
    worker = (find(objects, "Deployment", "caseflow-worker") or [None])[0]
    redis = (find(objects, "StatefulSet") or [None])[0]
    if not c.check(broker and worker and redis, "k8s: broker, worker and Redis workloads"):
        return
    web = (find(objects, "Deployment", "caseflow-web") or [None])[0]
    alert = (find(objects, "Deployment", "caseflow-alert") or [None])[0]
    for obj in (broker, worker) + ((web,) if web else ()) + ((alert,) if alert else ()):
        check_workload(c, obj, progs, grace)
    if c.check(alert is not None, "k8s: a caseflow-alert Deployment"):
        c.check(alert["spec"].get("replicas") in (0, 1), "k8s alert: at most one replica (two "
                "would deliver everything twice; 0 until the rules have a sink)")
    c.check(broker["spec"].get("replicas") == 1, "k8s broker: one replica")
    images = {ct.get("image") for o in (broker, worker) for ct in pod(o)["spec"]["containers"]}
    tags = {(i["name"], i.get("newTag")) for i in (kust[0].get("images", []) if kust else [])}
    version = project_version()
    c.check(images == {f"caseflow:{version}"} and tags <= {("caseflow", version)},
            f"k8s: broker and worker run caseflow:{version} (the project's version)",
            f"{images} {tags}")
    check_broker(c, objects, broker)
    check_worker(c, objects, broker, worker, redis, check_health_check)
    check_redis(c, objects, redis)
    if c.check(web is not None, "k8s: a caseflow-web Deployment"):
        check_web(c, objects, broker, web)


def check_web(c, objects, broker, web):
    """caseflow-web: TLS from its Secret, the broker's endpoints for its
    feed, a Service on its HTTPS port."""
    spec = pod(web)["spec"]
    ct = spec["containers"][0]
    env, ports = env_of(ct), ports_of(ct)
    listen = host_port(env.get("CASEFLOW_LISTEN"))
    c.check(listen and listen[1] == ports.get("https"),
            "k8s web: CASEFLOW_LISTEN is its https container port", str(env.get("CASEFLOW_LISTEN")))
    files = [env.get(v, "") for v in ("CASEFLOW_TOKENS", "CASEFLOW_TLS_CERT", "CASEFLOW_TLS_KEY")]
    c.check(all(files) and all(secret_file(objects, spec, ct, f) for f in files),
            "k8s web: its token file, certificate and key are mounted Secret items", str(files))
    check_curve_mounts(c, objects, spec, ct, env, "web")
    benv, bports = env_of(pod(broker)["spec"]["containers"][0]), ports_of(pod(broker)["spec"]["containers"][0])
    for var, port in (("CASEFLOW_SUBSCRIBE", "publish"), ("CASEFLOW_INTAKE", "intake")):
        target = endpoint(env.get(var))
        svc = find(objects, "Service", target[0] if target else "")
        svc_ports = {p["port"]: p for p in svc[0]["spec"]["ports"]} if svc else {}
        c.check(svc and selects(svc[0]["spec"]["selector"], pod(broker)["metadata"]["labels"])
                and svc_ports.get(target[1], {}).get("targetPort") == port,
                f"k8s web: {var} is the broker Service's {port} port", str(target))
    svc = find(objects, "Service", "caseflow-web")
    if c.check(bool(svc), "k8s: a caseflow-web Service"):
        names = set(check_service(c, svc[0], web).values())
        c.check({"https", "metrics"} <= names, "k8s Service caseflow-web: https and metrics",
                str(names))


def check_broker(c, objects, broker):
    ct = pod(broker)["spec"]["containers"][0]
    env, ports = env_of(ct), ports_of(ct)
    check_curve_mounts(c, objects, pod(broker)["spec"], ct, env, "broker")
    for var, port in (("CASEFLOW_INTAKE", "intake"), ("CASEFLOW_WORKERS", "workers"),
                      ("CASEFLOW_SUBSCRIBE", "publish")):
        bound = endpoint(env.get(var))
        c.check(bound and bound[1] == ports.get(port),
                f"k8s broker: {var} binds the {port} container port", f"{env.get(var)} {ports}")
    svc = find(objects, "Service", "caseflow-broker")
    if c.check(bool(svc), "k8s: a caseflow-broker Service"):
        names = set(check_service(c, svc[0], broker).values())
        c.check({"intake", "workers", "publish", "metrics"} <= names,
                "k8s Service caseflow-broker: intake, workers, publish and metrics", str(names))


def check_worker(c, objects, broker, worker, redis, check_health_check):
    spec = pod(worker)["spec"]
    ct = spec["containers"][0]
    env = env_of(ct)
    target = endpoint(env.get("CASEFLOW_WORKERS"))
    svc = find(objects, "Service", target[0] if target else "")
    svc_ports = {p["port"]: p for p in svc[0]["spec"]["ports"]} if svc else {}
    ok = svc and selects(svc[0]["spec"]["selector"], pod(broker)["metadata"]["labels"]) \
        and svc_ports.get(target[1], {}).get("targetPort") == "workers"
    c.check(ok, "k8s worker: CASEFLOW_WORKERS is the broker Service's workers port", str(target))
    r = host_port(env.get("CASEFLOW_REDIS"))
    rsvc = find(objects, "Service", r[0] if r else "")
    c.check(rsvc and r[1] in [p["port"] for p in rsvc[0]["spec"]["ports"]]
            and selects(rsvc[0]["spec"]["selector"], pod(redis)["metadata"]["labels"]),
            "k8s worker: CASEFLOW_REDIS is the Redis Service", env.get("CASEFLOW_REDIS"))
    c.check(env.get("CASEFLOW_REDIS") == env_of(pod(broker)["spec"]["containers"][0]).get("CASEFLOW_REDIS"),
            "k8s: broker and workers use the same Redis")
    check_key_mount(c, objects, spec, ct, env)
    probe = ct.get("readinessProbe", {}).get("exec", {}).get("command", [])
    if c.check(bool(probe) and target, "k8s worker: an exec readiness probe"):
        check_health_check(c, "k8s worker", probe, target[1])
    labels = pod(worker)["metadata"]["labels"]
    pdb = find(objects, "PodDisruptionBudget")
    c.check(pdb and selects(pdb[0]["spec"]["selector"]["matchLabels"], labels),
            "k8s: the PodDisruptionBudget selects the workers")
    so = find(objects, "ScaledObject")
    ref = so[0]["spec"]["scaleTargetRef"] if so else {}
    c.check(ref.get("name") == worker["metadata"]["name"] and ref.get("kind", "Deployment") == "Deployment",
            "k8s: the ScaledObject scales the worker Deployment", str(ref))
    trig = so[0]["spec"].get("triggers", []) if so else []
    c.check(any(t.get("type") == "prometheus" and QUEUE_GAUGE in t["metadata"].get("query", "")
                and float(t["metadata"].get("threshold", 0)) > 0 for t in trig),
            f"k8s: the ScaledObject follows {QUEUE_GAUGE}")


def secret_file(objects, spec, ct, path):
    """Whether path is an item of a Secret of the manifests, mounted in ct."""
    secrets = {o["metadata"]["name"]: o for o in find(objects, "Secret")}
    mounts = {m["name"]: m["mountPath"] for m in ct.get("volumeMounts", [])}
    for vol in spec.get("volumes", []):
        s = vol.get("secret")
        if not s or vol["name"] not in mounts or s["secretName"] not in secrets:
            continue
        data = secrets[s["secretName"]].get("stringData") or secrets[s["secretName"]].get("data") or {}
        if any(f"{mounts[vol['name']]}/{item['path']}" == path and item["key"] in data
               for item in s.get("items", [])):
            return True
    return False


def check_key_mount(c, objects, spec, ct, env):
    key = env.get("CASEFLOW_KEY_FILE", "")
    c.check(secret_file(objects, spec, ct, key),
            "k8s worker: CASEFLOW_KEY_FILE is the HMAC Secret's key, mounted", key)
    check_curve_mounts(c, objects, spec, ct, env, "worker")


def check_curve_mounts(c, objects, spec, ct, env, who):
    """Every CURVE file a container is told of is a mounted Secret item."""
    names = [n for n in env if n.endswith("_KEY") and n != "CASEFLOW_KEY_FILE"
             or n.startswith("CASEFLOW_ALLOW_")]
    c.check(bool(names), f"k8s {who}: CURVE keys are configured", str(sorted(env)))
    bad = [n for n in names if not secret_file(objects, spec, ct, env[n])]
    c.check(not bad, f"k8s {who}: every CURVE key and allow-list is a mounted Secret item", bad)


def check_redis(c, objects, redis):
    spec = pod(redis)["spec"]
    ct = spec["containers"][0]
    args = " ".join(ct.get("args", []))
    c.check("--appendonly yes" in args and "--appendfsync always" in args,
            "k8s redis: appendonly yes, appendfsync always", args)
    c.check("--hash-max-listpack-entries 128" in args,
            "k8s redis: hash-max-listpack-entries 128 (docs/operations.md)", args)
    claims = [t["metadata"]["name"] for t in redis["spec"].get("volumeClaimTemplates", [])]
    dirs = [m["mountPath"] for m in ct.get("volumeMounts", []) if m["name"] in claims]
    c.check(bool(dirs) and f"--dir {dirs[0]}" in args, "k8s redis: its files on the claimed volume")
    c.check(bool(find(objects, "Service", redis["spec"].get("serviceName"))),
            "k8s redis: its serviceName is a Service")
    check_sandbox(c, "k8s redis", ct)


def check_kubernetes_cluster(c, folder, base):
    """deploy/kubernetes-cluster, the overlay that runs Redis as a cluster:
    it builds on the base, its StatefulSet patch makes six cluster nodes with
    the base's durability, each announcing its stable pod name, and its Job
    makes 3 masters with a replica each out of exactly those six pods. With
    kubectl, the overlay renders the base's objects with the patch applied."""
    files, problems = load(folder)
    c.check(not problems, "k8s cluster: every manifest parses", "; ".join(problems))
    objects = [o for docs in files.values() for o in docs]
    kust = (find(objects, "Kustomization") or [{}])[0]
    c.check(os.path.normpath(os.path.join(folder, (kust.get("resources") or [""])[0]))
            == os.path.normpath(base), "k8s cluster: the overlay builds on deploy/kubernetes",
            str(kust.get("resources")))
    patch = (find(objects, "StatefulSet", "caseflow-redis") or [None])[0]
    job = (find(objects, "Job") or [None])[0]
    if not c.check(patch and job, "k8s cluster: a StatefulSet patch and a Job"):
        return
    args = " ".join(pod(patch)["spec"]["containers"][0].get("args", []))
    replicas = patch["spec"].get("replicas")
    c.check(replicas == 6, "k8s cluster: six Redis pods (3 masters, 3 replicas)", str(replicas))
    for want in ("--appendonly yes", "--appendfsync always", "--hash-max-listpack-entries 128",
                 "--cluster-enabled yes", "--cluster-config-file /data/nodes.conf",
                 "--cluster-preferred-endpoint-type hostname"):
        c.check(want in args, f"k8s cluster: redis {want}", args)
    script = " ".join(pod(job)["spec"]["containers"][0].get("command", []))
    c.check("--cluster-replicas 1" in script and "for i in 0 1 2 3 4 5;" in script,
            "k8s cluster: the Job makes the cluster of the six pods, one replica per master")
    run, rendered = kustomize(c, folder)
    if run is None:
        return
    sts = (find(rendered, "StatefulSet", "caseflow-redis") or [None])[0]
    ok = sts is not None and sts["spec"].get("replicas") == 6 and find(rendered, "Deployment",
                                                                       "caseflow-worker")
    c.check(run.returncode == 0 and bool(ok),
            "k8s cluster: kubectl kustomize renders the base with six cluster nodes",
            run.stderr.strip()[-300:])
