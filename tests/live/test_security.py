"""Security properties of the running local stack."""

from __future__ import annotations

import ipaddress

import psutil
import psycopg
import pytest

from realtime_platform.local import supervisor
from realtime_platform.local.paths import state_paths

pytestmark = pytest.mark.live

# Pinot 0.11 has no bind-address setting for its netty query server and gRPC server
# (docs/decisions.md); every other listener must be loopback only. The scaled topology's second
# server has the same two.
KNOWN_WILDCARD = ("pinot_server", "pinot_server_grpc", "pinot_server_2", "pinot_server_2_grpc")


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:  # JVMs report ::ffff:127.0.0.1
        address = address.ipv4_mapped
    return address.is_loopback


def exposed_listeners(cfg) -> tuple[dict, dict]:
    """(every listening socket of the stack's processes, those beyond loopback and not known)."""
    allowed_wildcard = {getattr(cfg.ports, name) for name in KNOWN_WILDCARD}
    listeners = {}
    for info in supervisor.process_info(state_paths(cfg)):
        if not info["pid"]:
            continue
        root = psutil.Process(info["pid"])
        for process in [root, *root.children(recursive=True)]:
            for conn in process.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    listeners[(info["name"], conn.laddr.port)] = conn.laddr.ip
    exposed = {key: ip for key, ip in listeners.items()
               if not is_loopback(ip) and key[1] not in allowed_wildcard}
    return listeners, exposed


def test_every_listener_is_on_loopback(stack):
    listeners, exposed = exposed_listeners(stack)
    assert len(listeners) >= 10, f"found too few listeners to be credible: {listeners}"
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_debezium_role_has_least_privilege(stack):
    cfg = stack
    with psycopg.connect(cfg.postgres_dsn()) as conn:
        role = conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolcanlogin "
                            "FROM pg_roles WHERE rolname = %s", (cfg.debezium_user,)).fetchone()
        assert role == (False, False, False, True, True)
        rights = dict(conn.execute(
            "SELECT p, has_table_privilege(%s, 'public.person', p) FROM unnest(ARRAY"
            "['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) AS p", (cfg.debezium_user,)).fetchall())
        assert rights == {"SELECT": True, "INSERT": False, "UPDATE": False, "DELETE": False, "TRUNCATE": False}
        owns = conn.execute("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                            "WHERE r.rolname = %s", (cfg.debezium_user,)).fetchone()[0]
        assert owns == 0
