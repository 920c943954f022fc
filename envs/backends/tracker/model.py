"""The tracker API's request and response bodies (pydantic): what its OpenAPI document describes."""
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class SimpleUser(BaseModel):
    login: str
    id: int
    node_id: str
    avatar_url: str
    gravatar_id: str
    url: str
    html_url: str
    repos_url: str
    type: str
    site_admin: bool
    name: str | None = None
    email: str | None = None


class LabelOut(BaseModel):
    id: int
    node_id: str
    url: str
    name: str
    color: str
    default: bool
    description: str | None


class MilestoneOut(BaseModel):
    url: str
    html_url: str
    labels_url: str
    id: int
    node_id: str
    number: int
    state: Literal["open", "closed"]
    title: str
    description: str | None
    creator: SimpleUser | None
    open_issues: int
    closed_issues: int
    created_at: str
    updated_at: str
    closed_at: str | None
    due_on: str | None


class IssueOut(BaseModel):
    id: int
    node_id: str
    url: str
    repository_url: str
    labels_url: str
    comments_url: str
    events_url: str
    html_url: str
    number: int
    state: Literal["open", "closed"]
    state_reason: str | None
    title: str
    body: str | None
    user: SimpleUser
    labels: list[LabelOut]
    assignee: SimpleUser | None
    assignees: list[SimpleUser]
    milestone: MilestoneOut | None
    locked: bool
    active_lock_reason: str | None
    comments: int
    closed_at: str | None
    created_at: str
    updated_at: str
    closed_by: SimpleUser | None
    author_association: str


class CommentOut(BaseModel):
    id: int
    node_id: str
    url: str
    html_url: str
    issue_url: str
    body: str
    user: SimpleUser
    created_at: str
    updated_at: str
    author_association: str


class Permissions(BaseModel):
    admin: bool
    maintain: bool
    push: bool
    triage: bool
    pull: bool


class RepoOut(BaseModel):
    id: int
    node_id: str
    name: str
    full_name: str
    owner: SimpleUser
    private: bool
    visibility: str
    html_url: str
    description: str | None
    fork: bool
    url: str
    issues_url: str
    labels_url: str
    milestones_url: str
    created_at: str
    updated_at: str
    pushed_at: str
    has_issues: bool
    open_issues_count: int
    open_issues: int
    default_branch: str
    archived: bool
    disabled: bool
    permissions: Permissions


class SearchOut(BaseModel):
    total_count: int
    incomplete_results: bool
    items: list[IssueOut]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


LabelRef = str | dict[str, str]


#: A milestone by number (GitHub also takes it as a string of digits); an unknown one is 422 invalid.
MilestoneRef = Annotated[int, Field(ge=1, le=2**31)] | str | None


class IssueCreate(Strict):
    title: str | int = Field(description="the issue title; not blank (422 missing_field)")
    body: str | None = Field(None, max_length=65536)
    assignee: str | None = None
    milestone: MilestoneRef = Field(None, description="a milestone number of the repository (422 invalid otherwise)")
    labels: list[LabelRef] = Field(default_factory=list, max_length=100)
    assignees: list[str] = Field(default_factory=list, max_length=10,
                                 description="logins that can be assigned in the repository (422 invalid otherwise)")


class IssueUpdate(Strict):
    title: str | int | None = Field(None, description="not blank (422 missing_field)")
    body: str | None = Field(None, max_length=65536)
    assignee: str | None = None
    state: Literal["open", "closed"] | None = None
    state_reason: Literal["completed", "not_planned", "reopened"] | None = None
    milestone: MilestoneRef = Field(None, description="a milestone number of the repository (422 invalid otherwise); "
                                    "null removes it")
    labels: list[LabelRef] | None = Field(None, max_length=100)
    assignees: list[str] | None = Field(None, max_length=10)


class CommentIn(Strict):
    body: str = Field(max_length=65536, description="not blank (422 missing_field)")


class LabelsIn(Strict):
    labels: list[LabelRef] = Field(max_length=100)


class AssigneesIn(Strict):
    assignees: list[str] = Field(default_factory=list, max_length=10)


Color = Annotated[str, Field(pattern=r"^#?[0-9a-fA-F]{6}$")]


class LabelIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    color: Color | None = None
    description: str | None = Field(None, max_length=100)


class LabelPatch(Strict):
    new_name: str | None = Field(None, min_length=1, max_length=50)
    color: Color | None = None
    description: str | None = Field(None, max_length=100)


class MilestoneIn(Strict):
    title: str = Field(min_length=1, max_length=255)
    state: Literal["open", "closed"] = "open"
    description: str | None = Field(None, max_length=10000)
    due_on: datetime | None = None


class MilestonePatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=255)
    state: Literal["open", "closed"] | None = None
    description: str | None = Field(None, max_length=10000)
    due_on: datetime | None = None
