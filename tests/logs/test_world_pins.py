"""`replay run` says when the world a log pinned (snapshot, image) is not the world it re-ran in."""
from airgap.envs.replay import world_changes


def test_world_changes_names_what_differs_and_ignores_the_unknown():
    header = {"snapshot_manifest_hash": "a" * 64, "image_digest": "sha256:" + "1" * 64}
    assert world_changes(header, dict(header)) == []
    assert world_changes(header, {}) == []  # an env that does not know its pins is not blamed
    assert world_changes({}, {"snapshot_manifest_hash": "b" * 64}) == []
    [change] = world_changes(header, {"snapshot_manifest_hash": "b" * 64, "image_digest": header["image_digest"]})
    assert change.startswith("snapshot manifest hash: logged aaaa") and "now bbbb" in change
