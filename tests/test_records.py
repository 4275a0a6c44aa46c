"""The records written beside outputs (init, checkpoints, data, fetched sources)."""

import pytest

from mergelimits import records


def test_a_record_is_sorted_indented_json_written_whole(tmp_path):
    """Sorted keys and one value a line, so two runs' records compare line by line; the parent
    made; nothing left beside it. A value JSON cannot hold is refused before any file is
    touched: the record already there stays as it was."""
    path = tmp_path / "run" / "init.json"
    records.write_record(path, seed=3, arch={"layers": 2, "hidden": 32}, path=["deu"])  # any key, `path` too
    assert path.read_text() == ('{\n  "arch": {\n    "hidden": 32,\n    "layers": 2\n  },\n  "path": [\n    "deu"\n'
                                '  ],\n  "seed": 3\n}\n')
    assert [p.name for p in path.parent.iterdir()] == ["init.json"]
    before = path.read_text()
    with pytest.raises(TypeError):
        records.write_record(path, seed=object())
    assert path.read_text() == before and [p.name for p in path.parent.iterdir()] == ["init.json"]
