import pytest

from relnotes.versions import latest, parse_version, sort_versions


def test_parse_accepts_v_prefix_and_metadata():
    v = parse_version("v1.2.3-beta.1+build.5")
    assert (v.major, v.minor, v.patch) == ("1", "2", "3")
    assert v.pre == "beta.1"
    assert v.build == "build.5"
    assert v.text == "v1.2.3-beta.1+build.5"


def test_parse_rejects_garbage():
    with pytest.raises(ValueError):
        parse_version("release-2020")


def test_sort_simple_single_digits():
    assert sort_versions(["1.2.0", "1.0.0", "1.1.0"]) == ["1.0.0", "1.1.0", "1.2.0"]


def test_sort_drops_non_versions():
    assert sort_versions(["nightly", "0.1.0"]) == ["0.1.0"]


def test_latest_of_nothing():
    assert latest([]) is None
