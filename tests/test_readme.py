"""The README's settings table and its two set-up commands stay true."""

from pathlib import Path

from core.settings import Settings

README = (Path(__file__).parent.parent / "README.md").read_text()


def test_every_setting_is_documented() -> None:
    missing = [name for name in Settings.model_fields if f"`LEDGERLINE_{name.upper()}`" not in README]
    assert missing == []


def test_the_two_setup_commands_exist_in_the_makefile() -> None:
    makefile = (Path(__file__).parent.parent / "Makefile").read_text()
    assert "make demo" in README and "make test" in README
    assert "\ndemo:" in makefile and "\ntest:" in makefile
