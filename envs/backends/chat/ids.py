"""Slack-style ids of a world's chat (``U...`` users, ``C...``/``G...`` channels, ``D...`` direct messages): stable
per world seed, derived by hashing, so the fixture and the tasks that name a conversation agree."""
import base64
import hashlib


def sid(prefix: str, *parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:10]


def user_id(seed: int, username: str) -> str:
    return sid("U", str(seed), "user", username)


def dm_id(seed: int, a: str, b: str) -> str:
    """The conversation id of the direct messages between users ``a`` and ``b`` in world ``seed`` (stable, as Slack's)."""
    return sid("D", str(seed), "dm", *sorted([a, b]))
