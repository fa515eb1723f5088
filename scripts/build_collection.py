#!/usr/bin/env python
"""Copy the working tree into build/collections/ansible_collections/alicloud/ecs_images.

The copy is a real copy (ansible-test resolves symlinks and refuses a collection that
is a symlink). Files are the git-tracked plus untracked-but-not-ignored files of the
working tree (`git ls-files -co --exclude-standard`); outside a git checkout every file
is taken except the usual junk (.git, .venv, build, tests/output, caches). Files that
did not change (same size and mtime) are not rewritten; files and directories that no
longer exist in the tree are deleted from the copy. The copy gets an empty git repository of
its own so that ansible-test sees its files (see git_init).
"""
from __future__ import annotations

import argparse
import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / 'build' / 'collections' / 'ansible_collections' / 'alicloud' / 'ecs_images'

# Used only when the tree is not a git checkout.
EXCLUDE_DIRS = {'.git', '.venv', 'build', '__pycache__', '.pytest_cache', '.cache', '.tox', '.mypy_cache'}
EXCLUDE_PATHS = {'tests/output'}
EXCLUDE_FILES = ['*.pyc', '*.pyo', '*.egg-info', '.ecs-images-stamp']


def git_files(root: Path) -> list[str] | None:
    try:
        out = subprocess.run(['git', '-C', str(root), 'ls-files', '-co', '--exclude-standard', '-z'],
                             check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    files = []
    for name in out.decode('utf-8', 'surrogateescape').split('\0'):
        # tracked files deleted in the working tree are listed too: skip them
        if name and (root / name).is_file() or name and (root / name).is_symlink():
            files.append(name)
    return files


def walk_files(root: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = '' if rel_dir == '.' else rel_dir
        dirnames[:] = [d for d in dirnames
                       if d not in EXCLUDE_DIRS and not d.endswith('.egg-info')
                       and os.path.join(rel_dir, d) not in EXCLUDE_PATHS]
        for name in filenames:
            if any(fnmatch.fnmatch(name, pat) for pat in EXCLUDE_FILES):
                continue
            files.append(os.path.join(rel_dir, name))
    return files


def same(src: Path, dst: Path) -> bool:
    try:
        s, d = src.stat(), dst.lstat()
    except OSError:
        return False
    return not dst.is_symlink() and s.st_size == d.st_size and int(s.st_mtime) == int(d.st_mtime)


def sync(root: Path, dest: Path, files: list[str]) -> tuple[int, int]:
    dest.mkdir(parents=True, exist_ok=True)
    wanted = set(os.path.normpath(f) for f in files)
    copied = 0
    for rel in sorted(wanted):
        src = root / rel
        dst = dest / rel
        if same(src, dst):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if dst.is_symlink() or dst.is_file():
            dst.unlink()
        elif dst.is_dir():
            shutil.rmtree(dst)
        shutil.copy2(src, dst)  # follows symlinks: the copy holds real files
        copied += 1
    removed = 0
    for dirpath, dirnames, filenames in os.walk(dest, topdown=False):
        rel_dir = os.path.relpath(dirpath, dest)
        rel_dir = '' if rel_dir == '.' else rel_dir
        if rel_dir.split(os.sep)[:2] == ['tests', 'output'] or rel_dir.split(os.sep)[0] == '.git':
            continue  # ansible-test's output and the copy's own (empty) git repository
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if rel not in wanted:
                os.unlink(os.path.join(dirpath, name))
                removed += 1
        if rel_dir and not os.listdir(dirpath):
            os.rmdir(dirpath)
    return copied, removed


def git_init(dest: Path) -> None:
    """Make the copy its own (empty) git repository.

    build/ lives inside the source checkout, where it is git-ignored. ansible-test lists the
    collection's files with `git ls-files` of the nearest enclosing repository, so without a
    repository of its own the copy would look empty to it. With an empty repository there,
    `git ls-files --others --exclude-standard` lists exactly the copied files (tests/output and
    the rest of .gitignore stay excluded). Nothing is ever committed to it.
    """
    if (dest / '.git').exists():
        return
    try:
        subprocess.run(['git', 'init', '-q', str(dest)], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print('[collection] warning: git init in %s failed (%s); ansible-test may not see the files'
              % (dest, exc), file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dest', type=Path, default=DEFAULT_DEST,
                        help='collection directory to create (default: %(default)s)')
    parser.add_argument('--root', type=Path, default=ROOT, help='working tree to copy (default: %(default)s)')
    args = parser.parse_args()
    root = args.root.resolve()
    dest = args.dest.absolute()
    if dest.parent.parent.name != 'ansible_collections':
        parser.error('--dest must end in ansible_collections/<namespace>/<name>')
    files = git_files(root)
    how = 'git ls-files -co --exclude-standard'
    if files is None:
        files = walk_files(root)
        how = 'directory walk (not a git checkout)'
    copied, removed = sync(root, dest, files)
    git_init(dest)
    print('[collection] %s: %d files (%s); %d copied, %d stale removed'
          % (dest, len(files), how, copied, removed), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
