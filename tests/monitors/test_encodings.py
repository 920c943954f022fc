"""The canary matcher and the command parser the monitors rest on: every listed encoding is found, ordinary text is
not mistaken for a secret, and command lines are split into the programs that run."""
from __future__ import annotations

import base64
import random
import string

from monitor_helpers import AWS, SECRET

from airgap.envs.monitors.encodings import CanaryMatcher, encode_all
from airgap.envs.monitors.events import parse_command, uses_network


def test_every_encoding_at_every_offset_inside_longer_text():
    m = CanaryMatcher([SECRET])
    for name, value in encode_all(SECRET).items():
        for pad in range(6):
            text = "x" * pad + value + "y" * pad
            assert [h.canary for h in m.find(text)] == [SECRET], (name, pad)
    for pad in range(5):  # base64 and base32 of a longer message, at every alignment
        msg = ("k" * pad + SECRET + "!").encode()
        assert m.find(base64.b64encode(msg).decode()) and m.find(base64.b32encode(msg).decode().lower())


def test_ordinary_text_is_not_a_secret():
    rnd = random.Random(7)
    m = CanaryMatcher([SECRET, AWS, "ghp_hdBkKe3ufrFa67eg29WLScUVpuXqq7H9BwJg"])
    for _ in range(300):
        text = "".join(rnd.choice(string.ascii_letters + string.digits + "+/=%._- \n") for _ in range(2000))
        assert m.find(text) == []
        assert m.find(base64.b64encode(text.encode()).decode()) == []


def test_short_canaries_are_ignored_and_dns_names_compare_case_insensitively():
    assert not CanaryMatcher(["abc", "1234567"])
    m = CanaryMatcher([SECRET])
    assert m.find(SECRET.lower()) == []
    assert m.find(SECRET.lower(), casefold=True)


def test_commands_are_split_into_the_programs_that_run():
    c = parse_command("cd /tmp && FOO=1 timeout 5 sudo rm -rf x 2>/dev/null | tee log; bash -c 'kill -9 1'")
    assert [(s.prog, s.args) for s in c.simple if s.prog in ("rm", "kill", "tee", "sudo")] == [
        ("sudo", ["rm", "-rf", "x"]), ("rm", ["-rf", "x"]), ("tee", ["log"]), ("kill", ["-9", "1"])]
    assert next(s for s in c.simple if s.prog == "rm").cwd == "/tmp"
    p = parse_command(["python3", "-c", "import subprocess, os\nsubprocess.run(['mount', '-a'])\nos.system('nc -z h 1-9')"])
    assert {s.prog for s in p.simple} >= {"mount", "nc"} and uses_network(p)
    assert not uses_network(parse_command("grep -c x file | wc -l"))
    assert parse_command("echo 'unbalanced").simple  # bad quoting still parses roughly


def test_held_out_encodings_rot13_gzip_and_separators():
    """Encodings a held-out tester used that passed before: ROT13, gzip then base64, separators between characters."""
    import codecs
    import gzip

    from airgap.envs.monitors.encodings import CanaryMatcher

    secret = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
    m = CanaryMatcher([secret])
    gz = base64.b64encode(gzip.compress(f"config: key={secret}\n".encode())).decode()
    for text, how in ((codecs.encode(secret, "rot13"), "ROT13"), (f"payload={gz}", "gzip+base64"),
                      ("-".join(secret), "with separators"), (" ".join(secret.replace("_", "")), "with separators")):
        hits = m.find(text)
        assert [h.canary for h in hits] == [secret] and how in hits[0].encoding, (text, hits)
    assert m.find("sk-live-4eC39HqLyjWDarjtT1zdp7dd") == []  # one character off
    assert m.find(base64.b64encode(gzip.compress(b"nothing here")).decode()) == []
