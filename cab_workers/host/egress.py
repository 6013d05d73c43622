"""The egress lock: from the agents' network, the model proxy's port is the only address that answers.

Docker's internal network already gives agent containers no route off the host and (with
``enable_icc=false``) none to each other. What it leaves open is the host itself: every service bound
to ``0.0.0.0`` answers on the network's gateway address. The lock closes that with host firewall
rules on packets *entering* from the agents' bridge, and it makes what Docker drops silently (the
internet, other containers) fail at once instead of hanging until a TUI's own timeout::

    DOCKER-USER -i <bridge> -j REJECT --reject-with icmp-net-unreachable   (FORWARD without Docker's chain)
    INPUT -i <bridge> -j CAB-EGRESS                      (first rule of INPUT)
    CAB-EGRESS
      -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
      -p tcp -d <gateway> --dport <proxy port> -j ACCEPT   one per running proxy, commented with its pid
      -p tcp -j REJECT --reject-with tcp-reset             anything else fails at once, never hangs
      -j REJECT --reject-with icmp-port-unreachable

Several cab processes on one host share the chain; each adds and removes only its own ACCEPT rule
(under a file lock), rules left by processes that died are removed by the next one to start or stop,
and the last one to stop takes the INPUT jump out.
Needs root and ``iptables``; ``CAB_EGRESS_LOCK=0`` runs without the lock, loudly.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import structlog

from cab_core.errors import InfraError
from cab_workers.host.sandbox import pid_alive

log = structlog.get_logger(__name__)

CHAIN = "CAB-EGRESS"
LOCK_FILE = Path("/run/cab-egress.lock")
_OWNER = re.compile(r'--comment "?cab-proxy pid=(\d+)"?')


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["iptables", "-w", "10", *args], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise InfraError(f"egress lock: iptables {' '.join(args)} failed: {proc.stderr.strip()[:200]}")
    return proc


@contextlib.contextmanager
def _host_lock() -> Iterator[None]:
    with open(LOCK_FILE, "a") as fp:
        fcntl.flock(fp, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fp, fcntl.LOCK_UN)


def available() -> str | None:
    """None when the lock can be installed here, else why not (one line)."""
    if os.geteuid() != 0:
        return "the egress lock needs root (it installs host firewall rules)"
    if shutil.which("iptables") is None:
        return "the egress lock needs iptables (apt-get install iptables)"
    return None


class EgressLock:
    """Context manager: while entered, agents on ``bridge`` reach ``gateway:port`` and nothing else."""

    def __init__(self, bridge: str, gateway: str, port: int) -> None:
        self.bridge, self.gateway, self.port = bridge, gateway, port
        self._rule = [
            "-p", "tcp", "-d", gateway, "--dport", str(port),
            "-m", "comment", "--comment", f"cab-proxy pid={os.getpid()}",
            "-j", "ACCEPT",
        ]  # fmt: skip

    def __enter__(self) -> EgressLock:
        why = available()
        if why:
            raise InfraError(
                f"{why}; run the worker as root, or set CAB_EGRESS_LOCK=0 to run without it "
                "(agents can then reach every port this host listens on)"
            )
        with _host_lock():
            if _iptables("-n", "-L", CHAIN, check=False).returncode != 0:
                _iptables("-N", CHAIN)
                _iptables("-A", CHAIN, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT")
                _iptables("-A", CHAIN, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset")
                _iptables("-A", CHAIN, "-j", "REJECT", "--reject-with", "icmp-port-unreachable")
            for chain, *rule in self._jumps():
                if _iptables("-C", chain, *rule, check=False).returncode != 0:
                    _iptables("-I", chain, "1", *rule)
            self._drop_dead_owners()
            _iptables("-I", CHAIN, "2", *self._rule)
        log.info("egress_locked", bridge=self.bridge, gateway=self.gateway, port=self.port)
        return self

    def __exit__(self, *exc: object) -> None:
        with _host_lock():
            _iptables("-D", CHAIN, *self._rule, check=False)
            if not self._drop_dead_owners():  # the last proxy on this host: take the jumps out too
                for chain, *rule in self._jumps():
                    _iptables("-D", chain, *rule, check=False)
        log.info("egress_unlocked", bridge=self.bridge, port=self.port)

    def _jumps(self) -> list[list[str]]:
        """The rules hooking the bridge: its input to the chain, and its forwarded traffic refused."""
        forward = (
            "DOCKER-USER" if _iptables("-n", "-L", "DOCKER-USER", check=False).returncode == 0 else "FORWARD"
        )
        return [
            ["INPUT", "-i", self.bridge, "-j", CHAIN],
            [forward, "-i", self.bridge, "-j", "REJECT", "--reject-with", "icmp-net-unreachable"],
        ]

    def _drop_dead_owners(self) -> int:
        """Remove ACCEPT rules of proxies that died; returns how many live ones remain."""
        alive = 0
        for line in _iptables("-S", CHAIN).stdout.splitlines():
            m = _OWNER.search(line)
            if not (m and line.startswith(f"-A {CHAIN} ")):
                continue
            pid = int(m.group(1))
            if not pid_alive(pid):
                _iptables("-D", *shlex.split(line)[1:], check=False)
                log.info("egress_stale_rule_removed", rule=line)
            elif pid != os.getpid():
                alive += 1
        return alive
