"""Scoring tests for relnotes.versions; copied into the work dir only when grading."""

from relnotes.versions import latest, sort_versions


def test_numeric_components_compare_as_numbers():
    tags = ["1.10.0", "1.9.0", "1.2.0", "2.0.0", "1.9.10", "1.9.2"]
    assert sort_versions(tags) == ["1.2.0", "1.9.0", "1.9.2", "1.9.10", "1.10.0", "2.0.0"]


def test_newest_first():
    assert sort_versions(["v0.9.0", "v0.10.0", "v0.9.1"], newest_first=True) == [
        "v0.10.0",
        "v0.9.1",
        "v0.9.0",
    ]


def test_prerelease_sorts_before_its_release():
    assert sort_versions(["1.0.0", "1.0.0-rc.1"]) == ["1.0.0-rc.1", "1.0.0"]
    assert sort_versions(["2.0.0", "2.0.0-alpha", "1.9.9"]) == ["1.9.9", "2.0.0-alpha", "2.0.0"]


def test_prerelease_identifier_precedence():
    # The ordering from the Semantic Versioning 2.0.0 specification, section 11.
    expected = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    ]
    shuffled = [expected[i] for i in (5, 2, 7, 0, 6, 3, 1, 4)]
    assert sort_versions(shuffled) == expected


def test_build_metadata_is_ignored_and_order_stable():
    assert sort_versions(["1.0.0+b2", "1.0.0+b1", "0.9.0"]) == ["0.9.0", "1.0.0+b2", "1.0.0+b1"]


def test_latest_release_and_prerelease():
    tags = ["1.9.0", "1.10.0-rc.1", "1.10.0-rc.2", "1.2.0"]
    assert latest(tags) == "1.9.0"
    assert latest(tags, include_prereleases=True) == "1.10.0-rc.2"
