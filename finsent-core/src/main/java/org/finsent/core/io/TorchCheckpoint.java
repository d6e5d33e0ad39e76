package org.finsent.core.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.io.RestrictedUnpickler.StorageRef;
import org.finsent.core.io.RestrictedUnpickler.TensorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads PyTorch {@code torch.save} checkpoints ({@code pytorch_model.bin}: the zip format of torch >= 1.6, and the
 * legacy pickle-stream format of older files) without
 * executing their pickle: a restricted unpickler accepts only the globals that rebuild tensors
 * ({@link #allowedGlobals()}) and fails, naming the global, on anything else. Storages are memory-mapped from the
 * zip (torch stores them uncompressed); views with storage offsets and arbitrary strides are copied out to C
 * order, contiguous ones are not copied. Nested dicts are flattened with dotted names; non-tensor values are
 * skipped.
 */
public final class TorchCheckpoint {

    private static final Logger LOG = LoggerFactory.getLogger(TorchCheckpoint.class);

    public static final String SINGLE_FILE = "pytorch_model.bin";
    public static final String INDEX_FILE = "pytorch_model.bin.index.json";

    private TorchCheckpoint() {
    }

    /** The fully-qualified globals ("module.name") a checkpoint's pickle may reference. */
    public static Set<String> allowedGlobals() {
        return RestrictedUnpickler.ALLOWED;
    }

    /**
     * Reads a directory (pytorch_model.bin or pytorch_model.bin.index.json), an index .json, or one checkpoint
     * file.
     */
    public static StateDict load(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(SINGLE_FILE))) return read(path.resolve(SINGLE_FILE));
            if (Files.isRegularFile(path.resolve(INDEX_FILE))) return readSharded(path.resolve(INDEX_FILE));
            throw new WeightFormatException(path.toString(), null, "directory holds neither " + SINGLE_FILE
                    + " nor " + INDEX_FILE);
        }
        if (path.getFileName().toString().endsWith(".json")) return readSharded(path);
        return read(path);
    }

    /** Where a tensor's storage bytes come from. */
    private interface StorageSource {
        ByteBuffer get(StorageRef s, String tensor) throws IOException;
    }

    /**
     * Reads one torch.save checkpoint holding a (possibly nested) dict of tensors: the zip format (torch >= 1.6)
     * or the legacy format of older torch (a sequence of pickles followed by the raw storages; up to 2 GiB).
     */
    public static StateDict read(Path file) throws IOException {
        String fname = file.toString();
        if (isLegacy(file, fname)) return readLegacy(file, fname);
        try (ZipArchive zip = ZipArchive.open(file)) {
            if (zip.names().isEmpty()) throw new WeightFormatException(fname, null, "zip archive is empty");
            String first = zip.names().get(0);
            int slash = first.indexOf('/');
            if (slash < 0) throw new WeightFormatException(fname, null, "record '" + first + "' is not in an archive folder");
            String prefix = first.substring(0, slash + 1);
            ZipArchive.Entry pkl = zip.entry(prefix + "data.pkl");
            if (pkl == null) {
                boolean script = zip.entry(prefix + "constants.pkl") != null || zip.entry(prefix + "code/") != null;
                throw new WeightFormatException(fname, null, script
                        ? "a TorchScript archive (torch.jit.save), not a torch.save state dict"
                        : "no " + prefix + "data.pkl record: not a torch.save checkpoint");
            }
            boolean bigEndian = false;
            ZipArchive.Entry bo = zip.entry(prefix + "byteorder");
            if (bo != null) {
                String order = new String(zip.readChecked(bo), StandardCharsets.US_ASCII).trim();
                if (order.equals("big")) bigEndian = true;
                else if (!order.equals("little")) throw new WeightFormatException(fname, null, "unknown byteorder '" + order + "'");
            }
            if (pkl.size() > Integer.MAX_VALUE - 8) {
                throw new WeightFormatException(fname, null, "data.pkl of " + pkl.size() + " bytes is implausibly large");
            }
            Object root = new RestrictedUnpickler(zip.readChecked(pkl), fname).load();
            if (!(root instanceof Map<?, ?> map)) {
                throw new WeightFormatException(fname, null, "the pickled object is not a dict of tensors");
            }
            Map<String, ByteBuffer> cache = new HashMap<>();
            StorageSource source = (s, tensor) -> {
                ByteBuffer b = cache.get(s.key());
                if (b == null) {
                    ZipArchive.Entry e = zip.entry(prefix + "data/" + s.key());
                    if (e == null) {
                        throw new WeightFormatException(fname, tensor, "storage record " + prefix + "data/" + s.key()
                                + " is missing");
                    }
                    b = zip.read(e);
                    cache.put(s.key(), b);
                }
                return b;
            };
            return new Flattener(source, bigEndian, fname, pkl.size(), zip.fileSize()).run(map);
        }
    }

    /** True for the legacy (pickle-stream) format; throws for files that are neither it nor a zip archive. */
    private static boolean isLegacy(Path file, String fname) throws IOException {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 4);
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) return true;
        if (n < 4 || head[0] != 'P' || head[1] != 'K' || head[2] != 3 || head[3] != 4) {
            throw new WeightFormatException(fname, null, "not a torch.save checkpoint (neither a zip archive nor "
                    + "the legacy pickle format)");
        }
        return false;
    }

    private static final java.math.BigInteger LEGACY_MAGIC = new java.math.BigInteger("1950a86a20f9469cfc6c", 16);

    /**
     * torch < 1.6 (_legacy_save): pickles of the magic number, the protocol version 1001 and a sys_info dict,
     * the object (persistent ids carry a sixth element, view metadata, always None), the sorted storage keys;
     * then per key an int64 element count and the raw storage bytes.
     */
    private static StateDict readLegacy(Path file, String fname) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file,
                java.nio.file.StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > MappedRegions.MAX_WINDOW) {
                throw new WeightFormatException(fname, null, "legacy-format checkpoints above 2 GiB are not supported");
            }
            ByteBuffer all = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            int[] pos = {0};
            java.util.function.Supplier<RestrictedUnpickler> next = () -> new RestrictedUnpickler(all.slice(pos[0],
                    (int) size - pos[0]), fname);
            RestrictedUnpickler u = next.get();
            Object magic = u.load();
            pos[0] += u.position();
            if (!LEGACY_MAGIC.equals(magic)) {
                throw new WeightFormatException(fname, null, "not a torch.save checkpoint (bad legacy magic number)");
            }
            u = next.get();
            Object version = u.load();
            pos[0] += u.position();
            if (!Long.valueOf(1001).equals(version)) {
                throw new WeightFormatException(fname, null, "unsupported legacy torch.save protocol version " + version);
            }
            u = next.get();
            Object sysInfo = u.load();
            pos[0] += u.position();
            boolean bigEndian = sysInfo instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"));
            u = next.get();
            Object root = u.load();
            long objectPickleBytes = u.position();
            pos[0] += u.position();
            Map<String, StorageRef> refs = u.storages();
            if (!(root instanceof Map<?, ?> map)) {
                throw new WeightFormatException(fname, null, "the pickled object is not a dict of tensors");
            }
            u = next.get();
            Object keys = u.load();
            pos[0] += u.position();
            if (!(keys instanceof List<?> keyList)) {
                throw new WeightFormatException(fname, null, "the storage-key list is missing after the object pickle");
            }
            Map<String, ByteBuffer> data = new HashMap<>();
            for (Object k : keyList) {
                if (!(k instanceof String)) {
                    throw new WeightFormatException(fname, null, "the storage-key list holds "
                            + RestrictedUnpickler.describe(k) + ", not a key");
                }
                StorageRef ref = refs.get(k);
                if (ref == null) {
                    throw new WeightFormatException(fname, null, "storage " + RestrictedUnpickler.abbreviate((String) k)
                            + " is stored but never used");
                }
                if (size - pos[0] < 8) throw new WeightFormatException(fname, null, "truncated before storage " + k);
                long numel = all.getLong(pos[0]);
                if (bigEndian) numel = Long.reverseBytes(numel);
                pos[0] += 8;
                if (numel < 0 || numel > (size - pos[0]) / ref.dtype().byteSize()) {
                    throw new WeightFormatException(fname, null, "storage " + k + " claims " + numel
                            + " elements, more than the file holds (truncated?)");
                }
                long bytes = numel * ref.dtype().byteSize();
                data.put(ref.key(), all.slice(pos[0], (int) bytes).order(ByteOrder.LITTLE_ENDIAN));
                pos[0] += (int) bytes;
            }
            StorageSource source = (s, tensor) -> {
                ByteBuffer b = data.get(s.key());
                if (b == null) throw new WeightFormatException(fname, tensor, "storage " + s.key() + " is missing");
                return b;
            };
            return new Flattener(source, bigEndian, fname, objectPickleBytes, size).run(map);
        }
    }

    /** Deepest nesting of dicts a checkpoint may have (real ones nest two or three deep). */
    static final int MAX_DICT_DEPTH = 64;

    /**
     * Turns the pickled (nested) dict into named tensors. Work and memory are bounded by the size of the input,
     * not by what the pickle's references make of it: sub-dicts are measured once each (memoised by identity), so
     * a dict shared along many paths (a "DAG bomb") is refused from its measured size before any name is built;
     * cycles and nesting beyond {@link #MAX_DICT_DEPTH} are refused; a tensor reached under several names (tied
     * weights) is materialised once; copies (strided gathers, byte swaps) are limited to a multiple of the file.
     */
    private static final class Flattener {
        private final StorageSource storages;
        private final boolean bigEndian;
        private final String fname;
        private final long pickleBytes, maxTensors, maxNameChars;
        private long copyBudget, scanBudget;
        private final Map<Map<?, ?>, long[]> measured = new IdentityHashMap<>();
        private final Set<Map<?, ?>> onPath = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        private final Map<TensorRef, TensorData> done = new IdentityHashMap<>();

        Flattener(StorageSource storages, boolean bigEndian, String fname, long pickleBytes, long fileBytes) {
            this.storages = storages;
            this.bigEndian = bigEndian;
            this.fname = fname;
            this.pickleBytes = pickleBytes;
            // every tensor name of a genuine pickle costs at least a key and a SETITEM in it
            this.maxTensors = Math.max(1024, pickleBytes);
            this.maxNameChars = 16 * Math.max(1024, pickleBytes) + (1 << 20);
            this.copyBudget = 2 * fileBytes + (64L << 20);
            this.scanBudget = 2 * fileBytes + (64L << 20);
        }

        StateDict run(Map<?, ?> root) throws IOException {
            long[] size = measure(root, 0);
            if (size[0] > maxTensors || size[1] > maxNameChars) {
                throw new WeightFormatException(fname, null, "the pickled dicts expand to " + (size[0] >= SAT ? "over "
                        + SAT : size[0]) + " tensor names (" + (size[1] >= SAT ? "over " + SAT : size[1])
                        + " characters) from a pickle of " + pickleBytes + " bytes: sub-dicts shared along many "
                        + "paths (a decompression bomb?); refusing to load");
            }
            StateDict out = new StateDict();
            walk(root, "", out);
            return out;
        }

        private static final long SAT = 1L << 52;

        private static long sat(long a) {
            return Math.min(a, SAT);
        }

        /** {tensor names, their total characters} below {@code m}; memoised per dict. */
        private long[] measure(Map<?, ?> m, int depth) throws WeightFormatException {
            long[] memo = measured.get(m);
            if (memo != null) return memo;
            if (onPath.contains(m)) {
                throw new WeightFormatException(fname, null, "a pickled dict contains itself (a cycle): not a state dict");
            }
            if (depth >= MAX_DICT_DEPTH) {
                throw new WeightFormatException(fname, null, "pickled dicts are nested more than " + MAX_DICT_DEPTH
                        + " deep: not a state dict");
            }
            onPath.add(m);
            long n = 0, chars = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!(e.getKey() instanceof String key)) continue;
                Object v = e.getValue();
                if (v instanceof TensorRef) {
                    n = sat(n + 1);
                    chars = sat(chars + key.length());
                } else if (v instanceof Map<?, ?> sub) {
                    long[] s = measure(sub, depth + 1);
                    n = sat(n + s[0]);
                    chars = sat(chars + s[1] + sat((key.length() + 1L) * Math.min(s[0], 1L << 30)));
                }
            }
            onPath.remove(m);
            long[] r = {n, chars};
            measured.put(m, r);
            return r;
        }

        private void walk(Map<?, ?> map, String prefix, StateDict out) throws IOException {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    LOG.debug("{}: skipping non-string key {}", fname, RestrictedUnpickler.describe(e.getKey()));
                    continue;
                }
                String name = prefix + key;
                Object v = e.getValue();
                if (v instanceof TensorRef t) {
                    TensorData td = done.get(t);
                    if (td == null) {
                        td = materialize(name, t);
                        done.put(t, td);
                        out.put(td);
                    } else {
                        out.put(td.withName(name));
                    }
                } else if (v instanceof Map<?, ?> sub) {
                    walk(sub, name + ".", out);
                } else {
                    LOG.debug("{}: skipping non-tensor entry '{}'", fname, name);
                }
            }
        }

        private TensorData materialize(String name, TensorRef t) throws IOException {
            StorageRef s = t.storage();
            DType dtype = s.dtype();
            int es = dtype.byteSize();
            ByteBuffer storage = storages.get(s, name);
            long storageElems = storage.remaining() / es;
            if (s.numel() > storageElems) {
                throw new WeightFormatException(fname, name, "storage " + RestrictedUnpickler.abbreviate(s.key())
                        + " holds " + storage.remaining() + " bytes, its pickle declares " + s.numel() + " " + dtype
                        + " elements");
            }
            long[] size = t.size();
            long[] stride = t.stride();
            long numel;
            try {
                numel = TensorData.numel(size);
            } catch (IllegalArgumentException ex) {
                throw new WeightFormatException(fname, name, ex.getMessage());
            }
            if (t.offset() < 0) throw new WeightFormatException(fname, name, "negative storage offset " + t.offset());
            ByteBuffer data;
            if (numel == 0) {
                data = ByteBuffer.allocate(0);
            } else {
                long last = t.offset();
                try {
                    for (int i = 0; i < size.length; i++) {
                        if (stride[i] < 0) throw new WeightFormatException(fname, name, "negative stride " + Arrays.toString(stride));
                        last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                    }
                } catch (ArithmeticException ex) {
                    last = -1;
                }
                if (last >= storageElems || last < 0) {
                    throw new WeightFormatException(fname, name, "view (offset " + t.offset() + ", size "
                            + Arrays.toString(size) + ", stride " + Arrays.toString(stride) + ") reaches element "
                            + (last < 0 ? "beyond 2^63" : String.valueOf(last)) + " of a storage of " + storageElems);
                }
                if (numel > MappedRegions.MAX_WINDOW / es) {
                    throw new WeightFormatException(fname, name, "tensor of " + numel + " " + dtype + " elements exceeds 2 GiB");
                }
                boolean contiguous = isContiguous(size, stride);
                long copy = (contiguous ? 0 : numel * es) + (bigEndian && es > 1 ? numel * es : 0);
                if (copy > copyBudget) {
                    throw new WeightFormatException(fname, name, "strided views copy more than twice the file's bytes "
                            + "(" + copy + " bytes for this one): views of overlapping elements are not supported");
                }
                copyBudget -= copy;
                if (contiguous) {
                    data = storage.slice((int) (t.offset() * es), (int) (numel * es));
                } else {
                    data = gather(storage, es, t.offset(), size, stride, numel);
                }
                if (bigEndian && es > 1) data = swapped(data, es);
            }
            TensorData td = new TensorData(name, dtype, size, data.order(ByteOrder.LITTLE_ENDIAN));
            if (dtype.isFloatingPoint() && scanBudget >= td.data().remaining()) {
                // a warning only: skipped once the scans have read more than twice the file
                scanBudget -= td.data().remaining();
                int bad = SafeTensors.countNonFinite(td);
                if (bad > 0) LOG.warn("{}: tensor '{}' holds {} NaN/infinite value(s)", fname, name, bad);
            }
            return td;
        }
    }

    static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expected) return false;
            expected *= size[i];
        }
        return true;
    }

    /** Copies a strided view out to C order. */
    private static ByteBuffer gather(ByteBuffer storage, int es, long offset, long[] size, long[] stride, long numel) {
        ByteBuffer out = ByteBuffer.allocate((int) (numel * es));
        int rank = size.length;
        long[] idx = new long[rank];
        long pos = offset;
        byte[] tmp = new byte[es];
        for (long k = 0; k < numel; k++) {
            storage.get((int) (pos * es), tmp);
            out.put(tmp);
            for (int d = rank - 1; d >= 0; d--) {
                idx[d]++;
                pos += stride[d];
                if (idx[d] < size[d]) break;
                pos -= stride[d] * size[d];
                idx[d] = 0;
            }
        }
        return out.flip();
    }

    private static ByteBuffer swapped(ByteBuffer data, int es) {
        ByteBuffer out = ByteBuffer.allocate(data.remaining());
        int n = data.remaining();
        int base = data.position();
        for (int i = 0; i < n; i += es) {
            for (int j = 0; j < es; j++) out.put(i + j, data.get(base + i + es - 1 - j));
        }
        return out;
    }

    /**
     * Reads a sharded checkpoint through {@code pytorch_model.bin.index.json} ({@code weight_map}: name to
     * shard file in the same directory).
     */
    public static StateDict readSharded(Path indexFile) throws IOException {
        String fname = indexFile.toString();
        JsonNode root;
        try {
            // decoded here, strictly: Jackson's own detection would guess UTF-16/32 from odd bytes and throw
            // a plain CharConversionException
            root = new ObjectMapper().readTree(StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(indexFile))).toString());
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new WeightFormatException(fname, null, "not valid UTF-8", e);
        } catch (JsonProcessingException e) {
            throw new WeightFormatException(fname, null, "invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.path("weight_map").isObject()) {
            throw new WeightFormatException(fname, null, "not a sharded-checkpoint index: no \"weight_map\" object");
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, StateDict> shards = new LinkedHashMap<>();
        StateDict out = new StateDict();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().asText();
            Path p = dir.resolve(shard).normalize();
            if (!e.getValue().isTextual() || !dir.equals(p.getParent())) {
                throw new WeightFormatException(fname, e.getKey(), "shard '" + e.getValue() + "' is not a file in " + dir);
            }
            StateDict d = shards.get(shard);
            if (d == null) {
                d = read(p);
                shards.put(shard, d);
            }
            TensorData t = d.get(e.getKey());
            if (t == null) {
                throw new WeightFormatException(fname, e.getKey(), "weight_map puts it in '" + shard + "', which does not hold it");
            }
            out.put(t);
        }
        return out;
    }
}
