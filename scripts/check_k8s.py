"""Checks deploy/k8s: the core kinds against the Kubernetes schemas (kubernetes-validate,
offline, strict: unknown fields are errors) and the KEDA objects against the fields KEDA
documents (keda.sh/v1alpha1 ScaledObject and TriggerAuthentication, the `rabbitmq` and
`metrics-api` scalers), since kubernetes-validate has no schema for CRDs. Also: at most one
ScaledObject per Deployment (KEDA refuses a second), and a metrics-api URL must name a Service
and port of the same set and read `desired_workers`, the field `platefarm autoscaler` serves.

usage: python check_k8s.py CHUNKS_QUEUE FILE...   (CHUNKS_QUEUE: the name the farm's code uses)
Prints every problem and exits 1 if there is one.
"""

import sys

import kubernetes_validate
import yaml

K8S_VERSION = "1.37.0"
CORE_KINDS = {"ConfigMap", "Secret", "Deployment", "Service"}

# https://keda.sh/docs/2.x/reference/scaledobject-spec/ (KEDA 2.x)
SCALED_OBJECT_SPEC = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod",
    "idleReplicaCount", "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
}
SCALE_TARGET_REF = {"apiVersion", "kind", "name", "envSourceContainerName"}
ADVANCED = {"restoreToOriginalReplicaCount", "horizontalPodAutoscalerConfig", "scalingModifiers"}
HPA_CONFIG = {"name", "behavior"}
FALLBACK = {"failureThreshold", "replicas", "behavior"}
TRIGGER = {"type", "name", "metadata", "authenticationRef", "metricType", "useCachedMetrics"}
AUTH_REF = {"name", "kind"}
# https://keda.sh/docs/2.x/scalers/rabbitmq-queue/
RABBITMQ_METADATA = {
    "host", "protocol", "mode", "value", "activationValue", "queueName", "vhostName",
    "useRegex", "excludeUnacknowledged", "pageSize", "operation", "timeout", "unsafeSsl",
    "hostFromEnv", "usernameFromEnv", "passwordFromEnv",
}
RABBITMQ_MODES = {"QueueLength", "MessageRate"}
# https://keda.sh/docs/2.x/scalers/metrics-api/
METRICS_API_METADATA = {
    "url", "format", "valueLocation", "targetValue", "activationTargetValue", "authMode",
    "unsafeSsl", "method", "aggregateFromKubeServiceEndpoints", "aggregationType",
}
METRICS_API_FORMATS = {"json", "xml", "yaml", "prometheus"}
METRIC_TYPES = {"AverageValue", "Value", "Utilization"}
# What `platefarm autoscaler` serves at /v1/scaling (crates/cli/src/autoscaler.rs).
SCALING_PATH = "/v1/scaling"
SCALING_VALUE = "desired_workers"
RABBITMQ_PROTOCOLS = {"amqp", "http", "auto"}
RABBITMQ_AUTH_PARAMETERS = {
    "host", "username", "password", "tls", "ca", "cert", "key", "keyPassword", "unsafeSsl",
}
# https://keda.sh/docs/2.x/concepts/authentication/
TRIGGER_AUTH_SPEC = {
    "secretTargetRef", "env", "configMapTargetRef", "podIdentity", "hashiCorpVault",
    "azureKeyVault", "awsSecretManager", "gcpSecretManager", "boundServiceAccountToken",
}
SECRET_TARGET_REF = {"parameter", "name", "key"}
METADATA = {"name", "namespace", "labels", "annotations"}


def unknown(where, obj, allowed, problems):
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected a mapping")
        return {}
    for k in sorted(set(obj) - allowed):
        problems.append(f"{where}.{k}: not a field KEDA documents (allowed: {sorted(allowed)})")
    return obj


def check_metrics_api(tw, t, md, services, problems):
    from urllib.parse import urlparse
    if md.get("format", "json") not in METRICS_API_FORMATS:
        problems.append(f"{tw}.metadata.format: {md.get('format')!r}")
    for k in ("targetValue", "activationTargetValue"):
        if k in md and not isinstance(md[k], str):
            problems.append(f"{tw}.metadata.{k}: must be a string (KEDA metadata values are strings)")
    if "targetValue" not in md:
        problems.append(f"{tw}.metadata.targetValue: missing")
    if md.get("valueLocation") != SCALING_VALUE:
        problems.append(f"{tw}.metadata.valueLocation: {md.get('valueLocation')!r}, the autoscaler serves {SCALING_VALUE!r}")
    url = urlparse(md.get("url", ""))
    host = (url.hostname or "").split(".")[0]
    if url.path != SCALING_PATH:
        problems.append(f"{tw}.metadata.url: path {url.path!r}, the autoscaler serves {SCALING_PATH}")
    if host not in services:
        problems.append(f"{tw}.metadata.url: no Service {host!r} in the set")
    elif url.port not in services[host]:
        problems.append(f"{tw}.metadata.url: Service {host!r} has no port {url.port} (ports {sorted(services[host])})")
    if t.get("metricType", "AverageValue") not in METRIC_TYPES:
        problems.append(f"{tw}.metricType: {t.get('metricType')!r}")


def check_scaled_object(doc, chunks_queue, names, services, problems):
    w = f"ScaledObject/{doc['metadata'].get('name')}"
    spec = unknown(f"{w}.spec", doc.get("spec"), SCALED_OBJECT_SPEC, problems)
    ref = unknown(f"{w}.spec.scaleTargetRef", spec.get("scaleTargetRef"), SCALE_TARGET_REF, problems)
    if ("Deployment", ref.get("name")) not in names:
        problems.append(f"{w}.spec.scaleTargetRef: no Deployment {ref.get('name')!r} in deploy/k8s")
    for k in ("minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod"):
        if k in spec and not (isinstance(spec[k], int) and spec[k] >= 0):
            problems.append(f"{w}.spec.{k}: {spec[k]!r} is not a non-negative integer")
    if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        problems.append(f"{w}.spec: minReplicaCount above maxReplicaCount")
    adv = unknown(f"{w}.spec.advanced", spec.get("advanced", {}), ADVANCED, problems)
    unknown(f"{w}.spec.advanced.horizontalPodAutoscalerConfig",
            adv.get("horizontalPodAutoscalerConfig", {}), HPA_CONFIG, problems)
    unknown(f"{w}.spec.fallback", spec.get("fallback", {}), FALLBACK, problems)
    triggers = spec.get("triggers") or []
    if not triggers:
        problems.append(f"{w}.spec.triggers: empty")
    for i, t in enumerate(triggers):
        tw = f"{w}.spec.triggers[{i}]"
        unknown(tw, t, TRIGGER, problems)
        if t.get("type") == "metrics-api":
            md = unknown(f"{tw}.metadata", t.get("metadata"), METRICS_API_METADATA, problems)
            check_metrics_api(tw, t, md, services, problems)
            if "fallback" in spec and t.get("metricType", "AverageValue") != "AverageValue":
                problems.append(f"{tw}.metricType: KEDA's fallback needs AverageValue")
            continue
        if t.get("type") != "rabbitmq":
            problems.append(f"{tw}.type: {t.get('type')!r}, expected rabbitmq or metrics-api")
            continue
        md = unknown(f"{tw}.metadata", t.get("metadata"), RABBITMQ_METADATA, problems)
        if md.get("mode") not in RABBITMQ_MODES:
            problems.append(f"{tw}.metadata.mode: {md.get('mode')!r} not in {sorted(RABBITMQ_MODES)}")
        if md.get("protocol", "auto") not in RABBITMQ_PROTOCOLS:
            problems.append(f"{tw}.metadata.protocol: {md.get('protocol')!r}")
        if md.get("queueName") != chunks_queue:
            problems.append(f"{tw}.metadata.queueName: {md.get('queueName')!r}, the farm's chunks queue is {chunks_queue!r}")
        if not isinstance(md.get("value"), str):
            problems.append(f"{tw}.metadata.value: must be a string (KEDA metadata values are strings)")
        auth = t.get("authenticationRef")
        if auth is None:
            if not ({"host", "hostFromEnv"} & set(md)):
                problems.append(f"{tw}: neither authenticationRef nor metadata.host/hostFromEnv")
        else:
            unknown(f"{tw}.authenticationRef", auth, AUTH_REF, problems)
            kind = auth.get("kind", "TriggerAuthentication")
            if (kind, auth.get("name")) not in names:
                problems.append(f"{tw}.authenticationRef: no {kind} {auth.get('name')!r} in deploy/k8s")


def check_trigger_auth(doc, secrets, problems):
    w = f"TriggerAuthentication/{doc['metadata'].get('name')}"
    spec = unknown(f"{w}.spec", doc.get("spec"), TRIGGER_AUTH_SPEC, problems)
    for i, ref in enumerate(spec.get("secretTargetRef") or []):
        rw = f"{w}.spec.secretTargetRef[{i}]"
        unknown(rw, ref, SECRET_TARGET_REF, problems)
        if ref.get("parameter") not in RABBITMQ_AUTH_PARAMETERS:
            problems.append(f"{rw}.parameter: {ref.get('parameter')!r} is not a rabbitmq scaler parameter")
        keys = secrets.get(ref.get("name"))
        if keys is None:
            problems.append(f"{rw}.name: no Secret {ref.get('name')!r} in deploy/k8s")
        elif ref.get("key") not in keys:
            problems.append(f"{rw}.key: Secret {ref.get('name')!r} has no key {ref.get('key')!r}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    chunks_queue, files = argv[1], argv[2:]
    problems, docs = [], []
    for f in files:
        with open(f) as fh:
            for doc in yaml.safe_load_all(fh):
                if doc:
                    docs.append((f, doc))
    names = {(d.get("kind"), d.get("metadata", {}).get("name")) for _, d in docs}
    secrets = {
        d["metadata"]["name"]: set(d.get("stringData", {})) | set(d.get("data", {}))
        for _, d in docs if d.get("kind") == "Secret"
    }
    services = {
        d["metadata"]["name"]: {p.get("port") for p in d.get("spec", {}).get("ports", [])}
        for _, d in docs if d.get("kind") == "Service"
    }
    scaled = {}
    for _, d in docs:
        if d.get("kind") == "ScaledObject":
            target = (d.get("spec") or {}).get("scaleTargetRef", {}).get("name")
            scaled.setdefault(target, []).append(d["metadata"].get("name"))
    for target, objs in sorted(scaled.items()):
        if len(objs) > 1:
            problems.append(f"Deployment {target!r} is scaled by {len(objs)} ScaledObjects {objs}: KEDA allows one")
    kinds = set()
    for f, doc in docs:
        kind = doc.get("kind")
        kinds.add(kind)
        unknown(f"{f}: {kind}.metadata", doc.get("metadata", {}), METADATA, problems)
        if kind in CORE_KINDS:
            try:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            except kubernetes_validate.ValidationError as e:
                problems.append(f"{f}: {kind}/{doc['metadata'].get('name')}: {'.'.join(map(str, e.path))}: {e.message}")
        elif doc.get("apiVersion") == "keda.sh/v1alpha1" and kind == "ScaledObject":
            check_scaled_object(doc, chunks_queue, names, services, problems)
        elif doc.get("apiVersion") == "keda.sh/v1alpha1" and kind == "TriggerAuthentication":
            check_trigger_auth(doc, secrets, problems)
        else:
            problems.append(f"{f}: {doc.get('apiVersion')} {kind}: not a kind this check knows")
    for needed in sorted(CORE_KINDS | {"ScaledObject"}):
        if needed not in kinds:
            problems.append(f"no {needed} in {files}")
    for p in problems:
        print(p)
    print(f"{len(docs)} objects checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
