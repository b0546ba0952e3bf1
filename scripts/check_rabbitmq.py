"""Checks deploy/rabbitmq against docker-compose.yml: the definitions' user is the one the
farm's AMQP URL names, its password hash verifies that URL's password (RabbitMQ's
rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))), it may configure,
write and read the URL's vhost; the plugins the farm needs are enabled; rabbitmq.conf loads
the definitions from where the compose file mounts them.

usage: python check_rabbitmq.py   (from the repository root). Exits 1 on any problem.
"""

import base64
import hashlib
import json
import sys
from urllib.parse import unquote, urlparse

import yaml


def main():
    problems = []
    compose = yaml.safe_load(open("docker-compose.yml"))
    env = compose["x-farm-env"]
    url = urlparse(env["PLATEFARM_AMQP_URL"])
    user, password, vhost = url.username, unquote(url.password or ""), unquote(url.path[1:]) or "/"
    defs = json.load(open("deploy/rabbitmq/definitions.json"))
    users = {u["name"]: u for u in defs.get("users", [])}
    if user not in users:
        problems.append(f"definitions.json has no user {user!r} (the farm's AMQP URL)")
    else:
        u = users[user]
        if u.get("hashing_algorithm") != "rabbit_password_hashing_sha256":
            problems.append(f"user {user!r}: hashing_algorithm {u.get('hashing_algorithm')!r}")
        raw = base64.b64decode(u["password_hash"])
        salt, digest = raw[:4], raw[4:]
        if hashlib.sha256(salt + password.encode()).digest() != digest:
            problems.append(f"user {user!r}: password_hash does not verify the AMQP URL's password")
    if vhost not in {v["name"] for v in defs.get("vhosts", [])}:
        problems.append(f"definitions.json has no vhost {vhost!r}")
    perms = [p for p in defs.get("permissions", []) if p["user"] == user and p["vhost"] == vhost]
    if not perms or any(perms[0].get(k) != ".*" for k in ("configure", "write", "read")):
        problems.append(f"user {user!r} cannot configure/write/read vhost {vhost!r}")
    if defs.get("queues"):
        problems.append("definitions.json declares queues: the farm declares its own (arguments must match)")
    plugins = open("deploy/rabbitmq/enabled_plugins").read()
    for p in ("rabbitmq_management", "rabbitmq_prometheus"):
        if p not in plugins:
            problems.append(f"enabled_plugins lacks {p}")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["rabbitmq"]["volumes"] if v.startswith("./")}
    conf = open("deploy/rabbitmq/rabbitmq.conf").read()
    loads = [l.split("=", 1)[1].strip() for l in conf.splitlines() if l.startswith("load_definitions")]
    if not loads or mounts.get(loads[0]) != "./deploy/rabbitmq/definitions.json":
        problems.append(f"rabbitmq.conf load_definitions {loads} is not where compose mounts definitions.json ({mounts})")
    if "/etc/rabbitmq/enabled_plugins" not in mounts:
        problems.append("compose does not mount enabled_plugins")
    for p in problems:
        print(p)
    print(f"deploy/rabbitmq checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
