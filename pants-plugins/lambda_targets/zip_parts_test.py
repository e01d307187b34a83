from __future__ import annotations

from lambda_targets.zip_parts import Part, split_into_parts


def test_no_distributions_is_one_part() -> None:
    assert split_into_parts({}) == [Part("rest", ("**",))]


def test_each_distribution_takes_its_own_folders_whole_and_only_its_files_of_shared_ones() -> None:
    records = {
        "python/numpy-2.2.6.dist-info/RECORD": (
            b"numpy/__init__.py,sha256=x,1\nnumpy.libs/libx.so,,\nbin/f2py,,\n"
            b"numpy-2.2.6.dist-info/RECORD,,\n"
        ),
        "python/six-1.17.0.dist-info/RECORD": b"six.py,,\nsix-1.17.0.dist-info/RECORD,,\n",
        "python/idna-3.20.dist-info/RECORD": b"idna/core.py,,\nbin/idna,,\nidna-3.20.dist-info/RECORD,,\n",
    }

    parts = {part.name: part.globs for part in split_into_parts(records)}

    assert parts["numpy-2.2.6.dist-info"] == (
        "python/bin/f2py",
        "python/numpy-2.2.6.dist-info/**",
        "python/numpy.libs/**",
        "python/numpy/**",
    )
    # A top-level module is a file, not a folder.
    assert parts["six-1.17.0.dist-info"] == ("python/six-1.17.0.dist-info/**", "python/six.py")
    assert "python/bin/idna" in parts["idna-3.20.dist-info"]
    # The rest is everything no distribution claimed.
    assert parts["rest"][0] == "**"
    assert {"!python/numpy/**", "!python/bin/f2py", "!python/six.py", "!python/bin/idna"} <= set(
        parts["rest"]
    )


def test_paths_outside_the_tree_are_not_claimed() -> None:
    records = {"tool-1.0.dist-info/RECORD": b"../../share/man/tool.1,,\ntool.py,,\n"}

    tool, rest = split_into_parts(records)

    assert tool.globs == ("tool.py",)
    assert rest.globs == ("**", "!tool.py")
