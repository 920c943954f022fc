"""Work through git and pull requests (kind ``pr``): the product repository on the tracker is a real git repository,
and each task needs a clone, a branch, a push and a pull request (or a review and a merge through the REST API).

Every task prepares its own state in its setup, as colleagues would have left it (commits pushed from inside the
sandbox with fixed authors and dates, so the generator knows their commit ids; issues and pull requests opened over
the API), never in the base world:

- ``fix``: a colleague's commit on ``main`` planted one of the coding family's bugs and a user reported it. Fix it on
  a new branch and open a pull request against ``main`` that says ``Fixes #n``; do not merge it. Graded: one open
  pull request from another branch naming the issue, its head passes the repository's tests and held-back tests of
  the same behaviour (``git_tree``: the pushed commit's files, read from the tracker's bare repository), ``main``
  still at the commit the setup left. The decoy pushes the fix straight to ``main`` and comments on the issue.
- ``fix`` with the team's ``CONTRIBUTING.md`` (added to ``main`` by the setup): a branch naming rule, a changelog
  entry under ``## Unreleased`` naming the issue, or a regression test that fails without the fix and passes with
  it. The decoy is the same fix in a pull request that ignores the rule.
- ``review``: a colleague's pull request that breaks a test (its description says the tests pass): request changes
  in a review naming the failing test, do not merge. The decoy approves and merges it. And two pull requests, one
  green and one red: approve and merge the green one, request changes on the other (the decoy merges both).
- ``conflict``: two green pull requests that edit the same line; after the first is merged the second conflicts.
  Merge both, resolving the conflict on the second's branch so that ``main`` keeps both changes and its tests pass.
  The decoy merges the first and closes the second asking its author to rebase.
- ``config``: an issue asks for a new value of a setting (page size, billing currency) and a later comment corrects
  the value; change it, update the tests that pin the old value, open a pull request that fixes the issue. The decoy
  uses the value of the issue's first post.
"""
from __future__ import annotations

import ast
import json
import re
import shlex
from dataclasses import dataclass, replace
from datetime import timedelta

from airgap.envs.backends.tracker import gitrepo
from airgap.envs.common import iso, rng
from airgap.envs.suites.office.generator import Draft
from airgap.envs.suites.office_hard import coding
from airgap.envs.suites.workplace import Office, pat, submit

KIND = "pr"
HEAD = "/tmp/.airgap-pr-head"          # where the git_tree grader puts the graded commit's files
MARK = "AIRGAP_PR_EOF"
# The repository's test that each bug breaks (one test each; bugs that break two tests or depend on the machine's
# time zone are never a review's red pull request). tests/envs/test_office_hard_pr.py checks this table.
FAILS = {("off-by-one", 0): "test_first_page", ("money rounding", 0): "test_half_a_cent_rounds_up",
         ("money rounding", 1): "test_half_a_cent_rounds_up", ("time zone", 0): "test_evening_order_stays_on_its_day",
         ("wrong default", 1): "test_default_page_size", ("mutable default", 0): "test_area_labels_one_issue_after_another",
         ("mutable default", 1): "test_digest_twice", ("string parsing", 0): "test_one_decimal_digit",
         ("string parsing", 1): "test_thousands_separator", ("sort key", 0): "test_top_customers",
         ("sort key", 1): "test_top_customers", ("integer division", 0): "test_remainder_goes_to_the_first_shares",
         ("integer division", 1): "test_share_percent", ("wrong dict key", 0): "test_stock_by_sku",
         ("wrong dict key", 1): "test_refunded"}
RULES = ("branch", "changelog", "test")
CHANGELOG = """# Changelog

All notable changes to @@PRODUCT@@'s back-office helpers.

## Unreleased

## @@VERSION@@ - 2025-01-20
- Issue triage: area labels from issue titles.
- Reports: top customers, stock per SKU, refunds.
"""


@dataclass
class Repo:
    """The product repository as the tasks see it: names, the package, and the commits the setups make."""
    o: Office
    ctx: coding.Ctx
    owner: str
    name: str
    rid: int
    main0: str
    clean: dict[str, str]           # module -> source, as on main
    tests: dict[str, str]           # test module -> source, as on main

    @property
    def full(self) -> str:
        return f"{self.owner}/{self.name}"

    def module_path(self, module: str) -> str:
        return f"{self.ctx.pkg}/{module}.py"

    def url(self, user: str) -> str:
        return f"https://x-access-token:{self.o.token('tracker', user)}@github.com/{self.full}"

    def commit(self, parent: str, files: dict[str, str], message: str, who, hours_ago: float) -> str:
        """The id of the commit a setup push makes (the same tree, author, date and message as git's in the sandbox)."""
        gp = self.o.backends["tracker"].git.path(self.full)
        tree = parent
        for path, text in sorted(files.items()):
            tree = gitrepo.write_file(gp, tree, path, text.encode())
        return gitrepo.commit_tree(gp, tree, [parent], message + "\n", who.name, who.email,
                                   iso(self.o.now - timedelta(hours=hours_ago)))


class Setup:
    """A task's setup: commits pushed from the sandbox as colleagues, issues, comments and pull requests over the API."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.files: dict[str, str] = {}
        self.commands: list[str] = []
        self.heads: dict[str, str] = {"main": repo.main0}
        self.issue_number = max(x["number"] for x in repo.o.tables["tracker"]["issues"] if x["repo"] == repo.rid)
        self.issue_id = max(x["id"] for x in repo.o.tables["tracker"]["issues"])
        self.pull_id = max([x["id"] for x in repo.o.tables["tracker"]["pulls"]] or [0])

    def push(self, who, branch: str, files: dict[str, str], message: str, hours_ago: float) -> str:
        """A commit of ``files`` on ``branch`` (from main when new), pushed as ``who``; its commit id."""
        r = self.repo
        parent = self.heads.get(branch, self.heads["main"])
        sha = r.commit(parent, files, message, who, hours_ago)
        k = len(self.commands)
        stage = f"/tmp/.airgap-stage-{k}"
        for path, text in files.items():
            self.files[f"{stage}/{path}"] = text
        when = int((r.o.now - timedelta(hours=hours_ago)).timestamp())
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in (
            ("GIT_AUTHOR_NAME", who.name), ("GIT_AUTHOR_EMAIL", who.email), ("GIT_AUTHOR_DATE", f"@{when} +0000"),
            ("GIT_COMMITTER_NAME", who.name), ("GIT_COMMITTER_EMAIL", who.email),
            ("GIT_COMMITTER_DATE", f"@{when} +0000")))
        start = (f"git checkout -q {shlex.quote(branch)}" if branch in self.heads and branch != "main"
                 else f"git checkout -q -B {shlex.quote(branch)}")
        d = "/tmp/.airgap-setup"
        self.commands.append(
            f"set -e; rm -rf {d}; git clone -q {r.url(who.username)} {d}; cd {d}; {start}; cp -a {stage}/. .; "
            f"rm -rf {stage}; git add -A; {env} git commit -q -m {shlex.quote(message)}; "
            f"git push -q origin HEAD:refs/heads/{shlex.quote(branch)}; cd /; rm -rf {d}")
        self.heads[branch] = sha
        return sha

    def _post(self, who, path: str, body: dict) -> None:
        o = self.repo.o
        self.commands.append(
            f"curl -sf -o /dev/null -X POST -H {shlex.quote('Authorization: Bearer ' + o.token('tracker', who.username))} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(json.dumps(body))} "
            f"{o.base('tracker')}/repos/{self.repo.full}{path}")

    def issue(self, who, title: str, body: str, labels: list[str]) -> tuple[int, int]:
        """(number, row id) of a new issue."""
        self._post(who, "/issues", {"title": title, "body": body, "labels": labels})
        self.issue_number += 1
        self.issue_id += 1
        return self.issue_number, self.issue_id

    def comment(self, who, number: int, body: str) -> None:
        self._post(who, f"/issues/{number}/comments", {"body": body})

    def pull(self, who, branch: str, title: str, body: str) -> tuple[int, int, int]:
        """(number, pulls row id, issues row id) of a new pull request from ``branch`` into main."""
        self._post(who, "/pulls", {"title": title, "head": branch, "base": "main", "body": body})
        self.issue_number += 1
        self.issue_id += 1
        self.pull_id += 1
        return self.issue_number, self.pull_id, self.issue_id

    def done(self) -> dict:
        return {"files": dict(self.files), "commands": list(self.commands), "ago_hours": 3}


# ---------------------------------------------------------------------------------------------------------------
# Grading programs (run on the graded commit's files, in the sandbox)
# ---------------------------------------------------------------------------------------------------------------
def program(name: str, src: str) -> str:
    """A command that writes a Python program and runs it (the git_tree grader runs it in the commit's folder)."""
    assert MARK not in src
    path = f"/tmp/.airgap-pr-{name}.py"
    return f"cat > {path} <<'{MARK}'\n{src}\n{MARK}\npython3 {path}"


def tests_pass(r: Repo, held: str | None) -> str:
    """The repository's tests as shipped (and held-back ones) against the commit's code: prints ok."""
    ctx = replace(r.ctx, repo_dir=HEAD)
    sources = dict(r.tests)
    if held:
        sources["test_held"] = held
    return program("tests", coding.runner(ctx, sources))


def own_tests_and(check: str) -> str:
    """The commit's own tests pass (``python3 -m unittest``) and ``check`` (Python printing ok) holds."""
    return f"python3 -m unittest -q >/dev/null 2>&1 && {program('check', check)} || echo failed"


def changelog_check(number: int) -> str:
    return f'''import re
text = open("CHANGELOG.md", encoding="utf-8").read() if __import__("os").path.exists("CHANGELOG.md") else ""
m = re.search(r"^## Unreleased[ \\t]*$(.*?)(?=^## |\\Z)", text, re.M | re.S)
print("ok" if m and re.search(r"^[-*] .*#{number}(?!\\d)", m.group(1), re.M) else "no entry naming #{number} under Unreleased")'''


def base_test_names(tests: dict[str, str]) -> list[str]:
    out = []
    for mod, src in tests.items():
        for c in ast.parse(src).body:
            if isinstance(c, ast.ClassDef):
                out += [f"tests.{mod}.{c.name}.{m.name}" for m in c.body
                        if isinstance(m, ast.FunctionDef) and m.name.startswith("test")]
    return sorted(out)


def regression_check(r: Repo, module: str, buggy: str) -> str:
    """New test methods (not on main) exist, pass on the commit and fail with the bug put back."""
    return f'''import ast, os, shutil, subprocess, sys, tempfile
BASE = set({base_test_names(r.tests)!r})
new = []
for fn in sorted(os.listdir("tests")) if os.path.isdir("tests") else []:
    if fn.startswith("test") and fn.endswith(".py"):
        try:
            tree = ast.parse(open(os.path.join("tests", fn), encoding="utf-8").read())
        except SyntaxError:
            continue
        for c in tree.body:
            if isinstance(c, ast.ClassDef):
                new += [f"tests.{{fn[:-3]}}.{{c.name}}.{{m.name}}" for m in c.body
                        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and m.name.startswith("test")
                        and f"tests.{{fn[:-3]}}.{{c.name}}.{{m.name}}" not in BASE]
def run(root):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "unittest", *new], cwd=root, capture_output=True, env=env,
                          timeout=60).returncode
if not new:
    print("no new test")
else:
    good = run(".")
    bad_root = tempfile.mkdtemp()
    shutil.copytree(".", bad_root, dirs_exist_ok=True)
    with open(os.path.join(bad_root, {r.module_path(module)!r}), "w", encoding="utf-8") as f:
        f.write({buggy!r})
    bad = run(bad_root)
    shutil.rmtree(bad_root, ignore_errors=True)
    print("ok" if good == 0 and bad != 0 else f"new tests {{new}}: with the fix exit {{good}}, with the bug exit {{bad}}")'''


def git_tree(r: Repo, command: str, *, pull: dict | None = None, branch: str | None = None) -> dict:
    spec: dict = {"type": "git_tree", "repo": r.full}
    if branch is not None:
        spec["branch"] = branch
    else:
        spec["pull"] = pull
    spec.update({"path": HEAD, "command": command, "expected": "ok", "timeout": 90})
    return spec


# ---------------------------------------------------------------------------------------------------------------
# Tool calls of the scripted solutions
# ---------------------------------------------------------------------------------------------------------------
def sh(command: str) -> dict:
    return {"tool": "shell", "args": {"command": command}}


def clone(r: Repo, user: str, workdir: str, branch: str | None = None) -> dict:
    p = r.o.person(user)
    checkout = f" && git checkout -q {shlex.quote(branch)}" if branch else ""
    return sh(f"git clone -q {r.url(user)} {workdir} && cd {workdir} && git config user.name {shlex.quote(p.name)} && "
              f"git config user.email {p.email}{checkout} && git log --oneline -3 && python3 -m unittest 2>&1 | tail -15")


def push_branch(workdir: str, branch: str, message: str) -> dict:
    return sh(f"cd {workdir} && git checkout -q -B {shlex.quote(branch)} && git add -A && "
              f"(git commit -q -m {shlex.quote(message)} || true) && python3 -m unittest 2>&1 | tail -3 && "
              f"git push -q origin {shlex.quote(branch)} 2>&1; echo pushed=$?")


def push_main(workdir: str, message: str) -> dict:
    return sh(f"cd {workdir} && git add -A && (git commit -q -m {shlex.quote(message)} || true) && "
              f"git push -q origin HEAD:main 2>&1; echo pushed=$?")


def write(path: str, src: str) -> dict:
    return coding.write_call(path, src)


# ---------------------------------------------------------------------------------------------------------------
# The tasks
# ---------------------------------------------------------------------------------------------------------------
def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def make_repo(o: Office) -> Repo:
    ctx = coding.make_ctx(o)
    repo = o.repo()
    rid = o.repo_id()
    main0 = o.row("tracker", "branches", repo=rid, name="main")["sha"]
    return Repo(o, ctx, repo.owner, repo.name, rid, main0, coding.package(ctx), coding.visible_tests(ctx))


def green_changes(r: Repo) -> dict[str, tuple[str, dict[str, tuple[str, str]], str]]:
    """Changes that keep every test green: name -> (title, {path: (old text, new text)}, what the new test checks)."""
    p = r.ctx.pkg
    money_line = next(x for x in r.clean["money"].splitlines(True) if x.startswith("SYMBOLS = "))
    test_money = r.tests["test_money"]

    def symbol(code: str, sign: str) -> tuple[str, dict[str, tuple[str, str]], str]:
        test = (f"\n\nclass {code.capitalize()}Amounts(unittest.TestCase):\n    def test_{code.lower()}(self):\n"
                f"        self.assertEqual(format_amount(-150, {code!r}), {'-' + sign + '1.50'!r})\n"
                f"        self.assertEqual(parse_amount({sign + '12.50'!r}), 1250)\n")
        return (f"Add {code} amounts", {
            r.module_path("money"): (money_line, money_line.replace("}", f', "{code}": "{sign}"}}')),
            "tests/test_money.py": (test_money, test_money.rstrip("\n") + "\n" + test)}, code)

    page_of = ('\n\ndef page_of(index: int, per_page: int = DEFAULT_PAGE_SIZE) -> int:\n'
               '    """The page (from 1) on which the item at `index` (from 0) is listed."""\n'
               '    return index // per_page + 1\n')
    page_test = (f"\n\nclass PageOf(unittest.TestCase):\n    def test_page_of(self):\n"
                 f"        from {p}.paging import page_of\n"
                 f"        self.assertEqual([page_of(i, 4) for i in (0, 3, 4, 9)], [1, 1, 2, 3])\n"
                 f"        self.assertEqual(page_of(25), 2)\n")
    average = ('\n\ndef average_order_cents(orders: list[dict]) -> int:\n'
               '    """The mean of total_cents over `orders`, to the nearest cent (half a cent up); 0 for no orders."""\n'
               '    if not orders:\n        return 0\n'
               '    total = sum(o["total_cents"] for o in orders)\n'
               '    return (2 * total + len(orders)) // (2 * len(orders))\n')
    average_test = (f"\n\nclass Average(unittest.TestCase):\n    def test_average(self):\n"
                    f"        from {p}.reports import average_order_cents\n"
                    f"        self.assertEqual(average_order_cents([{{'total_cents': 100}}, {{'total_cents': 201}}]), 151)\n"
                    f"        self.assertEqual(average_order_cents([]), 0)\n")
    return {
        "aud": symbol("AUD", "A$"), "nzd": symbol("NZD", "NZ$"),
        "page_of": ("Add page_of for links into a list", {
            r.module_path("paging"): (r.clean["paging"], r.clean["paging"].rstrip("\n") + "\n" + page_of),
            "tests/test_paging.py": (r.tests["test_paging"], r.tests["test_paging"].rstrip("\n") + "\n" + page_test)},
            "page_of"),
        "average": ("Add average_order_cents for the weekly report", {
            r.module_path("reports"): (r.clean["reports"], r.clean["reports"].rstrip("\n") + "\n" + average),
            "tests/test_reports.py": (r.tests["test_reports"], r.tests["test_reports"].rstrip("\n") + "\n" + average_test)},
            "average_order_cents"),
    }


def applied(base: dict[str, str], change: dict[str, tuple[str, str]]) -> dict[str, str]:
    """The files ``change`` touches, after it, starting from ``base`` (path -> text)."""
    out = {}
    for path, (old, new) in change.items():
        src = base[path]
        assert src.count(old) == 1, (path, old[:60])
        out[path] = src.replace(old, new)
    return out


def tasks(o: Office) -> list[Draft]:
    f = o.f
    r = make_repo(o)
    rnd = rng("office-hard-pr", o.seed)
    held_rnd = rng("office-hard-pr-held", o.seed)
    lead = o.person(f.team("engineering").lead)
    eng = [p for p in f.people if p.team == "engineering" and p.github_login in o.repo().collaborators]
    reporters = [p for p in f.people if p.team in ("support", "product", "sales")] or f.people
    bugs = coding._bugs()
    kinds = list(bugs)
    rnd.shuffle(kinds)
    picked = [(k, rnd.randrange(len(bugs[k]))) for k in kinds]
    red = [kv for kv in picked if kv in FAILS]
    fix_bugs = [kv for kv in picked if kv not in red[:3]][:5]
    base_files = {r.module_path(m): src for m, src in r.clean.items()}
    base_files.update({f"tests/{t}.py": src for t, src in r.tests.items()})
    drafts: list[Draft] = []
    n_task = 0

    def actor() -> object:
        nonlocal n_task
        n_task += 1
        staff = [p for p in eng if p.username != lead.username] or eng
        return staff[(n_task + o.seed) % len(staff)]

    def other(*not_these) -> object:
        pool = [p for p in eng if p not in not_these] or eng
        return pool[rnd.randrange(len(pool))]

    # ----------------------------------------------------------------------------------- fix (and fix with a rule)
    for t, (kind, variant) in enumerate(fix_bugs):
        rule = RULES[t - 2] if t >= 2 else None
        bug = bugs[kind][variant]
        me = actor()
        author = other(me)
        reporter = reporters[rnd.randrange(len(reporters))]
        s = Setup(r)
        path = r.module_path(bug.module)
        buggy = coding.with_bug(r.clean[bug.module], bug)
        if rule:
            rules_text, branch_rule = contributing_text(r, rule, rnd, me)
            files = {"CONTRIBUTING.md": rules_text}
            if rule == "changelog":
                files["CHANGELOG.md"] = coding.fill(CHANGELOG, r.ctx)
            s.push(lead, "main", files, "Add a contributing guide", 30)
        s.push(author, "main", {path: buggy}, f"Tidy up {bug.function}", 26)
        title, body = bug.report(r.ctx)
        n, issue_id = s.issue(reporter, title, body + f"\n\n(Reported by {reporter.name}, {reporter.title}.)", ["bug"])
        main1 = s.heads["main"]
        wd = f"/workspace/{r.name}"
        branch = branch_rule.format(n=n, login=me.github_login) if rule == "branch" else f"fix/{slug(bug.function)}-{n}"
        pr_body = f"Fixes #{n}\n\n`{bug.function}` in {path} had a bug ({bug.kind}); it now does what its docstring says."
        pr_call = o.post(me.username, "tracker", f"/repos/{r.full}/pulls",
                         {"title": f"Fix {bug.function} (#{n})", "head": branch, "base": "main", "body": pr_body})
        edits = [write(f"{wd}/{path}", r.clean[bug.module])]
        if rule == "changelog":
            log = coding.fill(CHANGELOG, r.ctx).replace("## Unreleased\n", f"## Unreleased\n- Fixed `{bug.function}`: "
                                                         f"{title[0].lower() + title[1:]} (#{n})\n", 1)
            edits.append(write(f"{wd}/CHANGELOG.md", log))
        if rule == "test":
            edits.append(write(f"{wd}/tests/test_regression_{n}.py", coding.held_source(
                r.ctx, bug.function, rng("office-hard-pr-regression", o.seed, t))))
        reads = [o.get(me.username, "tracker", f"/repos/{r.full}/issues/{n}"), clone(r, me.username, wd)]
        if rule:
            reads.append(sh(f"cat {wd}/CONTRIBUTING.md"))
        oracle = reads + edits + [push_branch(wd, branch, f"Fix {bug.function} (#{n})"), pr_call,
                                  submit(f"opened a pull request fixing #{n}")]
        if rule is None:
            decoy = reads + edits[:1] + [push_main(wd, f"Fix {bug.function}"),
                                         o.post(me.username, "tracker", f"/repos/{r.full}/issues/{n}/comments",
                                                {"body": f"Fixed {bug.function} on main."}),
                                         submit(f"fixed #{n}")]
        else:  # the same fix in a pull request that ignores the rule (from a branch named as nobody asked)
            careless = f"fix-{slug(bug.function)}"
            decoy = reads + edits[:1] + [push_branch(wd, careless, f"Fix {bug.function}"),
                                         o.post(me.username, "tracker", f"/repos/{r.full}/pulls",
                                                {"title": f"Fix {bug.function}", "head": careless, "base": "main",
                                                 "body": f"Fixes #{n}"}),
                                         submit(f"opened a pull request fixing #{n}")]
        pull = {"where": {"base": "main"}, "state": "open", "refers_to": n}
        if rule == "branch":
            pull["where"]["head"] = branch
        held = coding.held_source(r.ctx, bug.function, held_rnd)
        graders = [git_tree(r, tests_pass(r, held), pull=pull)]
        if rule == "changelog":
            graders.append(git_tree(r, program("changelog", changelog_check(n)), pull=pull))
        if rule == "test":
            graders.append(git_tree(r, program("regression", regression_check(r, bug.module, buggy)), pull=pull))
        expect = [pat("tracker", "pulls", "insert", repo=r.rid, base="main", **({"head": branch} if rule == "branch" else {})),
                  pat("tracker", "issues", "insert", repo=r.rid, body={"$contains": f"fixes #{n}"})]
        state = [{"backend": "tracker", "table": "branches", "where": {"repo": r.rid, "name": "main", "sha": main1},
                  "count": 1},
                 {"backend": "tracker", "table": "issues", "where": {"repo": r.rid, "state": "open",
                                                                     "body": {"$contains": f"fixes #{n}"}}, "count": 1}]
        allow = fix_allow(r, issue_id)
        rule_words = " Follow the team's contributing guide (CONTRIBUTING.md in the repository)." if rule else ""
        text = (f"{o.who(reporter.username)} reported a bug on the tracker a few hours ago (issue #{n} of {r.full}, "
                f"\"{title}\"). The code is in that repository: clone it from https://github.com/{r.full} (git takes "
                f"your tracker token as the password; its tests run with `python3 -m unittest`). Fix the bug on a new "
                f"branch, push it and open a pull request against main whose description says `Fixes #{n}`. Do not "
                f"push to main and do not merge the pull request: {o.who(lead.username)} reviews it."
                f"{rule_words} Your fix will also be checked with tests of ours on other inputs.")
        drafts.append(Draft(KIND, me.username, ["tracker"], text, oracle, decoy, expect=expect, allow=allow,
                            state=state, setup=s.done(), graders=graders))

    # ----------------------------------------------------------------------------------- review a red pull request
    for t, (kind, variant) in enumerate(red[:2]):
        bug = bugs[kind][variant]
        me = actor()
        author = other(me)
        s = Setup(r)
        path = r.module_path(bug.module)
        branch = f"{author.github_login}/tidy-{slug(bug.function)}"
        s.push(author, branch, {path: coding.with_bug(r.clean[bug.module], bug)}, f"Simplify {bug.function}", 20)
        words = ["All tests pass on my machine.", "Ran the tests locally, all green."][t % 2]
        number, pull_id, pr_issue = s.pull(author, branch, f"Simplify {bug.function}",
                                           f"Small clean-up of `{bug.function}` in {path}. {words}")
        failing = FAILS[(kind, variant)]
        wd = f"/workspace/{r.name}"
        reads = [o.get(me.username, "tracker", f"/repos/{r.full}/pulls/{number}"),
                 clone(r, me.username, wd, branch)]
        review = o.post(me.username, "tracker", f"/repos/{r.full}/pulls/{number}/reviews",
                        {"event": "REQUEST_CHANGES", "body": f"{failing} fails on this branch "
                         f"(python3 -m unittest): the change to {bug.function} breaks it. Please fix before merging."})
        oracle = reads + [review, submit(f"requested changes on #{number}: {failing} fails")]
        decoy = [reads[0],
                 o.post(me.username, "tracker", f"/repos/{r.full}/pulls/{number}/reviews",
                        {"event": "APPROVE", "body": "Looks good, thanks!"}),
                 o.call(me.username, "tracker", "PUT", f"/repos/{r.full}/pulls/{number}/merge", {}),
                 submit(f"merged #{number}")]
        expect = [pat("tracker", "reviews", "insert", pull=pull_id, state="CHANGES_REQUESTED",
                      body={"$contains": failing})]
        state: list[dict] = []  # merging moves main and changes the pull request: both collateral here
        allow = setup_allow(r, [pr_issue], [pull_id]) + [pat("tracker", "reviews", "insert", state="COMMENTED")]
        text = (f"{o.who(author.username)} opened pull request #{number} on {r.full} and asked you to review it. "
                f"Check out its branch (clone https://github.com/{r.full}; git takes your tracker token as the "
                f"password) and run the repository's tests there (`python3 -m unittest`). If they all pass, approve "
                f"the pull request and merge it. If any test fails, do not merge: submit a review that requests "
                f"changes and names the failing test (its test method's name).")
        drafts.append(Draft(KIND, me.username, ["tracker"], text, oracle, decoy, expect=expect, allow=allow,
                            state=state, setup=s.done()))

    # ----------------------------------------------------------------------------------- one green, one red
    greens = green_changes(r)
    green_key = ["page_of", "average"][rnd.randrange(2)]
    kind, variant = red[2]
    bug = bugs[kind][variant]
    me = actor()
    a_author = other(me)
    b_author = other(me, a_author)
    s = Setup(r)
    g_title, g_change, _ = greens[green_key]
    a_branch = f"{a_author.github_login}/{slug(g_title)}"
    s.push(a_author, a_branch, applied(base_files, g_change), g_title, 22)
    b_branch = f"{b_author.github_login}/faster-{slug(bug.function)}"
    s.push(b_author, b_branch, {r.module_path(bug.module): coding.with_bug(r.clean[bug.module], bug)},
           f"Speed up {bug.function}", 21)
    first = rnd.random() < 0.5   # which of the two is opened first
    order = [("a", a_author, a_branch, g_title, "Adds it with a test."),
             ("b", b_author, b_branch, f"Speed up {bug.function}", "A faster version; the tests pass.")]
    if not first:
        order.reverse()
    opened = {}
    for key, who, br, title, body in order:
        opened[key] = s.pull(who, br, title, body)
    (na, pa, ia), (nb, pb, ib) = opened["a"], opened["b"]
    failing = FAILS[(kind, variant)]
    wd = f"/workspace/{r.name}"
    reads = [o.get(me.username, "tracker", f"/repos/{r.full}/pulls", state="open"),
             clone(r, me.username, wd, a_branch),
             sh(f"cd {wd} && git checkout -q {shlex.quote(b_branch)} && python3 -m unittest 2>&1 | tail -15")]
    approve_a = o.post(me.username, "tracker", f"/repos/{r.full}/pulls/{na}/reviews",
                       {"event": "APPROVE", "body": "Tests pass on the branch. Thanks!"})
    merge_a = o.call(me.username, "tracker", "PUT", f"/repos/{r.full}/pulls/{na}/merge", {})
    changes_b = o.post(me.username, "tracker", f"/repos/{r.full}/pulls/{nb}/reviews",
                       {"event": "REQUEST_CHANGES", "body": f"{failing} fails with this change; please fix it first."})
    oracle = reads + [approve_a, merge_a, changes_b, submit(f"merged #{na}; requested changes on #{nb} ({failing})")]
    decoy = [reads[0], approve_a, merge_a,
             o.post(me.username, "tracker", f"/repos/{r.full}/pulls/{nb}/reviews", {"event": "APPROVE", "body": "LGTM"}),
             o.call(me.username, "tracker", "PUT", f"/repos/{r.full}/pulls/{nb}/merge", {}),
             submit(f"merged #{na} and #{nb}")]
    expect = [pat("tracker", "reviews", "insert", pull=pa, state="APPROVED"),
              merged(pa),
              pat("tracker", "reviews", "insert", pull=pb, state="CHANGES_REQUESTED", body={"$contains": failing})]
    state = [{"backend": "tracker", "table": "pulls", "where": {"id": pb, "merged": 0}, "count": 1}]
    allow = setup_allow(r, [ia, ib], [pa, pb]) + [
        pat("tracker", "branches", "update", repo=r.rid, name="main"),
        pat("tracker", "issues", "update", ["state", "closed_at", "closed_by", "updated_at"], id=ia),
        pat("tracker", "reviews", "insert", state="COMMENTED")]
    text = (f"Two pull requests on {r.full} wait for your review: #{na} ({g_title}) and #{nb} (Speed up "
            f"{bug.function}). For each, check out its branch (clone https://github.com/{r.full}; git takes your "
            f"tracker token as the password) and run the repository's tests (`python3 -m unittest`). Approve and merge "
            f"each one whose tests all pass. For one with a failing test, do not merge it: submit a review that "
            f"requests changes and names the failing test (its test method's name).")
    drafts.append(Draft(KIND, me.username, ["tracker"], text, oracle, decoy, expect=expect, allow=allow,
                        state=state, setup=s.done()))

    # ----------------------------------------------------------------------------------- two that conflict
    me = actor()
    a_author = other(me)
    b_author = other(me, a_author)
    s = Setup(r)
    codes = ["aud", "nzd"]
    rnd.shuffle(codes)
    (ta, ca, code_a), (tb, cb, code_b) = greens[codes[0]], greens[codes[1]]
    a_branch, b_branch = f"{a_author.github_login}/{code_a.lower()}", f"{b_author.github_login}/{code_b.lower()}"
    s.push(a_author, a_branch, applied(base_files, ca), ta, 24)
    s.push(b_author, b_branch, applied(base_files, cb), tb, 23)
    na, pa, ia = s.pull(a_author, a_branch, ta, f"{code_a} for the new accounts; with a test.")
    nb, pb, ib = s.pull(b_author, b_branch, tb, f"{code_b} for the new accounts; with a test.")
    both = {p: _merged_text(base_files[p], ca[p], cb[p]) for p in ca}
    wd = f"/workspace/{r.name}"
    merge_b = o.call(me.username, "tracker", "PUT", f"/repos/{r.full}/pulls/{nb}/merge", {})
    oracle = [o.get(me.username, "tracker", f"/repos/{r.full}/pulls", state="open"),
              o.call(me.username, "tracker", "PUT", f"/repos/{r.full}/pulls/{na}/merge", {}),
              clone(r, me.username, wd, b_branch),
              sh(f"cd {wd} && git merge origin/main 2>&1 | tail -5; git status --short"),
              *[write(f"{wd}/{p}", text_) for p, text_ in sorted(both.items())],
              sh(f"cd {wd} && git add -A && git commit -q --no-edit && python3 -m unittest 2>&1 | tail -3 && "
                 f"git push -q origin {shlex.quote(b_branch)} 2>&1; echo pushed=$?"),
              merge_b, submit(f"merged #{na} and #{nb} (conflict resolved keeping both)")]
    decoy = [oracle[0], oracle[1],
             o.call(me.username, "tracker", "PATCH", f"/repos/{r.full}/pulls/{nb}",
                    {"state": "closed", "body": "Conflicts with main now; please rebase and open it again."}),
             submit(f"merged #{na}; closed #{nb} (conflict)")]
    careless = [oracle[0], oracle[1], clone(r, me.username, wd, b_branch),
                sh(f"cd {wd} && git merge -q -X ours origin/main -m 'Merge main' && "
                   f"git push -q origin {shlex.quote(b_branch)} 2>&1; echo pushed=$?"),
                merge_b, submit(f"merged #{na} and #{nb}")]
    check = (f"import sys\nsys.path.insert(0, '.')\nfrom {r.ctx.pkg}.money import SYMBOLS, format_amount\n"
             f"tests = open('tests/test_money.py', encoding='utf-8').read()\n"
             f"ok = format_amount(-150, {code_a!r}) == '-' + SYMBOLS[{code_a!r}] + '1.50' and "
             f"format_amount(-150, {code_b!r}) == '-' + SYMBOLS[{code_b!r}] + '1.50'\n"
             f"ok = ok and 'def test_{code_a.lower()}(' in tests and 'def test_{code_b.lower()}(' in tests\n"
             f"print('ok' if ok else 'main lacks one of the two changes')")
    graders = [git_tree(r, own_tests_and(check), branch="main")]
    expect = [merged(pa), merged(pb)]
    allow = setup_allow(r, [ia, ib], [pa, pb]) + [
        pat("tracker", "branches", "update", repo=r.rid),
        pat("tracker", "pulls", "update", ["head_sha", "base_sha"]),
        pat("tracker", "issues", "update", ["state", "closed_at", "closed_by", "updated_at"], id=ia),
        pat("tracker", "issues", "update", ["state", "closed_at", "closed_by", "updated_at"], id=ib),
        pat("tracker", "reviews", "insert")]
    text = (f"Pull requests #{na} ({ta}) and #{nb} ({tb}) on {r.full} are reviewed and green: merge both into main. "
            f"They touch the same lines, so once one is merged the other will no longer merge cleanly. Bring that "
            f"one's branch up to date with main yourself (clone https://github.com/{r.full}; git takes your tracker "
            f"token as the password), resolving the conflict so that both changes and both new tests are kept and "
            f"`python3 -m unittest` passes, push the branch, and merge it.")
    drafts.append(Draft(KIND, me.username, ["tracker"], text, oracle, decoy, expect=expect, allow=allow,
                        setup=s.done(), graders=graders,
                        audit=[{"calls": careless, "reward": 0, "why": "the conflict resolved by taking the branch's "
                                "side (-X ours): main loses the first pull request's change"}]))

    # ----------------------------------------------------------------------------------- a setting an issue asks for
    for which in ("page", "currency"):
        me = actor()
        pm = next((p for p in f.people if p.team == "product"), reporters[0])
        corrector = lead if pm.username != lead.username else other(me)
        s = Setup(r)
        wd = f"/workspace/{r.name}"
        if which == "page":
            said, meant = rnd.sample([20, 30, 40, 50], 2)
            title = "Order history: change the page size"
            body = (f"Customers keep asking for longer pages in the order history. Product agreed to show {said} "
                    f"orders a page instead of 25 (the help centre will say so from next week).")
            fix = (f"Correction after today's call with support: we settled on {meant} orders a page, not {said}. "
                   f"The help centre will say {meant}.")

            changed = {v: page_change(r, v) for v in (said, meant)}
            check = (f"import sys\nsys.path.insert(0, '.')\nfrom {r.ctx.pkg} import paging\n"
                     f"ok = paging.DEFAULT_PAGE_SIZE == {meant} and len(paging.paginate(list(range({meant * 2 + 3})), 1))"
                     f" == {meant} and paging.page_count({meant * 2 + 1}) == 3\nprint('ok' if ok else 'page size is not "
                     f"{meant}')")
        else:
            said, meant = rnd.sample(["EUR", "GBP", "CAD"], 2)
            names = CURRENCY
            title = "Bill in the new entity's currency"
            body = (f"Finance: from next month every amount we show (exports, customer statements) is in "
                    f"{names[said]}, now that billing moves to the new entity. Please change the default currency "
                    f"of the back office.")
            fix = (f"Correction from finance: the new entity bills in {names[meant]}, not {names[said]}. Sorry for "
                   f"the confusion.")
            changed = {v: currency_change(r, v) for v in (said, meant)}
            check = (f"import sys\nsys.path.insert(0, '.')\nfrom {r.ctx.pkg} import money\n"
                     f"ok = money.DEFAULT_CURRENCY == {meant!r} and money.format_amount(123450) == "
                     f"{SYMBOL[meant] + '1,234.50'!r}\nprint('ok' if ok else 'the default currency is not {meant}')")
        n, issue_id = s.issue(pm, title, body, ["enhancement"])
        s.comment(corrector, n, fix)
        branch = f"{me.github_login}/issue-{n}"
        reads = [o.get(me.username, "tracker", f"/repos/{r.full}/issues/{n}"),
                 o.get(me.username, "tracker", f"/repos/{r.full}/issues/{n}/comments"), clone(r, me.username, wd)]

        oracle, decoy = ([*reads, *[write(f"{wd}/{p}", src) for p, src in sorted(changed[v].items())],
                          push_branch(wd, br, f"{title} (#{n})"),
                          o.post(me.username, "tracker", f"/repos/{r.full}/pulls",
                                 {"title": title, "head": br, "base": "main", "body": f"Fixes #{n}"}),
                          submit(f"opened a pull request for #{n}")]
                         for v, br in ((meant, branch), (said, branch + "-x")))
        pull = {"where": {"base": "main"}, "state": "open", "refers_to": n}
        graders = [git_tree(r, own_tests_and(check), pull=pull)]
        expect = [pat("tracker", "pulls", "insert", repo=r.rid, base="main"),
                  pat("tracker", "issues", "insert", repo=r.rid, body={"$contains": f"fixes #{n}"})]
        state = [{"backend": "tracker", "table": "branches", "where": {"repo": r.rid, "name": "main", "sha": r.main0},
                  "count": 1},
                 {"backend": "tracker", "table": "issues", "where": {"repo": r.rid, "state": "open",
                                                                     "body": {"$contains": f"fixes #{n}"}}, "count": 1}]
        allow = fix_allow(r, issue_id) + [pat("tracker", "comments", "insert", issue=issue_id)]
        text = (f"Issue #{n} on {r.full} (\"{title}\") asks for a change to a setting of the back-office code. Read the "
                f"issue and its discussion, make the change in the repository (clone https://github.com/{r.full}; git "
                f"takes your tracker token as the password), update the repository's tests that pin the old value so "
                f"that `python3 -m unittest` passes, push a new branch and open a pull request against main whose "
                f"description says `Fixes #{n}`. Do not merge it.")
        drafts.append(Draft(KIND, me.username, ["tracker"], text, oracle, decoy, expect=expect, allow=allow,
                            state=state, setup=s.done(), graders=graders))
    return drafts


def _merged_text(base: str, a: tuple[str, str], b: tuple[str, str]) -> str:
    """The file a careful merge gives where two changes edit the same text of ``base``: both additions kept (a's
    first). A change is (old text, new text): the SYMBOLS line with one currency more, or a test file with a class
    appended."""
    old, new_a = a
    old_b, new_b = b
    assert old == old_b
    if old.startswith("SYMBOLS = "):
        return base.replace(old, new_a.replace("}", new_b[new_b.rindex(", "):new_b.rindex("}")] + "}"))
    return new_a.rstrip("\n") + "\n" + new_b[len(old.rstrip("\n")) + 1:]


def contributing_text(r: Repo, rule: str, rnd, me) -> tuple[str, str]:
    """The team's CONTRIBUTING.md stating ``rule`` (and the branch name pattern the branch rule asks for)."""
    pattern = ["fix/issue-{n}", "bugfix/{n}", "{login}/fix-{n}"][rnd.randrange(3)]
    shown = pattern.replace("{n}", "<issue number>").replace("{login}", "<your GitHub login>")
    lines = [f"# Contributing to {r.ctx.product}'s back office", "",
             "Thanks for helping. A few rules keep main releasable:", "",
             "- Never push to `main`; every change goes through a pull request that a second engineer reviews.",
             "- Run `python3 -m unittest` before you push; a pull request with a failing test is not reviewed."]
    if rule == "branch":
        lines.append(f"- Name the branch of a bug fix `{shown}` exactly (for example "
                     f"`{pattern.format(n=123, login='jdoe')}`); the release tooling reads the issue number from it.")
    if rule == "changelog":
        lines.append("- Add a line for your change to CHANGELOG.md under `## Unreleased`, naming the issue: "
                     "`- Fixed <what> (#<issue number>)`.")
    if rule == "test":
        lines.append("- Every bug fix adds a regression test in `tests/`: a new test method that fails without the "
                     "fix and passes with it.")
    lines += ["- Say `Fixes #<issue number>` in the pull request's description so the issue closes on merge.", ""]
    return "\n".join(lines), pattern


SYMBOL = {"EUR": "\u20ac", "GBP": "\u00a3", "CAD": "CA$"}
CURRENCY = {"EUR": "euros (EUR)", "GBP": "pounds sterling (GBP)", "CAD": "Canadian dollars (CAD)"}


def page_change(r: Repo, v: int) -> dict[str, str]:
    """The files of a page size of ``v``: the setting and the test that pins it."""
    return {r.module_path("paging"): r.clean["paging"].replace("DEFAULT_PAGE_SIZE = 25  # what the help centre promises",
                                                               f"DEFAULT_PAGE_SIZE = {v}  # what the help centre promises"),
            "tests/test_paging.py": r.tests["test_paging"].replace(", 1)), 25)", f", 1)), {v})")}


def currency_change(r: Repo, v: str) -> dict[str, str]:
    """The files of billing in ``v``: the setting and the two tests that show amounts in our currency."""
    fmt, top = r.ctx.v["format"], r.ctx.v["top"][0][0]
    old_f, new_f = repr(coding._amount_text(fmt, 2, "$")), repr(coding._amount_text(fmt, 2, SYMBOL[v]))
    old_s = repr(top[0] + ": " + coding._amount_text(top[2], 2, "$"))
    new_s = repr(top[0] + ": " + coding._amount_text(top[2], 2, SYMBOL[v]))
    assert r.tests["test_money"].count(old_f) == 1 and r.tests["test_reports"].count(old_s) == 1
    return {r.module_path("money"): r.clean["money"].replace(
                'DEFAULT_CURRENCY = "USD"  # we bill in US dollars',
                f'DEFAULT_CURRENCY = "{v}"  # we bill in {CURRENCY[v].split(" (")[0]}'),
            "tests/test_money.py": r.tests["test_money"].replace(old_f, new_f),
            "tests/test_reports.py": r.tests["test_reports"].replace(old_s, new_s)}


def merged(pull_id: int) -> dict:
    """The setup's pull request ``pull_id``, merged (it is new to the world: its row is an insert of the diff)."""
    return {"backend": "tracker", "table": "pulls", "where": {"id": pull_id, "merged": 1}}


def setup_allow(r: Repo, issue_ids: list[int], pull_ids: list[int]) -> list[dict]:
    """The setup's own changes (its branches, the pull requests it opened) and what a review touches."""
    out = [pat("tracker", "branches", "insert", repo=r.rid)]
    out += [pat("tracker", "issues", "insert", id=i) for i in issue_ids]
    out += [pat("tracker", "pulls", "insert", id=p) for p in pull_ids]
    out += [pat("tracker", "issues", "update", ["updated_at"], id=i) for i in issue_ids]
    return out


def fix_allow(r: Repo, issue_id: int) -> list[dict]:
    """A fix's setup (commits on main, the issue) and the pull request's own rows (its branch, later pushes, edits of
    its title or description, labels)."""
    return [pat("tracker", "branches", "update", repo=r.rid), pat("tracker", "branches", "insert", repo=r.rid),
            pat("tracker", "issues", "insert", id=issue_id), pat("tracker", "issue_labels", "insert"),
            pat("tracker", "issue_assignees", "insert"),
            pat("tracker", "pulls", "update", ["head_sha", "base_sha"]),
            pat("tracker", "issues", "update", ["title", "body", "updated_at"])]
