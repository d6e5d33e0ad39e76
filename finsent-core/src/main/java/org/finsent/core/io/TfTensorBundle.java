package org.finsent.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Reads a TensorFlow tensor bundle (the {@code variables/} of a SavedModel, or a TF2 checkpoint): the index
 * {@code <prefix>.index} is an SSTable (LevelDB table format) mapping each tensor name to a BundleEntryProto
 * (dtype, shape, shard, offset, size, crc32c); the data lives raw and little-endian in
 * {@code <prefix>.data-SSSSS-of-NNNNN}, which is memory-mapped. The SSTable blocks, their checksums and the
 * protobuf records are parsed here (no TensorFlow or protobuf library). Compressed (snappy) blocks, sliced
 * (partitioned) variables and big-endian bundles are refused with a clear message.
 */
public final class TfTensorBundle {

    private static final Logger LOG = LoggerFactory.getLogger(TfTensorBundle.class);
    private static final long TABLE_MAGIC = 0xdb4775248b80fb57L;
    private static final int FOOTER = 48;
    private static final int MASK_DELTA = 0xa282ead8;

    /**
     * One bundle entry.
     *
     * @param tfDtype the TensorFlow DataType enum value
     * @param dtype   its {@link DType}, or null when unsupported (e.g. DT_STRING)
     * @param crc32c  the stored (masked) CRC-32C of the data
     */
    public record Entry(String name, int tfDtype, DType dtype, long[] shape, int shardId, long offset, long size,
                        int crc32c) {
    }

    /** Opens the stream a helper reads (so that a cached extraction need not open it at all). */
    @FunctionalInterface
    public interface StreamOpener {
        InputStream open() throws IOException;
    }

    /** Largest .index file read (it holds names and offsets; BERT-large's is about 40 KB). */
    static final long MAX_INDEX_BYTES = 1L << 30;

    private final String indexName;
    private final Map<String, Entry> entries;
    private final Path[] shards;

    private TfTensorBundle(String indexName, Map<String, Entry> entries, Path[] shards) {
        this.indexName = indexName;
        this.entries = entries;
        this.shards = shards;
    }

    // ------------------------------------------------------------------------------------------ opening

    /**
     * Opens the bundle at {@code prefix} (for a SavedModel, {@code <dir>/variables/variables}): reads
     * {@code prefix.index} and the shards {@code prefix.data-00000-of-0000N}.
     */
    public static TfTensorBundle open(Path prefix) throws IOException {
        Path index = prefix.resolveSibling(prefix.getFileName() + ".index");
        if (!Files.isRegularFile(index)) throw new WeightFormatException(index.toString(), null, "no such index file");
        if (Files.size(index) > MAX_INDEX_BYTES) {
            throw new WeightFormatException(index.toString(), null, "index file of " + Files.size(index)
                    + " bytes is implausibly large (an index lists names and offsets only)");
        }
        return open(Files.readAllBytes(index), index.toString(), (shard, count) -> prefix.resolveSibling(
                String.format("%s.data-%05d-of-%05d", prefix.getFileName(), shard, count)));
    }

    /** Opens a single-shard bundle from its index (read fully; index files are small) and its data file. */
    public static TfTensorBundle open(InputStream index, String indexName, Path dataFile) throws IOException {
        byte[] bytes = index.readAllBytes();
        TfTensorBundle b = open(bytes, indexName, (shard, count) -> dataFile);
        if (b.shards.length != 1) {
            throw new WeightFormatException(indexName, null, "bundle has " + b.shards.length + " shards, one data file given");
        }
        return b;
    }

    /** Names the data file of shard {@code shard} of {@code count}. */
    interface ShardNamer {
        Path path(int shard, int count);
    }

    /** Opens a bundle from its index bytes and the data files {@code namer} gives. */
    static TfTensorBundle open(byte[] index, String indexName, ShardNamer namer) throws IOException {
        ByteBuffer idx = ByteBuffer.wrap(index).order(ByteOrder.LITTLE_ENDIAN);
        Table table = new Table(idx, indexName);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int numShards = 1;
        for (Map.Entry<String, ByteBuffer> kv : table.entries().entrySet()) {
            String key = kv.getKey();
            if (key.isEmpty()) {
                numShards = parseHeader(kv.getValue(), indexName);
                continue;
            }
            entries.put(key, parseEntry(key, kv.getValue(), indexName));
        }
        Path[] paths = new Path[numShards];
        for (int i = 0; i < numShards; i++) paths[i] = namer.path(i, numShards);
        return checked(indexName, entries, paths);
    }

    private static TfTensorBundle checked(String indexName, Map<String, Entry> entries, Path[] shards) throws IOException {
        long[] sizes = new long[shards.length];
        for (int i = 0; i < shards.length; i++) {
            if (!Files.isRegularFile(shards[i])) {
                throw new WeightFormatException(indexName, null, "data shard " + shards[i] + " does not exist");
            }
            sizes[i] = Files.size(shards[i]);
        }
        for (Entry e : entries.values()) {
            if (e.shardId < 0 || e.shardId >= shards.length) {
                throw new WeightFormatException(indexName, e.name, "shard " + e.shardId + " of a bundle with "
                        + shards.length);
            }
            if (e.offset < 0 || e.size < 0 || e.offset + e.size > sizes[e.shardId] || e.offset + e.size < 0) {
                throw new WeightFormatException(indexName, e.name, "bytes [" + e.offset + ", +" + e.size
                        + ") lie outside " + shards[e.shardId] + " (" + sizes[e.shardId] + " bytes)");
            }
        }
        return new TfTensorBundle(indexName, entries, shards);
    }

    private static int parseHeader(ByteBuffer value, String file) throws WeightFormatException {
        ProtoReader r = new ProtoReader(value, file, "BundleHeaderProto");
        int numShards = 1;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> {
                    long v = r.varintField();
                    if (v < 1 || v > 100_000) throw new WeightFormatException(file, null, "num_shards " + v);
                    numShards = (int) v;
                }
                case 2 -> {
                    if (r.varintField() != 0) {
                        throw new WeightFormatException(file, null, "big-endian tensor bundles are not supported");
                    }
                }
                default -> r.skip();
            }
        }
        if (numShards < 1 || numShards > 100_000) throw new WeightFormatException(file, null, "num_shards " + numShards);
        return numShards;
    }

    private static DType dtypeOf(int tf) {
        return switch (tf) {
            case 1 -> DType.F32;
            case 2 -> DType.F64;
            case 3 -> DType.I32;
            case 4 -> DType.U8;
            case 5 -> DType.I16;
            case 6 -> DType.I8;
            case 9 -> DType.I64;
            case 10 -> DType.BOOL;
            case 14 -> DType.BF16;
            case 19 -> DType.F16;
            default -> null;
        };
    }

    private static Entry parseEntry(String name, ByteBuffer value, String file) throws WeightFormatException {
        ProtoReader r = new ProtoReader(value, file, "BundleEntryProto '" + name + "'");
        int tfDtype = 0, shard = 0, crc = 0;
        long offset = 0, size = 0;
        long[][] dims = {new long[8]};
        int rank = 0;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> tfDtype = (int) r.varintField();
                case 2 -> {
                    ProtoReader s = new ProtoReader(r.bytes(), file, "TensorShapeProto of '" + name + "'");
                    while (s.next()) {
                        if (s.field() == 2) {
                            ProtoReader d = new ProtoReader(s.bytes(), file, "TensorShapeProto.Dim of '" + name + "'");
                            long dimSize = 0;
                            while (d.next()) {
                                if (d.field() == 1) dimSize = d.varintField();
                                else d.skip();
                            }
                            if (rank == dims[0].length) dims[0] = Arrays.copyOf(dims[0], rank * 2);
                            dims[0][rank++] = dimSize;
                        } else if (s.field() == 3 && s.varintField() != 0) {
                            throw new WeightFormatException(file, name, "shape of unknown rank");
                        } else if (s.field() != 3) {
                            s.skip();
                        }
                    }
                }
                case 3 -> {
                    long v = r.varintField();
                    shard = v < 0 || v > Integer.MAX_VALUE ? -1 : (int) v;
                }
                case 4 -> offset = r.varintField();
                case 5 -> size = r.varintField();
                case 6 -> {
                    if (r.wireType() != ProtoReader.FIXED32) throw r.bad("crc32c is not fixed32");
                    crc = r.fixed32();
                }
                case 7 -> throw new WeightFormatException(file, name,
                        "a sliced (partitioned) variable; only whole tensors are supported");
                default -> r.skip();
            }
        }
        long[] shape = Arrays.copyOf(dims[0], rank);
        DType dtype = dtypeOf(tfDtype);
        if (dtype != null) {
            long bytes;
            try {
                bytes = Math.multiplyExact(TensorData.numel(shape), (long) dtype.byteSize());
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new WeightFormatException(file, name, "shape " + Arrays.toString(shape) + " overflows");
            }
            if (bytes != size) {
                throw new WeightFormatException(file, name, "size " + size + " != numel of " + Arrays.toString(shape)
                        + " * " + dtype + " size " + dtype.byteSize());
            }
        }
        return new Entry(name, tfDtype, dtype, shape, shard, offset, size, crc);
    }

    // ------------------------------------------------------------------------------------------ access

    /** Every entry but the bundle header, in key (name) order. */
    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    /** The tensor names, in key order. */
    public List<String> names() {
        return List.copyOf(entries.keySet());
    }

    public Entry entry(String name) {
        return entries.get(name);
    }

    public int numShards() {
        return shards.length;
    }

    /** One tensor, memory-mapped. */
    public TensorData tensor(String name) throws IOException {
        Entry e = entries.get(name);
        if (e == null) throw new WeightFormatException(indexName, name, "no such tensor in the bundle");
        return map(List.of(e)).get(0);
    }

    /**
     * Every tensor of a supported dtype, memory-mapped, in key order; entries of other dtypes (strings) are
     * skipped with a warning.
     */
    public StateDict toStateDict() throws IOException {
        List<Entry> ok = new ArrayList<>();
        for (Entry e : entries.values()) {
            if (e.dtype == null) LOG.warn("{}: skipping '{}' of unsupported TensorFlow dtype {}", indexName, e.name, e.tfDtype);
            else ok.add(e);
        }
        return StateDict.of(map(ok));
    }

    private List<TensorData> map(List<Entry> list) throws IOException {
        TensorData[] out = new TensorData[list.size()];
        for (int s = 0; s < shards.length; s++) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) if (list.get(i).shardId == s) idx.add(i);
            if (idx.isEmpty()) continue;
            String[] names = new String[idx.size()];
            long[] starts = new long[idx.size()];
            long[] lengths = new long[idx.size()];
            for (int k = 0; k < idx.size(); k++) {
                Entry e = list.get(idx.get(k));
                if (e.dtype == null) {
                    throw new WeightFormatException(indexName, e.name, "unsupported TensorFlow dtype " + e.tfDtype);
                }
                names[k] = e.name;
                starts[k] = e.offset;
                lengths[k] = e.size;
            }
            try (FileChannel ch = FileChannel.open(shards[s], StandardOpenOption.READ)) {
                ByteBuffer[] views = MappedRegions.map(ch, shards[s].toString(), names, starts, lengths);
                for (int k = 0; k < idx.size(); k++) {
                    Entry e = list.get(idx.get(k));
                    out[idx.get(k)] = new TensorData(e.name, e.dtype, e.shape, views[k]);
                }
            }
        }
        return Arrays.asList(out);
    }

    /** Checks every entry's data against its stored CRC-32C; throws naming the first tensor that differs. */
    public void verifyChecksums() throws IOException {
        List<Entry> all = new ArrayList<>(entries.values());
        all.removeIf(e -> e.dtype == null);
        List<TensorData> data = map(all);
        for (int i = 0; i < all.size(); i++) {
            CRC32C crc = new CRC32C();
            crc.update(data.get(i).data());
            int masked = mask((int) crc.getValue());
            if (masked != all.get(i).crc32c) {
                throw new WeightFormatException(indexName, all.get(i).name, String.format(
                        "data checksum mismatch: stored crc32c %08x, data has %08x (masked)", all.get(i).crc32c, masked));
            }
        }
    }

    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }

    // ------------------------------------------------------------------------------------------ SSTable

    /** A LevelDB-format table: footer, index block, data blocks (restart points, prefix-compressed keys). */
    private static final class Table {
        private final ByteBuffer b;
        private final String file;
        private long keyBytes;
        private static final int MAX_KEY_BYTES = 1 << 16;

        Table(ByteBuffer b, String file) {
            this.b = b;
            this.file = file;
        }

        private WeightFormatException bad(String msg) {
            return new WeightFormatException(file, null, "tensor-bundle index (SSTable): " + msg);
        }

        Map<String, ByteBuffer> entries() throws WeightFormatException {
            int n = b.limit();
            if (n < FOOTER) throw bad("file of " + n + " bytes is shorter than the 48-byte footer (truncated?)");
            if (b.getLong(n - 8) != TABLE_MAGIC) {
                throw bad(String.format("bad magic number %016x (truncated, or not a TensorFlow .index file)", b.getLong(n - 8)));
            }
            ProtoReader footer = new ProtoReader(b.slice(n - FOOTER, FOOTER - 8), file, "SSTable footer");
            footer.varint(); // metaindex handle: unused
            footer.varint();
            long indexOffset = footer.varint();
            long indexSize = footer.varint();
            Map<String, ByteBuffer> out = new LinkedHashMap<>();
            // each data block is parsed once: index entries pointing at the same block again add nothing, and
            // re-reading it for every one of them would make the work quadratic in the file
            java.util.Set<Long> seen = new java.util.HashSet<>();
            for (Map.Entry<String, ByteBuffer> ie : block(indexOffset, indexSize, "index block").entrySet()) {
                ProtoReader h = new ProtoReader(ie.getValue(), file, "block handle");
                long off = h.varint();
                long size = h.varint();
                if (!seen.add(off)) continue;
                out.putAll(block(off, size, "data block at " + off));
            }
            return out;
        }

        private Map<String, ByteBuffer> block(long off, long size, String what) throws WeightFormatException {
            int limit = b.limit() - FOOTER;
            if (off < 0 || size < 0 || off > limit - 5 || size > limit - 5 - off) {
                throw bad(what + " [" + off + ", +" + size + ") lies outside the table (truncated?)");
            }
            int start = (int) off, len = (int) size;
            int type = b.get(start + len) & 0xff;
            if (type == 1) throw bad(what + " is snappy-compressed; only uncompressed tables are supported");
            if (type != 0) throw bad(what + " has unknown compression type " + type);
            CRC32C crc = new CRC32C();
            crc.update(b.slice(start, len + 1));
            int stored = b.getInt(start + len + 1);
            if (mask((int) crc.getValue()) != stored) throw bad(what + " fails its CRC-32C check (corrupt file)");
            ByteBuffer blk = b.slice(start, len).order(ByteOrder.LITTLE_ENDIAN);
            if (len < 4) throw bad(what + " is too short");
            long numRestarts = blk.getInt(len - 4) & 0xffffffffL;
            long restartsAt = len - 4 - 4 * numRestarts;
            if (restartsAt < 0) throw bad(what + " declares " + numRestarts + " restart points, more than fit");
            Map<String, ByteBuffer> out = new LinkedHashMap<>();
            byte[] prev = new byte[0];
            ByteBuffer body = blk.slice(0, (int) restartsAt);
            int p = 0;
            while (p < restartsAt) {
                ProtoReader v = new ProtoReader(body.slice(p, (int) restartsAt - p), file, what);
                long shared = v.varint(), nonShared = v.varint(), valueLen = v.varint();
                int consumed = (int) restartsAt - p - v.remaining();
                int keyStart = p + consumed;
                if (shared < 0 || shared > prev.length || nonShared < 0 || valueLen < 0
                        || nonShared > restartsAt - keyStart || valueLen > restartsAt - keyStart - nonShared) {
                    throw bad(what + " has a corrupt entry at " + p);
                }
                // prefix compression lets a few bytes stand for a long key: bound each key and all of them together
                if (shared + nonShared > MAX_KEY_BYTES) throw bad(what + " has a key of more than " + MAX_KEY_BYTES + " bytes");
                keyBytes += shared + nonShared;
                if (keyBytes > 64L * b.limit() + (1 << 20)) {
                    throw bad("keys expand to more than 64 times the table's size (prefix-compression bomb?)");
                }
                byte[] key = Arrays.copyOf(prev, (int) (shared + nonShared));
                body.get(keyStart, key, (int) shared, (int) nonShared);
                ByteBuffer value = body.slice(keyStart + (int) nonShared, (int) valueLen).order(ByteOrder.LITTLE_ENDIAN);
                out.put(new String(key, StandardCharsets.UTF_8), value);
                prev = key;
                p = keyStart + (int) nonShared + (int) valueLen;
            }
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------ extraction

    private static final Pattern VARIABLES = Pattern.compile("(?:.*/)?variables/(variables\\.(?:index|data-\\d{5}-of-\\d{5}))");
    private static final String MARKER = ".extracted";

    /**
     * Extracts {@code variables/variables.index} and {@code variables/variables.data-*} from a SavedModel zip
     * (streamed: never held in memory) into {@code targetDir}, and returns the bundle prefix
     * {@code targetDir/variables}. A completed earlier extraction (recorded in a marker file with the sizes) is
     * reused without opening the stream.
     */
    public static Path extractSavedModelVariables(StreamOpener savedModelZip, Path targetDir) throws IOException {
        Path prefix = targetDir.resolve("variables");
        Path marker = targetDir.resolve(MARKER);
        if (Files.isRegularFile(marker) && markerValid(marker, targetDir)) return prefix;
        Files.createDirectories(targetDir);
        Files.deleteIfExists(marker);
        StringBuilder record = new StringBuilder();
        boolean index = false, data = false;
        try (ZipInputStream zin = new ZipInputStream(new BufferedInputStream(savedModelZip.open(), 1 << 16))) {
            for (ZipEntry e; (e = zin.getNextEntry()) != null; ) {
                Matcher m = VARIABLES.matcher(e.getName());
                if (e.isDirectory() || !m.matches()) continue;
                String name = m.group(1);
                Path tmp = AtomicFiles.createTempFile(targetDir, name, ".part");
                try {
                    long n;
                    try (OutputStream out = Files.newOutputStream(tmp)) {
                        n = zin.transferTo(out);
                    }
                    Files.move(tmp, targetDir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                    record.append(name).append(' ').append(n).append('\n');
                } finally {
                    Files.deleteIfExists(tmp);
                }
                index |= name.endsWith(".index");
                data |= name.contains(".data-");
            }
        }
        if (!index || !data) {
            throw new WeightFormatException(targetDir.toString(), null, "the SavedModel zip holds no variables/variables.index"
                    + " and variables.data-* files");
        }
        Files.writeString(marker, record.toString());
        return prefix;
    }

    private static boolean markerValid(Path marker, Path dir) throws IOException {
        List<String> lines = Files.readAllLines(marker);
        if (lines.isEmpty()) return false;
        for (String line : lines) {
            String[] parts = line.split(" ");
            if (parts.length != 2) return false;
            Path f = dir.resolve(parts[0]);
            if (!Files.isRegularFile(f) || Files.size(f) != Long.parseLong(parts[1])) return false;
        }
        return true;
    }

    @Override
    public String toString() {
        return "TfTensorBundle(" + indexName + ", " + entries.size() + " entries, " + shards.length + " shard(s))";
    }
}
