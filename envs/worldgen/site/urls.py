"""Where every page of a world's sites lives: the one mapping from a fact to its URL, used by the pages and the tasks."""
from __future__ import annotations

from dataclasses import dataclass

from airgap.envs.common import slugify

from .content import Hosts


@dataclass(frozen=True)
class SiteUrls:
    hosts: Hosts

    @staticmethod
    def _u(host: str, path: str) -> str:
        return f"https://{host}{path}"

    def sitemap(self, host: str) -> str:
        return self._u(host, "/sitemap.html")

    # www: the public website
    def www(self, path: str = "/") -> str:
        return self._u(self.hosts.www, path)

    def about(self) -> str:
        return self.www("/about.html")

    def product(self) -> str:
        return self.www("/product.html")

    def pricing(self) -> str:
        return self.www("/pricing.html")

    def careers(self) -> str:
        return self.www("/careers.html")

    def contact(self) -> str:
        return self.www("/contact.html")

    def press(self) -> str:
        return self.www("/press.html")

    def blog(self, slug: str | None = None) -> str:
        return self.www("/blog/" + (f"{slug}.html" if slug else ""))

    # intranet
    def intranet(self, path: str = "/") -> str:
        return self._u(self.hosts.intranet, path)

    def teams(self) -> str:
        return self.intranet("/teams/")

    def team(self, slug: str) -> str:
        return self.intranet(f"/teams/{slug}.html")

    def people(self) -> str:
        return self.intranet("/people/")

    def person(self, username: str) -> str:
        return self.intranet(f"/people/{username}.html")

    def handbook(self) -> str:
        return self.intranet("/handbook/")

    def policies(self) -> str:
        return self.intranet("/handbook/finance-policies.html")

    def benefits(self) -> str:
        return self.intranet("/handbook/benefits.html")

    def draft(self) -> str:
        return self.intranet("/handbook/proposal-finance-policies.html")

    def groups(self) -> str:
        return self.intranet("/groups/")

    def group(self, slug: str) -> str:
        return self.intranet(f"/groups/{slug}.html")

    def notes(self) -> str:
        return self.intranet("/notes/")

    def note(self, slug: str) -> str:
        return self.intranet(f"/notes/{slug}.html")

    def announcements(self) -> str:
        return self.intranet("/announcements/")

    def announcement(self, slug: str) -> str:
        return self.intranet(f"/announcements/{slug}.html")

    def intranet_changelog(self) -> str:
        return self.intranet("/changelog.html")

    # docs
    def docs(self, path: str = "/") -> str:
        return self._u(self.hosts.docs, path)

    def getting_started(self) -> str:
        return self.docs("/getting-started.html")

    def configuration(self) -> str:
        return self.docs("/configuration.html")

    def api(self) -> str:
        return self.docs("/api.html")

    def releases(self) -> str:
        return self.docs("/releases/")

    def release(self, version: str) -> str:
        return self.docs(f"/releases/{version}.html")

    def docs_changelog(self) -> str:
        return self.docs("/changelog.html")

    def docs_faq(self) -> str:
        return self.docs("/faq.html")

    # catalog
    def catalog(self, path: str = "/") -> str:
        return self._u(self.hosts.catalog, path)

    def category(self, name: str) -> str:
        return self.catalog(f"/category/{slugify(name)}.html")

    def item(self, sku: str) -> str:
        return self.catalog(f"/products/{sku.lower()}.html")

    def gift_guide(self, day: str) -> str:
        return self.catalog(f"/gift-guide-{day[:4]}.html")

    # help
    def help(self, path: str = "/") -> str:
        return self._u(self.hosts.help, path)

    def returns(self) -> str:
        return self.help("/returns.html")

    def shipping(self) -> str:
        return self.help("/shipping.html")

    def warranty(self) -> str:
        return self.help("/warranty.html")

    def help_contact(self) -> str:
        return self.help("/contact.html")

    def help_faq(self) -> str:
        return self.help("/faq.html")

    def updates(self) -> str:
        return self.help("/service-updates.html")

    # news
    def news(self, path: str = "/") -> str:
        return self._u(self.hosts.news, path)

    def article(self, article) -> str:
        return self.news(article.path)

    def news_about(self) -> str:
        return self.news("/about.html")
