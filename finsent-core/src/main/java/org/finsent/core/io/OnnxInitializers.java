package org.finsent.core.io;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The weights (graph initializers) and the node list of an ONNX model, parsed from the protobuf wire format by
 * hand and streamed: the model is never held in memory twice (each initializer's bytes are read once and
 * viewed, not copied). Supports raw_data and the typed float/double/int32/int64 fields; external data and
 * sparse initializers are refused or skipped with a message.
 * {@link #toHuggingFaceBert()} renames a BERT encoder exported from PyTorch to Hugging Face {@code BertModel}
 * names, resolving the anonymous MatMul weights ({@code onnx::MatMul_885}) through the nodes that use them.
 */
public final class OnnxInitializers {

    private static final Logger LOG = LoggerFactory.getLogger(OnnxInitializers.class);

    /** A graph node: its name, operator, input and output value names, and its integer attributes. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs,
                       Map<String, Long> intAttributes) {
    }

    private final String source;
    private final long irVersion;
    private final String producerName;
    private final String producerVersion;
    private final StateDict initializers;
    private final List<Node> nodes;

    private OnnxInitializers(String source, long irVersion, String producerName, String producerVersion,
                             StateDict initializers, List<Node> nodes) {
        this.source = source;
        this.irVersion = irVersion;
        this.producerName = producerName;
        this.producerVersion = producerVersion;
        this.initializers = initializers;
        this.nodes = Collections.unmodifiableList(nodes);
    }

    /** Reads an ONNX model file. */
    public static OnnxInitializers read(Path file) throws IOException {
        long length = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return read(new ProtoStream(new BufferedInputStream(in, 1 << 16), file.toString(), length), file.toString());
        }
    }

    /** Reads an ONNX model from a stream (e.g. a classpath resource); {@code source} names it in errors. */
    public static OnnxInitializers read(InputStream in, String source) throws IOException {
        return read(new ProtoStream(new BufferedInputStream(in, 1 << 16), source), source);
    }

    private static OnnxInitializers read(ProtoStream p, String source) throws IOException {
        long ir = 0;
        String producer = "", version = "";
        StateDict inits = null;
        List<Node> nodes = new ArrayList<>();
        while (p.next()) {
            switch (p.field()) {
                case 1 -> ir = p.varint();
                case 2 -> producer = new String(p.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                case 3 -> version = new String(p.bytes(), java.nio.charset.StandardCharsets.UTF_8);
                case 7 -> {
                    if (inits != null) throw p.bad("ModelProto holds two graphs");
                    inits = new StateDict();
                    long token = p.pushLimit();
                    readGraph(p, source, inits, nodes);
                    p.popLimit(token);
                }
                default -> p.skip();
            }
        }
        if (inits == null) throw new WeightFormatException(source, null, "not an ONNX model: no graph (field 7)");
        return new OnnxInitializers(source, ir, producer, version, inits, nodes);
    }

    private static void readGraph(ProtoStream p, String source, StateDict inits, List<Node> nodes) throws IOException {
        while (p.next()) {
            switch (p.field()) {
                case 1 -> nodes.add(parseNode(ByteBuffer.wrap(p.bytes()), source));
                case 5 -> {
                    TensorData t = parseTensor(ByteBuffer.wrap(p.bytes()), source);
                    if (inits.put(t) != null) throw new WeightFormatException(source, t.name(), "duplicate initializer");
                }
                case 15 -> {
                    LOG.warn("{}: skipping a sparse initializer (not supported)", source);
                    p.skip();
                }
                default -> p.skip();
            }
        }
    }

    static Node parseNode(ByteBuffer msg, String source) throws WeightFormatException {
        ProtoReader r = new ProtoReader(msg, source, "NodeProto");
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "";
        Map<String, Long> attrs = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> in.add(r.string());
                case 2 -> out.add(r.string());
                case 3 -> name = r.string();
                case 4 -> op = r.string();
                case 5 -> {
                    ProtoReader a = new ProtoReader(r.bytes(), source, "AttributeProto");
                    String an = null;
                    Long iv = null;
                    while (a.next()) {
                        if (a.field() == 1) an = a.string();
                        else if (a.field() == 3) iv = a.varintField();
                        else a.skip();
                    }
                    if (an != null && iv != null) attrs.put(an, iv);
                }
                default -> r.skip();
            }
        }
        return new Node(name, op, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attrs));
    }

    private static DType dtypeOf(int onnx) {
        return switch (onnx) {
            case 1 -> DType.F32;
            case 2 -> DType.U8;
            case 3 -> DType.I8;
            case 5 -> DType.I16;
            case 6 -> DType.I32;
            case 7 -> DType.I64;
            case 9 -> DType.BOOL;
            case 10 -> DType.F16;
            case 11 -> DType.F64;
            case 16 -> DType.BF16;
            default -> null;
        };
    }

    static TensorData parseTensor(ByteBuffer msg, String source) throws WeightFormatException {
        ProtoReader r = new ProtoReader(msg, source, "TensorProto");
        long[][] dims = {new long[4]};
        int rank = 0;
        int dataType = 0;
        String name = null;
        ByteBuffer raw = null;
        List<ByteBuffer> floatChunks = new ArrayList<>(), doubleChunks = new ArrayList<>();
        List<Integer> fixed32 = new ArrayList<>();
        List<Long> fixed64 = new ArrayList<>();
        long[][] int32 = {new long[0]}, int64 = {new long[0]};
        int nInt32 = 0, nInt64 = 0;
        boolean external = false, strings = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> rank = ProtoReader.readVarints(r, dims, rank);
                case 2 -> dataType = (int) r.varintField();
                case 3 -> throw r.bad("segmented tensors are not supported");
                case 4 -> {
                    if (r.wireType() == ProtoReader.LEN) floatChunks.add(r.bytes());
                    else fixed32.add(r.fixed32());
                }
                case 5 -> nInt32 = ProtoReader.readVarints(r, int32, nInt32);
                case 6 -> {
                    strings = true;
                    r.skip();
                }
                case 7 -> nInt64 = ProtoReader.readVarints(r, int64, nInt64);
                case 8 -> name = r.string();
                case 9 -> raw = r.bytes();
                case 10 -> {
                    if (r.wireType() == ProtoReader.LEN) doubleChunks.add(r.bytes());
                    else fixed64.add(r.fixed64());
                }
                case 13 -> {
                    external = true;
                    r.skip();
                }
                case 14 -> external |= r.varintField() == 1;
                default -> r.skip();
            }
        }
        // packed chunks are joined once (joining them one by one would copy quadratically often)
        ByteBuffer packedFloats = concat(floatChunks), packedDoubles = concat(doubleChunks);
        String n = name == null ? "<unnamed>" : name;
        if (external) {
            throw new WeightFormatException(source, n, "data is stored in an external file (external_data); not supported");
        }
        DType dtype = dtypeOf(dataType);
        if (dtype == null || strings) {
            throw new WeightFormatException(source, n, "unsupported ONNX data type " + dataType);
        }
        long[] shape = java.util.Arrays.copyOf(dims[0], rank);
        long numel;
        long bytes;
        try {
            numel = TensorData.numel(shape);
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new WeightFormatException(source, n, "dims " + java.util.Arrays.toString(shape) + " overflow");
        }
        if (bytes > Integer.MAX_VALUE - 8) throw new WeightFormatException(source, n, "tensor of " + bytes + " bytes is too large");
        ByteBuffer data;
        if (raw != null) {
            if (raw.remaining() != bytes) {
                throw new WeightFormatException(source, n, "raw_data holds " + raw.remaining() + " bytes, dims "
                        + java.util.Arrays.toString(shape) + " of " + dtype + " need " + bytes);
            }
            data = raw;
        } else {
            // count what the typed fields hold before allocating what the dims claim
            long have = switch (dtype) {
                case F32 -> packedFloats != null ? packedFloats.remaining() / 4 : fixed32.size();
                case F64 -> packedDoubles != null ? packedDoubles.remaining() / 8 : fixed64.size();
                case I64 -> nInt64;
                default -> nInt32;
            };
            if (have != numel) {
                throw new WeightFormatException(source, n, "holds " + have + " " + dtype + " values, dims "
                        + java.util.Arrays.toString(shape) + " need " + numel);
            }
            data = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case F32 -> {
                    if (packedFloats != null) {
                        if (packedFloats.remaining() % 4 != 0) throw r.bad("packed float_data is not a multiple of 4 bytes");
                        data.put(packedFloats);
                    } else {
                        for (int v : fixed32) data.putInt(v);
                    }
                }
                case F64 -> {
                    if (packedDoubles != null) {
                        if (packedDoubles.remaining() % 8 != 0) throw r.bad("packed double_data is not a multiple of 8 bytes");
                        data.put(packedDoubles);
                    } else {
                        for (long v : fixed64) data.putLong(v);
                    }
                }
                case I64 -> {
                    for (int i = 0; i < nInt64; i++) data.putLong(int64[0][i]);
                }
                default -> { // int32_data carries I32, I16, I8, U8, BOOL, and F16/BF16 bit patterns
                    for (int i = 0; i < nInt32; i++) {
                        long v = int32[0][i];
                        switch (dtype.byteSize()) {
                            case 4 -> data.putInt((int) v);
                            case 2 -> data.putShort((short) v);
                            default -> data.put((byte) v);
                        }
                    }
                }
            }
            data.flip();
        }
        if (name == null) throw new WeightFormatException(source, null, "an initializer has no name");
        return new TensorData(name, dtype, shape, data);
    }

    private static ByteBuffer concat(List<ByteBuffer> chunks) {
        if (chunks.isEmpty()) return null;
        if (chunks.size() == 1) return chunks.get(0);
        int total = 0;
        for (ByteBuffer b : chunks) total += b.remaining(); // all are slices of one message: no overflow
        ByteBuffer c = ByteBuffer.allocate(total);
        for (ByteBuffer b : chunks) c.put(b.duplicate());
        return c.flip();
    }

    // ------------------------------------------------------------------------------------------ access

    /** The initializers under their ONNX names, in graph order. */
    public StateDict initializers() {
        return initializers;
    }

    /** The graph's nodes, in graph order. */
    public List<Node> nodes() {
        return nodes;
    }

    public long irVersion() {
        return irVersion;
    }

    public String producerName() {
        return producerName;
    }

    public String producerVersion() {
        return producerVersion;
    }

    // ------------------------------------------------------------------------------------------ BERT names

    private static final Pattern BERT_PARAM = Pattern.compile(
            "embeddings\\.(?:word|position|token_type)_embeddings\\.weight"
                    + "|embeddings\\.LayerNorm\\.(?:weight|bias)"
                    + "|encoder\\.layer\\.\\d+\\.(?:attention\\.self\\.(?:query|key|value)|attention\\.output\\.dense"
                    + "|intermediate\\.dense|output\\.dense)\\.(?:weight|bias)"
                    + "|encoder\\.layer\\.\\d+\\.(?:attention\\.output|output)\\.LayerNorm\\.(?:weight|bias)"
                    + "|pooler\\.dense\\.(?:weight|bias)");

    private static String bertName(String name) {
        String n = name.startsWith("bert.") ? name.substring(5) : name;
        return BERT_PARAM.matcher(n).matches() ? n : null;
    }

    /** "/encoder/layer.0/attention/self/query/MatMul" to "encoder.layer.0.attention.self.query". */
    private static String moduleOf(Node node) {
        String n = node.name();
        int slash = n.lastIndexOf('/');
        if (slash <= 0) return null;
        String path = n.substring(n.startsWith("/") ? 1 : 0, slash).replace('/', '.');
        return path.startsWith("bert.") ? path.substring(5) : path;
    }

    /**
     * Renames the initializers of a BERT encoder exported by torch.onnx to Hugging Face {@code BertModel}
     * state-dict names (no {@code bert.} prefix): MatMul weights (anonymous, [in, out]) take the name of the
     * module in their node's name and are transposed to [out, in]; Gemm weights are transposed unless the node
     * has transB=1; named initializers that already carry BertModel names (biases, LayerNorm, embeddings) keep
     * them; an anonymous initializer added by an {@code .../Add} node becomes that module's bias. Initializers
     * that map to nothing (e.g. the {@code embeddings.position_ids} buffer) are leftovers.
     */
    public WeightMapping toHuggingFaceBert() throws WeightFormatException {
        StateDict out = new StateDict();
        Set<String> used = new HashSet<>();
        for (Node node : nodes) {
            boolean matmul = node.opType().equals("MatMul"), gemm = node.opType().equals("Gemm");
            if ((!matmul && !gemm) || node.inputs().size() < 2) continue;
            TensorData w = initializers.get(node.inputs().get(1));
            if (w == null || w.rank() != 2) continue;
            String module = moduleOf(node);
            String target = module == null ? null : bertName(module + ".weight");
            if (target == null) target = bertName(w.name());
            if (target == null) continue;
            boolean transposed = gemm && node.intAttributes().getOrDefault("transB", 0L) == 1L;
            put(out, target, transposed ? w : w.transpose2d());
            used.add(w.name());
            if (gemm && node.inputs().size() > 2) {
                TensorData b = initializers.get(node.inputs().get(2));
                String bias = target.substring(0, target.length() - "weight".length()) + "bias";
                if (b != null) {
                    put(out, bias, b);
                    used.add(b.name());
                }
            }
        }
        for (TensorData t : initializers) {
            if (used.contains(t.name())) continue;
            String target = bertName(t.name());
            if (target != null && !out.contains(target)) {
                put(out, target, t);
                used.add(t.name());
            }
        }
        for (Node node : nodes) {
            if (!node.opType().equals("Add")) continue;
            String module = moduleOf(node);
            String target = module == null ? null : bertName(module + ".bias");
            if (target == null || out.contains(target)) continue;
            for (String in : node.inputs()) {
                TensorData b = initializers.get(in);
                if (b != null && b.rank() == 1 && !used.contains(in)) {
                    put(out, target, b);
                    used.add(in);
                    break;
                }
            }
        }
        List<String> leftovers = new ArrayList<>();
        for (String name : initializers.names()) if (!used.contains(name)) leftovers.add(name);
        return new WeightMapping(out, leftovers);
    }

    private void put(StateDict out, String name, TensorData t) throws WeightFormatException {
        if (out.contains(name)) {
            throw new WeightFormatException(source, name, "two initializers map to it (" + t.name() + " and an earlier one)");
        }
        out.put(t.withName(name));
    }

    @Override
    public String toString() {
        return "OnnxInitializers(" + source + ", " + initializers.size() + " initializers, " + nodes.size() + " nodes)";
    }
}
