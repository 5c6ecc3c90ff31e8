"""Deploy the repository to Amazon MWAA and AWS Glue.

What goes where (bucket names and the environment come from arguments or DWH_* variables):

  MWAA bucket   dags/                  <- dags/                    (synced, removed files deleted)
                dags/include/<part>/   <- include/pipelines, sql, glue (synced the same way)
                plugins.zip            <- plugins/ contents, dwh/__init__.py at the zip root
                requirements.txt       <- requirements.txt
                startup.sh             <- infra/mwaa/startup.sh
  scripts bucket glue/                 <- include/glue/*.py       (synced, removed files deleted)

Only what git tracks ships (`git ls-files`, as the files are in the working tree): untracked and
ignored files never leave the machine, and the repository must be a git checkout. The deploy
needs no generated file that git does not track (plugins.zip is built here). A tracked symbolic
link, a tracked dotfile other than the two .airflowignore files (dags/ and plugins/), or a
tracked path that is not a regular file refuses the deploy before anything is written, in one
error naming every such file. `--dry-run` prints every file that would ship and its destination.

Every object carries its content hash as metadata (content-sha256; for plugins.zip the hash of
its file manifest, which Terraform's bootstrap computes the same way), so unchanged files are not
uploaded again. The environment is updated (UpdateEnvironment with the new object versions) only
when plugins.zip, requirements.txt or the startup script changed, or when the environment does
not run the versions the bucket holds (a previous update that failed), since an update restarts
every Airflow component.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dwh import config

# Object keys; infra/modules/mwaa/main.tf uses the same ones.
DAGS_PREFIX = "dags"
INCLUDE_PARTS = ("pipelines", "sql", "glue")
PLUGINS_KEY = "plugins.zip"
REQUIREMENTS_KEY = "requirements.txt"
STARTUP_KEY = "startup.sh"
GLUE_PREFIX = "glue"
HASH_METADATA = "content-sha256"

STARTUP_SCRIPT = Path("infra") / "mwaa" / "startup.sh"
ENVIRONMENT_VARIABLES = {
    "mwaa_bucket": "DWH_MWAA_BUCKET",
    "scripts_bucket": "DWH_SCRIPTS_BUCKET",
    "environment": "DWH_MWAA_ENVIRONMENT",
}
# MWAA accepts UpdateEnvironment only in these states.
UPDATABLE = ("AVAILABLE", "UPDATE_FAILED")
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
TEST_NAMES = ("conftest.py",)
# The one hidden file plugins.zip carries: it keeps Airflow's plugin manager, which imports every
# .py of the plugins folder as a top-level module, out of the dwh package.
PLUGINS_IGNORE = ".airflowignore"
# The only dotfiles that ship, by path in the repository; any other tracked dotfile is refused.
ALLOWED_DOTFILES = ("dags/.airflowignore", f"plugins/{PLUGINS_IGNORE}")
# What is synced to the dags/ prefix (plugins/ travels in plugins.zip).
SHIPPED_FOLDERS = ("dags", *(f"include/{part}" for part in INCLUDE_PARTS))


class DeployError(Exception):
    """The deploy cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Artifact:
    """One of the three objects MWAA runs by version."""

    key: str
    data: bytes
    sha256: str
    parameter: str  # UpdateEnvironment prefix: Plugins, Requirements, StartupScript
    # (where it comes from, its name inside the object or "") for each file the object carries
    sources: tuple[tuple[str, str], ...] = ()


@dataclass
class DeployReport:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    environment_update: dict | None = None
    dry_run: bool = False


# --- local content -----------------------------------------------------------------------------


def _is_junk(rel: PurePosixPath) -> bool:
    """Build leftovers that never ship: bytecode caches and editor/OS files."""
    return (
        "__pycache__" in rel.parts
        or rel.suffix in (".pyc", ".pyo")
        or rel.name in (".DS_Store", "Thumbs.db")
    )


def _git(repo_root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo_root), *args], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise DeployError(
            "git is not installed: dwh deploy ships only the files git tracks"
        ) from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git failed"
        raise DeployError(
            f"{repo_root} is not a git checkout ({reason}): dwh deploy ships only the files git "
            "tracks, so run it in a clone of the repository"
        )
    return done.stdout


def check_checkout(repo_root: Path) -> None:
    """``repo_root`` must be the top folder of a git checkout: what git tracks is what ships."""
    top = Path(_git(repo_root, "rev-parse", "--show-toplevel").strip())
    if top.resolve() != Path(repo_root).resolve():
        raise DeployError(
            f"{repo_root} is not the top folder of a git checkout (git finds {top} above it): "
            "dwh deploy ships only the files git tracks, so run it in a clone of the repository"
        )


def _symlink_on_the_way(repo_root: Path, rel: PurePosixPath) -> PurePosixPath | None:
    """The first component of ``rel`` under ``repo_root`` that is a symbolic link, if any."""
    path = repo_root
    for depth, part in enumerate(rel.parts, start=1):
        path = path / part
        if path.is_symlink():
            return PurePosixPath(*rel.parts[:depth])
    return None


def tracked_files(repo_root: Path, folder: str) -> list[PurePosixPath]:
    """What ships from ``folder`` (a path in the repository): the files git tracks under it,
    relative to it, as they are in the working tree.

    Untracked and ignored files are left out, and so are bytecode caches, editor/OS files and
    tracked files deleted from the working tree. A symbolic link (the folder itself, a folder on
    the way or a file), a dotfile other than ALLOWED_DOTFILES and anything that is not a regular
    file are refused, all of them in one DeployError naming each.
    """
    problems: list[str] = []
    found = _select(repo_root, folder, problems)
    _refuse(problems)
    return found


def _refuse(problems: list[str]) -> None:
    if problems:
        raise DeployError("refusing to deploy: " + "; ".join(problems))


def _select(repo_root: Path, folder: str, problems: list[str]) -> list[PurePosixPath]:
    base = PurePosixPath(folder)
    link = _symlink_on_the_way(repo_root, base)
    if link is not None:
        problems.append(f"{link} is a symbolic link; dwh deploy ships regular files only")
        return []
    listed = _git(repo_root, "ls-files", "-z", "--cached", "--", folder).split("\0")
    found: list[PurePosixPath] = []
    for name in sorted(set(filter(None, listed))):
        full = PurePosixPath(name)
        rel = full.relative_to(base)
        if _is_junk(rel):
            continue
        if any(p.startswith(".") for p in full.parts) and name not in ALLOWED_DOTFILES:
            problems.append(
                f"{name} is a dotfile (of the dotfiles only {', '.join(ALLOWED_DOTFILES)} ship); "
                "remove it from git with `git rm --cached`"
            )
        elif (link := _symlink_on_the_way(repo_root, full)) is not None:
            problems.append(f"{link} is a symbolic link; replace it by the file it points to")
        elif not (repo_root / name).exists():
            continue  # deleted in the working tree: it does not ship (and is deleted remotely)
        elif not (repo_root / name).is_file():
            problems.append(f"{name} is not a regular file")
        else:
            found.append(rel)
    return found


def check_shipped_folders(repo_root: Path, *, plugins: bool = True) -> None:
    """Refuse, in one error, every symlink, dotfile or odd file of every folder that ships."""
    problems: list[str] = []
    for folder in (*(["plugins"] if plugins else []), *SHIPPED_FOLDERS):
        _select(repo_root, folder, problems)
    _refuse(problems)


def untracked_files(repo_root: Path, folders: Iterable[str]) -> list[str]:
    """Files under ``folders`` that git does not track nor ignore: they do not ship."""
    listed = _git(repo_root, "ls-files", "-z", "--others", "--exclude-standard", "--", *folders)
    return sorted(n for n in set(listed.split("\0")) if n and not _is_junk(PurePosixPath(n)))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def plugin_files(plugins_dir: Path) -> list[str]:
    """Paths under plugins/ that plugins.zip holds: the ones git tracks (infra/modules/mwaa_artifacts
    selects alike from a clean checkout: every file but caches and hidden ones)."""
    plugins_dir = Path(plugins_dir)
    return [str(rel) for rel in tracked_files(plugins_dir.parent, plugins_dir.name)]


def manifest_sha256(entries: Iterable[tuple[str, bytes]]) -> str:
    """Content hash of a set of files: sha256 of "<sha256>  <path>\\n" lines in path order."""
    lines = "".join(f"{sha256(data)}  {name}\n" for name, data in sorted(entries))
    return sha256(lines.encode())


def build_plugins_zip(plugins_dir: Path) -> bytes:
    """Zip the contents of plugins/ (not the folder) with fixed timestamps: same files, same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in plugin_files(plugins_dir):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (plugins_dir / name).read_bytes())
    return buffer.getvalue()


def _is_test_path(rel: PurePosixPath) -> bool:
    name = rel.name
    return (
        any(p in ("tests", "test") for p in rel.parts[:-1])
        or name in TEST_NAMES
        or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))
    )


def check_plugins_zip(data: bytes, source: str) -> str:
    """Refuse a plugins.zip MWAA would not import the way we expect; return its content hash.

    MWAA unpacks plugins.zip into its plugins folder and puts that folder on sys.path, so the
    package must sit at the root (dwh/__init__.py), and caches or tests have no place in it.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DeployError(f"{source} is not a zip file") from None
    with zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist() if not i.is_dir()]
    names = [PurePosixPath(n) for n, _ in entries]
    problems = []
    if PurePosixPath("dwh/__init__.py") not in names:
        nested = sorted(
            str(n.parent.parent) for n in names if n.parts[-2:] == ("dwh", "__init__.py")
        )
        where = f" (found under {nested[0]}/)" if nested else ""
        problems.append(
            f"dwh/__init__.py is not at the zip root{where}: zip the contents of plugins/, "
            "not the plugins folder itself"
        )
    ignore = dict(entries).get(PLUGINS_IGNORE, b"").decode(errors="replace").split()
    if "dwh/" not in ignore and "dwh" not in ignore:
        problems.append(
            f"its {PLUGINS_IGNORE} does not list dwh/: Airflow's plugin manager would import "
            "every module of the package as a top-level plugin (config, graph, ...)"
        )
    caches = [str(n) for n in names if "__pycache__" in n.parts or n.suffix in (".pyc", ".pyo")]
    if caches:
        problems.append(f"it holds bytecode caches ({_sample(caches)})")
    tests = [str(n) for n in names if _is_test_path(n)]
    if tests:
        problems.append(f"it holds tests ({_sample(tests)}); tests stay out of plugins/")
    if problems:
        raise DeployError(f"{source} refused: " + "; ".join(problems))
    return manifest_sha256(entries)


def _sample(items: list[str], limit: int = 3) -> str:
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def dag_folder_files(repo_root: Path) -> dict[str, Path]:
    """S3 key -> local file for everything under the MWAA bucket's dags/ prefix."""
    repo_root = Path(repo_root)
    files = {
        f"{DAGS_PREFIX}/{rel}": repo_root / "dags" / rel for rel in tracked_files(repo_root, "dags")
    }
    for part in INCLUDE_PARTS:
        base = repo_root / "include" / part
        for rel in tracked_files(repo_root, f"include/{part}"):
            files[f"{DAGS_PREFIX}/include/{part}/{rel}"] = base / rel
    return files


def glue_script_files(repo_root: Path) -> dict[str, Path]:
    """S3 key -> local file for the scripts bucket's glue/ prefix (include/glue/*.py)."""
    repo_root = Path(repo_root)
    return {
        f"{GLUE_PREFIX}/{rel.name}": repo_root / "include" / "glue" / rel
        for rel in tracked_files(repo_root, "include/glue")
        if len(rel.parts) == 1 and rel.suffix == ".py"
    }


def _tracked_file(repo_root: Path, name: str) -> Path:
    """One file the deploy uploads as it is: a regular file that git tracks."""
    path = repo_root / name
    link = _symlink_on_the_way(repo_root, PurePosixPath(name))
    if link is not None:
        raise DeployError(
            f"refusing to deploy: {link} is a symbolic link; replace it by the file it points to"
        )
    if not path.exists():
        raise DeployError(f"{path} does not exist")
    if not path.is_file():
        raise DeployError(f"refusing to deploy: {name} is not a regular file")
    if name not in _git(repo_root, "ls-files", "-z", "--cached", "--", name).split("\0"):
        raise DeployError(
            f"refusing to deploy: {name} is not tracked by git; commit it (git add {name})"
        )
    return path


def artifacts(repo_root: Path, plugins_zip: Path | None = None) -> list[Artifact]:
    """plugins.zip (built from plugins/ or the given file, checked), requirements, startup script."""
    repo_root = Path(repo_root)
    if plugins_zip is not None:
        zip_bytes, source = plugins_zip.read_bytes(), str(plugins_zip)
    else:
        plugins_dir = repo_root / "plugins"
        if not plugins_dir.is_dir():
            raise DeployError(f"{plugins_dir} does not exist")
        zip_bytes, source = build_plugins_zip(plugins_dir), f"plugins.zip built from {plugins_dir}"
    plugins_hash = check_plugins_zip(zip_bytes, source)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        entries = [i.filename for i in zf.infolist() if not i.is_dir()]
    origin = (lambda n: f"plugins/{n}") if plugins_zip is None else (lambda n: f"{plugins_zip}:{n}")
    found = [
        Artifact(
            PLUGINS_KEY,
            zip_bytes,
            plugins_hash,
            "Plugins",
            tuple((origin(name), name) for name in sorted(entries)),
        )
    ]
    for key, name, parameter in (
        (REQUIREMENTS_KEY, "requirements.txt", "Requirements"),
        (STARTUP_KEY, STARTUP_SCRIPT.as_posix(), "StartupScript"),
    ):
        data = _tracked_file(repo_root, name).read_bytes()
        found.append(Artifact(key, data, sha256(data), parameter, ((name, ""),)))
    return found


def shipping_manifest(
    repo_root: Path,
    built: list[Artifact],
    dags: dict[str, Path],
    glue: dict[str, Path],
    mwaa_bucket: str,
    scripts_bucket: str,
) -> list[str]:
    """One line per file that ships: where it comes from and where it goes."""

    def shown(path: Path) -> str:
        return path.relative_to(repo_root).as_posix()

    lines = []
    for artifact in built:
        for source, inside in artifact.sources:
            where = f" ({inside})" if inside else ""
            lines.append(f"  {source} -> s3://{mwaa_bucket}/{artifact.key}{where}")
    lines += [
        f"  {shown(path)} -> s3://{scripts_bucket}/{key}" for key, path in sorted(glue.items())
    ]
    lines += [f"  {shown(path)} -> s3://{mwaa_bucket}/{key}" for key, path in sorted(dags.items())]
    return lines


# --- S3 ----------------------------------------------------------------------------------------


def _head(s3, bucket: str, key: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _stored_hash(head: dict | None) -> str | None:
    return (head or {}).get("Metadata", {}).get(HASH_METADATA)


def _list_keys(s3, bucket: str, prefix: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
        keys.update(obj["Key"] for obj in page.get("Contents", []))
    return keys


def _put(s3, bucket: str, key: str, data: bytes, digest: str) -> str | None:
    response = s3.put_object(Bucket=bucket, Key=key, Body=data, Metadata={HASH_METADATA: digest})
    return response.get("VersionId")


def _sync(s3, bucket, prefix, files: dict[str, Path], report, out, dry_run) -> None:
    """Make s3://bucket/prefix/ hold exactly ``files``: upload new or changed ones, delete the rest."""
    existing = _list_keys(s3, bucket, prefix)
    verb = "would " if dry_run else ""
    for key, path in sorted(files.items()):
        data = path.read_bytes()
        digest = sha256(data)
        if key in existing and _stored_hash(_head(s3, bucket, key)) == digest:
            report.unchanged += 1
            continue
        state = "changed" if key in existing else "new"
        out(f"{verb}upload s3://{bucket}/{key} ({state})")
        if not dry_run:
            _put(s3, bucket, key, data, digest)
        report.uploaded.append(f"s3://{bucket}/{key}")
    for key in sorted(existing - set(files)):
        out(f"{verb}delete s3://{bucket}/{key} (removed from the repository)")
        if not dry_run:
            s3.delete_object(Bucket=bucket, Key=key)
        report.deleted.append(f"s3://{bucket}/{key}")


# --- MWAA --------------------------------------------------------------------------------------


def _environment(mwaa, name: str) -> dict:
    from botocore.exceptions import ClientError

    try:
        return mwaa.get_environment(Name=name)["Environment"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise DeployError(
                f"MWAA environment {name!r} not found; check DWH_MWAA_ENVIRONMENT "
                "(terraform output mwaa_environment_name) and the region"
            ) from None
        raise


def _wait(mwaa, name: str, timeout: float, out, sleep) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status = _environment(mwaa, name).get("Status")
        if status == "AVAILABLE":
            out(f"environment {name} is AVAILABLE")
            return
        if status in ("UPDATE_FAILED", "UNAVAILABLE"):
            raise DeployError(
                f"MWAA environment {name} ended {status} after the update; its CloudWatch logs "
                "say why (a requirements.txt that does not install is the usual cause)"
            )
        if time.monotonic() > deadline:
            raise DeployError(f"MWAA environment {name} still {status} after {timeout:.0f}s")
        out(f"environment {name} is {status}; waiting")
        sleep(30)


# --- the command -------------------------------------------------------------------------------


def deploy(
    *,
    mwaa_bucket: str,
    scripts_bucket: str,
    environment: str,
    repo_root: Path = config.REPO_ROOT,
    plugins_zip: Path | None = None,
    dry_run: bool = False,
    wait: bool = False,
    wait_timeout: float = 3600.0,
    s3=None,
    mwaa=None,
    out: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> DeployReport:
    """Deploy ``repo_root`` to the MWAA bucket, the scripts bucket and the MWAA environment.

    ``s3`` and ``mwaa`` are boto3 clients (created from the default session when omitted). With
    ``dry_run`` nothing is written: the plan is printed through ``out``. With ``wait`` the call
    returns once an environment update has finished.
    """
    if s3 is None or mwaa is None:
        import boto3

        s3 = s3 or boto3.client("s3")
        mwaa = mwaa or boto3.client("mwaa")
    repo_root = Path(repo_root)
    report = DeployReport(dry_run=dry_run)
    verb = "would " if dry_run else ""

    # Everything that can refuse the deploy is checked before anything is written.
    check_checkout(repo_root)
    check_shipped_folders(repo_root, plugins=plugins_zip is None)
    built = artifacts(repo_root, plugins_zip)
    glue_files = glue_script_files(repo_root)
    dag_files = dag_folder_files(repo_root)
    manifest = shipping_manifest(
        repo_root, built, dag_files, glue_files, mwaa_bucket, scripts_bucket
    )
    left_out = untracked_files(repo_root, ("dags", "include", "plugins"))
    if dry_run:
        out(f"would ship {len(manifest)} files tracked by git:")
        for line in manifest:
            out(line)
    for name in left_out:
        out(f"not shipped, not tracked by git: {name}")
    env = _environment(mwaa, environment)
    status = env.get("Status")
    if status not in UPDATABLE:
        raise DeployError(
            f"MWAA environment {environment} is {status}; deploy again once it is "
            f"{' or '.join(UPDATABLE)}"
        )

    versions: dict[str, str | None] = {}
    for artifact in built:
        head = _head(s3, mwaa_bucket, artifact.key)
        if _stored_hash(head) == artifact.sha256:
            versions[artifact.parameter] = head.get("VersionId")
            report.unchanged += 1
            continue
        out(f"{verb}upload s3://{mwaa_bucket}/{artifact.key} ({'changed' if head else 'new'})")
        report.uploaded.append(f"s3://{mwaa_bucket}/{artifact.key}")
        versions[artifact.parameter] = (
            None if dry_run else _put(s3, mwaa_bucket, artifact.key, artifact.data, artifact.sha256)
        )

    _sync(s3, scripts_bucket, GLUE_PREFIX, glue_files, report, out, dry_run)
    _sync(s3, mwaa_bucket, DAGS_PREFIX, dag_files, report, out, dry_run)

    stale = [
        a
        for a in built
        if versions[a.parameter] is None
        or env.get(f"{a.parameter}S3Path") != a.key
        or env.get(f"{a.parameter}S3ObjectVersion") != versions[a.parameter]
    ]
    if not stale:
        out(f"environment {environment}: plugins.zip, requirements.txt and startup.sh unchanged")
        return report

    request = {"Name": environment}
    for artifact in built:
        request[f"{artifact.parameter}S3Path"] = artifact.key
        if versions[artifact.parameter] is not None:
            request[f"{artifact.parameter}S3ObjectVersion"] = versions[artifact.parameter]
    changed = ", ".join(a.key for a in stale)
    out(f"{verb}update MWAA environment {environment} ({changed})")
    report.environment_update = request
    if dry_run:
        return report
    mwaa.update_environment(**request)
    if wait:
        _wait(mwaa, environment, wait_timeout, out, sleep)
    return report


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dwh deploy",
        description="Deploy DAGs, include/, plugins.zip, requirements and the startup script to "
        "MWAA and the Glue scripts to S3; update the environment only when it needs it.",
    )
    parser.add_argument("--mwaa-bucket", help="MWAA source bucket (default $DWH_MWAA_BUCKET)")
    parser.add_argument(
        "--scripts-bucket", help="Glue scripts bucket (default $DWH_SCRIPTS_BUCKET)"
    )
    parser.add_argument("--environment", help="MWAA environment (default $DWH_MWAA_ENVIRONMENT)")
    parser.add_argument("--region", help="AWS region (default: the AWS configuration's)")
    parser.add_argument(
        "--repo-root", type=Path, default=config.REPO_ROOT, help="repository to deploy"
    )
    parser.add_argument(
        "--plugins-zip", type=Path, help="deploy this plugins.zip instead of building one"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument("--wait", action="store_true", help="wait for the environment update")
    parser.add_argument("--wait-timeout", type=float, default=3600.0, help="seconds (default 3600)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    names = {}
    missing = []
    for option, variable in ENVIRONMENT_VARIABLES.items():
        names[option] = getattr(args, option) or os.environ.get(variable)
        if not names[option]:
            missing.append(f"--{option.replace('_', '-')} (or ${variable})")
    if missing:
        print(f"dwh deploy: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    import boto3

    session = boto3.Session(region_name=args.region)
    try:
        report = deploy(
            **names,
            repo_root=args.repo_root,
            plugins_zip=args.plugins_zip,
            dry_run=args.dry_run,
            wait=args.wait,
            wait_timeout=args.wait_timeout,
            s3=session.client("s3"),
            mwaa=session.client("mwaa"),
        )
    except DeployError as exc:
        print(f"dwh deploy: {exc}", file=sys.stderr)
        return 1
    if report.dry_run:
        update = "update planned" if report.environment_update else "no update needed"
        print(
            f"plan: {len(report.uploaded)} to upload, {len(report.deleted)} to delete, "
            f"{report.unchanged} unchanged, environment {update}"
        )
    else:
        update = "updated" if report.environment_update else "not updated"
        print(
            f"{len(report.uploaded)} uploaded, {len(report.deleted)} deleted, "
            f"{report.unchanged} unchanged, environment {update}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
