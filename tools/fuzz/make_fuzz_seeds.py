#!/usr/bin/env python3
"""Writes the seed corpora of the Jazzer fuzz targets (python3 tools/fuzz/make_fuzz_seeds.py, from the repository root).

Each target's inputs live in src/test/resources/<package>/<TestClass>Inputs/<method>/, where plain `mvn test`
replays them (Jazzer's regression mode) and `mvn -Pfuzz test` starts from them. Seeds are small valid files plus
one file per attack class of issue 22 (DAG-bomb pickle, self-referential dict, deeply nested tuple key, a zip
whose central directory lies about an entry's size, tokenizer files with absurd limits or ids). Findings that
Jazzer writes into the same folders are kept; this script only (re)writes the files it names (seed-*).
Standard library only; no torch, no tensorflow, no onnx needed.
"""
import hashlib
import io
import json
import os
import struct
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IO = os.path.join(ROOT, "finsent-core/src/test/resources/org/finsent/core/io/WeightReadersFuzzTestInputs")
DATA = os.path.join(ROOT, "finsent-core/src/test/resources/org/finsent/core/data/DataReadersFuzzTestInputs")
TOK = os.path.join(ROOT, "finsent-tokenizers/src/test/resources/org/finsent/tokenizers/TokenizerFilesFuzzTestInputs")


def put(base, method, name, data):
    d = os.path.join(base, method)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ----------------------------------------------------------------------------------------------- pickles

def s(x):  # BINUNICODE
    b = x.encode()
    return b"X" + struct.pack("<I", len(b)) + b


def k(n):  # BININT1 / BININT
    return b"K" + bytes([n]) if 0 <= n < 256 else b"J" + struct.pack("<i", n)


def tensor(storage_key, numel, size, stride, offset=0, storage="FloatStorage"):
    return (b"ctorch._utils\n_rebuild_tensor_v2\n("
            + b"(" + s("storage") + b"ctorch\n" + storage.encode() + b"\n" + s(storage_key) + s("cpu") + k(numel) + b"tQ"
            + k(offset) + b"(" + b"".join(k(v) for v in size) + b"t(" + b"".join(k(v) for v in stride) + b"t"
            + b"\x89}tR")


def valid_pickle():
    return (b"\x80\x02}q\x00(" + s("encoder.weight") + tensor("0", 16, [4, 4], [4, 1])
            + s("encoder.bias") + tensor("1", 16, [4], [1])
            + s("encoder.weight_t") + tensor("0", 16, [4, 4], [1, 4])
            + s("nested") + b"}(" + s("w") + tensor("1", 16, [2, 2], [2, 1], 4) + b"u"
            + b"u.")


def dag_bomb(levels=40):
    # d0 = {"w": tensor}; d(i+1) = {"a": di, "b": di}: 2^levels names from a few hundred bytes
    p = b"\x80\x02}(" + s("w") + tensor("0", 16, [4], [1]) + b"uq\x000"
    for i in range(levels):
        p += b"}(\x8c\x01ah" + bytes([i]) + b"\x8c\x01bh" + bytes([i]) + b"uq" + bytes([i + 1])
        if i + 1 < levels:
            p += b"0"
    return p + b"."


def self_referential():
    # d = {}; d["self"] = d; d["w"] = tensor
    return b"\x80\x02}q\x00(" + s("self") + b"h\x00" + s("w") + tensor("0", 16, [4], [1]) + b"u."


def nested_tuple_key(depth=50000):
    # {((((...),),),): 1}: hashing the key recursed once per level
    return b"\x80\x02}" + b")" + b"\x85" * depth + k(1) + b"s."


def dag_tuple_key(levels=60):
    # t0 = (1,); t(i+1) = (ti, ti): a key whose hash walks 2^levels elements
    p = b"\x80\x02}" + k(1) + b"\x85q\x000"
    for i in range(levels):
        p += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86q" + bytes([i + 1]) + b"0"
    return p + b"h" + bytes([levels]) + k(1) + b"s."


def torch_zip(pickle_bytes, storages=(bytes(range(64)), bytes(range(64)))):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        for i, st in enumerate(storages):
            z.writestr("archive/data/%d" % i, st)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def lying_zip(claimed=0x7FFFFFF0):
    """A deflated data.pkl whose central directory (and local header) claim `claimed` bytes."""
    body = valid_pickle()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(body) + comp.flush()
    crc = zlib.crc32(body)
    name = b"archive/data.pkl"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), claimed, len(name), 0) + name + data
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(data), claimed, len(name),
                          0, 0, 0, 0, 0, 0) + name
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + eocd


LEGACY_PREAMBLE_LEN = None


def legacy_tail(obj_pickle, keys, storages):
    out = obj_pickle + b"\x80\x02]q\x00(" + b"".join(s(x) for x in keys) + b"e."
    for st in storages:
        out += struct.pack("<q", len(st) // 4) + st
    return out


def legacy_obj(tensors):
    p = b"\x80\x02}q\x00("
    for name, key, numel, size, stride in tensors:
        p += s(name) + (b"ctorch._utils\n_rebuild_tensor_v2\n(" + b"(" + s("storage") + b"ctorch\nFloatStorage\n"
                        + s(key) + s("cpu") + k(numel) + b"Nt" + b"Q" + k(0)
                        + b"(" + b"".join(k(v) for v in size) + b"t(" + b"".join(k(v) for v in stride) + b"t\x89}tR")
    return p + b"u."


# ----------------------------------------------------------------------------------------------- protobuf

def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(n, wire, payload):
    tag = varint((n << 3) | wire)
    if wire == 0:
        return tag + varint(payload)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    if wire == 5:
        return tag + struct.pack("<I", payload)
    raise ValueError(wire)


def onnx_model():
    w = field(1, 0, 2) + field(1, 0, 2) + field(2, 0, 1) + field(8, 2, b"w") + field(9, 2, struct.pack("<4f", 1, 2, 3, 4))
    b = field(1, 0, 2) + field(2, 0, 1) + field(8, 2, b"bert.encoder.layer.0.attention.self.query.bias") \
        + field(4, 2, struct.pack("<2f", 0.5, -0.5))
    i64 = field(1, 0, 3) + field(2, 0, 7) + field(8, 2, b"ids") + field(7, 2, varint(1) + varint(2) + varint(3))
    node = field(1, 2, b"x") + field(1, 2, b"w") + field(2, 2, b"y") \
        + field(3, 2, b"/encoder/layer.0/attention/self/query/MatMul") + field(4, 2, b"MatMul") \
        + field(5, 2, field(1, 2, b"transB") + field(3, 0, 1))
    graph = field(1, 2, node) + field(5, 2, w) + field(5, 2, b) + field(5, 2, i64) + field(2, 2, b"g")
    return field(1, 0, 7) + field(2, 2, b"pytorch") + field(3, 2, b"2.1") + field(7, 2, graph)


def onnx_lying():
    # an initializer whose dims claim 2^28 floats given as (absent) float_data
    t = field(1, 0, 1 << 14) + field(1, 0, 1 << 14) + field(2, 0, 1) + field(8, 2, b"big")
    return field(1, 0, 7) + field(7, 2, field(5, 2, t))


# ----------------------------------------------------------------------------------------------- TF bundle

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def mask(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def block(entries):
    out = b""
    prev = b""
    for key, value in entries:
        shared = 0
        while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
            shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        prev = key
    return out + struct.pack("<II", 0, 1)


def bundle_entries():
    data = bytes((i * 31) & 0xFF for i in range(4096))
    header = field(1, 0, 1) + field(2, 0, 0)

    def entry(dtype, dims, offset, size):
        shape = b"".join(field(2, 2, field(1, 0, d)) for d in dims)
        return field(1, 0, dtype) + field(2, 2, shape) + field(3, 0, 0) + field(4, 0, offset) + field(5, 0, size) \
            + field(6, 5, mask(crc32c(data[offset:offset + size])))

    return [(b"", header),
            (b"bert/embeddings/LayerNorm/beta", entry(1, [4], 0, 16)),
            (b"bert/embeddings/LayerNorm/gamma", entry(1, [2, 2], 16, 16)),
            (b"global_step", entry(9, [], 32, 8))]


def sstable(data_block):
    out = data_block + b"\x00" + struct.pack("<I", mask(crc32c(data_block + b"\x00")))
    handle = varint(0) + varint(len(data_block))
    index_block = varint(0) + varint(1) + varint(len(handle)) + b"\xff" + handle + struct.pack("<II", 0, 1)
    index_offset = len(out)
    out += index_block + b"\x00" + struct.pack("<I", mask(crc32c(index_block + b"\x00")))
    footer = varint(0) + varint(0) + varint(index_offset) + varint(len(index_block))
    return out + footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", 0xDB4775248B80FB57)


# ----------------------------------------------------------------------------------------------- main

def main():
    # safetensors
    hdr = json.dumps({"__metadata__": {"format": "pt"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                      "b": {"dtype": "BF16", "shape": [2], "data_offsets": [16, 20]}}).encode()
    st = struct.pack("<Q", len(hdr)) + hdr + struct.pack("<4f", 1, 2, 3, 4) + b"\x80\x3f\x00\x40"
    put(IO, "safetensors", "valid.safetensors", st)
    put(IO, "safetensors", "header-length-lies.safetensors", struct.pack("<Q", 0x7FFFFFFF) + hdr)
    put(IO, "safetensors", "offsets-past-end.safetensors",
        struct.pack("<Q", len(hdr)) + hdr.replace(b"[16, 20]", b"[16, 9999999999]") + b"\0" * 20)

    # torch: whole files
    put(IO, "torchFile", "valid.bin", torch_zip(valid_pickle()))
    put(IO, "torchFile", "dag-bomb.bin", torch_zip(dag_bomb()))
    put(IO, "torchFile", "self-referential.bin", torch_zip(self_referential()))
    put(IO, "torchFile", "lying-zip.bin", lying_zip())
    legacy = legacy_tail(legacy_obj([("w", "0", 4, [2, 2], [2, 1]), ("v", "1", 2, [2], [1])]), ["0", "1"],
                         [struct.pack("<4f", 1, 2, 3, 4), struct.pack("<2f", 5, 6)])
    preamble = (b"\x80\x02\x8a\x0a" + bytes.fromhex("6cfc9c46f9206aa85019") + b"." + b"\x80\x02M\xe9\x03."
                + b"\x80\x02}q\x00(" + s("protocol_version") + b"M\xe9\x03" + s("little_endian") + b"\x88u.")
    put(IO, "torchFile", "valid-legacy.bin", preamble + legacy)

    # torch: the pickle inside a well-formed zip
    put(IO, "torchPickle", "valid.pkl", valid_pickle())
    put(IO, "torchPickle", "dag-bomb.pkl", dag_bomb())
    put(IO, "torchPickle", "self-referential.pkl", self_referential())
    put(IO, "torchPickle", "nested-tuple-key.pkl", nested_tuple_key())
    put(IO, "torchPickle", "dag-tuple-key.pkl", dag_tuple_key())
    put(IO, "torchPickle", "forbidden-global.pkl", b"\x80\x02cos\nsystem\n" + s("echo") + b"\x85R.")

    # torch: legacy stream after the preamble
    put(IO, "torchLegacy", "valid", legacy)
    put(IO, "torchLegacy", "dag-bomb", dag_bomb() + b"\x80\x02]q\x00(" + s("0") + b"e." + struct.pack("<q", 16) + bytes(64))
    put(IO, "torchLegacy", "storage-count-lies",
        legacy_tail(legacy_obj([("w", "0", 4, [2, 2], [2, 1])]), ["0"], [])
        + struct.pack("<q", 1 << 61) + bytes(16))

    # TF bundle
    entries = bundle_entries()
    put(IO, "tfBundleBlock", "valid", block(entries))
    put(IO, "tfBundleBlock", "size-past-shard", block(entries[:1] + [(b"w", field(1, 0, 1) + field(4, 0, 4000) + field(5, 0, 400))]))
    put(IO, "tfBundleIndex", "valid.index", sstable(block(entries)))

    # ONNX
    put(IO, "onnx", "valid.onnx", onnx_model())
    put(IO, "onnx", "dims-lie.onnx", onnx_lying())
    put(IO, "onnx", "length-lies.onnx", field(1, 0, 7) + varint((7 << 3) | 2) + varint(1 << 40))

    # data readers (synthetic sentences: the real FinancialPhraseBank is not redistributable)
    put(DATA, "financialPhraseBank", "valid.txt",
        "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .@positive\r\n"
        "The company's email is info@example.com .@neutral\r\n\r\n"
        "Sales fell sharply in the quarter .@negative\r\n")
    put(DATA, "financialPhraseBank", "latin1.txt", "Osakkeen hinta nousi \xe4kisti .@positive\n".encode("latin-1"))
    put(DATA, "financialPhraseBank", "bad-rows.txt", "no label here\n@positive\nsentence@unknown\n\xef\xbb\xbfbom@neutral\n")
    put(DATA, "csv", "valid.csv", 'text,label\n"Profit up, again",positive\n"multi\nline tweet",negative\nplain,neutral\n')
    put(DATA, "csv", "tweets.csv", 'text,label\n"$AAPL up 3%",1\n"Bearish, \"\"very\"\"",0\nneutral news,2\n')
    put(DATA, "csv", "broken.csv", 'text,label,text\n"never closed,positive\n')
    put(DATA, "jsonl", "valid.jsonl", '{"text": "Profit up", "label": "positive"}\n{"text": "Loss", "label": 0}\n\n'
                                     '{"text": "flat", "label": "neutral"}\n')
    put(DATA, "jsonl", "bad-rows.jsonl", '{"text": "a", "text": "b", "label": 1}\n[1,2]\n{"text": 5, "label": 1}\n'
                                        '{"text": "x", "label": 1.5}\n' + "[" * 2000 + "\n")

    # tokenizers
    byte_syms = {}
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    for b, c in zip(bs, cs):
        byte_syms[chr(c)] = b
    vocab = dict(byte_syms)
    vocab.update({"he": 256, "ll": 257, "hell": 258, "<|endoftext|>": 259})
    bpe = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": 259, "content": "<|endoftext|>", "special": True}],
           "normalizer": None, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
           "post_processor": None, "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "vocab": vocab, "merges": ["h e", "l l", "he ll"]}}
    put(TOK, "tokenizerJson", "bpe.json", json.dumps(bpe))
    wp_vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", ",", "."])}
    wp = {"version": "1.0",
          "truncation": {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0},
          "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": None, "pad_id": 0,
                      "pad_type_id": 0, "pad_token": "[PAD]"},
          "added_tokens": [{"id": 0, "content": "[PAD]"}, {"id": 1, "content": "[UNK]"}, {"id": 2, "content": "[CLS]"},
                           {"id": 3, "content": "[SEP]"}, {"id": 4, "content": "[MASK]"}],
          "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                         "strip_accents": None, "lowercase": True},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
          "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
          "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                    "max_input_chars_per_word": 100, "vocab": wp_vocab}}
    put(TOK, "tokenizerJson", "wordpiece.json", json.dumps(wp))
    attack = json.loads(json.dumps(wp))
    attack["padding"]["strategy"] = {"Fixed": 100000000}
    put(TOK, "tokenizerJson", "padding-fixed-1e8.json", json.dumps(attack))
    attack = json.loads(json.dumps(wp))
    attack["truncation"]["max_length"] = -1
    put(TOK, "tokenizerJson", "max-length-minus-1.json", json.dumps(attack))
    attack = json.loads(json.dumps(wp))
    attack["model"]["vocab"]["huge"] = 2 ** 31 - 1
    put(TOK, "tokenizerJson", "id-2pow31-1.json", json.dumps(attack))
    attack = json.loads(json.dumps(bpe))
    attack["added_tokens"][0]["id"] = 2 ** 31 - 1
    put(TOK, "tokenizerJson", "added-id-2pow31-1.json", json.dumps(attack))
    put(TOK, "vocabTxt", "vocab.txt", "\n".join(wp_vocab) + "\n")
    put(TOK, "vocabTxt", "no-unk.txt", "[PAD]\nhello\n")
    put(TOK, "mergesTxt", "merges.txt", "#version: 0.2\nh e\nl l\nhe ll\n")
    put(TOK, "mergesTxt", "unknown-token.txt", "#version: 0.2\nq z\n")
    put(TOK, "vocabJson", "vocab.json", json.dumps(vocab))
    attack = dict(vocab)
    attack["x"] = 2 ** 31 - 1
    put(TOK, "vocabJson", "id-2pow31-1.json", json.dumps(attack))


if __name__ == "__main__":
    main()
