#!/usr/bin/env python3
"""Writes the torch.save fixtures that TorchCheckpointTest reads, with the Python standard library only.

    python3 make_torch_fixture.py [OUT_DIR]      (default: the directory of this script)

No torch is needed: the script registers stand-in modules `torch` and `torch._utils` so that Python's own
pickle.Pickler emits exactly the opcodes torch.save emits (torch.save is pickle.Pickler(protocol=2) with a
persistent_id hook), and it writes the zip container the way torch's C++ PyTorchStreamWriter (miniz) does:

  <archive>/data.pkl            the pickle: an OrderedDict name -> torch._utils._rebuild_tensor_v2(...) with
                                persistent ids ('storage', torch.FloatStorage, '<key>', 'cpu', <numel>) and
                                a `_metadata` attribute (BUILD), exactly like module.state_dict()
  <archive>/byteorder           "little" (torch >= 2.1)
  <archive>/data/<key>          raw storage bytes, keys "0", "1", ... written in sorted(str) order
  <archive>/version             "3\n"
  <archive>/.data/serialization_id
  every record STORED (not compressed), its data 64-byte aligned by a local-header extra field "FB" + padding
  'Z'; zip64 end-of-central-directory record + locator + classic EOCD (miniz writes them with WRITE_ZIP64).

Outputs (all small):
  torch_small.bin            protocol 2, archive name "torch_small" (torch takes the file's basename), torch 2.x
                             record order, byteorder "little"
  torch_small_proto4.bin     the same state dict with pickle protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE,
                             STACK_GLOBAL), archive name "archive", torch 1.6 record order ("version" first),
                             no byteorder record, no zip64 records
  torch_small_bigendian.bin  byteorder "big", storages written big-endian
  torch_small_legacy.bin     the legacy (torch < 1.6, _use_new_zipfile_serialization=False) pickle-stream layout
  evil_*.bin                 torch.save containers whose pickle references a forbidden global
  torch_fixture.json         for every tensor: dtype, shape, C-order little-endian bytes (hex), and the exact
                             element values (float64 bit patterns for float dtypes, integers otherwise),
                             computed here from the storages, offsets and strides
"""
import collections
import io
import json
import math
import os
import pickle
import struct
import sys
import types
import zlib

# ---------------------------------------------------------------------------------------------------------
# Stand-ins for the torch objects whose *names* end up in the pickle. They are never called.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _stand_in(module, module_name, name):
    def f(*args):
        raise RuntimeError("stand-in only")
    f.__module__ = module_name
    f.__qualname__ = name
    f.__name__ = name
    setattr(module, name, f)
    return f


_rebuild_tensor_v2 = _stand_in(torch_utils, "torch._utils", "_rebuild_tensor_v2")
_rebuild_parameter = _stand_in(torch_utils, "torch._utils", "_rebuild_parameter")

# dtype -> (storage class name, struct format of one element, element size)
DTYPES = {
    "F64": ("DoubleStorage", "d", 8),
    "F32": ("FloatStorage", "f", 4),
    "F16": ("HalfStorage", "e", 2),
    "BF16": ("BFloat16Storage", "H", 2),  # stored as raw uint16 bit patterns
    "I64": ("LongStorage", "q", 8),
    "I32": ("IntStorage", "i", 4),
    "I16": ("ShortStorage", "h", 2),
    "I8": ("CharStorage", "b", 1),
    "U8": ("ByteStorage", "B", 1),
    "BOOL": ("BoolStorage", "?", 1),
}
for _dt, (_cls, _fmt, _size) in DTYPES.items():
    _c = type(_cls, (), {})
    _c.__module__ = "torch"
    _c.__qualname__ = _cls
    setattr(torch, _cls, _c)


class Storage:
    """A torch TypedStorage stand-in: a dtype and a flat list of element values (BF16: uint16 bit patterns)."""

    def __init__(self, dtype, values):
        self.dtype = dtype
        self.values = list(values)

    def to_bytes(self, order):
        fmt = DTYPES[self.dtype][1]
        return b"".join(struct.pack(order + fmt, v) for v in self.values)


class Tensor:
    """torch.Tensor.__reduce_ex__ returns (torch._utils._rebuild_tensor_v2,
    (typed_storage, storage_offset, size, stride, requires_grad, backward_hooks))."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))

    def elements(self):
        """The tensor's elements in C order, read through offset and strides (what torch would copy out)."""
        out = []
        n = 1
        for s in self.size:
            n *= s
        for flat in range(n):
            idx, rem = [], flat
            for s in reversed(self.size):
                idx.append(rem % s)
                rem //= s
            idx.reverse()
            pos = self.offset + sum(i * st for i, st in zip(idx, self.stride))
            out.append(self.storage.values[pos])
        return out


class Parameter:
    """torch.nn.Parameter.__reduce_ex__: (torch._utils._rebuild_parameter, (data, requires_grad, hooks))."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    """torch.serialization._save's persistent_id: ('storage', storage_type, key, location, numel)."""

    def __init__(self, f, protocol):
        super().__init__(f, protocol=protocol)
        self.keys = {}
        self.storages = {}

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            key = self.keys.setdefault(id(obj), str(len(self.keys)))
            self.storages[key] = obj
            return ("storage", getattr(torch, DTYPES[obj.dtype][0]), key, "cpu", len(obj.values))
        return None


# ---------------------------------------------------------------------------------------------------------
# The zip container, as caffe2::serialize::PyTorchStreamWriter + miniz write it.
def torch_zip(path, archive, records, zip64_eocd=True):
    buf = bytearray()
    central = []
    dos_time, dos_date = 0, (0 << 9) | (1 << 5) | 1  # 1980-01-01 00:00, fixed so the fixtures are reproducible
    for name, data in records:
        full = (archive + "/" + name).encode("utf-8")
        offset = len(buf)
        start = offset + 30 + len(full) + 4
        pad = (-start) % 64
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        crc = zlib.crc32(data) & 0xFFFFFFFF
        buf += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, dos_time, dos_date, crc, len(data), len(data),
                           len(full), len(extra))
        buf += full + extra
        assert len(buf) % 64 == 0
        buf += data
        central.append((full, crc, len(data), offset))
    cd_offset = len(buf)
    for full, crc, size, offset in central:
        buf += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x031E, 20, 0, 0, dos_time, dos_date, crc, size, size,
                           len(full), 0, 0, 0, 0, 0, offset)
        buf += full
    cd_size = len(buf) - cd_offset
    n = len(central)
    if zip64_eocd:
        z64 = len(buf)
        buf += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, n, n, cd_size, cd_offset)
        buf += struct.pack("<IIQI", 0x07064B50, 0, z64, 1)
    buf += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, cd_size, cd_offset, 0)
    with open(path, "wb") as f:
        f.write(buf)
    import zipfile
    with zipfile.ZipFile(path) as z:  # the standard library must accept it, CRCs included
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == [archive + "/" + r[0] for r in records]


def torch_save(path, obj, protocol=2, archive=None, byteorder="little", write_byteorder=True, old_layout=False,
               zip64_eocd=True):
    data = io.BytesIO()
    pickler = TorchPickler(data, protocol)
    pickler.dump(obj)
    order = "<" if byteorder == "little" else ">"
    storage_records = [("data/" + k, pickler.storages[k].to_bytes(order)) for k in sorted(pickler.storages)]
    records = []
    if old_layout:
        records.append(("version", b"3\n"))
    records.append(("data.pkl", data.getvalue()))
    if write_byteorder:
        records.append(("byteorder", byteorder.encode()))
    records += storage_records
    if not old_layout:
        records.append(("version", b"3\n"))
        records.append((".data/serialization_id", b"1234567890123456789012345678901234567890"))
    if archive is None:
        archive = os.path.splitext(os.path.basename(path))[0]
    torch_zip(path, archive, records, zip64_eocd)
    return pickler


class LegacyPickler(TorchPickler):
    """torch < 1.6 (_legacy_save): the persistent id has a sixth element, view_metadata (None), and the storage
    key is str(storage._cdata), an address-like number."""

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            key = self.keys.setdefault(id(obj), str(140234000000000 + 1000 * len(self.keys)))
            self.storages[key] = obj
            return ("storage", getattr(torch, DTYPES[obj.dtype][0]), key, "cpu", len(obj.values), None)
        return None


def legacy_save(path, obj, protocol=2):
    """The pre-zip layout: pickles of MAGIC_NUMBER, PROTOCOL_VERSION and sys_info, the object, the sorted storage
    keys; then per storage an int64 element count and its raw bytes (native = little-endian)."""
    f = io.BytesIO()
    pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=protocol)
    pickle.dump(1001, f, protocol=protocol)
    pickle.dump(dict(protocol_version=1001, little_endian=True, type_sizes=dict(short=2, int=4, long=8)), f,
                protocol=protocol)
    pickler = LegacyPickler(f, protocol)
    pickler.dump(obj)
    keys = sorted(pickler.storages)
    pickle.dump(keys, f, protocol=protocol)
    for key in keys:
        st = pickler.storages[key]
        f.write(struct.pack("<q", len(st.values)))
        f.write(st.to_bytes("<"))
    with open(path, "wb") as out:
        out.write(f.getvalue())


# ---------------------------------------------------------------------------------------------------------
def bf16_bits(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    assert bits & 0xFFFF == 0, x
    return bits >> 16


def make_state_dict():
    sd = collections.OrderedDict()
    # module.state_dict() carries a `_metadata` attribute: pickled as BUILD with {'_metadata': OrderedDict(...)}
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("encoder", {"version": 1})])

    emb = Storage("F32", [0.25 * i - 2.5 for i in range(20)])
    sd["embeddings.word_embeddings.weight"] = Tensor(emb, 0, (5, 4), (4, 1))
    # a [4,3] matrix saved through its transpose: size (3,4), stride (1,3) (non-contiguous view)
    m = Storage("F32", [float(i * i) / 8.0 - 3.0 for i in range(12)])
    sd["encoder.dense.weight"] = Tensor(m, 0, (3, 4), (1, 3))
    # views into one storage with storage offsets: contiguous with offset, and strided with offset
    shared = Storage("F32", [1.5 ** i for i in range(10)])
    sd["encoder.dense.bias"] = Tensor(shared, 2, (3,), (1,))
    sd["encoder.norm.weight"] = Tensor(shared, 5, (2, 2), (2, 1))
    sd["encoder.strided"] = Tensor(shared, 1, (2, 2), (4, 2))
    # tied weights: the very same storage and view as the word embeddings
    sd["lm_head.weight"] = Tensor(emb, 0, (5, 4), (4, 1))
    # a broadcast (expand) view: stride 0
    row = Storage("F32", [7.0, -8.0, 9.5])
    sd["expanded"] = Tensor(row, 0, (2, 3), (0, 1))
    # half precision: zeros, normals, the largest half, min/max subnormals, min normal, +-inf, NaN
    half = Storage("F16", [0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -24, 2.0 ** -14, 1023 * 2.0 ** -24,
                           0.333251953125, -(2.0 ** -20), float("inf"), float("-inf"), float("nan")])
    sd["half.weight"] = Tensor(half, 0, (2, 5), (5, 1))
    sd["half.special"] = Tensor(half, 10, (3,), (1,))
    bf = Storage("BF16", [bf16_bits(1.0), bf16_bits(-3.140625), bf16_bits(2.0 ** 100), 0x0001, bf16_bits(65280.0),
                          0x8000])
    sd["bf16.weight"] = Tensor(bf, 0, (2, 3), (3, 1))
    dbl = Storage("F64", [0.1, -1e300, 5e-324, math.pi])
    sd["double.weight"] = Tensor(dbl, 0, (2, 2), (2, 1))
    ids = Storage("I64", [0, 1, 2, 3, 4, 5, -(2 ** 63), 2 ** 63 - 1])
    sd["embeddings.position_ids"] = Tensor(ids, 0, (1, 8), (8, 1))
    sd["int32"] = Tensor(Storage("I32", [-(2 ** 31), 2 ** 31 - 1, 7]), 0, (3,), (1,))
    sd["int16"] = Tensor(Storage("I16", [-(2 ** 15), 2 ** 15 - 1]), 0, (2,), (1,))
    sd["int8"] = Tensor(Storage("I8", [-128, 127, 0]), 0, (3,), (1,))
    sd["uint8"] = Tensor(Storage("U8", [0, 255, 128]), 0, (3,), (1,))
    sd["mask"] = Tensor(Storage("BOOL", [True, False, True]), 0, (3,), (1,))
    sd["scalar"] = Tensor(Storage("F32", [42.5]), 0, (), ())
    sd["empty"] = Tensor(Storage("F32", []), 0, (0, 3), (3, 1))
    sd["param"] = Parameter(Tensor(Storage("F32", [0.5, -0.75]), 0, (2,), (1,)))
    return sd


def describe(sd):
    out = collections.OrderedDict()
    for name, t in sd.items():
        if isinstance(t, Parameter):
            t = t.tensor
        dtype = t.storage.dtype
        fmt = DTYPES[dtype][1]
        elems = t.elements()
        entry = collections.OrderedDict()
        entry["dtype"] = dtype
        entry["shape"] = list(t.size)
        entry["hex"] = b"".join(struct.pack("<" + fmt, v) for v in elems).hex()
        if dtype in ("F64", "F32", "F16", "BF16"):
            if dtype == "BF16":
                values = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in elems]
            else:  # the float64 value of each element as the file stores it (F32/F16 exactly widened by struct)
                values = [struct.unpack("<" + fmt, struct.pack("<" + fmt, v))[0] for v in elems]
            entry["f64bits"] = [struct.unpack("<q", struct.pack("<d", v))[0] for v in values]
        else:
            entry["ints"] = [int(v) for v in elems]
        out[name] = entry
    return out


# ---------------------------------------------------------------------------------------------------------
# Malicious pickles: a torch.save container whose data.pkl references a global a loader must refuse.
def evil_pickle(module, name, stack_global=False):
    out = bytearray(b"\x80\x04" if stack_global else b"\x80\x02")
    out += b"}"  # EMPTY_DICT
    out += b"X" + struct.pack("<I", 7) + b"payload"  # BINUNICODE key
    if stack_global:
        for s in (module, name):
            out += b"\x8c" + bytes([len(s)]) + s.encode()  # SHORT_BINUNICODE
        out += b"\x93"  # STACK_GLOBAL
    else:
        out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"  # GLOBAL
    cmd = b"touch /tmp/finsent_pwned"
    out += b"X" + struct.pack("<I", len(cmd)) + cmd + b"\x85"  # TUPLE1
    out += b"R"  # REDUCE: would call module.name(cmd)
    out += b"s."  # SETITEM, STOP
    return bytes(out)


class RealOsSystem:
    """What an attacker gets from Python's own pickler: os.system pickles as GLOBAL 'posix system' on Linux."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/finsent_pwned",))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    sd = make_state_dict()
    torch_save(os.path.join(out_dir, "torch_small.bin"), sd)
    torch_save(os.path.join(out_dir, "torch_small_proto4.bin"), sd, protocol=4, archive="archive",
               write_byteorder=False, old_layout=True, zip64_eocd=False)
    torch_save(os.path.join(out_dir, "torch_small_bigendian.bin"), sd, byteorder="big")
    legacy_save(os.path.join(out_dir, "torch_small_legacy.bin"), sd)

    evil = {
        "evil_os_system.bin": evil_pickle("os", "system"),
        "evil_builtins_eval.bin": evil_pickle("builtins", "eval", stack_global=True),
        "evil_getattr.bin": evil_pickle("__builtin__", "getattr"),
        "evil_subprocess.bin": evil_pickle("subprocess", "Popen"),
        "evil_full_model.bin": evil_pickle("torch.nn.modules.linear", "Linear"),
    }
    for fname, pkl in evil.items():
        torch_zip(os.path.join(out_dir, fname), "archive",
                  [("data.pkl", pkl), ("byteorder", b"little"), ("version", b"3\n")])
    # Python's real pickler: a real tensor first, then the payload (GLOBAL 'posix system' on Linux)
    real = collections.OrderedDict()
    real["weight"] = Tensor(Storage("F32", [1.0, 2.0]), 0, (2,), (1,))
    real["payload"] = RealOsSystem()
    torch_save(os.path.join(out_dir, "evil_posix_system.bin"), real, archive="archive")
    # a persistent id whose storage type is os.system instead of torch.FloatStorage
    pkl = bytes(b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage"
                b"cos\nsystem\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQK\x00K\x02\x85K\x01\x85\x89}tRs.")
    torch_zip(os.path.join(out_dir, "evil_in_persistent_id.bin"), "archive",
              [("data.pkl", pkl), ("byteorder", b"little"), ("data/0", struct.pack("<2f", 1, 2)),
               ("version", b"3\n")])

    doc = collections.OrderedDict()
    doc["generator"] = "make_torch_fixture.py (Python %s, standard library only)" % sys.version.split()[0]
    doc["files"] = ["torch_small.bin", "torch_small_proto4.bin", "torch_small_bigendian.bin", "torch_small_legacy.bin"]
    doc["tensors"] = describe(sd)
    doc["evil"] = {
        "evil_os_system.bin": "os.system",
        "evil_builtins_eval.bin": "builtins.eval",
        "evil_getattr.bin": "__builtin__.getattr",
        "evil_subprocess.bin": "subprocess.Popen",
        "evil_full_model.bin": "torch.nn.modules.linear.Linear",
        "evil_posix_system.bin": "posix.system",
        "evil_in_persistent_id.bin": "os.system",
    }
    with open(os.path.join(out_dir, "torch_fixture.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
