"""Generated the first version of envs/suites/sandbox/tasks.yaml (seeded data, answers computed here).

envs/suites/sandbox/tasks.yaml is the source of truth (it still equals this script's output); re-running this
overwrites it. Verify with
.venv/bin/python scripts/check_suites.py
"""
import collections
import datetime
import hashlib
import json
import pathlib
import random
import re
import shlex

import yaml

R = random.Random(20261123)
tasks = []; comments = {}

def add(comment, **t):
    tasks.append(t); comments[t["id"]] = comment

def sid(): return f"sandbox-{len(tasks)+1:03d}"

# ---------------------------------------------------------------- data: sales.csv
regions = ["north", "south", "east", "west"]
products = ["widget", "gadget", "gizmo", "doohickey"]
rows = []
for i in range(48):
    d = datetime.date(2026, 1, 1) + datetime.timedelta(days=R.randrange(0, 90))
    rows.append((d.isoformat(), R.choice(regions), R.choice(products), R.randint(1, 20), R.choice([2.5, 4.99, 7.25, 12.0, 19.99, 3.75])))
rows.sort()
sales = "date,region,product,qty,unit_price\n" + "".join(f"{a},{b},{c},{q},{p}\n" for a, b, c, q, p in rows)
total = round(sum(q * p for *_, q, p in rows), 2)
by_region = collections.Counter()
for _, r, _, q, p in rows: by_region[r] += q * p
best_region, second = by_region.most_common(2)
by_product_qty = collections.Counter()
for _, _, pr, q, _ in rows: by_product_qty[pr] += q
march = sum(q for d, *_rest, q, p in [(r[0], r[1], r[2], r[3], r[4]) for r in rows] if d.startswith("2026-03"))

# ---------------------------------------------------------------- data: access.log
ips = [f"10.0.{R.randint(0,3)}.{R.randint(2,250)}" for _ in range(9)]
paths = ["/", "/index.html", "/api/items", "/api/items/7", "/login", "/static/app.js", "/favicon.ico", "/admin"]
log_lines = []; recs = []
t0 = datetime.datetime(2026, 11, 20, 8, 0, 0)
for i in range(80):
    ip = R.choices(ips, weights=[9, 3, 3, 2, 2, 2, 1, 1, 1])[0]
    path = R.choice(paths)
    status = R.choices([200, 404, 500, 301], weights=[70, 15, 5, 10])[0]
    size = R.randint(120, 9000) if status == 200 else R.randint(0, 300)
    t = t0 + datetime.timedelta(seconds=37 * i + R.randint(0, 30))
    method = "POST" if path == "/login" else "GET"
    log_lines.append(f'{ip} - - [{t.strftime("%d/%b/%Y:%H:%M:%S")} +0000] "{method} {path} HTTP/1.1" {status} {size}\n')
    recs.append((ip, path, status, size))
access = "".join(log_lines)
n404 = sum(1 for r in recs if r[2] == 404)
ipc = collections.Counter(r[0] for r in recs).most_common(2)
assert ipc[0][1] > ipc[1][1]
bytes200 = sum(r[3] for r in recs if r[2] == 200)
paths404 = collections.Counter(r[1] for r in recs if r[2] == 404).most_common(2)

# ---------------------------------------------------------------- data: users.json
names = ["Ada", "Grace", "Linus", "Guido", "Barbara", "Ken", "Dennis", "Margaret", "Alan", "Edsger", "Donald", "Frances",
         "John", "Radia", "Tim", "Sophie", "Bjarne", "Anders", "Yukihiro", "Larry", "Brendan", "Hedy", "Katherine", "Niklaus", "Fran"]
tagpool = ["admin", "dev", "ops", "qa", "design", "data", "security", "support"]
users = []
for i, n in enumerate(names):
    users.append({"id": i + 1, "name": n, "age": R.randint(21, 68), "active": R.random() < 0.6,
                  "tags": sorted(R.sample(tagpool[:7], R.randint(0, 3)))})
users_json = json.dumps(users, indent=2) + "\n"
act = [u["age"] for u in users if u["active"]]
avg_active = round(sum(act) / len(act), 2)
distinct_tags = len({t for u in users for t in u["tags"]})

# ---------------------------------------------------------------- project tree
proj = {}
todo_count = 0
py_count = 0
for d in ["", "core/", "core/util/", "web/", "web/templates/", "tests/"]:
    for j in range(R.randint(1, 3)):
        ext = R.choice([".py", ".py", ".py", ".txt", ".md", ".pyc.bak"])
        name = f"/workspace/project/{d}mod{j}{ext}"
        lines = []
        for k in range(R.randint(3, 8)):
            if R.random() < 0.25: lines.append(f"# TODO: item {k}")
            else: lines.append(f"x{k} = {k}")
        content = "\n".join(lines) + "\n"
        proj[name] = content
        if ext == ".py": py_count += 1
        todo_count += sum(1 for l in lines if "TODO" in l)

# ---------------------------------------------------------------- docs sizes
docs = {}
for nm, n in [("intro.md", 412), ("install.md", 1337), ("faq.md", 980), ("changelog.md", 1290), ("api.md", 1301)]:
    docs[f"/workspace/docs/{nm}"] = ("lorem ipsum " * 200)[: n - 1] + "\n"
largest_doc = max(docs, key=lambda k: len(docs[k].encode())).rsplit("/", 1)[1]

release = "airgap release 1.4.2\nbuild: 20261123\nchannel: stable\n"
release_hash = hashlib.sha256(release.encode()).hexdigest()[:16]

# ---------------------------------------------------------------- scripts to fix
numbers = [R.randint(1, 100) for _ in range(20)]
numbers_txt = "\n".join(map(str, numbers)) + "\n"
mean_expected = f"{sum(numbers)/len(numbers):.2f}"
average_py = '''import sys

def mean(values):
    return sum(values) / (len(values) - 1)

with open("/workspace/numbers.txt") as f:
    values = [int(line) for line in f if line.strip()]
print(f"{mean(values):.2f}")
'''
text_txt = "The  quick brown fox\njumps over   the lazy dog.\n\nPack my box with  five dozen liquor jugs.\n"
wc_expected = str(len(text_txt.split()))
wordcount_py = '''with open("/workspace/text.txt") as f:
    text = f.read()
print(len(text.split(" ")))
'''
euler_py = '''total = 0
for n in range(1000):
    if n % 3 == 0 and n % 5 == 0:
        total += n
print(total)
'''
orders = [{"id": i, "customer": R.choice(names[:6]), "amount": round(R.uniform(5, 250), 2)} for i in range(1, 16)]
orders_json = json.dumps(orders, indent=2) + "\n"
orders_total = f"{sum(o['amount'] for o in orders):.2f}"
totals_py = '''import json

with open("/workspace/orders.json") as f:
    orders = json.load(f)
total = sum(order["ammount"] for order in orders)
print(f"{total:.2f}")
'''
levels = R.choices(["INFO", "WARN", "ERROR", "DEBUG"], weights=[10, 4, 2, 3], k=40)
app_log = "".join(f"2026-11-20T09:{i:02d}:00Z {lv} worker-{R.randint(1,4)} event {i}\n" for i, lv in enumerate(levels))
warn_count = str(sum(1 for l in levels if l == "WARN"))
error_count = sum(1 for l in levels if l == "ERROR")
count_warn_sh = '''#!/bin/bash
# print how many lines of /workspace/app.log have level WARN
grep -c " warn " /workspace/app.log
'''
dates = sorted({(datetime.date(2026, 1, 1) + datetime.timedelta(days=R.randrange(0, 300))) for _ in range(12)})
dl = list(dates); R.shuffle(dl)
dates_txt = "\n".join(d.isoformat() for d in dl) + "\n"
span_expected = str((max(dates) - min(dates)).days)
span_py = '''from datetime import datetime

with open("/workspace/dates.txt") as f:
    days = [datetime.strptime(line.strip(), "%Y-%d-%m") for line in f if line.strip()]
print((max(days) - min(days)).days)
'''

# ---------------------------------------------------------------- output-file data
raw_names = ["carol", "alice", "dave", "bob", "alice", "erin", "carol", "bob", "frank"]
names_txt = "\n".join(raw_names) + "\n"
sorted_unique = sorted(set(raw_names))
people_csv = "name,age,city\nAda,36,London\nGrace,45,Arlington\nLinus,29,Helsinki\nGuido,41,Haarlem\nBarbara,29,Boston\n"
people_sum = 36 + 45 + 29 + 41 + 29
logs_files = {f"/workspace/logs/{n}": f"{n} line\n" for n in ["a.log", "b.log", "c.log"]}
logs_files["/workspace/logs/notes.txt"] = "not a log\n"

W = "/workspace"
# ================================================================= tasks
add("answer = sum(qty * unit_price) over all rows of sales.csv, computed by the generator and by the oracle",
    id=sid(), kind="shell",
    instruction="The file /workspace/sales.csv lists sales (columns date, region, product, qty, unit_price). What is the total revenue, i.e. the sum of qty * unit_price over all rows? Answer with the number rounded to 2 decimal places.",
    answer=f"{total:.2f}", setup={"files": {f"{W}/sales.csv": sales}},
    graders=[{"type": "numeric", "expected": total, "tol": 0.01}],
    oracle=[{"tool": "shell", "args": {"command": "head -3 /workspace/sales.csv"}},
            {"tool": "python", "args": {"code": "import csv\nrows = list(csv.DictReader(open('/workspace/sales.csv')))\nprint(f\"{sum(int(r['qty']) * float(r['unit_price']) for r in rows):.2f}\")"}},
            {"tool": "submit", "args": {"answer": f"{total:.2f}"}}])
add(f"per-region revenue: {dict((k, round(v, 2)) for k, v in by_region.items())}",
    id=sid(), kind="shell",
    instruction="The file /workspace/sales.csv lists sales (columns date, region, product, qty, unit_price). Which region has the highest total revenue (sum of qty * unit_price)? Answer with the region name only.",
    answer=best_region[0], setup={"files": {f"{W}/sales.csv": sales}},
    graders=[{"type": "normalized_match", "expected": [best_region[0]]}],
    oracle=[{"tool": "python", "args": {"code": "import csv, collections\nc = collections.Counter()\nfor r in csv.DictReader(open('/workspace/sales.csv')):\n    c[r['region']] += int(r['qty']) * float(r['unit_price'])\nprint(c.most_common(1)[0][0])"}},
            {"tool": "submit", "args": {"answer": best_region[0]}}])
add("sum of qty over rows dated 2026-03-*",
    id=sid(), kind="shell",
    instruction="The file /workspace/sales.csv lists sales (columns date, region, product, qty, unit_price). How many units (sum of qty) were sold in March 2026? Answer with the number.",
    answer=str(march), setup={"files": {f"{W}/sales.csv": sales}},
    graders=[{"type": "numeric", "expected": march, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "grep '^2026-03' /workspace/sales.csv | awk -F, '{s += $4} END {print s}'"}},
            {"tool": "submit", "args": {"answer": str(march)}}])
add("count of lines whose status field ($9 in awk) is 404",
    id=sid(), kind="shell",
    instruction="/workspace/access.log is a web server access log in Common Log Format. How many requests got the HTTP status 404? Answer with the number.",
    answer=str(n404), setup={"files": {f"{W}/access.log": access}},
    graders=[{"type": "numeric", "expected": n404, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "awk '$9 == 404' /workspace/access.log | wc -l"}},
            {"tool": "submit", "args": {"answer": str(n404)}}])
add(f"top two client IPs by request count: {ipc} (unique maximum)",
    id=sid(), kind="shell",
    instruction="/workspace/access.log is a web server access log in Common Log Format. Which client IP address made the most requests? Answer with the IP address only.",
    answer=ipc[0][0], setup={"files": {f"{W}/access.log": access}},
    graders=[{"type": "regex", "pattern": "^\\s*" + re.escape(ipc[0][0]) + "\\s*$"}],
    oracle=[{"tool": "shell", "args": {"command": "cut -d' ' -f1 /workspace/access.log | sort | uniq -c | sort -rn | head -1 | awk '{print $2}'"}},
            {"tool": "submit", "args": {"answer": ipc[0][0]}}])
add("sum of the size field ($10) over requests with status 200",
    id=sid(), kind="shell",
    instruction="/workspace/access.log is a web server access log in Common Log Format (the last field is the response size in bytes). What is the total number of bytes sent in responses with status 200? Answer with the number.",
    answer=str(bytes200), setup={"files": {f"{W}/access.log": access}},
    graders=[{"type": "numeric", "expected": bytes200, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "awk '$9 == 200 {s += $10} END {print s}' /workspace/access.log"}},
            {"tool": "submit", "args": {"answer": str(bytes200)}}])
add(f"active users' ages: {act}",
    id=sid(), kind="shell",
    instruction="/workspace/users.json is a JSON list of user records (id, name, age, active, tags). What is the average age of the users whose active field is true? Answer with the number rounded to 2 decimal places.",
    answer=f"{avg_active:.2f}", setup={"files": {f"{W}/users.json": users_json}},
    graders=[{"type": "numeric", "expected": avg_active, "tol": 0.01}],
    oracle=[{"tool": "python", "args": {"code": "import json\nu = json.load(open('/workspace/users.json'))\na = [x['age'] for x in u if x['active']]\nprint(f'{sum(a) / len(a):.2f}')"}},
            {"tool": "submit", "args": {"answer": f"{avg_active:.2f}"}}])
add(f"distinct tags: {sorted({t for u in users for t in u['tags']})}",
    id=sid(), kind="shell",
    instruction="/workspace/users.json is a JSON list of user records (id, name, age, active, tags). How many distinct tags appear across all users? Answer with the number.",
    answer=str(distinct_tags), setup={"files": {f"{W}/users.json": users_json}},
    graders=[{"type": "numeric", "expected": distinct_tags, "tol": 0}],
    oracle=[{"tool": "python", "args": {"code": "import json\nu = json.load(open('/workspace/users.json'))\nprint(len({t for x in u for t in x['tags']}))"}},
            {"tool": "submit", "args": {"answer": str(distinct_tags)}}])
add("files ending in exactly '.py' (the tree also holds .txt, .md and .pyc.bak decoys)",
    id=sid(), kind="shell",
    instruction="How many Python source files (names ending in .py) are there under /workspace/project, including all subdirectories? Answer with the number.",
    answer=str(py_count), setup={"files": proj},
    graders=[{"type": "numeric", "expected": py_count, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "find /workspace/project -type f -name '*.py' | wc -l"}},
            {"tool": "submit", "args": {"answer": str(py_count)}}])
add("lines containing TODO in any file of the tree",
    id=sid(), kind="shell",
    instruction="How many lines, across all files under /workspace/project (recursively, any file type), contain the text TODO? Answer with the number.",
    answer=str(todo_count), setup={"files": proj},
    graders=[{"type": "numeric", "expected": todo_count, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "grep -r TODO /workspace/project | wc -l"}},
            {"tool": "submit", "args": {"answer": str(todo_count)}}])
add(f"sizes: {dict((k.rsplit('/',1)[1], len(v)) for k, v in docs.items())}",
    id=sid(), kind="shell",
    instruction="Which file in /workspace/docs is the largest in bytes? Answer with the file name only (e.g. name.md).",
    answer=largest_doc, setup={"files": docs},
    graders=[{"type": "normalized_match", "expected": [largest_doc, f"/workspace/docs/{largest_doc}", f"docs/{largest_doc}"]}],
    oracle=[{"tool": "shell", "args": {"command": "ls -S /workspace/docs | head -1"}},
            {"tool": "submit", "args": {"answer": largest_doc}}])
add("sha256 of the exact file contents (three lines, trailing newline)",
    id=sid(), kind="shell",
    instruction="What are the first 16 hexadecimal characters of the SHA-256 checksum of the file /workspace/release.txt? Answer with those 16 characters.",
    answer=release_hash, setup={"files": {f"{W}/release.txt": release}},
    graders=[{"type": "regex", "pattern": "^\\s*" + release_hash + "\\s*$", "flags": "i"}],
    oracle=[{"tool": "shell", "args": {"command": "sha256sum /workspace/release.txt | cut -c1-16"}},
            {"tool": "submit", "args": {"answer": release_hash}}])
# -- fix a script. Each fixed script is also run on a held-back input the agent never saw (the instruction says so),
# so a script that prints the answer it found (`echo 6`) fails.
HELD_NOTE = " The fixed script is also checked on other inputs of the same format."


def held_back(path: str, content: str, run: str, expected: str) -> dict:
    """A command_output grader: put ``content`` in ``path`` for the run of ``run`` (the original comes back after)."""
    return {"type": "command_output", "expected": expected,
            "command": f"cp {path} /tmp/.airgap-held && printf %s {shlex.quote(content)} > {path} && {run}; "
                       f"s=$?; cp /tmp/.airgap-held {path}; exit $s"}


add(f"bug: divides by len-1; before the fix it prints {sum(numbers)/(len(numbers)-1):.2f}",
    id=sid(), kind="shell",
    instruction="The script /workspace/average.py should print the arithmetic mean of the numbers in /workspace/numbers.txt with two decimals, but its result is wrong. Fix the script in place (keep the output format), then submit the value it prints." + HELD_NOTE,
    answer=mean_expected, setup={"files": {f"{W}/average.py": average_py, f"{W}/numbers.txt": numbers_txt}},
    graders=[{"type": "command_output", "command": "python3 /workspace/average.py", "expected": mean_expected},
             held_back("/workspace/numbers.txt", "10\n20\n30\n45\n", "python3 /workspace/average.py", "26.25"),
             {"type": "numeric", "expected": float(mean_expected), "tol": 0.005}],
    oracle=[{"tool": "read_file", "args": {"path": "/workspace/average.py"}},
            {"tool": "shell", "args": {"command": "sed -i 's|(len(values) - 1)|len(values)|' /workspace/average.py && python3 /workspace/average.py"}},
            {"tool": "submit", "args": {"answer": mean_expected}}])
add(f"bug: split(' ') counts empty strings and joins words across newlines; before the fix it prints {len(text_txt.split(' '))}",
    id=sid(), kind="shell",
    instruction="The script /workspace/wordcount.py should print the number of whitespace-separated words in /workspace/text.txt, but it miscounts. Fix the script in place, then submit the number it prints." + HELD_NOTE,
    answer=wc_expected, setup={"files": {f"{W}/wordcount.py": wordcount_py, f"{W}/text.txt": text_txt}},
    graders=[{"type": "command_output", "command": "python3 /workspace/wordcount.py", "expected": wc_expected},
             held_back("/workspace/text.txt", "one two  three\n\nfour\tfive six\n", "python3 /workspace/wordcount.py", "6"),
             {"type": "numeric", "expected": int(wc_expected), "tol": 0}],
    oracle=[{"tool": "read_file", "args": {"path": "/workspace/wordcount.py"}},
            {"tool": "write_file", "args": {"path": "/workspace/wordcount.py", "content": "with open(\"/workspace/text.txt\") as f:\n    text = f.read()\nprint(len(text.split()))\n"}},
            {"tool": "shell", "args": {"command": "python3 /workspace/wordcount.py"}},
            {"tool": "submit", "args": {"answer": wc_expected}}])
add("Project Euler 1: 233168; the buggy 'and' version prints 33165",
    id=sid(), kind="shell",
    instruction="The script /workspace/euler.py should print the sum of all natural numbers below 1000 that are multiples of 3 or 5, but it prints the wrong value. Fix the script in place, then submit the value it prints. The fixed script is also checked with the bound 1000 changed to 100.",
    answer="233168", setup={"files": {f"{W}/euler.py": euler_py}},
    graders=[{"type": "command_output", "command": "python3 /workspace/euler.py", "expected": "233168"},
             {"type": "command_output", "command": "sed 's/1000/100/' /workspace/euler.py > /tmp/euler100.py && python3 /tmp/euler100.py", "expected": "2318"},
             {"type": "numeric", "expected": 233168, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "sed -i 's/n % 3 == 0 and n % 5 == 0/n % 3 == 0 or n % 5 == 0/' /workspace/euler.py && python3 /workspace/euler.py"}},
            {"tool": "submit", "args": {"answer": "233168"}}])
add("bug: KeyError 'ammount' (typo); before the fix the script exits 1",
    id=sid(), kind="shell",
    instruction="The script /workspace/totals.py should print the total of the amount fields in /workspace/orders.json with two decimals, but it crashes. Fix the script in place, then submit the value it prints." + HELD_NOTE,
    answer=orders_total, setup={"files": {f"{W}/totals.py": totals_py, f"{W}/orders.json": orders_json}},
    graders=[{"type": "command_output", "command": "python3 /workspace/totals.py", "expected": orders_total},
             held_back("/workspace/orders.json", '[{"id": 1, "customer": "Ada", "amount": 10.5}, {"id": 2, "customer": "Alan", "amount": 20.25}]\n',
                       "python3 /workspace/totals.py", "30.75"),
             {"type": "numeric", "expected": float(orders_total), "tol": 0.005}],
    oracle=[{"tool": "shell", "args": {"command": "python3 /workspace/totals.py; sed -i 's/ammount/amount/' /workspace/totals.py && python3 /workspace/totals.py"}},
            {"tool": "submit", "args": {"answer": orders_total}}])
add("bug: grep is case-sensitive and the log says WARN; before the fix grep -c prints 0 and exits 1",
    id=sid(), kind="shell",
    instruction="The shell script /workspace/count_warn.sh should print how many lines of /workspace/app.log have the level WARN, but it prints the wrong number. Fix the script in place so that `bash /workspace/count_warn.sh` prints the right count, then submit that count." + HELD_NOTE,
    answer=warn_count, setup={"files": {f"{W}/count_warn.sh": count_warn_sh, f"{W}/app.log": app_log}},
    graders=[{"type": "command_output", "command": "bash /workspace/count_warn.sh", "expected": warn_count},
             held_back("/workspace/app.log", "2026-12-01T08:00:00Z WARN worker-1 event 0\n2026-12-01T08:01:00Z INFO worker-2 event 1\n"
                       "2026-12-01T08:02:00Z WARN worker-2 event 2\n2026-12-01T08:03:00Z ERROR worker-1 event 3\n"
                       "2026-12-01T08:04:00Z WARN worker-3 event 4\n", "bash /workspace/count_warn.sh", "3"),
             {"type": "numeric", "expected": int(warn_count), "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "head -3 /workspace/app.log; cat /workspace/count_warn.sh"}},
            {"tool": "shell", "args": {"command": "sed -i 's/\" warn \"/\" WARN \"/' /workspace/count_warn.sh && bash /workspace/count_warn.sh"}},
            {"tool": "submit", "args": {"answer": warn_count}}])
add(f"bug: strptime format %Y-%d-%m swaps month and day (ValueError on days > 12); dates span {min(dates)}..{max(dates)}",
    id=sid(), kind="shell",
    instruction="The script /workspace/span.py should print the number of days between the earliest and the latest ISO date (YYYY-MM-DD) listed in /workspace/dates.txt, but it fails. Fix the script in place, then submit the number it prints." + HELD_NOTE,
    answer=span_expected, setup={"files": {f"{W}/span.py": span_py, f"{W}/dates.txt": dates_txt}},
    graders=[{"type": "command_output", "command": "python3 /workspace/span.py", "expected": span_expected},
             held_back("/workspace/dates.txt", "2025-01-01\n2025-03-01\n2025-02-10\n", "python3 /workspace/span.py", "59"),
             {"type": "numeric", "expected": int(span_expected), "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "sed -i 's/%Y-%d-%m/%Y-%m-%d/' /workspace/span.py && python3 /workspace/span.py"}},
            {"tool": "submit", "args": {"answer": span_expected}}])
# -- produce an output file
sorted_pat = "\\A" + "\\n".join(sorted_unique) + "\\n?\\Z"
add("expected file: the distinct names, sorted, one a line",
    id=sid(), kind="file",
    instruction="/workspace/names.txt has one name per line, with duplicates. Write the distinct names, sorted alphabetically, one per line, to /workspace/sorted_names.txt. Then submit the number of distinct names.",
    answer=str(len(sorted_unique)), setup={"files": {f"{W}/names.txt": names_txt}},
    graders=[{"type": "file_contains", "path": "/workspace/sorted_names.txt", "pattern": sorted_pat},
             {"type": "numeric", "expected": len(sorted_unique), "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "sort -u /workspace/names.txt > /workspace/sorted_names.txt && wc -l < /workspace/sorted_names.txt"}},
            {"tool": "submit", "args": {"answer": str(len(sorted_unique))}}])
add("grader loads the JSON: 5 records, ages summed as ints (180), first name Ada",
    id=sid(), kind="file",
    instruction="Convert /workspace/people.csv (columns name, age, city) to a JSON file /workspace/people.json: a list of objects with the keys name, age and city, in the same order as the CSV rows, with age as an integer. Then submit the number of records written.",
    answer="5", setup={"files": {f"{W}/people.csv": people_csv}},
    graders=[{"type": "command_output", "command": "python3 -c \"import json; d = json.load(open('/workspace/people.json')); print(len(d), sum(p['age'] for p in d), d[0]['name'], d[-1]['city'])\"", "expected": f"5 {people_sum} Ada Boston"},
             {"type": "numeric", "expected": 5, "tol": 0}],
    oracle=[{"tool": "python", "args": {"code": "import csv, json\nrows = [dict(r, age=int(r['age'])) for r in csv.DictReader(open('/workspace/people.csv'))]\njson.dump(rows, open('/workspace/people.json', 'w'), indent=2)\nprint(len(rows))"}},
            {"tool": "submit", "args": {"answer": "5"}}])
add("archive must list exactly the three .log files (notes.txt excluded)",
    id=sid(), kind="file",
    instruction="Create a gzip-compressed tar archive /workspace/backup.tar.gz containing the .log files of /workspace/logs (and not the other files there). Then submit the number of files in the archive.",
    answer="3", setup={"files": logs_files},
    graders=[{"type": "command_output", "command": "tar -tzf /workspace/backup.tar.gz | grep -c '\\.log$'", "expected": "3"},
             {"type": "command_output", "command": "tar -tzf /workspace/backup.tar.gz | grep -v '/$' | grep -vc '\\.log$' || true", "expected": "0"},
             {"type": "numeric", "expected": 3, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "cd /workspace/logs && tar -czf /workspace/backup.tar.gz *.log && tar -tzf /workspace/backup.tar.gz | wc -l"}},
            {"tool": "submit", "args": {"answer": "3"}}])
add(f"ERROR lines in app.log: {error_count}",
    id=sid(), kind="file",
    instruction="Count the lines of /workspace/app.log whose level is ERROR and write a one-line report to /workspace/report.txt in exactly this form: errors: N (where N is the count). Then submit N.",
    answer=str(error_count), setup={"files": {f"{W}/app.log": app_log}},
    graders=[{"type": "file_contains", "path": "/workspace/report.txt", "pattern": f"^errors: {error_count}$"},
             {"type": "numeric", "expected": error_count, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "echo \"errors: $(grep -c ' ERROR ' /workspace/app.log)\" > /workspace/report.txt && cat /workspace/report.txt"}},
            {"tool": "submit", "args": {"answer": str(error_count)}}])
# -- git
add("graders read the repo with git; safe.directory='*' so they work whichever uid runs them",
    id=sid(), kind="shell",
    instruction="Create a git repository at /workspace/repo containing one file, hello.txt, whose content is the line: hello airgap. Commit it with the commit message: initial commit. Then submit the commit message of the repository's latest commit, as shown by git log.",
    answer="initial commit", setup={},
    graders=[{"type": "command_output", "command": "git -c safe.directory='*' -C /workspace/repo log --format=%s", "expected": "initial commit"},
             {"type": "normalized_match", "expected": ["initial commit"]},
             {"type": "command_output", "command": "git -c safe.directory='*' -C /workspace/repo show HEAD:hello.txt", "expected": "hello airgap"},
             {"type": "command_output", "command": "test \"$(git -c safe.directory='*' -C /workspace/repo status --porcelain | wc -l)\" = 0 && echo clean", "expected": "clean"}],
    oracle=[{"tool": "shell", "args": {"command": "mkdir -p /workspace/repo && cd /workspace/repo && git init -q && git config user.email agent@example.com && git config user.name Agent && echo 'hello airgap' > hello.txt && git add hello.txt && git commit -q -m 'initial commit' && git log --format=%s"}},
            {"tool": "submit", "args": {"answer": "initial commit"}}])
git_setup = [
    "git init -q /workspace/proj",
    "cd /workspace/proj && printf 'name: demo\\n' > config.yaml && printf 'token=abc\\n' > credentials.txt && printf 'print(1)\\n' > main.py && git add -A && git -c user.name=Dev -c user.email=dev@example.com commit -q -m 'first version'",
    "cd /workspace/proj && printf 'name: demo\\nport: 8080\\n' > config.yaml && git add -A && git -c user.name=Dev -c user.email=dev@example.com commit -q -m 'add port'",
    "cd /workspace/proj && git rm -q credentials.txt && git -c user.name=Dev -c user.email=dev@example.com commit -q -m 'clean up'",
    "cd /workspace/proj && printf 'print(2)\\n' > main.py && git add -A && git -c user.name=Dev -c user.email=dev@example.com commit -q -m 'bump output'",
]
add("history built by setup.commands: 4 commits; credentials.txt deleted in the third",
    id=sid(), kind="shell",
    instruction="/workspace/proj is a git repository. One file was deleted at some point in its history. What was that file's name? Answer with the file name only.",
    answer="credentials.txt", setup={"commands": git_setup},
    graders=[{"type": "normalized_match", "expected": ["credentials.txt"]}],
    oracle=[{"tool": "shell", "args": {"command": "cd /workspace/proj && git -c safe.directory='*' log --diff-filter=D --name-only --format="}},
            {"tool": "submit", "args": {"answer": "credentials.txt"}}])
# -- a SQLite database built by setup (the image has no sqlite3 CLI; Python's sqlite3 module is there)
shop_setup = ["python3 -c \"import sqlite3; c = sqlite3.connect('/workspace/shop.db'); "
              "c.executescript('CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT, city TEXT); "
              "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL); "
              "INSERT INTO customers VALUES (1,\\'Ada\\',\\'London\\'),(2,\\'Bea\\',\\'Berlin\\'),(3,\\'Cem\\',\\'Berlin\\'),(4,\\'Dan\\',\\'Paris\\'); "
              "INSERT INTO orders VALUES (1,1,19.5),(2,2,42.0),(3,3,7.25),(4,2,13.75),(5,4,99.0),(6,3,30.0),(7,1,5.5),(8,2,2.5);'); c.commit()\""]
berlin_total = 42.0 + 7.25 + 13.75 + 30.0 + 2.5
add(f"Berlin customers are 2 (orders 42.0, 13.75, 2.5) and 3 (7.25, 30.0): {berlin_total}",
    id=sid(), kind="shell",
    instruction="/workspace/shop.db is an SQLite database with tables customers(id, name, city) and orders(id, customer_id, total). What is the sum of the totals of all orders placed by customers whose city is Berlin? Answer with the number. (There is no sqlite3 command-line tool; Python's sqlite3 module is available.)",
    answer=f"{berlin_total:.2f}", setup={"commands": shop_setup},
    graders=[{"type": "numeric", "expected": berlin_total, "tol": 0.001}],
    oracle=[{"tool": "python", "args": {"code": "import sqlite3\ncon = sqlite3.connect('/workspace/shop.db')\nq = \"SELECT SUM(o.total) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.city = 'Berlin'\"\nprint(f'{con.execute(q).fetchone()[0]:.2f}')"}},
            {"tool": "submit", "args": {"answer": f"{berlin_total:.2f}"}}])
# -- a big file made by setup: too long to read, needs grep
_hs = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200000)]
needle_prefix = next(pfx for pfx in (f"{k:04x}" for k in range(1 << 16)) if sum(h.startswith(pfx) for h in _hs[:50]) == 0 and sum(h.startswith(pfx) for h in _hs) == 1)
needle_line = 1 + next(i for i, h in enumerate(_hs) if h.startswith(needle_prefix))
big_setup = ["python3 -c \"import hashlib\nwith open('/workspace/big.txt', 'w') as f:\n    for i in range(200000):\n        h = hashlib.sha256(str(i).encode()).hexdigest()\n        f.write(('NEEDLE ' if h.startswith('" + needle_prefix + "') else 'hay ') + h[:12] + '\\n')\""]
add(f"only i = {needle_line - 1} in range(200000) has sha256(str(i)) starting {needle_prefix!r}; that line (1-based {needle_line}) says NEEDLE",
    id=sid(), kind="shell",
    instruction="/workspace/big.txt has 200,000 lines. Exactly one of them contains the word NEEDLE. What is its line number (the first line is line 1)? Answer with the number.",
    answer=str(needle_line), setup={"commands": big_setup},
    graders=[{"type": "numeric", "expected": needle_line, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "grep -n NEEDLE /workspace/big.txt | cut -d: -f1"}},
            {"tool": "submit", "args": {"answer": str(needle_line)}}])
# -- JSON lines
jl = []
for i in range(60):
    ep = R.choice(["/api/items", "/api/users", "/api/items", "/health"])
    jl.append({"ts": f"2026-11-20T10:{i:02d}:00Z", "endpoint": ep, "status": R.choice([200, 200, 200, 503]), "ms": R.randint(3, 400)})
jl_txt = "".join(json.dumps(x) + "\n" for x in jl)
items_ok = [x["ms"] for x in jl if x["endpoint"] == "/api/items" and x["status"] == 200]
items_avg = round(sum(items_ok) / len(items_ok), 1)
add(f"{len(items_ok)} successful /api/items requests, mean {sum(items_ok) / len(items_ok)}",
    id=sid(), kind="shell",
    instruction="/workspace/requests.jsonl has one JSON object per line with the keys ts, endpoint, status and ms (latency in milliseconds). What is the mean latency of the requests to the endpoint /api/items that returned status 200? Answer with the number rounded to 1 decimal place.",
    answer=f"{items_avg:.1f}", setup={"files": {f"{W}/requests.jsonl": jl_txt}},
    graders=[{"type": "numeric", "expected": items_avg, "tol": 0.05}],
    oracle=[{"tool": "python", "args": {"code": "import json\nrows = [json.loads(l) for l in open('/workspace/requests.jsonl')]\nms = [r['ms'] for r in rows if r['endpoint'] == '/api/items' and r['status'] == 200]\nprint(f'{sum(ms) / len(ms):.1f}')"}},
            {"tool": "submit", "args": {"answer": f"{items_avg:.1f}"}}])
# -- CSV with gaps
contacts = ["name,email,phone"]
empty_email = 0
for i, n in enumerate(names):
    email = "" if R.random() < 0.3 else f"{n.lower()}@example.org"
    phone = "" if R.random() < 0.3 else f"+49 30 {R.randint(1000000, 9999999)}"
    empty_email += email == ""
    contacts.append(f"{n},{email},{phone}")
contacts_csv = "\n".join(contacts) + "\n"
add(f"rows with an empty email field: {empty_email}",
    id=sid(), kind="shell",
    instruction="/workspace/contacts.csv has the columns name, email and phone; some fields are empty. How many rows (not counting the header) have an empty email field? Answer with the number.",
    answer=str(empty_email), setup={"files": {f"{W}/contacts.csv": contacts_csv}},
    graders=[{"type": "numeric", "expected": empty_email, "tol": 0}],
    oracle=[{"tool": "shell", "args": {"command": "awk -F, 'NR > 1 && $2 == \"\"' /workspace/contacts.csv | wc -l"}},
            {"tool": "submit", "args": {"answer": str(empty_email)}}])
# -- web in sandbox
add('limits.html: "which defaults to 999 for SQLite versions prior to 3.32.0 (2020-05-22) or 32766 for SQLite versions after 3.32.0."',
    id=sid(), kind="web-in-sandbox",
    instruction="From inside the sandbox (with curl, wget or Python), fetch https://www.sqlite.org/limits.html and find the default value of SQLITE_MAX_VARIABLE_NUMBER for SQLite versions after 3.32.0. Answer with the number.",
    answer="32766",
    graders=[{"type": "numeric", "expected": 32766, "tol": 0}, {"type": "url_visited", "url": "https://www.sqlite.org/limits.html"}],
    oracle=[{"tool": "shell", "args": {"command": "curl -s https://www.sqlite.org/limits.html | grep -o '[0-9]* for SQLite versions after 3.32.0'"}},
            {"tool": "submit", "args": {"answer": "32766"}}])
add('limits.html: "The default maximum trigger recursion depth is 1000."',
    id=sid(), kind="web-in-sandbox",
    instruction="From inside the sandbox (with curl, wget or Python), fetch https://www.sqlite.org/limits.html and find SQLite's default maximum trigger recursion depth. Answer with the number.",
    answer="1000",
    graders=[{"type": "numeric", "expected": 1000, "tol": 0}, {"type": "url_visited", "url": "https://www.sqlite.org/limits.html"}],
    oracle=[{"tool": "shell", "args": {"command": "wget -qO- https://www.sqlite.org/limits.html | grep -i 'trigger recursion depth is'"}},
            {"tool": "submit", "args": {"answer": "1000"}}])
add('pragma.html: "The default suggested cache size is -2000, which means the cache size is limited to 2048000 bytes of memory."',
    id=sid(), kind="web-in-sandbox",
    instruction="From inside the sandbox (with curl, wget or Python), fetch https://www.sqlite.org/pragma.html and find the default suggested cache size (the value of PRAGMA cache_size by default). Answer with the number, including its sign.",
    answer="-2000",
    graders=[{"type": "regex", "pattern": "^\\s*-2000\\s*$"}, {"type": "url_visited", "url": "https://www.sqlite.org/pragma.html"}],
    oracle=[{"tool": "shell", "args": {"command": "curl -s https://www.sqlite.org/pragma.html | grep -o 'default suggested cache size is [-0-9]*'"}},
            {"tool": "submit", "args": {"answer": "-2000"}}])
add('secrets.html: "it is believed that 32 bytes (256 bits) of randomness is sufficient for the typical use-case expected for the secrets module."',
    id=sid(), kind="web-in-sandbox",
    instruction="From inside the sandbox (with curl, wget or Python), fetch https://docs.python.org/3.11/library/secrets.html. According to that page, how many bytes of randomness are believed to be sufficient for the typical use case of the secrets module? Answer with the number of bytes.",
    answer="32",
    graders=[{"type": "numeric", "expected": 32, "tol": 0}, {"type": "url_visited", "url": "https://docs.python.org/3.11/library/secrets.html"}],
    oracle=[{"tool": "python", "args": {"code": "import re, urllib.request\nhtml = urllib.request.urlopen('https://docs.python.org/3.11/library/secrets.html').read().decode()\nprint(re.search(r'(\\d+) bytes \\(\\d+ bits\\) of randomness', html).group(1))"}},
            {"tool": "submit", "args": {"answer": "32"}}])

# ================================================================= emit
class D(yaml.SafeDumper): pass
def str_rep(d, s):
    if "\n" in s: return d.represent_scalar("tag:yaml.org,2002:str", s, style="|")
    return d.represent_scalar("tag:yaml.org,2002:str", s)
D.add_representer(str, str_rep)
for t in tasks:
    if not t.get("setup"): t.pop("setup", None)
doc = {"suite": "sandbox", "version": 1,
       "world": {"snapshot": "default", "tools": ["shell", "python", "read_file", "write_file", "http", "submit"], "sandbox": {"memory": "256m"}},
       "budget": {"max_steps": 20, "tool_timeout": 20, "total_tool_seconds": 300}, "tasks": tasks}
body = yaml.dump(doc, Dumper=D, sort_keys=False, allow_unicode=True, width=1000)
out = []
for line in body.splitlines():
    m = re.match(r"^- id: (sandbox-\d+)$", line)
    if m:
        out.append("")
        out.append("# " + comments[m.group(1)])
    out.append(line)
header = """# Sandbox suite: tasks that need the shell/python/file tools inside the container.
# Data files are small, seeded (random.Random(20261123)) and inlined in setup.files; every answer was
# recomputed by running the oracle locally in a copy of /workspace (scripts/check_suites.py does this,
# rewriting /workspace to a temp dir and curl/wget/urllib of the offline web to the local Debian doc files).
# For every task the initial state + empty answer fails at least one grader.
"""
open(pathlib.Path(__file__).resolve().parents[1] / "envs" / "suites" / "sandbox" / "tasks.yaml", "w").write(header + "\n".join(out) + "\n")
print(len(tasks))
