"""The chat API's request and response bodies (pydantic): what its OpenAPI document describes."""
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")


TsField = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]{1,12}\.[0-9]{1,6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(BaseModel):
    real_name: str
    display_name: str
    email: str
    title: str


class UserOut(BaseModel):
    id: str
    name: str
    real_name: str
    tz: str
    deleted: bool
    is_bot: bool
    profile: Profile


class TopicOut(BaseModel):
    value: str
    creator: str
    last_set: int


class ChannelOut(BaseModel):
    id: str
    name: str | None
    is_channel: bool
    is_group: bool
    is_im: bool
    is_private: bool
    is_archived: bool
    is_member: bool
    created: int
    creator: str
    user: str | None = Field(None, description="for a DM: the other person")
    topic: TopicOut
    purpose: TopicOut
    num_members: int


class Reaction(BaseModel):
    name: str
    users: list[str]
    count: int


class MessageOut(BaseModel):
    type: str
    ts: str
    user: str
    text: str
    thread_ts: str | None = None
    reply_count: int | None = None
    edited: dict[str, str] | None = None
    reactions: list[Reaction] | None = None


class Meta(BaseModel):
    next_cursor: str


class OkOut(BaseModel):
    ok: bool


class AuthTestOut(OkOut):
    url: str
    team: str
    team_id: str
    user: str
    user_id: str


class UsersOut(OkOut):
    members: list[UserOut]
    response_metadata: Meta


class UserInfoOut(OkOut):
    user: UserOut


class ChannelsOut(OkOut):
    channels: list[ChannelOut]
    response_metadata: Meta


class ChannelInfoOut(OkOut):
    channel: ChannelOut


class MembersOut(OkOut):
    members: list[str]
    response_metadata: Meta


class HistoryOut(OkOut):
    messages: list[MessageOut]
    has_more: bool
    response_metadata: Meta


class PostOut(OkOut):
    channel: str
    ts: str
    message: MessageOut


class ReactionsOut(OkOut):
    type: str = Field(description="message")
    channel: str
    message: MessageOut = Field(description="the message with its reactions")


class SearchMatch(MessageOut):
    channel: dict[str, str | None]
    permalink: str


class SearchPaging(BaseModel):
    total: int
    matches: list[SearchMatch]


class SearchOut(OkOut):
    query: str
    messages: SearchPaging


class PostIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=40_000)
    thread_ts: TsField | None = None


class UpdateIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    ts: TsField
    text: str = Field(min_length=1, max_length=40_000)


class DeleteIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    ts: TsField


class OpenIn(Strict):
    users: str = Field(min_length=1, max_length=400, description="exactly one other user: a user id or username "
                       "(group DMs are not supported: 422 invalid_users)", json_schema_extra={"x-airgap-max-items": 1})


class CreateIn(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=CHANNEL_NAME.pattern,
                      description="lower case letters, digits, - and _")
    is_private: bool = False


class ChannelIn(Strict):
    channel: str = Field(min_length=1, max_length=32)


class InviteIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    users: str = Field(min_length=1, max_length=400, description="comma-separated user ids (or usernames)")


class TopicIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    topic: str = Field(max_length=250)


class ReactionIn(Strict):
    channel: str = Field(min_length=1, max_length=32)
    timestamp: TsField
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_+-]+$")
