"""airgap browser launcher: Chromium over ``--remote-debugging-pipe``, bridged to this process's stdin/stdout.

Started by the harness with ``docker exec -i --user BROWSER_UID`` (never by the agent): Chromium's DevTools
protocol is then reachable only through that exec stream, which only the holder of the engine's socket can open.
No debugging port is opened, so the agent (another uid, no capabilities) can neither connect to the browser nor
ptrace or signal it.

1. A fresh profile folder ``/tmp/airgap-browser-XXXX`` (mode 0700, this uid's) is the browser's HOME; the sandbox's
   CA (the bundle the harness mounts) is added to the profile's NSS database, where Chromium on Linux looks for
   locally trusted roots.
2. Chromium starts headless with the DevTools pipe on fds 3 (commands in) and 4 (replies out); this process copies
   stdin to fd 3 and fd 4 to stdout (messages are NUL-terminated JSON, as the pipe protocol has them).
3. On end of stdin (the harness closed the stream) Chromium's process group is killed and the profile removed, so
   the agent's places are as clean as before (a recycled sandbox is checked for leftovers in /tmp).

Network: the browser uses the container's resolver (the init's DNS) and connects like any program, so every page
load is relayed to the gateway and every other attempt is intercepted; no proxy, no QUIC, no background traffic. The
browser's own look-ups (preconnects to the default search engine, GCM check-ins) are turned off, by the enterprise
policies the image installs (``chromium-policies.json``) and the switches below, so that every look-up in the log is
one the agent's browsing caused.
"""
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
CHROMIUM = os.environ.get("AIRGAP_CHROMIUM", "/usr/lib/chromium/chromium")
FLAGS = [
    "--headless=new", "--no-sandbox", "--remote-debugging-pipe",
    "--no-proxy-server", "--disable-quic", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
    "--disable-breakpad", "--disable-crash-reporter", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--metrics-recording-only", "--safebrowsing-disable-auto-update", "--password-store=basic", "--use-mock-keychain",
    "--disable-dev-shm-usage", "--disable-gpu", "--mute-audio", "--hide-scrollbars", "--disk-cache-size=1048576",
    "--disable-features=DnsOverHttps,AsyncDns,MediaRouter,OptimizationHints,Translate,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,HttpsUpgrades,NetworkTimeServiceQuerying,BackForwardCache,"
    "PreconnectToSearch,AimEnabled",  # preconnects to, and AI-mode eligibility checks at, the default engine's host
    # GCM (Chromium's push-messaging channel) checks in at start and again after a back-off though nothing registered
    # with it (chrome://gcm-internals), and no policy or switch keeps it from starting: its own endpoints point at a
    # closed port of the container's loopback, so its requests fail there (no look-up, nothing leaves; an agent's own
    # look-up of android.clients.google.com is still logged).
    "--gcm-checkin-url=http://127.0.0.1:9/checkin", "--gcm-registration-url=http://127.0.0.1:9/c2dm/register3",
    "--gcm-mcs-endpoint=https://127.0.0.1:9",
    "--no-pings", "--dns-prefetch-disable",
    "--window-size=1280,900",
]


def pump(src, dst, on_eof=None):
    """Copy bytes from fd ``src`` to fd ``dst`` until end of file."""
    try:
        while True:
            data = os.read(src, 1 << 16)
            if not data:
                break
            view = memoryview(data)
            while view:
                view = view[os.write(dst, view):]
    except OSError:
        pass
    if on_eof:
        on_eof()


def trust_ca(home):
    nss = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nss, mode=0o700)
    run = [["certutil", "-d", f"sql:{nss}", "-N", "--empty-password"],
           ["certutil", "-d", f"sql:{nss}", "-A", "-t", "C,,", "-n", "airgap-ca", "-i", CA_BUNDLE]]
    for cmd in run:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            sys.stderr.write(f"airgap browser: {' '.join(cmd)} failed: {proc.stdout}\n")
            sys.exit(3)


def main():
    os.umask(0o077)
    home = tempfile.mkdtemp(prefix="airgap-browser-", dir="/tmp")
    os.environ.update(HOME=home, TMPDIR=home, DBUS_SESSION_BUS_ADDRESS="disabled:", XDG_CONFIG_HOME=os.path.join(home, ".config"), XDG_CACHE_HOME=os.path.join(home, ".cache"))
    try:
        trust_ca(home)
        cmd_r, cmd_w = os.pipe()  # harness -> browser (its fd 3)
        res_r, res_w = os.pipe()  # browser -> harness (its fd 4)
        argv = [CHROMIUM, *FLAGS, f"--user-data-dir={os.path.join(home, 'profile')}", *sys.argv[1:], "about:blank"]
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()  # its own process group: killed as one at the end
                a, b = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(res_w, fcntl.F_DUPFD, 10)
                os.dup2(a, 3)
                os.dup2(b, 4)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(2, 1)  # Chromium's own messages go to stderr, never into the protocol stream
                os.closerange(5, 4096)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        os.close(cmd_r)
        os.close(res_w)
        done = threading.Event()
        threading.Thread(target=pump, args=(0, cmd_w, done.set), daemon=True).start()
        threading.Thread(target=pump, args=(res_r, 1, done.set), daemon=True).start()
        while not done.wait(0.2):
            if os.waitpid(pid, os.WNOHANG)[0]:
                pid = None
                break
        if pid is not None:
            for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                end = time.monotonic() + wait
                while time.monotonic() < end and not os.waitpid(pid, os.WNOHANG)[0]:
                    time.sleep(0.05)
            try:
                os.killpg(pid, signal.SIGKILL)  # renderers and helpers left in the group
            except ProcessLookupError:
                pass
    finally:
        for _ in range(50):  # helpers may still be writing into the profile for a moment
            shutil.rmtree(home, ignore_errors=True)
            if not os.path.exists(home):
                break
            time.sleep(0.05)


if __name__ == "__main__":
    main()
