"""Property-based: schemathesis drives each backend from its own OpenAPI document; no 5xx, every response conforms.

Cases are positive (schema-valid), negative (schema-violating) and positive with the path parameters of real
objects of the fixture (so bodies reach real rows, not only 404s). Derandomized and bounded: the same cases each
run, a few seconds per backend.
"""
from __future__ import annotations

import re

import pytest
import schemathesis
from backend_support import NAMES, user_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection

from airgap.envs.worldgen import WorldFacts

EXAMPLES = 10
CONFIG = {
    "generation": {"allow-extra-parameters": False},  # unknown query parameters are ignored, as on GitHub
    "checks": {
        # business rules beyond the schema (end before start, over the limit, outside the refund window) are 422;
        # a body over 1 MiB is 413 whatever it holds
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "413", "422"]},
        "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405", "409", "413", "422"]},
    },
}


def _user_and_ids(name: str, facts: WorldFacts, state: dict) -> tuple[str, dict]:
    """A user of the backend and real path-parameter values visible to that user."""
    if name == "mail":
        user = facts.shop.staff[0]
        box = facts.person(user).email
        mid = next(m["id"] for m in state["messages"] if m["mailbox"] == box)
        att = state["attachments"][0]
        return user, {"address": box, "message_id": mid, "attachment_id": att["id"]}
    if name == "calendar":
        user = facts.people[2].username
        return user, {"event_id": next(e["id"] for e in state["events"] if e["organizer"] == user)}
    if name == "shop":
        return facts.shop.staff[0], {"sku": facts.shop.products[1].sku, "order_id": facts.shop.cases[0].order}
    if name == "bank":
        user = user_of(facts, "finance")
        return user, {"account_id": facts.bank.accounts[0].id, "payee_id": "pay_001", "transfer_id": "tr_0001"}
    if name == "tracker":
        p = facts.person(user_of(facts, "engineer"))
        r = facts.repos[0]
        return p.username, {"owner": r.owner, "repo": r.name, "issue_number": 2, "milestone_number": 2, "name": "bug",
                            "comment_id": state["comments"][0]["id"], "assignee": p.github_login, "username": p.github_login}
    return facts.people[2].username, {}


def _query_only_negative(case) -> bool:
    """A mutated scalar in the query string still arrives as text: no server can tell it was meant as a number."""
    meta = case.meta
    return meta is not None and meta.is_negative_at(ParameterLocation.QUERY) and not any(
        meta.is_negative_at(loc) for loc in (ParameterLocation.BODY, ParameterLocation.PATH, ParameterLocation.HEADER))


@pytest.mark.parametrize("name", NAMES)
def test_backend_conforms_to_its_openapi(name, backends, facts):
    b = backends[name]
    user, known = _user_and_ids(name, facts, b.state()["tables"])
    headers = {"Authorization": f"Bearer {b.token(user)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", b.app, config=schemathesis.Config.from_dict(CONFIG))
    failures: dict[str, str] = {}
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 8
    for op in operations:
        names = re.findall(r"{(\w+)}", op.path)
        pinned = {k: known[k] for k in names if k in known}
        strategies = [op.as_strategy(), op.as_strategy(GenerationMode.NEGATIVE)]
        if names and len(pinned) == len(names):
            strategies.append(op.as_strategy(path_parameters=pinned))

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case):
            excluded = [negative_data_rejection] if _query_only_negative(case) else []
            case.call_and_validate(headers=headers, excluded_checks=excluded)

        try:
            run()
        except BaseException as e:  # schemathesis raises an exception group; collect and report them all
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                raise
            failures[op.label] = str(e)[:2000]
        b.reset()
    assert not failures, "\n\n".join(f"{k}:\n{v}" for k, v in failures.items())
