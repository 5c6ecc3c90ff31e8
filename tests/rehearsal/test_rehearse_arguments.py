"""`dwh rehearse` refuses wrong arguments before doing anything, and never clears a folder it did
not make."""

from __future__ import annotations

import pytest

from dwh_tools.rehearsal.__main__ import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--runtimes", "local,bogus"], "unknown runtime bogus"),
        (["--scale", "0"], "a positive number"),
        (["--scale", "lots"], "a positive number"),
    ],
)
def test_a_wrong_argument_is_one_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_folder_it_did_not_make_is_not_cleared(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(SystemExit):
        main(["--work", str(tmp_path)])
    assert "refusing to clear it" in capsys.readouterr().err
    assert (tmp_path / "thesis.tex").read_text() == "years of work"
