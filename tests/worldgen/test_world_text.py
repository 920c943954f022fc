"""The world's services read like a company's: every sentence of mail, chat, the tracker, the calendar and the shop
comes from the authored library (envs/worldgen/text/*.yaml through worldgen/writing.py), never from Faker's sentence
makers. Faker's lorem, catch-phrase and bs providers are made to raise while three worlds are generated; then every text
field of each world (hundreds: mail subjects and bodies, chat messages, replies and direct messages, issue bodies and
comments, calendar descriptions, product and team descriptions, the tagline) is checked for filler: no sentence may be
mostly words that only Faker's lorem list would produce, and no slot may be left unfilled. The filler check is shown to
catch Faker's own sentences, so it cannot pass by being blind."""
from __future__ import annotations

import re
from collections import Counter

import pytest
from faker import Faker
from faker.providers.company import Provider as CompanyProvider
from faker.providers.lorem import Provider as LoremProvider
from faker.providers.lorem.en_US import Provider as EnglishLorem

from airgap.envs.common import rng
from airgap.envs.worldgen import generate
from airgap.envs.worldgen.facts import COMPONENTS, CONDITIONS, INDUSTRIES, SYMPTOMS, VENDOR_SERVICES, WorldFacts
from airgap.envs.worldgen.writing import SLOTS, fill, leaves, library, slots_of, templates

SEEDS = (0, 7, 111)
WORD = re.compile(r"[A-Za-z][a-z']*")
SENTENCE = re.compile(r"(?<=[.!?:])\s+|\n+")
SLOT = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
FUNCTION_WORDS = set("""
a about above after again against all also although always am among an and another any anyone anything are around as at
away back be because been before being below between both but by can could did do does doing done down during each
either else enough even ever every few for from further get go going got had has have having he her here hers herself
him himself his how however i if in into is it its itself just least less let like many may me might mine more most much
must my myself neither no nobody none nor not nothing now of off often on once one only or other others our ours
ourselves out over own per perhaps please quite rather same shall she should since so some someone something still such
than that the their theirs them themselves then there these they this those though through thus to too toward under
until up upon us very was we were what whatever when where whether which while who whom whose why will with within
without would yet you your yours yourself yourselves""".split())
#: A sentence (of five lower-case words or more) is filler when at least this share of its lower-case words only
#: Faker's lorem list would have written, and a field (of eight or more) when this share of all its words are. Authored
#: text stays far below both over forty worlds (at most 0.17 for a sentence, 0.13 for a field); a Faker sentence is
#: over the first about half the time, a Faker paragraph over one or the other three times in four.
MAX_SENTENCE_SHARE = 0.25
MAX_FIELD_SHARE = 0.2


def _refuse(*_args, **_kwargs):
    raise AssertionError("a Faker sentence maker was called while generating the world's services")


@pytest.fixture(scope="module", params=SEEDS)
def world(request) -> WorldFacts:
    with pytest.MonkeyPatch.context() as mp:
        for name in ("paragraph", "paragraphs", "sentence", "sentences", "text", "texts", "words", "word"):
            mp.setattr(LoremProvider, name, _refuse)
        for name in ("catch_phrase", "bs", "catch_phrase_words", "bs_words"):
            if hasattr(CompanyProvider, name):
                mp.setattr(CompanyProvider, name, _refuse)
        return generate(request.param)


def text_fields(w: WorldFacts) -> list[tuple[str, str]]:
    """(kind, text) for every written field of a world."""
    out = [("tagline", w.org.tagline), ("repo description", w.repos[0].description)]
    out += [("team description", t.description) for t in w.teams]
    out += [("product description", p.description) for p in w.shop.products]
    for c in w.channels:
        for m in c.messages:
            out += [("chat message", m.text)] + [("chat reply", r.text) for r in m.replies]
    out += [("direct message", m.text) for d in w.dms for m in d.messages]
    for i in w.repos[0].issues:
        out += [("issue body", i.body)] + [("issue comment", c.body) for c in i.comments]
    for t in w.mail:
        out += [("mail subject", t.subject)] + [("mail body", m.body) for m in t.messages]
    out += [("agenda", e.description) for e in w.events if e.description]
    return out


def filler_words() -> set[str]:
    """Words Faker's lorem list has and nothing authored uses: the lorem list minus English function words, minus the
    words of the library's templates and of the world's own vocabularies (components, conditions, vendor services,
    what the shop sells), which fill its slots."""
    authored = {w.lower() for _, text in leaves(library()) for w in WORD.findall(text)}
    vocab = " ".join([*COMPONENTS, *CONDITIONS, *(s for x in SYMPTOMS for s in x), *VENDOR_SERVICES,
                      *(f"{ind['sells']} {cat} {' '.join(c['nouns'])}" for ind in INDUSTRIES.values()
                        for cat, c in ind["categories"].items())])
    return {w.lower() for w in EnglishLorem.word_list} - FUNCTION_WORDS - authored - {w.lower() for w in WORD.findall(vocab)}


FILLER = filler_words()


def filler_share(text: str, least: int = 5) -> float | None:
    """The share of a text's lower-case words (names and other capitalised words left out) that are filler; None for
    a text of fewer than ``least`` such words."""
    words = [w for w in WORD.findall(text) if w[0].islower()]
    return sum(w in FILLER for w in words) / len(words) if len(words) >= least else None


def is_filler(sentence: str) -> bool:
    share = filler_share(sentence)
    return share is not None and share >= MAX_SENTENCE_SHARE


def filler_in(text: str) -> list[str]:
    """The filler in a field: its filler sentences, or the whole field when its words are filler overall."""
    bad = [s for s in SENTENCE.split(text) if is_filler(s)]
    share = filler_share(text, least=8)
    return bad or ([text] if share is not None and share >= MAX_FIELD_SHARE else [])


def test_no_field_is_filler_and_every_slot_is_filled(world):
    fields = text_fields(world)
    kinds = Counter(kind for kind, _ in fields)
    assert len(fields) >= 50, kinds
    for kind in ("tagline", "team description", "product description", "chat message", "chat reply", "direct message",
                 "issue body", "issue comment", "mail subject", "mail body", "agenda"):
        assert kinds[kind] >= 1, (kind, kinds)
    bad = [(kind, s) for kind, text in fields for s in filler_in(text)]
    assert not bad, f"{len(bad)} filler sentence(s) in world {world.seed}: {bad[:10]}"
    unfilled = [(kind, text) for kind, text in fields if SLOT.search(text)]
    assert not unfilled, unfilled[:5]
    # the product is named from the curated list, the tagline reads after "<product> helps teams"
    assert world.org.product_name in templates("org", "product_names")
    assert world.org.tagline in templates("org", "taglines")


def test_the_filler_check_catches_fakers_sentences(world):
    """The same check, on Faker's sentences of the lengths of this world's: most are caught (a blind check would
    pass the authored text too)."""
    fake = Faker("en_US")
    fake.seed_instance(world.seed)
    lengths = [len(WORD.findall(s)) for _, text in text_fields(world) for s in SENTENCE.split(text)
               if filler_share(s) is not None]
    caught = [is_filler(fake.sentence(nb_words=n, variable_nb_words=False)) for n in lengths]
    assert sum(caught) / len(caught) >= 0.45, f"{sum(caught)} of {len(caught)} Faker sentences caught"
    fields = [bool(filler_in(fake.paragraph(nb_sentences=3))) for _ in range(200)]
    assert sum(fields) / len(fields) >= 0.7, f"{sum(fields)} of 200 Faker paragraphs caught"
    # this world written the old way (each field's sentences swapped for Faker's of the same lengths) fails many times over
    old = [" ".join(fake.sentence(nb_words=max(3, len(WORD.findall(x))), variable_nb_words=False)
                    for x in SENTENCE.split(text) if x.strip()) for _, text in text_fields(world)]
    assert sum(bool(filler_in(text)) for text in old) >= 0.3 * len(old)


def test_text_of_every_kind_varies_within_a_world(world):
    """Chat, mail, tracker and calendar text is drawn without repeats where the library allows: a world's channels,
    threads and issues do not say the same thing twice."""
    fields = text_fields(world)
    for kind in ("chat message", "mail subject", "issue body", "product description"):
        texts = [t for k, t in fields if k == kind]
        assert len(set(texts)) >= 0.8 * len(texts), (kind, Counter(texts).most_common(3))


def test_issue_bodies_can_be_refiled_from_a_shell():
    """The office suite's setup re-files an issue's body inside a single-quoted shell argument: no body has a quote."""
    for _, text in leaves(templates("tracker", "issues")):
        assert "'" not in text, text
    for seed in SEEDS:
        assert not [i.number for i in generate(seed).repos[0].issues if "'" in i.body]


def test_every_template_fills_only_declared_slots():
    """Each template names only the slots declared for its family, and filled with them leaves no brace behind."""
    lib = library()
    counts = Counter()
    for name, data in lib.items():
        for key, branch in data.items():
            allowed = SLOTS[(name, key)]
            for path, text in leaves(branch, (name, key)):
                if "from" in path or "to" in path:  # a colleague thread's teams, not text
                    continue
                counts[f"{name}.{key}"] += 1
                used = slots_of(text)
                assert used <= allowed, (path, used - allowed)
                filled = fill(text, {slot: "x" for slot in used})
                assert "{" not in filled and "}" not in filled, (path, text)
    total = sum(counts.values())
    assert total >= 1000, counts
    # the families the issue asks for, each with enough to choose from
    assert counts["org.product_names"] >= 50 and counts["org.taglines"] >= 20 and counts["org.teams"] >= 20
    assert counts["chat.channels"] >= 300 and counts["chat.dms"] >= 100 and counts["mail.colleague"] >= 150
    assert counts["tracker.issues"] >= 80 and counts["tracker.comments"] >= 50 and counts["calendar.sync"] >= 50
    assert counts["shop.nouns"] >= 100 and counts["mail.complaints"] >= 10


def test_a_writer_is_its_own_stream():
    """Text is drawn from rng("airgap-text", seed, purpose): the same world writes the same words, and editing one
    family of templates cannot move another family's picks or any structured fact."""
    a, b = generate(3), generate(3)
    assert text_fields(a) == text_fields(b)
    r = rng("airgap-text", 3, "chat")
    assert r.random() == rng("airgap-text", 3, "chat").random() != rng("airgap-text", 3, "mail").random()
