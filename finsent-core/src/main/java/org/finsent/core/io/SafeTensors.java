package org.finsent.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads and writes the Hugging Face safetensors format: an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON ({@code {"__metadata__": {...}, "name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}}),
 * then the tensor bytes. Reading memory-maps the data (files may exceed 2 GiB) and validates the header as
 * strictly as the reference Rust library: offsets must tile the data section exactly, each byte length must equal
 * numel * dtype size. Sharded checkpoints are read through {@code model.safetensors.index.json}.
 */
public final class SafeTensors {

    private static final Logger LOG = LoggerFactory.getLogger(SafeTensors.class);

    /** The reference implementation refuses headers above 100 MB. */
    public static final long MAX_HEADER_SIZE = 100_000_000L;
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";
    private static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private SafeTensors() {
    }

    // ------------------------------------------------------------------------------------------ reading

    /**
     * Reads {@code model.safetensors} or a sharded checkpoint: a directory (holding model.safetensors or
     * model.safetensors.index.json), an index {@code .json} file, or a single {@code .safetensors} file.
     */
    public static StateDict load(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) return read(single);
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) return readSharded(index);
            throw new WeightFormatException(path.toString(), null, "directory holds neither " + SINGLE_FILE
                    + " nor " + INDEX_FILE);
        }
        if (path.getFileName().toString().endsWith(".json")) return readSharded(path);
        return read(path);
    }

    /** Reads one safetensors file; tensors come in header order and their bytes are memory-mapped. */
    public static StateDict read(Path file) throws IOException {
        return read(file, true);
    }

    /**
     * Reads one safetensors file.
     *
     * @param warnNonFinite scan float tensors and log a warning for each one holding NaN or infinity
     */
    public static StateDict read(Path file, boolean warnNonFinite) throws IOException {
        String fname = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new WeightFormatException(fname, null, "file of " + size
                        + " bytes is too short for the 8-byte safetensors header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, fname);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_SIZE) {
                throw new WeightFormatException(fname, null, "header length " + Long.toUnsignedString(n)
                        + " exceeds the limit of " + MAX_HEADER_SIZE + " bytes (not a safetensors file?)");
            }
            if (n > size - 8) {
                throw new WeightFormatException(fname, null, "header length " + n + " is larger than the file ("
                        + size + " bytes; truncated?)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, 8, fname);
            Header header = parseHeader(headerBuf.array(), fname);
            long dataStart = 8 + n;
            long dataLen = size - dataStart;
            validateLayout(header.entries, dataLen, fname);

            int count = header.entries.size();
            String[] names = new String[count];
            long[] starts = new long[count];
            long[] lengths = new long[count];
            for (int i = 0; i < count; i++) {
                Entry e = header.entries.get(i);
                names[i] = e.name;
                starts[i] = dataStart + e.begin;
                lengths[i] = e.end - e.begin;
            }
            ByteBuffer[] views = MappedRegions.map(ch, fname, names, starts, lengths);
            StateDict dict = new StateDict();
            header.metadata.forEach(dict::putMetadata);
            for (int i = 0; i < count; i++) {
                Entry e = header.entries.get(i);
                TensorData t = new TensorData(e.name, e.dtype, e.shape, views[i]);
                if (warnNonFinite && e.dtype.isFloatingPoint()) {
                    int bad = countNonFinite(t);
                    if (bad > 0) LOG.warn("{}: tensor '{}' holds {} NaN/infinite value(s)", fname, e.name, bad);
                }
                dict.put(t);
            }
            return dict;
        }
    }

    /**
     * Reads a sharded checkpoint through its index ({@code {"metadata": {...}, "weight_map": {name: file}}}):
     * every tensor the weight map names, from the shard it names, in weight-map order. Shards must sit in the
     * index's directory.
     */
    public static StateDict readSharded(Path indexFile) throws IOException {
        String fname = indexFile.toString();
        JsonNode root;
        try {
            // decoded here, strictly: Jackson's own detection would guess UTF-16/32 from odd bytes and throw
            // a plain CharConversionException
            root = JSON.readTree(StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(indexFile))).toString());
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new WeightFormatException(fname, null, "not valid UTF-8", e);
        } catch (JsonProcessingException e) {
            throw new WeightFormatException(fname, null, "invalid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
            throw new WeightFormatException(fname, null, "not a sharded-checkpoint index: no \"weight_map\" object");
        }
        Path dir = indexFile.toAbsolutePath().getParent();
        Map<String, String> weightMap = new LinkedHashMap<>();
        Map<String, StateDict> shards = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.get("weight_map").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new WeightFormatException(fname, e.getKey(), "weight_map value is not a file name");
            }
            String shard = e.getValue().asText();
            Path p = dir.resolve(shard).normalize();
            if (!dir.equals(p.getParent())) {
                throw new WeightFormatException(fname, e.getKey(), "shard '" + shard + "' is not a file in " + dir);
            }
            weightMap.put(e.getKey(), shard);
            shards.putIfAbsent(shard, null);
        }
        for (String shard : new ArrayList<>(shards.keySet())) {
            Path p = dir.resolve(shard);
            if (!Files.isRegularFile(p)) {
                throw new WeightFormatException(fname, null, "shard '" + shard + "' listed in weight_map does not exist");
            }
            shards.put(shard, read(p));
        }
        StateDict out = new StateDict();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            TensorData t = shards.get(e.getValue()).get(e.getKey());
            if (t == null) {
                throw new WeightFormatException(fname, e.getKey(), "weight_map puts it in '" + e.getValue()
                        + "', which does not hold it");
            }
            out.put(t);
        }
        for (Map.Entry<String, StateDict> s : shards.entrySet()) {
            for (TensorData t : s.getValue()) {
                if (!weightMap.containsKey(t.name())) {
                    LOG.warn("{}: shard '{}' holds tensor '{}' that weight_map does not list; ignored", fname,
                            s.getKey(), t.name());
                }
            }
        }
        JsonNode meta = root.path("metadata");
        for (Iterator<Map.Entry<String, JsonNode>> it = meta.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.putMetadata(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
        }
        return out;
    }

    /** The {@code __metadata__} of a safetensors file (empty when absent), without mapping its data. */
    public static Map<String, String> readMetadata(Path file) throws IOException {
        String fname = file.toString();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new WeightFormatException(fname, null, "file too short for a safetensors header");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, fname);
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_SIZE || n > size - 8) {
                throw new WeightFormatException(fname, null, "invalid header length " + Long.toUnsignedString(n));
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
            readFully(ch, headerBuf, 8, fname);
            return parseHeader(headerBuf.array(), fname).metadata;
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, String fname) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos + buf.position());
            if (r < 0) throw new WeightFormatException(fname, null, "unexpected end of file");
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    private record Header(Map<String, String> metadata, List<Entry> entries) {
    }

    private static Header parseHeader(byte[] bytes, String fname) throws WeightFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new WeightFormatException(fname, null, "header is not valid UTF-8", e);
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new WeightFormatException(fname, null, "header is not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new WeightFormatException(fname, null, "header is not a JSON object");
        }
        Map<String, String> metadata = new TreeMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals(METADATA_KEY)) {
                if (v.isNull()) continue;
                if (!v.isObject()) throw new WeightFormatException(fname, null, "__metadata__ is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> me = m.next();
                    if (!me.getValue().isTextual()) {
                        throw new WeightFormatException(fname, null, "__metadata__ value for '" + me.getKey()
                                + "' is not a string");
                    }
                    metadata.put(me.getKey(), me.getValue().asText());
                }
                continue;
            }
            entries.add(parseEntry(name, v, fname));
        }
        return new Header(metadata, entries);
    }

    private static Entry parseEntry(String name, JsonNode v, String fname) throws WeightFormatException {
        if (!v.isObject()) throw new WeightFormatException(fname, name, "header entry is not an object");
        JsonNode dt = v.get("dtype");
        if (dt == null || !dt.isTextual()) throw new WeightFormatException(fname, name, "missing \"dtype\"");
        DType dtype = DType.fromSafetensors(dt.asText());
        if (dtype == null) {
            String known = java.util.Set.of("U16", "U32", "U64", "F8_E4M3", "F8_E5M2").contains(dt.asText())
                    ? "unsupported dtype '" : "unknown dtype '";
            throw new WeightFormatException(fname, name, known + dt.asText() + "'");
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) throw new WeightFormatException(fname, name, "missing \"shape\" array");
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) shape[i] = nonNegativeLong(sh.get(i), "shape", name, fname);
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2) {
            throw new WeightFormatException(fname, name, "\"data_offsets\" must be an array [begin, end]");
        }
        long begin = nonNegativeLong(off.get(0), "data_offsets", name, fname);
        long end = nonNegativeLong(off.get(1), "data_offsets", name, fname);
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long nonNegativeLong(JsonNode n, String field, String name, String fname)
            throws WeightFormatException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new WeightFormatException(fname, name, "\"" + field + "\" holds " + n + ", not a 64-bit integer");
        }
        long v = n.asLong();
        if (v < 0) throw new WeightFormatException(fname, name, "\"" + field + "\" holds negative value " + v);
        return v;
    }

    private static void validateLayout(List<Entry> entries, long dataLen, String fname) throws WeightFormatException {
        for (Entry e : entries) {
            long numel;
            long bytes;
            try {
                numel = TensorData.numel(e.shape);
                bytes = Math.multiplyExact(numel, (long) e.dtype.byteSize());
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw new WeightFormatException(fname, e.name, "element count of shape " + Arrays.toString(e.shape)
                        + " overflows");
            }
            if (e.end < e.begin) {
                throw new WeightFormatException(fname, e.name, "data_offsets [" + e.begin + ", " + e.end
                        + "] end before they begin");
            }
            if (e.end > dataLen) {
                throw new WeightFormatException(fname, e.name, "data_offsets [" + e.begin + ", " + e.end
                        + "] out of range: the data section holds " + dataLen + " bytes");
            }
            if (e.end - e.begin != bytes) {
                throw new WeightFormatException(fname, e.name, "byte length " + (e.end - e.begin) + " != numel "
                        + numel + " * " + e.dtype + " size " + e.dtype.byteSize());
            }
        }
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong((Entry e) -> e.begin).thenComparingLong(e -> e.end));
        long expected = 0;
        String prev = null;
        for (Entry e : sorted) {
            if (e.begin < expected) {
                throw new WeightFormatException(fname, e.name, "data_offsets [" + e.begin + ", " + e.end
                        + "] overlap tensor '" + prev + "' (which ends at " + expected + ")");
            }
            if (e.begin > expected) {
                throw new WeightFormatException(fname, e.name, "data_offsets [" + e.begin + ", " + e.end
                        + "] leave a gap of " + (e.begin - expected) + " bytes after "
                        + (prev == null ? "the header" : "tensor '" + prev + "'") + " (offsets must be contiguous)");
            }
            expected = e.end;
            prev = e.name;
        }
        if (expected != dataLen) {
            throw new WeightFormatException(fname, prev, "the tensors cover " + expected + " of the "
                    + dataLen + " data bytes: " + (dataLen - expected) + " trailing bytes");
        }
    }

    // ------------------------------------------------------------------------------------------ writing

    /** Writes {@code dict} with its own metadata (if any). See {@link #write(Path, StateDict, Map)}. */
    public static void write(Path file, StateDict dict) throws IOException {
        write(file, dict, dict.metadata());
    }

    /**
     * Writes a safetensors file byte-identical to what the Python/Rust library writes for the same tensors and
     * metadata: tensors ordered by dtype (the Rust enum order, descending) then name, header JSON compact with
     * {@code __metadata__} first, padded with spaces to a multiple of 8 bytes. The file is written to a temporary
     * sibling and moved into place.
     *
     * @param metadata string metadata such as {@code {"format": "pt"}}; null or empty writes none
     */
    public static void write(Path file, StateDict dict, Map<String, String> metadata) throws IOException {
        byte[] header = header(dict, metadata);
        List<TensorData> order = writeOrder(dict);
        Path dir = file.toAbsolutePath().getParent();
        // not Files.createTempFile: its 0600 would stay with the file (AtomicFiles says why that matters)
        Path tmp = AtomicFiles.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
                writeFully(ch, len);
                writeFully(ch, ByteBuffer.wrap(header));
                for (TensorData t : order) writeFully(ch, t.data());
                ch.force(false);
            }
            AtomicFiles.moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The whole file {@link #write} would produce, in memory (for small dicts and tests). */
    public static byte[] toBytes(StateDict dict, Map<String, String> metadata) {
        byte[] header = header(dict, metadata);
        long total = 8L + header.length;
        for (TensorData t : dict) total += t.byteSize();
        if (total > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("too large for one array: " + total);
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (TensorData t : writeOrder(dict)) out.put(t.data());
        return out.array();
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    private static List<TensorData> writeOrder(StateDict dict) {
        List<TensorData> order = dict.toList();
        order.sort((a, b) -> {
            int c = Integer.compare(b.dtype().safetensorsRank(), a.dtype().safetensorsRank());
            return c != 0 ? c : compareUtf8(a.name(), b.name());
        });
        return order;
    }

    /** Byte-wise comparison of UTF-8 encodings (Rust's str ordering). */
    private static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] header(StateDict dict, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        boolean first = true;
        if (metadata != null && !metadata.isEmpty()) {
            sb.append("\"").append(METADATA_KEY).append("\":{");
            List<String> keys = new ArrayList<>(metadata.keySet());
            keys.sort(SafeTensors::compareUtf8);
            for (int i = 0; i < keys.size(); i++) {
                if (i > 0) sb.append(',');
                jsonString(sb, keys.get(i));
                sb.append(':');
                jsonString(sb, metadata.get(keys.get(i)));
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (TensorData t : writeOrder(dict)) {
            if (t.name().equals(METADATA_KEY)) throw new IllegalArgumentException("a tensor may not be called " + METADATA_KEY);
            if (!first) sb.append(',');
            first = false;
            jsonString(sb, t.name());
            sb.append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                if (i > 0) sb.append(',');
                sb.append(shape[i]);
            }
            long end = offset + t.byteSize();
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        int pad = (8 - json.length % 8) % 8;
        byte[] out = Arrays.copyOf(json, json.length + pad);
        Arrays.fill(out, json.length, out.length, (byte) ' ');
        return out;
    }

    /** A JSON string literal escaped as serde_json does (short escapes, lowercase \\u00XX, non-ASCII verbatim). */
    private static void jsonString(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }

    // ------------------------------------------------------------------------------------------ checks

    /** The number of NaN and infinite elements of a floating-point tensor (0 for other dtypes). */
    public static int countNonFinite(TensorData t) {
        if (!t.dtype().isFloatingPoint()) return 0;
        ByteBuffer b = t.data();
        int n = (int) Math.min(t.numel(), Integer.MAX_VALUE);
        int bad = 0;
        switch (t.dtype()) {
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    if ((b.getInt(i * 4) & 0x7f800000) == 0x7f800000) bad++;
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    if ((b.getLong(i * 8) & 0x7ff0000000000000L) == 0x7ff0000000000000L) bad++;
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    if ((b.getShort(i * 2) & 0x7c00) == 0x7c00) bad++;
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    if ((b.getShort(i * 2) & 0x7f80) == 0x7f80) bad++;
                }
            }
            default -> {
            }
        }
        return bad;
    }
}
