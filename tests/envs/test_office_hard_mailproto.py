"""office-hard's mailbox family (SMTP/IMAP work, issue 23): in the real env (a real Docker sandbox, the real mail
backend behind the gateway, smtplib and imaplib inside the sandbox) every task's oracle scores 1, doing nothing 0
and its decoy 0, in worlds 0 and 1; and each task's declared JSON-API solution (its ``audit``) scores 1 in world 0,
so the grading is on the final state, never on the protocol. Structural checks need no Docker."""
from __future__ import annotations

import csv
import io

import pytest
from test_office_hard import _play_world  # tests/envs is on the path (no package)

from airgap.envs.suites.office_hard import mailproto
from airgap.envs.suites.workplace import Office
from airgap.envs.tasks import load_suite

PLAYED = (0, 1)
# Episodes are played in one world here (the level's others in other tests; every world: `airgap evaluate --suite office
# --level hard --seed N --agent oracle|noop|decoy`, 100% / 0% / 0%), to keep the test command inside its time budget.
EPISODES = (0,)


@pytest.fixture(scope="module")
def drafts() -> dict[int, list]:
    return {seed: mailproto.tasks(Office(seed)) for seed in PLAYED}


def test_five_tasks_a_world_each_with_its_traps(drafts):
    for ds in drafts.values():
        assert [d.kind for d in ds] == ["mailbox"] * 5
        merge, script, filing, timesheets, cleanup = ds
        for d in ds:
            assert "SMTP" in d.text and "IMAP" in d.text and d.expect
            code = "\n".join(c["args"].get("code", "") + c["args"].get("command", "") for c in d.oracle)
            assert "smtplib" in code or "imaplib" in code
            assert any(a["reward"] == 1 and "JSON API" in a["why"] for a in d.audit)
            assert d.oracle != d.decoy
        # merge: one corrected row, one leaver; the graders hold the corrected figure and no leaver
        rows = list(csv.DictReader(io.StringIO(next(iter(merge.setup["files"].values())))))
        ids = [r["employee_id"] for r in rows]
        dup = next(i for i in ids if ids.count(i) > 1)
        first, last = [r for r in rows if r["employee_id"] == dup]
        leaver = next(r for r in rows if r["status"] != "active")
        boxes = {p["where"]["mailbox"] for p in merge.expect}
        assert last["email"].lower() in boxes and leaver["email"].lower() not in boxes
        assert any(f": {last['days_left']} day(s)." in c for p in merge.expect for c in p["where"]["body"]["$contains"])
        assert len(merge.state) == len(merge.expect) == len({r["employee_id"] for r in rows}) - 1
        # script: the file a text sort picks is not the newest week's
        data = sorted(p for p in script.setup["files"] if "/data/" in p)
        subject = script.expect[0]["where"]["subject"]
        assert data[-1].rsplit("sales-", 1)[1][:10] not in subject
        # filing: over a page of the vendor's mail, a flagged few, and what must stay planted
        moved = [p for p in filing.expect if p["table"] == "messages"]
        assert len(moved) > 40 and 0 < sum(p["where"]["flagged"] for p in moved) < len(moved) // 4
        senders = {m["sender"] for t in filing.inject["mail"] for m in t["messages"]}
        assert len(senders) >= 4  # billing, the look-alike, the newsletter, a colleague
        # timesheets: a corrected version and a re-sent copy among the attachments; the files checked in the sandbox
        names = [a["filename"] for t in timesheets.inject["mail"] for m in t["messages"] for a in m["attachments"]]
        assert any(n.endswith("-v2.csv") for n in names) and len(names) > len(set(names))
        assert timesheets.graders[0]["type"] == "command_output"
        # cleanup: most of the help desk's mail goes, some of it stays
        planted = sum(len(t["messages"]) for t in cleanup.inject["mail"])
        assert 30 < len(cleanup.expect) < planted - 5


def test_the_family_varies_by_world(drafts):
    a, b = (tuple(d.text for d in drafts[s]) for s in PLAYED)
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_the_level_holds_the_family():
    suite = load_suite("office-hard", world_seed=0)
    assert sum(t.kind == "mailbox" for t in suite.tasks) == 5


@pytest.mark.parametrize("seed", EPISODES)
def test_mailbox_oracle_1_noop_0_decoy_0(seed, sandbox_image):
    failures = _play_world(seed, kind="mailbox")
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(failures[:20])


def test_json_api_solutions_score_1(sandbox_image):
    """Each task's declared audit cases played in world 0: the JSON-API solution 1, the near misses 0."""
    from airgap.envs.env import AirgapEnv

    suite = load_suite("office-hard", world_seed=0)
    env = AirgapEnv(suite="office-hard", world_seed=0, sandbox="pool", pool_size=1)
    failures = []
    try:
        for t in [t for t in suite.tasks if t.kind == "mailbox"]:
            for case in t.audit:
                env.reset(seed=0, options={"task_id": t.id})
                for call in case["calls"]:
                    obs, reward, terminated, _truncated, info = env.step(call)
                if not terminated or reward != case["reward"]:
                    failures.append(f"{t.id} {case['why']}: reward {reward}, want {case['reward']}: "
                                    f"{info.get('grades')} {obs[-300:]}")
    finally:
        env.close()
    assert not failures, "\n".join(failures)
