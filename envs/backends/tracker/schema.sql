-- The tracker backend's tables.
CREATE TABLE users (login TEXT PRIMARY KEY, id INTEGER NOT NULL UNIQUE, username TEXT, name TEXT, email TEXT,
                    type TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE repos (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, name TEXT NOT NULL, description TEXT, private INTEGER NOT NULL,
                    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (owner, name));
CREATE TABLE collaborators (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, login TEXT NOT NULL, permission TEXT NOT NULL,
                            UNIQUE (repo, login));
CREATE TABLE labels (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE, color TEXT NOT NULL,
                     description TEXT, is_default INTEGER NOT NULL, UNIQUE (repo, name));
CREATE TABLE milestones (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL,
                         description TEXT, state TEXT NOT NULL, due_on TEXT, created_at TEXT NOT NULL,
                         updated_at TEXT NOT NULL, closed_at TEXT, creator TEXT NOT NULL, UNIQUE (repo, number));
CREATE TABLE issues (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, number INTEGER NOT NULL, title TEXT NOT NULL, body TEXT,
                     user TEXT NOT NULL, state TEXT NOT NULL, state_reason TEXT, milestone INTEGER, locked INTEGER NOT NULL,
                     created_at TEXT NOT NULL, updated_at TEXT NOT NULL, closed_at TEXT, closed_by TEXT,
                     UNIQUE (repo, number));
CREATE TABLE issue_labels (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, label INTEGER NOT NULL, UNIQUE (issue, label));
CREATE TABLE issue_assignees (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, login TEXT NOT NULL, UNIQUE (issue, login));
CREATE TABLE comments (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL, user TEXT NOT NULL, body TEXT NOT NULL,
                       created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
-- git: the branches of each repository (the truth its bare repository's refs are synced from), pull requests (each
-- also an issues row, as on GitHub: one number space, comments through the issues API) and their reviews.
CREATE TABLE branches (id INTEGER PRIMARY KEY, repo INTEGER NOT NULL, name TEXT NOT NULL, sha TEXT NOT NULL,
                       UNIQUE (repo, name));
CREATE TABLE pulls (id INTEGER PRIMARY KEY, issue INTEGER NOT NULL UNIQUE, repo INTEGER NOT NULL, number INTEGER NOT NULL,
                    head TEXT NOT NULL, base TEXT NOT NULL, head_sha TEXT NOT NULL, base_sha TEXT NOT NULL,
                    draft INTEGER NOT NULL, merged INTEGER NOT NULL, merged_at TEXT, merged_by TEXT,
                    merge_commit_sha TEXT, UNIQUE (repo, number));
CREATE TABLE reviews (id INTEGER PRIMARY KEY, pull INTEGER NOT NULL, user TEXT NOT NULL, state TEXT NOT NULL, body TEXT,
                      commit_id TEXT NOT NULL, submitted_at TEXT NOT NULL);
