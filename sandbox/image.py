"""Building the sandbox base image, with or without a registry.

Two routes to the same image:

* ``--base IMAGE``: the Dockerfile in ``image/`` is built on top of any Debian-like image the
  engine already has (or can pull from a registry the user configured).
* no base: ``debootstrap`` makes a bookworm *minbase* root filesystem with the packages below,
  straight from the Debian mirror apt already uses, ``docker import`` turns it into an image, and the
  same Dockerfile finishes it. The rootfs tarball is cached under ``~/.cache/airgap``.

The final image carries a label with the hash of its recipe (Dockerfile, init, package list, base),
so building again with nothing changed returns in about a second without touching the engine's
build machinery.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from importlib import resources
from pathlib import Path
from typing import Callable

from .errors import SandboxError
from .runtime import PROJECT_LABELS, ContainerRuntime, get_runtime

# The sandbox image every config and build uses unless told otherwise; AIRGAP_IMAGE names another (a checkout whose
# image recipe differs, e.g. a changed init, can build and test its own tag beside other checkouts on one engine).
DEFAULT_IMAGE = os.environ.get("AIRGAP_IMAGE") or "airgap/base:latest"
RECIPE_LABEL = "airgap.recipe"
SUITE = "bookworm"
# What an agent expects on a small Linux box; minbase already brings coreutils, bash, passwd.
PACKAGES = ("python3", "python3-requests", "curl", "wget", "ca-certificates", "git", "coreutils")
FALLBACK_MIRROR = "http://deb.debian.org/debian"


def cache_dir() -> Path:
    """Where rootfs tarballs live between builds: the one cache-folder rule, ``platformdirs.user_cache_dir("airgap")``."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("airgap"))


def default_mirror() -> str:
    """The Debian mirror this machine's apt uses, so debootstrap works wherever apt-get works."""
    candidates = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    candidates += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        # deb822 ("URIs: ...") and one-line ("deb URI suite ...") formats; skip the security archive.
        uris = re.findall(r"^URIs:\s*(\S+)", text, re.M) + re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M)
        for uri in uris:
            if "security" not in uri:
                return uri.rstrip("/")
    return FALLBACK_MIRROR


def _image_files() -> dict[str, bytes]:
    """The build context shipped as package data: Dockerfile and init.py."""
    root = resources.files("airgap.sandbox") / "image"
    return {name: (root / name).read_bytes() for name in ("Dockerfile", "init.py")}


def recipe_hash(base: str) -> str:
    """Hash of everything that decides the image's content (our files and the base's name and id);
    an equal hash means there is nothing to rebuild."""
    h = hashlib.sha256()
    for name, data in sorted(_image_files().items()):
        h.update(name.encode() + b"\0" + data + b"\0")
    h.update(base.encode())
    return h.hexdigest()


def rootfs_key(mirror: str) -> str:
    """What names a rootfs: suite, mirror and packages (the tarball's and the imported image's tag)."""
    return hashlib.sha256(f"{SUITE}|{mirror}|{','.join(PACKAGES)}".encode()).hexdigest()[:16]


def rootfs_tarball(mirror: str, log: Callable[[str], None] = print,
                   engine: ContainerRuntime | None = None) -> Path:
    """Run debootstrap once per (suite, mirror, packages) and keep the rootfs as a tarball in the cache.

    Without root, debootstrap runs inside a container instead (the engine is root already), on a Debian
    image the engine has (an earlier airgap rootfs or base, or ``debian:*``)."""
    key = rootfs_key(mirror)
    target = cache_dir() / f"rootfs-{SUITE}-minbase-{key}.tar"
    if target.exists():
        log(f"using cached rootfs {target}")
        return target
    if os.geteuid() != 0 and engine is not None:
        return rootfs_in_container(engine, mirror, target, log)
    if shutil.which("debootstrap") is None:
        raise SandboxError("debootstrap is not installed: `apt-get install debootstrap`, or build from an "
                           "image you have with `airgap sandbox build --base debian:bookworm-slim`")
    if os.geteuid() != 0:
        raise SandboxError("debootstrap needs root: run `sudo airgap sandbox build`, or use --base IMAGE")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="airgap-rootfs-", dir=target.parent) as tmp:
        root = Path(tmp) / "root"
        cmd = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root), mirror]
        log("running: " + " ".join(cmd) + "  (a few minutes, once)")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise SandboxError(f"debootstrap failed (exit {proc.returncode}); last lines:\n"
                               + "\n".join(proc.stdout.splitlines()[-15:])
                               + f"\nCheck that {mirror} is reachable (or pass --mirror URL).")
        # Package caches and lists are dead weight in the image.
        for sub in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for p in (root / sub).glob("*"):
                if p.is_file():
                    p.unlink()
        partial = target.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], check=True)
        partial.rename(target)
    log(f"rootfs cached at {target}")
    return target


BUILDER_CANDIDATES = ("airgap/rootfs", "airgap/base", "debian")


def rootfs_in_container(engine: ContainerRuntime, mirror: str, target: Path, log: Callable[[str], None]) -> Path:
    """debootstrap in a throw-away container (root inside, the engine's default network to reach ``mirror``),
    writing the tarball into a bind-mounted folder of ours; for a harness that is not root."""
    builder = engine.find_image(BUILDER_CANDIDATES) if hasattr(engine, "find_image") else None
    if builder is None:
        raise SandboxError("building the sandbox image without root needs a Debian image in the engine to run "
                           "debootstrap in (none of airgap/rootfs, airgap/base, debian:* is there): "
                           "`docker pull debian:bookworm-slim` (or `docker load` one), or run "
                           "`sudo airgap sandbox build` once, or build on any image: `airgap sandbox build --base IMAGE`")
    target.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix="airgap-rootfs-", dir=target.parent))
    out.chmod(0o777)  # written by the container's root, which is not us
    script = (f"set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; "
              f"apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; "
              f"debootstrap --variant=minbase --include={','.join(PACKAGES)} {SUITE} /root/fs {mirror}; "
              "rm -rf /root/fs/var/cache/apt/archives/*.deb /root/fs/var/lib/apt/lists/*; "
              f"tar -C /root/fs --numeric-owner -cf /out/rootfs.tar .; chown {os.getuid()}:{os.getgid()} /out/rootfs.tar")
    log(f"running debootstrap inside a container of {builder} (a few minutes, once)")
    code, tail = engine.run_builder(builder, ["sh", "-c", script], {str(out): "/out"}, timeout=1800)
    made = out / "rootfs.tar"
    if code != 0 or not made.exists():
        shutil.rmtree(out, ignore_errors=True)
        raise SandboxError(f"debootstrap in a container of {builder} failed (exit {code}); last lines:\n{tail}\n"
                           f"Check that {mirror} is reachable from containers (or pass --mirror URL).")
    made.rename(target)
    shutil.rmtree(out, ignore_errors=True)
    log(f"rootfs cached at {target}")
    return target


def build(base: str | None = None, tag: str = DEFAULT_IMAGE, mirror: str | None = None, force: bool = False,
          runtime: ContainerRuntime | None = None, log: Callable[[str], None] = print) -> str:
    """Build ``tag`` and return its image id. ``base=None`` means debootstrap (no registry needed)."""
    engine = runtime or get_runtime()
    if base is None:
        mirror = mirror or default_mirror()
        base = f"airgap/rootfs:{rootfs_key(mirror)}"
        if engine.image_labels(base) is None:  # an imported rootfs is used as it is: no tarball, no root needed
            tarball = rootfs_tarball(mirror, log, engine)
            log(f"importing {tarball.name} as {base}")
            engine.import_image(tarball, base)
    elif engine.image_labels(base) is None:
        log(f"base image {base} is not present locally; the engine will try to pull it")
    # The base's image id (when we have it) makes a re-pulled or re-imported base count as a change.
    base_id = engine.image_id(base) if engine.image_labels(base) is not None else ""
    recipe = recipe_hash(f"{base}@{base_id}")
    labels = engine.image_labels(tag)
    if not force and labels is not None and labels.get(RECIPE_LABEL) == recipe:
        log(f"{tag} is up to date (recipe {recipe[:12]})")
        return engine.image_id(tag)
    log(f"building {tag} from {base}")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in _image_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    image_id = engine.build_image(context, tag, buildargs={"BASE": base},
                                  labels={**PROJECT_LABELS, RECIPE_LABEL: recipe}, log=log)
    log(f"built {tag} ({image_id[:19]})")
    return image_id


# Image variants: the base plus what some envs need, each a Dockerfile in image/ built FROM the base tag with apt from
# the mirror the base was bootstrapped from (its sources.list), so no registry is needed here either.
VARIANTS = {"browser": ("browser.Dockerfile", "browser.py", "chromium-policies.json")}
BROWSER_UID = 1500  # the browser variant's browser user: neither root, nor the agent (1000), nor the harness (checked)


def variant_tag(name: str, base_tag: str = DEFAULT_IMAGE) -> str:
    """The tag of variant ``name`` of ``base_tag``: ``airgap/base:latest`` -> ``airgap/base:browser``;
    ``AIRGAP_BROWSER_IMAGE`` names the browser variant outright."""
    if name == "browser" and os.environ.get("AIRGAP_BROWSER_IMAGE"):
        return os.environ["AIRGAP_BROWSER_IMAGE"]
    repo, _, tag = base_tag.rpartition(":") if ":" in base_tag.rsplit("/", 1)[-1] else (base_tag, "", "latest")
    return f"{repo}:{name}" if tag == "latest" else f"{repo}:{tag}-{name}"


def build_variant(name: str, base_tag: str = DEFAULT_IMAGE, force: bool = False,
                  runtime: ContainerRuntime | None = None, log: Callable[[str], None] = print) -> str:
    """Build variant ``name`` (see :data:`VARIANTS`) on top of the already built ``base_tag``; return its image id.
    Up to date (a second) when neither its files nor the base image changed."""
    if name not in VARIANTS:
        raise SandboxError(f"unknown image variant {name!r}; the variants are: {', '.join(sorted(VARIANTS))}")
    engine = runtime or get_runtime()
    if engine.image_labels(base_tag) is None:
        raise SandboxError(f"the base image {base_tag} is not built: run `airgap sandbox build` first")
    root = resources.files("airgap.sandbox") / "image"
    files = {fname: (root / fname).read_bytes() for fname in VARIANTS[name]}
    h = hashlib.sha256(f"{name}|{base_tag}@{engine.image_id(base_tag)}|{BROWSER_UID}".encode())
    for fname, data in sorted(files.items()):
        h.update(fname.encode() + b"\0" + data + b"\0")
    recipe, tag = h.hexdigest(), variant_tag(name, base_tag)
    labels = engine.image_labels(tag)
    if not force and labels is not None and labels.get(RECIPE_LABEL) == recipe:
        log(f"{tag} is up to date (recipe {recipe[:12]})")
        return engine.image_id(tag)
    log(f"building {tag} from {base_tag} (apt from the base's Debian mirror; a few minutes)")
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for fname, data in {**files, "Dockerfile": files[VARIANTS[name][0]]}.items():
            info = tarfile.TarInfo(fname)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    image_id = engine.build_image(context, tag, buildargs={"BASE": base_tag, "BROWSER_UID": str(BROWSER_UID)},
                                  labels={**PROJECT_LABELS, RECIPE_LABEL: recipe, "airgap.variant": name}, log=log)
    log(f"built {tag} ({image_id[:19]})")
    return image_id
