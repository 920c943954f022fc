#!/usr/bin/env python3
"""Benchmark the mail host's SMTP and IMAP against its JSON API, from inside a real sandbox, in one run.

All clients run inside the sandbox (Python's smtplib, imaplib, http.client and urllib), so every figure crosses the
same path: the in-container relay, the host gateway (TLS there or, for STARTTLS, in the protocol server) and the mail
backend of world ``--seed``. Each row pairs a protocol operation with the JSON API call that does the same:

1. send one mail, connection held (SMTP session signed in once, over 587 with STARTTLS) vs ``POST /api/messages``
   on a held HTTPS connection;
2. send one mail, a new connection each time (connect, STARTTLS, AUTH, send, QUIT) vs urllib's POST (a new HTTPS
   connection each time, as urllib does);
3. fetch one message, session held (IMAP over 993: ``UID FETCH BODY.PEEK[]``) vs ``GET /api/messages/{id}`` on a
   held connection;
4. fetch one message, a new connection each time (connect, LOGIN, SELECT, FETCH, LOGOUT) vs urllib's GET.

Usage: .venv/bin/python scripts/bench_protocols.py [--n 200] [--seed 0]
Timings depend on the machine and its load: compare the ratios (measured in the same run), not absolute numbers.
"""
from __future__ import annotations

import argparse
import json
import statistics

from rich.console import Console
from rich.table import Table

from airgap.envs.backends import BACKENDS
from airgap.envs.world import World, world_facts

CLIENT = r"""
import http.client, imaplib, json, smtplib, ssl, sys, time, urllib.request
from email.message import EmailMessage
HOST, USER, TOKEN, EMAIL, TO, N = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
CTX = ssl.create_default_context()
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
out = {}

def timed(name, fn, n=N):
    fn()  # warm-up, untimed
    ts = []
    for i in range(n):
        t = time.perf_counter(); fn(); ts.append((time.perf_counter() - t) * 1000)
    out[name] = ts

def mail(i):
    m = EmailMessage(); m["From"], m["To"], m["Subject"] = EMAIL, TO, f"bench {i}"; m.set_content("a benchmark mail")
    return m

body = json.dumps({"to": [TO], "subject": "bench", "body": "a benchmark mail"})
smtp = smtplib.SMTP(HOST, 587, timeout=30); smtp.starttls(context=CTX); smtp.login(USER, TOKEN)
timed("smtp_send_held", lambda: smtp.send_message(mail(0)))
smtp.quit()
conn = http.client.HTTPSConnection(HOST, 443, context=CTX, timeout=30)

def api_send_held():
    conn.request("POST", "/api/messages", body=body, headers=AUTH); r = conn.getresponse(); r.read()
    assert r.status == 201, r.status

timed("api_send_held", api_send_held)

def smtp_send_new():
    with smtplib.SMTP(HOST, 587, timeout=30) as s:
        s.starttls(context=CTX); s.login(USER, TOKEN); s.send_message(mail(1))

def api_send_new():
    req = urllib.request.Request(f"https://{HOST}/api/messages", data=body.encode(), headers=AUTH, method="POST")
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        r.read()

timed("smtp_send_new", smtp_send_new, max(N // 4, 10))
timed("api_send_new", api_send_new, max(N // 4, 10))

conn.request("GET", "/api/messages?folder=INBOX&limit=1", headers=AUTH); r = conn.getresponse()
mid = json.loads(r.read())["messages"][0]["id"]
imap = imaplib.IMAP4_SSL(HOST, 993, ssl_context=CTX, timeout=30); imap.login(USER, TOKEN); imap.select("INBOX")

def imap_fetch_held():
    typ, data = imap.uid("FETCH", str(mid), "(BODY.PEEK[])"); assert typ == "OK" and data[0], data

def api_fetch_held():
    conn.request("GET", f"/api/messages/{mid}", headers=AUTH); r = conn.getresponse(); r.read()
    assert r.status == 200, r.status

timed("imap_fetch_held", imap_fetch_held)
timed("api_fetch_held", api_fetch_held)
imap.logout()

def imap_fetch_new():
    m = imaplib.IMAP4_SSL(HOST, 993, ssl_context=CTX, timeout=30); m.login(USER, TOKEN); m.select("INBOX")
    m.uid("FETCH", str(mid), "(BODY.PEEK[])"); m.logout()

def api_fetch_new():
    req = urllib.request.Request(f"https://{HOST}/api/messages/{mid}", headers=AUTH)
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        r.read()

timed("imap_fetch_new", imap_fetch_new, max(N // 4, 10))
timed("api_fetch_new", api_fetch_new, max(N // 4, 10))
print(json.dumps(out))
"""

ROWS = [("send a mail, connection held", "smtp_send_held", "api_send_held", "SMTP 587 STARTTLS", "POST /api/messages"),
        ("send a mail, new connection", "smtp_send_new", "api_send_new", "SMTP 587 STARTTLS", "POST (urllib)"),
        ("fetch a message, session held", "imap_fetch_held", "api_fetch_held", "IMAP 993 UID FETCH", "GET /api/messages/{id}"),
        ("fetch a message, new connection", "imap_fetch_new", "api_fetch_new", "IMAP 993 login+select+fetch",
         "GET (urllib)")]


def pct(ts: list[float], q: float) -> float:
    return statistics.quantiles(ts, n=100)[int(q) - 1] if len(ts) > 1 else ts[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="timed operations per held-connection row (a quarter for new ones)")
    ap.add_argument("--seed", type=int, default=0, help="world seed")
    args = ap.parse_args()
    facts = world_facts(args.seed)
    user, to = facts.people[2].username, facts.people[3].email
    events: list[dict] = []
    world = World.open({"snapshot": "none", "backends": ["mail"], "world_seed": args.seed}, sink=events.append,
                       mode="fresh")
    try:
        host = BACKENDS["mail"].hosts_for(facts)[0]
        r = world.sandbox.exec(["python3", "-c", CLIENT, host, user, facts.token("mail", user), facts.person(user).email,
                                to, str(args.n)], timeout=900)
        if r.exit_code != 0:
            raise SystemExit(f"the in-sandbox client failed:\n{r.stderr[-3000:]}")
        out = json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        world.close()
    table = Table(title=f"mail protocols vs the JSON API, inside one sandbox (world {args.seed}; ms per operation)")
    for col in ("operation", "protocol", "p50", "p90", "JSON API", "p50", "p90", "ratio p50"):
        table.add_column(col, justify="left" if col in ("operation", "protocol", "JSON API") else "right")
    for label, proto, api, proto_name, api_name in ROWS:
        p, a = out[proto], out[api]
        table.add_row(label, f"{proto_name} (n={len(p)})", f"{pct(p, 50):.2f}", f"{pct(p, 90):.2f}",
                      f"{api_name} (n={len(a)})", f"{pct(a, 50):.2f}", f"{pct(a, 90):.2f}",
                      f"{pct(p, 50) / pct(a, 50):.2f}x")
    Console(width=170).print(table)
    sessions = len({e.get("session") for e in events if e.get("type") == "protocol"})
    print(f"{sessions} protocol sessions and {sum(e.get('type') == 'protocol' for e in events)} protocol events logged")


if __name__ == "__main__":
    main()
