"""Model files: weights, architecture, optimizer state, preprocessing statistics and the config.

A checkpoint is a NumPy ``.npz`` archive: arrays are stored as arrays, everything else as one
JSON string (``header.npy``). It is written through ``atomic.write_atomic`` (a temporary file in
the same folder, flushed to the disk, then renamed into place), so a crash never leaves half a
model where a good one was.

Reading trusts nothing it has not checked (a model file may come from anywhere): the members'
names, their declared sizes (``MAX_BYTES`` in all, and no more than the header's network needs),
each npy header's dtype and shape, then finite values; nothing is ever unpickled. Saving refuses a
model that these checks would refuse to read back.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .atomic import write_atomic
from .csvdata import UnreadableFile, open_regular
from .network import Network
from .numbers import byte_size
from .optimizers import OPTIMIZERS, Optimizer, create
from .preprocess import Standardizer

FORMAT = "nn-tui-checkpoint"
VERSION = 1

MAX_BYTES = 512 << 20
"""The most a model file's members may declare, uncompressed, all together (512 MiB)."""
MAX_HEADER_CHARS = 1 << 20
"""The longest JSON header (characters): the config and the progress facts, never data."""
MAX_EXTRAS_BYTES = 16 << 20
"""What the extra arrays (the loss history) may hold together."""
MAX_MEMBERS = 10_000
"""Members in one archive (a 100-layer network with its optimizer state has about 800)."""
NPY_HEADER_BYTES = 16_384
"""Room for an npy header in a member, on top of its data (``np.save`` writes 128 bytes)."""

_MEMBER = re.compile(r"(header|scaler_mean|scaler_std|param_\d{1,6}|opt_\d{1,6}_[a-z][a-z_]{0,39}|extra_\w{1,64})\.npy",
                     re.ASCII)


class CheckpointError(ValueError):
    """A model file that is missing, corrupted or not an nn-tui checkpoint."""


@dataclass
class Checkpoint:
    """Everything needed to continue training or to use a model."""

    net: Network
    opt: Optimizer
    standardizer: Standardizer
    config_text: str = ""
    """The experiment config as TOML."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form progress and data facts (epoch, step, problem, class names, loss...)."""
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    """Other arrays to keep with the model, by name (e.g. the loss history)."""


def save_checkpoint(path, ckpt: Checkpoint) -> Path:
    """Write ``ckpt`` to ``path`` atomically; returns the path written."""
    path = Path(path)
    opt_state = ckpt.opt.state_dict()
    arrays: dict[str, np.ndarray] = {f"param_{i}": p for i, p in enumerate(ckpt.net.params)}
    for i, state in enumerate(opt_state.pop("state")):
        for name, value in state.items():
            arrays[f"opt_{i}_{name}"] = value
    arrays["scaler_mean"] = np.asarray(ckpt.standardizer.mean)
    arrays["scaler_std"] = np.asarray(ckpt.standardizer.std)
    for name, value in ckpt.extras.items():
        arrays[f"extra_{name}"] = np.asarray(value)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "network": {
            "layer_sizes": list(ckpt.net.layer_sizes),
            "activations": list(ckpt.net.activations),
            "init": ckpt.net.init,
            "seed": ckpt.net.seed,
            "dtype": ckpt.net.dtype.name,
        },
        "optimizer": {**opt_state, "n_params": len(ckpt.net.params)},
        "config": ckpt.config_text,
        "meta": ckpt.meta,
    }
    text = json.dumps(header)
    _check_writable(path, text, arrays)
    arrays["header"] = np.array(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, lambda f: np.savez(f, **arrays))


_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError,
    ValueError, struct.error,
)
try:  # not every Python is built with lzma
    import lzma

    _ZIP_ERRORS += (lzma.LZMAError,)
except ImportError:  # pragma: no cover
    pass


def _check_writable(path: Path, text: str, arrays: dict[str, np.ndarray]) -> None:
    """Refuse to write a model that ``load_checkpoint`` would refuse to read back."""
    if len(text) > MAX_HEADER_CHARS:
        raise CheckpointError(f"{path}: cannot save: the model's header would hold {len(text):,} characters, "
                              f"more than a model file may ({MAX_HEADER_CHARS:,})")
    for name in arrays:
        if not _MEMBER.fullmatch(f"{name}.npy"):
            raise CheckpointError(f"{path}: cannot save an array named {_show(name)}")
    extras = sum(a.nbytes for name, a in arrays.items() if name.startswith("extra_"))
    total = sum(a.nbytes for a in arrays.values()) + 4 * len(text)
    if extras > MAX_EXTRAS_BYTES or total > MAX_BYTES:
        raise CheckpointError(f"{path}: cannot save: the model would be {byte_size(total)} "
                              f"({byte_size(extras)} of it history), more than a model file may hold "
                              f"({byte_size(MAX_BYTES)}, {byte_size(MAX_EXTRAS_BYTES)} of history)")


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint; ``CheckpointError`` with one clear line if it is not a usable one.

    Nothing is trusted before it is checked: only a regular file is opened (``open_regular``); the archive's
    member names, their declared uncompressed sizes (against ``MAX_BYTES`` and against what the
    header's network needs: a zip bomb is refused before a byte is inflated) and each member's
    npy header (dtype and shape against the network) are checked before any array is read;
    weights, optimizer state and scaler must then hold finite numbers. Never unpickles.
    """
    path = Path(path)
    try:
        f = open_regular(path, expected="a model file", noun="model file")
    except UnreadableFile as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    with f:
        try:
            if not zipfile.is_zipfile(f):
                raise CheckpointError(f"{path}: not an nn-tui model file (not a .npz archive)")
            _check_directory(path, f)
            with zipfile.ZipFile(f) as zf:
                return _Reader(path, zf).read()
        except CheckpointError:
            raise
        except RecursionError:
            raise CheckpointError(f"{path}: corrupted model file (nested too deeply)") from None
        except _ZIP_ERRORS as exc:
            raise CheckpointError(f"{path}: not an nn-tui model file ({_reason(exc)})") from None


def _check_directory(path: Path, f) -> None:
    """Refuse an archive whose central directory lists more members than a model has, before
    ``zipfile`` builds an object for each of them."""
    size = f.seek(0, os.SEEK_END)
    tail_len = min(size, 22 + 65535)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return  # zipfile will say what is wrong
    entries, cd_size = struct.unpack("<HL", tail[at + 10:at + 16])
    if entries > MAX_MEMBERS or cd_size > MAX_MEMBERS * 512:
        raise CheckpointError(f"{path}: not an nn-tui model file (its zip directory lists {entries:,} members "
                              f"in {byte_size(cd_size)}; a model has at most {MAX_MEMBERS:,})")
    f.seek(0)


class _Reader:
    """One pass over an open archive: every check before the read it guards."""

    def __init__(self, path: Path, zf: zipfile.ZipFile) -> None:
        self.path, self.zf = path, zf
        self.infos: dict[str, zipfile.ZipInfo] = {}

    def fail(self, what: str) -> NoReturn:
        raise CheckpointError(f"{self.path}: corrupted model file: {what}")

    def read(self) -> Checkpoint:
        infos = self.zf.infolist()
        if len(infos) > MAX_MEMBERS:
            self.fail(f"{len(infos):,} members; a model has at most {MAX_MEMBERS:,}")
        for info in infos:
            if info.filename in self.infos:
                self.fail(f"member {_show(info.filename)} appears more than once")
            self.infos[info.filename] = info
        if "header.npy" not in self.infos:
            raise CheckpointError(f"{self.path}: not an nn-tui model file (no nn-tui header)")
        for name in self.infos:
            if not _MEMBER.fullmatch(name):
                self.fail(f"unexpected member {_show(name)} (a model file holds only weights, optimizer "
                          "state, scaler, history and its header)")
        total = sum(info.file_size for info in infos)
        if total > MAX_BYTES:
            big = max(infos, key=lambda i: i.file_size)
            in_all = f" ({byte_size(total)} in all)" if byte_size(total) != byte_size(big.file_size) else ""
            self.fail(f"{big.filename} declares {byte_size(big.file_size)} uncompressed{in_all}, more than a model "
                      f"file may hold ({byte_size(MAX_BYTES)})")
        header = self.header()
        plan = self.plan(header)
        arrays = {name[:-4]: self.array(name, *plan[name]) for name in self.infos if name != "header.npy"}
        try:
            return _build(header, arrays)
        except KeyError as exc:
            self.fail(f"the header lacks {exc}")
        except (ValueError, TypeError, AttributeError, IndexError, OverflowError) as exc:
            self.fail(_reason(exc))

    # -- the header --------------------------------------------------------------------------

    def header(self) -> dict:
        info = self.infos["header.npy"]
        limit = 4 * MAX_HEADER_CHARS + NPY_HEADER_BYTES
        if info.file_size > limit:
            self.fail(f"header.npy declares {byte_size(info.file_size)}, more than a header may hold "
                      f"({byte_size(limit)})")
        with self.zf.open(info) as fp:
            shape, order, dtype = self.npy_header(fp, "header.npy")
            if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_HEADER_CHARS:
                if dtype.kind == "U" and shape == ():
                    self.fail(f"header.npy holds {dtype.itemsize // 4:,} characters, more than a header may "
                              f"({MAX_HEADER_CHARS:,})")
                raise CheckpointError(f"{self.path}: not an nn-tui model file (no nn-tui header: header.npy "
                                      f"holds {_describe(dtype, shape)}, not text)")
            text = str(self.data(fp, info, "header.npy", shape, order, dtype)[()])
        try:
            header = json.loads(text)
        except RecursionError:
            self.fail("the header is nested too deeply")
        except ValueError as exc:
            self.fail(f"the header is not valid JSON ({_reason(exc)})")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CheckpointError(f"{self.path}: not an nn-tui model file (no nn-tui header)")
        if header.get("version") != VERSION:
            raise CheckpointError(f"{self.path}: model file version {_show(header.get('version'))} is not supported")
        return header

    def plan(self, header: dict) -> dict[str, tuple]:
        """Member name -> (what it is, expected shape or None, allowed dtypes), from the header's
        network; every member's declared size is checked against it here."""
        net = header.get("network")
        if not isinstance(net, dict):
            self.fail("the header has no network table")
        sizes = net.get("layer_sizes")
        if not (isinstance(sizes, list) and 2 <= len(sizes) <= MAX_MEMBERS // 8
                and all(type(n) is int and 1 <= n <= MAX_BYTES for n in sizes)):
            self.fail(f"network.layer_sizes = {_show(sizes)} is not a list of 2 or more positive widths")
        dtype = net.get("dtype")
        if dtype not in ("float32", "float64"):
            self.fail(f"network.dtype = {_show(dtype)} is not float32 or float64")
        dtype = np.dtype(dtype)
        shapes = [s for a, b in zip(sizes, sizes[1:]) for s in ((a, b), (b,))]
        n_values = sum(math.prod(s) for s in shapes)
        if n_values * dtype.itemsize > MAX_BYTES:
            self.fail(f"network.layer_sizes = {_show(sizes)} means {n_values:,} weights, more than a model "
                      f"file may hold ({byte_size(MAX_BYTES)})")
        o = header.get("optimizer")
        if not isinstance(o, dict):
            self.fail("the header has no optimizer table")
        if o.get("n_params") != len(shapes):
            self.fail(f"optimizer.n_params = {_show(o.get('n_params'))} does not match the network's "
                      f"{len(shapes)} arrays")
        try:
            state_names = OPTIMIZERS[o.get("name")].state_names
        except (KeyError, TypeError):
            self.fail(f"optimizer.name = {_show(o.get('name'))} is not an optimizer; known: {', '.join(OPTIMIZERS)}")
        _whole(self, o.get("steps"), "optimizer.steps")
        if not isinstance(header.get("meta", {}), dict):
            self.fail("meta is not a table")
        if not isinstance(header.get("config", ""), str):
            self.fail("config is not text")

        real = ("f",)
        plan: dict[str, tuple] = {}
        for i, shape in enumerate(shapes):
            plan[f"param_{i}.npy"] = (_label(i), shape, (dtype,))
        n_features = sizes[0]
        plan["scaler_mean.npy"] = ("the input scaler's means", (n_features,), real)
        plan["scaler_std.npy"] = ("the input scaler's spreads", (n_features,), real)
        opt_members = [n for n in self.infos if n.startswith("opt_")]
        for name in opt_members:
            i_text, state = name[4:-4].split("_", 1)
            i = int(i_text)
            if i >= len(shapes) or state not in state_names:
                self.fail(f"unexpected member {name}: optimizer {o['name']!r} keeps "
                          f"{', '.join(state_names) or 'no state'} for {len(shapes)} arrays")
            plan[name] = (f"{state} of {_label(i)}", shapes[i], (dtype,))
        if opt_members:
            for i in range(len(shapes)):
                for state in state_names:
                    if f"opt_{i}_{state}.npy" not in self.infos:
                        self.fail(f"member opt_{i}_{state}.npy is missing (the optimizer state is incomplete)")
        extras = 0
        for name, info in self.infos.items():
            if name.startswith("extra_"):
                plan[name] = ("an extra array", None, ("f", "i", "u", "b"))
                extras += info.file_size
        if extras > MAX_EXTRAS_BYTES:
            self.fail(f"the extra arrays declare {byte_size(extras)}, more than they may hold "
                      f"({byte_size(MAX_EXTRAS_BYTES)})")
        for name in self.infos:
            if name not in plan and name != "header.npy":
                self.fail(f"unexpected member {name}: the network has {len(shapes)} arrays (param_0 to "
                          f"param_{len(shapes) - 1})")
        for name, (what, shape, _) in plan.items():
            info = self.infos.get(name)
            if info is None:
                self.fail(f"member {name} ({what}) is missing")
            if shape is not None and info.file_size > math.prod(shape) * 8 + NPY_HEADER_BYTES:
                self.fail(f"{name} ({what}) declares {byte_size(info.file_size)} uncompressed, far more than "
                          f"a {_shape(shape)} array needs")
        return plan

    # -- arrays ------------------------------------------------------------------------------

    def array(self, name: str, what: str, shape, kinds) -> np.ndarray:
        info = self.infos[name]
        with self.zf.open(info) as fp:
            found, order, dtype = self.npy_header(fp, name)
            label = f"{name} ({what})"
            if not _fits(dtype, kinds):
                wanted = " or ".join(dict.fromkeys(str(k) if isinstance(k, np.dtype) else _KINDS[k] for k in kinds))
                self.fail(f"{label} holds {_describe(dtype, found)}, not {wanted}")
            if shape is not None and found != tuple(shape):
                self.fail(f"{label} has shape {_shape(found)} but the network needs {_shape(shape)}")
            if shape is None and len(found) > 2:
                self.fail(f"{label} has shape {_shape(found)}, not a list or a table")
            value = self.data(fp, info, label, found, order, dtype)
        if shape is not None and value.dtype.kind == "f" and not np.isfinite(value).all():
            bad = "NaN" if np.isnan(value).any() else "infinite"
            raise CheckpointError(f"{self.path}: {name[:-4]} ({what}) holds {bad} values; the file is damaged")
        if name == "scaler_std.npy" and not (value > 0).all():
            raise CheckpointError(f"{self.path}: scaler_std ({what}) holds values that are not positive; "
                                  "the file is damaged")
        return value

    def npy_header(self, fp, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, order, dtype = np.lib.format.read_array_header_1_0(fp, max_header_size=NPY_HEADER_BYTES)
            elif version == (2, 0):
                shape, order, dtype = np.lib.format.read_array_header_2_0(fp, max_header_size=NPY_HEADER_BYTES)
            else:
                raise ValueError(f"npy format version {version} is not supported")
        except (ValueError, TypeError, SyntaxError, EOFError, struct.error) as exc:
            self.fail(f"{name} is not a readable array ({_reason(exc)})")
        return tuple(shape), bool(order), dtype

    def data(self, fp, info: zipfile.ZipInfo, label: str, shape, order: bool, dtype: np.dtype) -> np.ndarray:
        """The array's bytes, once the member's declared size is exactly what its npy header says."""
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        if info.file_size - fp.tell() != nbytes:
            self.fail(f"{label} declares a {_shape(shape)} array ({byte_size(nbytes)}) but holds "
                      f"{byte_size(max(info.file_size - fp.tell(), 0))}")
        flat = np.empty(count, dtype=dtype)
        view = memoryview(flat.view(np.uint8) if nbytes else bytearray())
        done = 0
        while done < nbytes:
            n = fp.readinto(view[done:])
            if not n:
                self.fail(f"{label} ends early")
            done += n
        if fp.read(1):
            self.fail(f"{label} holds more than its header says")
        return flat.reshape(shape, order="F" if order else "C")


_KINDS = {"f": "real numbers (float32 or float64)", "i": "integers", "u": "integers", "b": "booleans"}


def _fits(dtype: np.dtype, kinds) -> bool:
    """Whether ``dtype`` is plain numbers (no fields, sub-arrays or Python objects) of one of
    ``kinds``: a dtype (in either byte order) or a kind letter (floats: float32 and float64 only)."""
    if dtype.fields is not None or dtype.subdtype is not None or dtype.hasobject:
        return False
    if dtype.kind == "f" and dtype.itemsize not in (4, 8):
        return False
    native = dtype.newbyteorder("=")
    return any(native == k if isinstance(k, np.dtype) else dtype.kind == k for k in kinds)


def _describe(dtype: np.dtype, shape) -> str:
    if dtype.hasobject:
        kind = "Python objects"
    elif dtype.fields is not None or dtype.subdtype is not None:
        kind = "records"
    elif dtype.kind == "c":
        kind = f"complex numbers ({dtype.name})"
    elif dtype.kind in "US":
        kind = "text"
    else:
        kind = dtype.name
    return f"{kind}, shape {_shape(shape)}"


def _label(i: int) -> str:
    """The name people know a parameter by: W1, b1, W2, ..."""
    return f"{'W' if i % 2 == 0 else 'b'}{i // 2 + 1}"


def _shape(shape) -> str:
    return str(tuple(shape))


def _show(value: Any, limit: int = 60) -> str:
    """A value for a message: its repr, cut short, on one line."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _whole(reader: "_Reader", value: Any, key: str) -> int:
    """A saved counter: a whole number from 0 to 2**53."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2**53 \
            or value != int(value):
        reader.fail(f"{key} = {_show(value)} is not a whole number from 0 to 2**53")
    return int(value)


def _build(header: dict, arrays: dict[str, np.ndarray]) -> Checkpoint:
    n = header["network"]
    net = Network(n["layer_sizes"], n["activations"], init=n["init"], seed=n["seed"], dtype=n["dtype"])
    net.set_parameters([arrays[f"param_{i}"] for i in range(len(net.params))])
    o = dict(header["optimizer"])
    if o.pop("n_params") != len(net.params):
        raise ValueError("optimizer state does not match the network")
    opt = create(o["name"])
    o["state"] = [
        {name: arrays[f"opt_{i}_{name}"] for name in opt.state_names if f"opt_{i}_{name}" in arrays}
        for i in range(len(net.params))
    ]
    if not any(o["state"]):
        o["state"] = []
    opt.load_state_dict(o)
    scaler = Standardizer(mean=arrays["scaler_mean"], std=arrays["scaler_std"])
    extras = {k[len("extra_"):]: v for k, v in arrays.items() if k.startswith("extra_")}
    return Checkpoint(net, opt, scaler, header.get("config", ""), header.get("meta", {}), extras)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
