"""The tracker API's request and response bodies (pydantic): what its OpenAPI document describes."""
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer


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


class PullLink(BaseModel):
    """On an issue that is a pull request, as on GitHub."""
    url: str
    html_url: str
    diff_url: str
    patch_url: str
    merged_at: str | None


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
    pull_request: PullLink | None = Field(None, description="only on a pull request (absent on a plain issue)")

    @model_serializer(mode="wrap")
    def _no_pull_request_key(self, handler: Any):  # no return annotation: the schema stays the fields
        """GitHub leaves ``pull_request`` out of a plain issue (scripts test ``"pull_request" in issue``)."""
        out = handler(self)
        if out.get("pull_request") is None:
            out.pop("pull_request", None)
        return out


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
    size: int
    clone_url: str
    git_url: str
    ssh_url: str
    svn_url: str
    pulls_url: str
    branches_url: str
    commits_url: str
    contents_url: str
    git_refs_url: str
    has_pull_requests: bool
    allow_merge_commit: bool
    allow_squash_merge: bool
    allow_rebase_merge: bool
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


# ------------------------------------------------------------------------------------------------ the code host
class OrgOut(BaseModel):
    login: str
    id: int
    node_id: str
    url: str
    repos_url: str
    members_url: str
    public_members_url: str
    issues_url: str
    avatar_url: str
    description: str | None
    name: str | None = None
    html_url: str | None = None
    type: str | None = None
    public_repos: int | None = None
    total_private_repos: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class GitActor(BaseModel):
    name: str
    email: str
    date: str


class ShaUrl(BaseModel):
    sha: str
    url: str
    html_url: str | None = None


class CommitDetail(BaseModel):
    url: str
    author: GitActor
    committer: GitActor
    message: str
    tree: ShaUrl
    comment_count: int


class CommitStats(BaseModel):
    additions: int
    deletions: int
    total: int


class FileOut(BaseModel):
    sha: str
    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    blob_url: str
    raw_url: str
    contents_url: str
    patch: str | None = None


class CommitOut(BaseModel):
    sha: str
    node_id: str
    url: str
    html_url: str
    comments_url: str
    commit: CommitDetail
    author: SimpleUser | None
    committer: SimpleUser | None
    parents: list[ShaUrl]
    stats: CommitStats | None = None
    files: list[FileOut] | None = None


class BranchCommit(BaseModel):
    sha: str
    url: str


class BranchShort(BaseModel):
    name: str
    commit: BranchCommit
    protected: bool


class BranchOut(BaseModel):
    name: str
    commit: CommitOut
    protected: bool


class RefObject(BaseModel):
    type: str
    sha: str
    url: str


class RefOut(BaseModel):
    ref: str
    node_id: str
    url: str
    object: RefObject


class RefCreate(Strict):
    ref: str = Field(max_length=250, description="refs/heads/<branch> (422 for anything else)")
    sha: str = Field(pattern=r"^[0-9a-f]{40}$", description="a commit of the repository")


class RefUpdate(Strict):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    force: bool = False


class ContentOut(BaseModel):
    type: Literal["file", "dir"]
    name: str
    path: str
    sha: str
    size: int
    url: str
    html_url: str
    git_url: str
    download_url: str | None
    encoding: str | None = None
    content: str | None = None
    links: dict[str, str] = Field(alias="_links")


class ContentPut(Strict):
    message: str = Field(min_length=1, max_length=10000)
    content: str = Field(max_length=700_000, description="the file's new bytes, base64")
    sha: str | None = Field(None, pattern=r"^[0-9a-f]{40}$",
                            description="the blob sha of the file being replaced (required when it exists; 409 if stale)")
    branch: str | None = Field(None, max_length=250)


class ContentDelete(Strict):
    message: str = Field(min_length=1, max_length=10000)
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")
    branch: str | None = Field(None, max_length=250)


class ContentWrite(BaseModel):
    content: ContentOut | None
    commit: CommitOut


class PullEnd(BaseModel):
    label: str
    ref: str
    sha: str
    user: SimpleUser | None
    repo: RepoOut | None


class PullOut(BaseModel):
    url: str
    id: int
    node_id: str
    html_url: str
    diff_url: str
    patch_url: str
    issue_url: str
    commits_url: str
    review_comments_url: str
    comments_url: str
    statuses_url: str
    number: int
    state: Literal["open", "closed"]
    locked: bool
    title: str
    user: SimpleUser
    body: str | None
    labels: list[LabelOut]
    milestone: MilestoneOut | None
    assignee: SimpleUser | None
    assignees: list[SimpleUser]
    requested_reviewers: list[SimpleUser]
    created_at: str
    updated_at: str
    closed_at: str | None
    merged_at: str | None
    merge_commit_sha: str | None
    head: PullEnd
    base: PullEnd
    draft: bool
    merged: bool
    mergeable: bool | None
    mergeable_state: str
    merged_by: SimpleUser | None
    comments: int
    review_comments: int
    maintainer_can_modify: bool
    commits: int
    additions: int
    deletions: int
    changed_files: int
    author_association: str


class PullCreate(Strict):
    title: str | None = Field(None, max_length=256, description="required unless issue is given")
    head: str = Field(min_length=1, max_length=250, description="the branch with the changes, or owner:branch")
    base: str = Field(min_length=1, max_length=250, description="the branch to merge into")
    body: str | None = Field(None, max_length=65536)
    draft: bool = False
    maintainer_can_modify: bool = True
    issue: int | None = Field(None, ge=1, le=2**31, description="turn this issue into the pull request")


class PullUpdate(Strict):
    title: str | None = Field(None, max_length=256)
    body: str | None = Field(None, max_length=65536)
    state: Literal["open", "closed"] | None = None
    base: str | None = Field(None, max_length=250)
    maintainer_can_modify: bool | None = None


class MergeIn(Strict):
    commit_title: str | None = Field(None, max_length=256)
    commit_message: str | None = Field(None, max_length=65536)
    sha: str | None = Field(None, pattern=r"^[0-9a-f]{40}$", description="the head commit you reviewed (409 if it moved)")
    merge_method: Literal["merge", "squash", "rebase"] = "merge"


class MergeOut(BaseModel):
    sha: str
    merged: bool
    message: str


class ReviewIn(Strict):
    body: str | None = Field(None, max_length=65536)
    event: Literal["APPROVE", "REQUEST_CHANGES", "COMMENT"] | None = None
    commit_id: str | None = Field(None, pattern=r"^[0-9a-f]{40}$")
    comments: list[dict[str, Any]] = Field(default_factory=list, max_length=50,
                                           description="line comments: not supported here (422 unless empty)")


class ReviewOut(BaseModel):
    id: int
    node_id: str
    user: SimpleUser
    body: str
    state: str
    html_url: str
    pull_request_url: str
    submitted_at: str | None
    commit_id: str
    author_association: str
