"""The wheel's build step: the compiled catalogues, and templates/ and static/ inside the package.

setuptools runs it for ``pip install .`` and ``pip wheel`` (pyproject.toml, ``cmdclass``). The
source keeps templates/ and static/ beside the package, where the blueprints and `make messages`
find them; the wheel carries them inside it, so an installed app needs no checkout. The
catalogues are compiled here because git ignores the ``.mo`` files: without this step an office
would see English while the language switch says Bahasa Indonesia.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools.command.build_py import build_py

PACKAGE = "checkin"
CATALOGUES = Path(PACKAGE) / "translations"
# Folders beside the package in the source, inside it in the wheel.
ASSET_FOLDERS = ("templates", "static")


def compile_catalogues(source: Path, target: Path) -> list[Path]:
    """Compile every ``messages.po`` under ``source`` into ``messages.mo`` at the same place
    under ``target``; return the files written.

    Fuzzy entries are used, as `make translations` (``pybabel compile --use-fuzzy``) does.
    """
    written = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=po_path.parent.parent.name)
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue, use_fuzzy=True)
        written.append(mo_path)
    return written


class BuildWithCatalogues(build_py):
    """build_py, then the compiled catalogues and the templates and static files."""

    def run(self) -> None:
        """Build the package, then add what git does not hold or keeps outside the package.

        An editable install reads the source tree: the catalogues are compiled there.
        """
        super().run()
        if self.editable_mode:
            compile_catalogues(CATALOGUES, CATALOGUES)
            return
        package = Path(self.build_lib) / PACKAGE
        compile_catalogues(CATALOGUES, package / "translations")
        for folder in ASSET_FOLDERS:
            self.copy_tree(folder, str(package / folder))
