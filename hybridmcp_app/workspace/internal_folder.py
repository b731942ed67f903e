"""The server's own folder in each root, ``.hybridmcp-workspace``, opened without following links.

A repository can ship this folder with links in it (``inventory.md -> ~/.bashrc``,
``snapshots -> /elsewhere``), or ship the folder itself as a link, so that the server writes
where they lead. So the folder is refused, with a message that names the link, when it is a
symbolic link, when a name of the root that matches it in another letter case is one (the same
folder on a case-insensitive file system), or when any name directly inside it is one. Below it,
``safe_files`` opens every name without following links. The folder is created with a
``.gitignore`` of ``*``, so git leaves it alone.
"""

from __future__ import annotations

from pathlib import Path

from hybridmcp_app.workspace.safe_files import LinkRefused, SafeDir
from hybridmcp_app.workspace.sandbox import INTERNAL_DIR, is_internal_name

INTERNAL_LINK_HINT = (
    "the workspace server's own folder may hold no symbolic links (a repository can ship one "
    "to make the server write elsewhere); remove the link and try again"
)
IGNORE_ALL = b"# HybridMCP workspace server: snapshots, backups, inventory\n*\n"


def open_internal(root: Path) -> SafeDir:
    """The checked internal folder of ``root`` (resolved), created when missing."""
    with _open_root(root) as top:
        return _checked(top.folder(INTERNAL_DIR, create=True), create=True)


def find_internal(root: Path) -> SafeDir | None:
    """The checked internal folder of ``root``, or None when there is none yet."""
    with _open_root(root) as top:
        if top.entry(INTERNAL_DIR) is None:
            return None
        return _checked(top.folder(INTERNAL_DIR), create=False)


def open_internal_folder(root: Path, name: str) -> SafeDir:
    """The folder ``name`` (snapshots, backups) in the internal folder, created when missing."""
    with open_internal(root) as internal:
        return internal.folder(name, create=True)


def find_internal_folder(root: Path, name: str) -> SafeDir | None:
    """The folder ``name`` in the internal folder, or None when there is none yet."""
    internal = find_internal(root)
    if internal is None:
        return None
    with internal:
        return None if internal.entry(name) is None else internal.folder(name)


def _open_root(root: Path) -> SafeDir:
    """The root, refused when a name that is the internal folder in any letter case is a link."""
    top = SafeDir.open(root, hint=INTERNAL_LINK_HINT)
    try:
        _refuse_links(top, [name for name in top.links() if is_internal_name(name)])
    except BaseException:
        top.close()
        raise
    return top


def _checked(folder: SafeDir, *, create: bool) -> SafeDir:
    """``folder`` (the internal one, open), refused when a name in it is a link."""
    try:
        _refuse_links(folder, folder.links())
        if create and folder.entry(".gitignore") is None:
            folder.write(".gitignore", IGNORE_ALL)
    except BaseException:
        folder.close()
        raise
    return folder


def _refuse_links(folder: SafeDir, links: list[str]) -> None:
    if links:
        raise LinkRefused(f"{folder.shown(links[0])} is a symbolic link; {folder.hint}")
