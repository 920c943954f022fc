"""The tracker fixture of a world."""
import sqlite3
from typing import Any

#: GitHub's default labels of a new repository (``default: true`` in its label objects).
DEFAULT_LABELS = {"bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted", "invalid",
                  "question", "wontfix"}


def seed(facts: Any, db: sqlite3.Connection, refs: dict[str, dict[str, str]] | None = None) -> None:
    """Fill the empty tables of ``db`` from the world's facts (``refs``: each repository's git branches -> commit)."""
    f = facts
    org = f.org
    db.execute("INSERT INTO users VALUES (?, ?, NULL, ?, NULL, 'Organization', ?)",
               (org.slug, 9_000_001, org.name, f"{org.founded}-01-15T00:00:00Z"))
    for i, p in enumerate(f.people):
        db.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, 'User', ?)",
                   (p.github_login, 9_100_001 + i * 17, p.username, p.name, p.email, p.start_date + "T00:00:00Z"))
    label_id = 5_000_001
    issue_id = 2_000_001
    comment_id = 3_000_001
    for r_i, r in enumerate(f.repos):
        rid = 700_001 + r_i
        db.execute("INSERT INTO repos VALUES (?,?,?,?,?,?,?)", (rid, r.owner, r.name, r.description, int(r.private),
                                                                r.created_at, f.now))
        for login in r.collaborators:
            perm = "admin" if login == r.owner else "write"
            db.execute("INSERT INTO collaborators (repo, login, permission) VALUES (?,?,?)", (rid, login, perm))
        if r.owner == org.slug:  # org repos: the org's leadership administers
            db.execute("UPDATE collaborators SET permission = 'admin' WHERE repo = ? AND login = ?",
                       (rid, f.person(f.teams[0].lead).github_login))
        for branch, sha in sorted((refs or {}).get(f"{r.owner}/{r.name}", {}).items()):
            db.execute("INSERT INTO branches (repo, name, sha) VALUES (?,?,?)", (rid, branch, sha))
        ids = {}
        for lab in r.labels:
            db.execute("INSERT INTO labels VALUES (?,?,?,?,?,?)", (label_id, rid, lab.name, lab.color, lab.description,
                                                                   int(lab.name in DEFAULT_LABELS)))
            ids[lab.name] = label_id
            label_id += 1
        creator = r.collaborators[0]
        for m in r.milestones:
            db.execute("INSERT INTO milestones (repo, number, title, description, state, due_on, created_at, updated_at, "
                       "closed_at, creator) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (rid, m.number, m.title, m.description, m.state, m.due_on, m.created_at, m.created_at,
                        m.due_on if m.state == "closed" else None, creator))
        for iss in r.issues:
            db.execute("INSERT INTO issues VALUES (?,?,?,?,?,?,?,?,?,0,?,?,?,?)",
                       (issue_id, rid, iss.number, iss.title, iss.body, iss.author, iss.state, iss.state_reason,
                        iss.milestone, iss.created_at, iss.updated_at, iss.closed_at,
                        iss.assignees[0] if iss.closed_at and iss.assignees else (iss.author if iss.closed_at else None)))
            db.executemany("INSERT INTO issue_labels (issue, label) VALUES (?, ?)", [(issue_id, ids[n]) for n in iss.labels])
            db.executemany("INSERT INTO issue_assignees (issue, login) VALUES (?, ?)",
                           [(issue_id, a) for a in iss.assignees])
            for c in iss.comments:
                db.execute("INSERT INTO comments VALUES (?,?,?,?,?,?)", (comment_id, issue_id, c.author, c.body,
                                                                         c.created_at, c.created_at))
                comment_id += 1
            issue_id += 1
