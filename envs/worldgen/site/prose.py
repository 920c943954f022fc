"""The authored sentences of the world's web pages: written per page kind, slot-filled from the world's facts.

``Prose(context)(key, n)`` gives ``n`` sentences for the page ``key`` (``www-home``, ``help-shipping``, ``note-<slug>``...),
picked in a seeded order from the sentences written for that kind of page, so the same page reads the same at every
capture and different organisations read differently. The sentences carry no numbers, dates, prices or policies: the
facts a question can ask about live in the pages' tables and lists, never here, so prose cannot contradict them.
Slots: ``{org}``, ``{product}``, ``{brand}``, ``{city}``, ``{package}``, ``{support}``. Also the intranet's
announcements, meeting agendas and working groups, and the news site's stories.
"""
from __future__ import annotations

from airgap.envs.common import rng

SENTENCES: dict[str, list[str]] = {
    "www-home": [
        "Teams use {product} every day to keep their work moving without chasing status updates.",
        "We started {org} because we were tired of tools that got in the way of the work they were meant to help.",
        "Most customers are up and running within an afternoon, and our support team answers every question in person.",
        "{product} works with the tools your team already has, so nothing needs to be migrated on day one.",
        "Every release is shaped by what our customers tell us, and the changelog is public.",
    ],
    "www-about": [
        "We are a small company with a long view: we would rather build one thing well than ten things badly.",
        "Our team works from {city} and from home, and we meet in person for planning every quarter.",
        "We answer our own support tickets, including the engineers, because that is how we learn what to fix.",
        "{org} is owned by its founders and its employees, and we intend to keep it that way.",
        "We publish our handbook internally and keep it short enough that people actually read it.",
    ],
    "www-product": [
        "It keeps the history of every change, so you can see who did what and why.",
        "Permissions follow your organisation chart, and admins can review access in one place.",
        "Everything in the web app is also available through a documented API.",
        "Notifications are quiet by default: you hear about what needs you, not about everything.",
        "Your data can be exported at any time in open formats.",
    ],
    "www-careers": [
        "We hire people who like to finish things and explain their reasoning in writing.",
        "Every role includes time to learn, and we pay for courses and conferences that help you grow.",
        "Our interviews are a conversation about real work, not puzzles; we tell you the steps up front.",
        "If no opening fits but you think you would, write to us anyway.",
    ],
    "policies": [
        "Ask the finance team if a case is not covered here.",
        "Exceptions need the written approval of the Head of Finance.",
        "Announcements on the intranet may change a value before this page is next revised.",
    ],
    "benefits": [
        "Benefits apply from your first day, including during the probation period.",
        "Questions about your own situation go to People Operations, who answer within a working day.",
        "We review these benefits every year and announce changes on the intranet.",
        "Part-time colleagues receive every benefit, prorated where it is a sum of money.",
    ],
    "note": [
        "The next meeting will review the action items above first.",
        "Comments on these notes go in the team channel, not by email.",
        "Anything not finished by the next meeting comes back on the agenda.",
        "The notes were shared with the attendees after the meeting for corrections.",
    ],
    "docs-home": [
        "Start with the getting started guide, then read the pages on the parts you use.",
        "Every page can be improved: open an issue if something is unclear or out of date.",
        "The examples on these pages are tested against the current release.",
    ],
    "docs-gs": [
        "The defaults suit most teams, so you can start without changing anything.",
        "Keep the file under version control with the rest of your project.",
        "Changes take effect the next time {package} starts.",
    ],
    "docs-api": [
        "Requests and responses are JSON, and every error says what went wrong.",
        "Authenticate with a token from your account settings and keep it out of source control.",
        "Endpoints are versioned; we announce deprecations well before anything is removed.",
    ],
    "docs-faq": [
        "Most questions are answered faster by searching this documentation first.",
        "Please include your version of {product} and the steps to reproduce the problem.",
        "We read every report, even when we cannot reply to each one.",
    ],
    "catalog-home": [
        "Everything we sell is chosen by people who use it, and we only stock what we would buy ourselves.",
        "Orders are packed by hand and shipped with a tracking number.",
        "Questions about a product? Write to {support} and a person will answer.",
    ],
    "guide": [
        "A gift that gets used every day.",
        "Easy to wrap and hard to get wrong.",
        "One of our customers' favourites.",
        "Made to last, and it looks the part.",
    ],
    "help-home": [
        "Most answers are below; if yours is not, write to {support}.",
        "Have your order number ready: it is in your confirmation email.",
        "Our team answers on working days.",
    ],
    "help-returns": [
        "Include a photo if the item arrived damaged, so we can report it to the carrier.",
        "You do not need to send the item back until we ask for it.",
        "Refunds go back to the card you paid with.",
    ],
    "help-shipping": [
        "Every parcel has a tracking number, which we email when it leaves the warehouse.",
        "If a parcel seems lost, write to {support} and we will trace it with the carrier.",
        "We pack orders in recycled materials wherever we can.",
        "Orders placed at the weekend leave on the next working day.",
    ],
    "help-faq": [
        "You can change the delivery address until the order has shipped.",
        "Gift receipts are available on request.",
        "We do not keep card details after the payment has gone through.",
        "{brand} gift cards never expire.",
    ],
    # intranet announcements
    "announce": [
        "Questions go to the person who posted this, or to your manager.",
        "Please read it before your next expense claim or customer reply that it affects.",
        "We will remind everyone in the team channels this week.",
        "Thank you for keeping an eye on these changes.",
    ],
    "policy-announce": [
        "Your manager can walk you through what this means for your team.",
        "The policies page on the intranet shows the values now in force.",
        "Claims and refunds already in progress follow the rules that applied when they started.",
    ],
    "holiday": [
        "Please plan deliveries and customer calls around it.",
        "Support keeps its usual cover for urgent customer issues.",
        "Enjoy the break, and see you the day after.",
        "Remote colleagues are welcome to take the day as well.",
    ],
    "welcome": [
        "Say hello in the team channel and help them find their way around.",
        "Their first weeks are planned with their team lead; please make time for their questions.",
        "We are glad to have them with us.",
    ],
    "group": [
        "It meets every other week and shares its notes on the intranet.",
        "Anyone interested is welcome to join a meeting and listen in.",
        "It proposes changes; the teams concerned decide.",
    ],
    "agenda": [
        "Review of open action items", "Customer feedback from the last two weeks", "Hiring and onboarding",
        "Budget requests", "Risks and blockers", "Plans for the next release", "Support queue and response times",
        "Updates from other teams", "Process changes to discuss", "Any other business",
    ],
    # the company blog
    "blog-pricing": [
        "Customers on annual plans keep their current price until renewal.",
        "Nothing else about the plan changes, and the features stay the same.",
        "Write to sales if you have questions about your account.",
    ],
    "blog-release": [
        "Upgrading is a single command, and the release notes list every change.",
        "Thank you to everyone who reported issues and tested the early builds.",
        "As always, tell us what works for you and what does not.",
        "The documentation has been updated for everything in this release.",
    ],
    "blog-story": [
        "The first version was built for a single customer who needed it badly.",
        "We grew slowly, one team at a time, and kept the company small on purpose.",
        "Most of our early customers are still with us.",
        "We still answer support ourselves, because it keeps us honest about what to fix.",
        "Our plans are simple: make {product} better every month and keep the promises we make.",
        "We are grateful to everyone who took a chance on us early on.",
        "If you want to help us write the next chapter, look at our open positions.",
    ],
    # the news site
    "quote-funding": [
        "This lets us hire the people our customers have been asking us for.",
        "We will spend it on the product, not on the office.",
        "Our customers got us here, and this round is about serving them better.",
    ],
    "quote-launch": [
        "This is the release our customers have been waiting for.",
        "We listened to a lot of feedback before shipping this version.",
        "The team worked hard to keep upgrades painless.",
    ],
    "story-company": [
        "The company sells mostly to small and medium-sized teams.",
        "Its customers include software firms, agencies and a few public bodies.",
        "It has grown steadily since it was founded, without large marketing campaigns.",
        "Analysts describe the market it competes in as crowded but growing.",
    ],
    "story-launch": [
        "Existing customers get the new version at no extra cost.",
        "The release also fixes a number of smaller issues reported by users.",
        "The company says upgrading takes a few minutes for most teams.",
    ],
    "story-hire": [
        "The appointment follows a period of hiring across the company.",
        "The new lead joins from a larger firm in the same industry.",
        "Colleagues describe the team as one of the company's busiest.",
    ],
    "story-lookalike": [
        "The firm plans to open a second office next year.",
        "Its founders say the money will go into hiring and research.",
        "The company did not disclose its revenue.",
    ],
    "local-title": [
        "City council approves new cycle lanes downtown", "Library extends weekend opening hours",
        "Farmers market returns to the riverside", "Local schools launch coding clubs",
        "New bus route links the business park to the station", "Community garden opens its gates",
        "Startup meetup draws record crowd", "Volunteers clean up the riverbank",
    ],
    "local": [
        "Residents were invited to comment on the plans at a public meeting.",
        "Organisers thanked the volunteers who made it possible.",
        "The council says work will be done in stages to limit disruption.",
        "Local businesses welcomed the news.",
        "More details will be published on the council's website.",
        "Some residents raised concerns about parking, which the organisers promised to address.",
        "It is the latest in a series of changes aimed at making the area easier to get around.",
        "The next meeting is open to the public.",
    ],
}


def family(key: str) -> str:
    """The kind of page a key names: the longest family that is the key or its prefix before a ``-``
    (``note-eng-2025-03-04`` -> ``note``, ``docs-faq-1`` -> ``docs-faq``, ``www-home`` -> ``www-home``)."""
    for fam in sorted(SENTENCES, key=len, reverse=True):
        if key == fam or key.startswith(fam + "-"):
            return fam
    raise KeyError(f"no sentences written for pages like {key!r}; add its family to SENTENCES in {__name__}")


class Prose:
    """Authored sentences for one world's pages, filled with its facts (see the module docstring)."""

    def __init__(self, seed: int, **context: str):
        self.seed = seed
        self.context = context

    def pick(self, key: str, n: int) -> list[str]:
        """``n`` of the entries written for ``key``'s kind of page, in a seeded order, slots filled."""
        pool = SENTENCES[family(key)]
        order = rng("airgap-prose", self.seed, key).sample(range(len(pool)), len(pool))
        return [pool[i].format(**self.context) for i in order[: min(n, len(pool))]]

    def __call__(self, key: str, sentences: int = 3) -> str:
        return " ".join(self.pick(key, sentences))
