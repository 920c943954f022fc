"""The world's web pages read like a company's: their sentences come from the authored library (prose.py), never
from Faker's lorem or catch-phrase generators. Faker's sentence makers are made to raise while every site of two
worlds is generated and laid out, at both captures; the authored sentences are then found on the pages."""
from __future__ import annotations

import pytest
from faker.providers.company import Provider as CompanyProvider
from faker.providers.lorem import Provider as LoremProvider

from airgap.envs.worldgen import generate
from airgap.envs.worldgen.site import site_facts
from airgap.envs.worldgen.site.pages import site_pages
from airgap.envs.worldgen.site.prose import SENTENCES, Prose, family


def _refuse(*_args, **_kwargs):
    raise AssertionError("a Faker sentence generator was called while writing the world's web pages")


@pytest.mark.parametrize("seed", [0, 3])
def test_site_text_comes_from_authored_sentences(seed, monkeypatch):
    world = generate(seed)  # the backends' fixtures are another matter (issue: authored world text)
    for name in ("paragraph", "paragraphs", "sentence", "sentences", "text", "texts", "words", "word"):
        monkeypatch.setattr(LoremProvider, name, _refuse)
    for name in ("catch_phrase", "bs"):
        monkeypatch.setattr(CompanyProvider, name, _refuse)
    sf = site_facts(world)
    text = " ".join(str(block) for cap in sf.captures for site in site_pages(sf, cap) for page in site.pages
                    for block in page.blocks)
    prose = Prose(seed, org=world.org.name, product=sf.product, brand=world.shop.brand, city=world.org.city,
                  package=sf.package, support=world.shop.support_email)
    assert prose("www-about", 4) in text and prose("help-shipping", 3) in text


def test_every_key_names_a_written_family():
    assert family("note-eng-2025-03-04") == "note" and family("docs-faq-1") == "docs-faq"
    assert family("blog-release-1.4.0") == "blog-release" and family("local-title") == "local-title"
    assert all(pool and all("{" not in s or "}" in s for s in pool) for pool in SENTENCES.values())
    with pytest.raises(KeyError, match="no sentences written"):
        family("nowhere")
