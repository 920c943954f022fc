"""What a sandbox looks like: its settings, sizes, and the fixed layout the in-container init expects."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import SandboxError
from .image import DEFAULT_IMAGE

IN_CONTAINER_DIR = "/run/airgap"  # the host folder with the gateway and control sockets, mounted here
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # replaced (read-only) by the environment's CA certificate
AGENT = "1000:1000"  # uid:gid of everything the agent runs
INIT_CAPS = ["KILL", "SETUID", "SETGID"]  # the init's only privileges: signal the agent's groups, become the agent
# Held by the init only while it installs connection interception at start (routes, iptables rules, the
# transparent UDP socket), then dropped from every set, the bounding set included, before any command runs.
SETUP_CAPS = ["NET_ADMIN", "SETPCAP"]
DEFAULT_REQUEST_TIMEOUT = 120.0


def parse_size(text: str | int) -> int:
    """``"256m"`` -> bytes (k, m, g suffixes, powers of 1024, as Docker reads them)."""
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)b?\s*", str(text).lower())
    if not m:
        raise SandboxError(f"cannot read size {text!r}; write it like 512m or 2g")
    return int(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " ")


@dataclass
class SandboxConfig:
    """What a sandbox looks like. Sizes are Docker-style strings (``512m``)."""

    image: str = DEFAULT_IMAGE
    memory: str = "512m"  # RAM and RAM+swap alike: no swap
    cpus: float = 1.0
    pids: int = 256
    workspace_size: str = "256m"  # /workspace, a tmpfs owned by the agent
    tmp_size: str = "64m"  # /tmp, /var/tmp and the agent's home, tmpfs
    runtime: str | None = None  # "runsc" (gVisor; an error if the engine lacks it), "auto" (runsc if offered)
    env: dict[str, str] = field(default_factory=dict)  # overrides TZ, LANG, PYTHONHASHSEED...
    nofile: int = 1024
    start_timeout: float = 30.0
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT  # seconds a routed app may take for one request (then 504)
    # Route every TCP connection and UDP datagram to a non-loopback address to the init, which logs it
    # (egress_attempt) and refuses it unless it is a world host's served port. Off: such attempts fail
    # with "network unreachable" and only DNS look-ups and HTTP(S) on 80/443 are seen.
    intercept: bool = True
    # What the agent's processes did and what changed in the places it writes, reported with each command (its exec
    # event's ``effects`` and ``files``): "effects" (programs run, files written, removed or renamed, files a program
    # opens for itself without O_CLOEXEC, connections, signals, ptrace), "opens" (also every other file opened: slower),
    # or "off" (neither: only command lines). See image/init.py, "Effects".
    capture: str = "effects"
    # Between episodes a pool recycles the sandbox (every agent process killed, every writable place emptied,
    # checked clean, else replaced); False: a fresh container for every episode, as before recycling existed.
    recycle: bool = True


CAPTURE_MODES = ("effects", "opens", "off")


def capture_mode(value: str | bool | None) -> str:
    """A ``capture`` setting as one of :data:`CAPTURE_MODES` (True is "effects", False or None "off")."""
    if value is True:
        return "effects"
    if value in (False, None):
        return "off"
    if value not in CAPTURE_MODES:
        raise SandboxError(f"capture must be one of {', '.join(CAPTURE_MODES)} (or true/false), not {value!r}")
    return str(value)


def pick_runtime(wanted: str | None, offered: set[str]) -> str | None:
    """``"auto"`` means gVisor when the engine has it; a named runtime must be offered; None is the default."""
    if wanted == "auto":
        return "runsc" if "runsc" in offered else None
    if wanted and wanted not in offered:
        raise SandboxError(f"the engine does not offer runtime {wanted!r} (it has: {', '.join(sorted(offered))}); "
                           "install it, use runtime='auto', or leave it unset")
    return wanted
