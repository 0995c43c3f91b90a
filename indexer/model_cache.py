"""Model weights converted once into a form made for loading: arrays memory-mapped from the user's cache.

A package ships its weights in the form it was easiest to publish in (a
compressed .npz, a file of 4-bit blocks, a protobuf tokenizer), which takes a
second or more to read. `converted` reads them once, writes the arrays a model
needs into one file under `models/<name>/` of the cache folder
($XDG_CACHE_HOME/notesearch, else ~/.cache/notesearch), and from then on maps
them in a few milliseconds; a query then reads only the pages it touches (the
embedding rows of its tokens).

The conversion is checked each time before it is trusted: its manifest names
the format of this module and the layout of the converter, the source package and version, and each source
file's size, modification time and SHA-256 (a source whose size or time changed
is hashed again: a reinstall of the same version keeps the conversion, and its
new size and time are recorded so that it is hashed once; another file redoes
it); the arrays file's size and checksum (a sum of its words) are checked as it is mapped.
Anything that does not match (a damaged or foreign file, another version, a
missing file) is converted again. A cache that cannot be written (read-only,
full) is not an error: the arrays converted in memory are used.
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import mmap
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer.files import atomic_write, file_sha256

FORMAT = 1
MANIFEST = "manifest.json"
ARRAYS = "arrays.bin"
ALIGN = 64  # each array starts at a multiple of this many bytes (a cache line)
Arrays = dict[str, np.ndarray]


def cache_folder() -> Path:
    """Where converted models live: $XDG_CACHE_HOME/notesearch/models, else ~/.cache/notesearch/models."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "notesearch" / "models"


def converted(name: str, layout: int, package: str, sources: Sequence[Path], convert: Callable[[], Arrays],
              folder: Path | None = None) -> Arrays:
    """The arrays of model `name`, converted by `convert()` from the files `sources` of `package`: memory-mapped
    from the cache when it holds a conversion of these very files, else converted now and written there.

    `layout` numbers what `convert` makes: a converter that changes its arrays changes it, so that no version
    of notesearch trusts another's conversion. Arrays
    must not hold Python objects.
    """
    where = (folder or cache_folder()) / name
    expected = {**_describe(package, sources), "layout": layout}
    found = _load(where, expected, sources)
    if found is not None:
        return found
    arrays = convert()
    try:
        _write(where, expected, sources, arrays)
    except OSError:
        return arrays  # a read-only or full cache: load from the package every time, as before
    return _load(where, expected, sources) or arrays


def _describe(package: str, sources: Sequence[Path]) -> dict:
    """What a conversion is made from: this module's format, the package's version, each source's size and time."""
    files = []
    for path in sources:
        info = os.stat(path)
        files.append({"name": Path(path).name, "size": info.st_size, "mtime_ns": info.st_mtime_ns})
    return {"format": FORMAT, "package": package, "version": _version(package), "sources": files}


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _load(where: Path, expected: dict, sources: Sequence[Path]) -> Arrays | None:
    """The arrays in `where` when its manifest says they were converted from `expected`'s sources and the file
    is as the manifest recorded it; else None."""
    try:
        with open(where / MANIFEST, encoding="utf-8") as f:
            manifest = json.load(f)
        if not _same_source(manifest, expected, sources):
            return None
        current = [{**now, "sha256": was["sha256"]} for was, now in zip(manifest["sources"], expected["sources"])]
        if manifest["sources"] != current:
            _remember_times(where, {**manifest, "sources": current})
        path = where / ARRAYS
        if os.path.getsize(path) != manifest["size"] or _checksum(path) != manifest["checksum"]:
            return None
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)  # closed when no array maps it
        arrays = {}
        for name, record in manifest["arrays"].items():
            dtype = np.dtype(record["dtype"])
            if dtype.hasobject:
                return None
            shape = tuple(int(n) for n in record["shape"])
            arrays[name] = np.frombuffer(mapped, dtype=dtype, count=math.prod(shape), offset=record["offset"]).reshape(shape)
        return arrays
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _same_source(manifest: dict, expected: dict, sources: Sequence[Path]) -> bool:
    """True when `manifest` describes a conversion, in this format, of the same version and files as `expected`.

    A source whose size or time changed since (a reinstall) is hashed: the same bytes keep the conversion.
    """
    if any(manifest.get(key) != expected[key] for key in ("format", "layout", "package", "version")):
        return False
    recorded, now = manifest["sources"], expected["sources"]
    if [source["name"] for source in recorded] != [source["name"] for source in now]:
        return False
    for was, source, path in zip(recorded, now, sources):
        if (was["size"], was["mtime_ns"]) != (source["size"], source["mtime_ns"]) and file_sha256(str(path)) != was["sha256"]:
            return False
    return True


def _remember_times(where: Path, manifest: dict) -> None:
    """Write `manifest`, which records the sources' size and time now, after their bytes were found the same (a
    reinstall of the same version, another environment's copy): the next load trusts them without hashing them
    again (71 MB of e5-small's weights: 60 ms of every cold search). A cache that cannot be written is left as
    it is."""
    try:
        atomic_write(str(where / MANIFEST), lambda f: f.write(json.dumps(manifest, indent=1).encode("utf-8")))
    except OSError:
        pass


def _write(where: Path, expected: dict, sources: Sequence[Path], arrays: Arrays) -> None:
    """Write the arrays, one after another (each at a multiple of ALIGN bytes), into one file; then the manifest
    that vouches for it (each file atomically)."""
    if where.exists() and not where.is_dir():
        where.unlink()
    where.mkdir(parents=True, exist_ok=True)
    (where / MANIFEST).unlink(missing_ok=True)  # no reader trusts the old manifest with the new file
    records = {}
    offset = 0
    for name, array in arrays.items():
        if array.dtype.hasobject:
            raise ValueError(f"{name}: an array of Python objects cannot be mapped")
        records[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
        offset += -(-array.nbytes // ALIGN) * ALIGN

    def write(f) -> None:
        for array in arrays.values():
            data = np.ascontiguousarray(array).tobytes()
            f.write(data + b"\0" * (-len(data) % ALIGN))

    path = where / ARRAYS
    atomic_write(str(path), write)
    for stale in set(os.listdir(where)) - {ARRAYS}:
        if not stale.startswith(".tmp-"):  # another process's conversion, being written
            stale_path = where / stale
            shutil.rmtree(stale_path) if stale_path.is_dir() else stale_path.unlink()
    sources_hashed = [{**source, "sha256": file_sha256(str(path))} for source, path in zip(expected["sources"], sources)]
    manifest = {**expected, "sources": sources_hashed, "size": os.path.getsize(path), "checksum": _checksum(path),
                "arrays": records}
    atomic_write(str(where / MANIFEST), lambda f: f.write(json.dumps(manifest, indent=1).encode("utf-8")))


def _checksum(path: Path) -> int:
    """The sum of a file's 64-bit little-endian words (its tail bytes as one more word), modulo 2⁶⁴.

    It catches a truncated, zeroed or foreign file as a CRC would, at a sixth of the time: 17 ms for USE's
    90 MB where zlib's CRC-32 took 110 ms, on every load.
    """
    size = os.path.getsize(path)
    if size == 0:
        return 0
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        words = np.frombuffer(mapped, dtype="<u8", count=size // 8)
        total = int(words.sum(dtype=np.uint64))
        del words  # the map closes only once no array views it
        tail = mapped[size // 8 * 8:]
    return (total + int.from_bytes(tail, "little")) % (1 << 64)
