package org.finsent.core.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TorchCheckpoint against files in the real torch.save layout written by an independent program
 * (src/test/resources/io/make_torch_fixture.py, Python standard library: pickle.Pickler(protocol=2) with torch's
 * persistent ids, miniz-style zip), whose expected values (torch_fixture.json) that program computed itself.
 */
class TorchCheckpointTest {

    private static final JsonNode FIXTURE;

    static {
        try {
            FIXTURE = new ObjectMapper().readTree(IoFixtures.resource("torch_fixture.json").toFile());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every tensor: order, dtype, shape, the exact C-order bytes, and the values as CPython's struct decodes them. */
    @ParameterizedTest
    @ValueSource(strings = {"torch_small.bin", "torch_small_proto4.bin", "torch_small_bigendian.bin",
            "torch_small_legacy.bin"})
    void readsEveryTensorExactlyAsThePythonWriterDescribesIt(String file) throws IOException {
        StateDict sd = TorchCheckpoint.read(IoFixtures.resource(file));
        JsonNode tensors = FIXTURE.get("tensors");
        List<String> expectedOrder = new ArrayList<>();
        tensors.fieldNames().forEachRemaining(expectedOrder::add);
        assertEquals(expectedOrder, new ArrayList<>(sd.names()), "names in state-dict order");
        for (Iterator<Map.Entry<String, JsonNode>> it = tensors.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode exp = e.getValue();
            TensorData t = sd.require(name);
            assertEquals(DType.valueOf(exp.get("dtype").asText()), t.dtype(), name);
            long[] shape = new long[exp.get("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = exp.get("shape").get(i).asLong();
            assertArrayEquals(shape, t.shape(), name);
            ByteBuffer b = t.data();
            byte[] raw = new byte[b.remaining()];
            b.get(raw);
            assertArrayEquals(IoFixtures.hex(exp.get("hex").asText()), raw, name + " bytes");
            if (exp.has("f64bits")) {
                double[] d = t.toDoubles();
                float[] f = t.toFloats();
                assertEquals(exp.get("f64bits").size(), d.length, name);
                for (int i = 0; i < d.length; i++) {
                    double want = Double.longBitsToDouble(exp.get("f64bits").get(i).asLong());
                    if (Double.isNaN(want)) {
                        assertTrue(Double.isNaN(d[i]) && Float.isNaN(f[i]), name + "[" + i + "] NaN");
                    } else {
                        assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(d[i]), name + "[" + i + "]");
                        if (t.dtype() != DType.F64) {
                            assertEquals(Float.floatToIntBits((float) want), Float.floatToIntBits(f[i]), name + "[" + i + "]");
                        }
                    }
                }
            } else {
                long[] v = t.toLongs();
                assertEquals(exp.get("ints").size(), v.length, name);
                for (int i = 0; i < v.length; i++) assertEquals(exp.get("ints").get(i).asLong(), v[i], name + "[" + i + "]");
            }
        }
    }

    @Test
    void viewsSharedStoragesScalarsAndEmptyTensors() throws IOException {
        StateDict sd = TorchCheckpoint.read(IoFixtures.resource("torch_small.bin"));
        // tied weights share one storage: same content
        assertTrue(sd.require("lm_head.weight").contentEquals(sd.require("embeddings.word_embeddings.weight")));
        // the transposed view is copied out to C order: weight[i][j] == M[j][i] with M[r][c] = (3r+c)^2/8 - 3
        float[] w = sd.require("encoder.dense.weight").toFloats();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 4; j++) {
                int k = 3 * j + i;
                assertEquals(k * k / 8.0f - 3.0f, w[i * 4 + j], "weight[" + i + "][" + j + "]");
            }
        }
        // storage offsets: bias = storage[2..5), norm = storage[5..9)
        assertArrayEquals(new double[]{Math.pow(1.5, 2), Math.pow(1.5, 3), Math.pow(1.5, 4)},
                sd.require("encoder.dense.bias").toDoubles());
        assertArrayEquals(new double[]{Math.pow(1.5, 1), Math.pow(1.5, 3), Math.pow(1.5, 5), Math.pow(1.5, 7)},
                sd.require("encoder.strided").toDoubles());
        assertArrayEquals(new float[]{7f, -8f, 9.5f, 7f, -8f, 9.5f}, sd.require("expanded").toFloats());
        assertEquals(0, sd.require("scalar").rank());
        assertEquals(42.5f, sd.require("scalar").toFloats()[0]);
        assertEquals(0, sd.require("empty").numel());
        assertArrayEquals(new long[]{0, 3}, sd.require("empty").shape());
        assertArrayEquals(new float[]{0.5f, -0.75f}, sd.require("param").toFloats(), "nn.Parameter via _rebuild_parameter");
        assertEquals(3, SafeTensors.countNonFinite(sd.require("half.special")), "+inf, -inf, NaN");
    }

    @ParameterizedTest
    @ValueSource(strings = {"evil_os_system.bin", "evil_builtins_eval.bin", "evil_getattr.bin", "evil_subprocess.bin",
            "evil_full_model.bin", "evil_posix_system.bin", "evil_in_persistent_id.bin"})
    void forbiddenGlobalsAreRefusedNamingTheFileAndTheGlobal(String file) {
        Path path = IoFixtures.resource(file);
        String global = FIXTURE.get("evil").get(file).asText();
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(path));
        assertTrue(ex.getMessage().contains(path.toString()), ex.getMessage());
        assertTrue(ex.getMessage().contains("forbidden global '" + global + "'"), ex.getMessage());
        assertFalse(Files.exists(Path.of("/tmp/finsent_pwned")), "nothing was executed");
    }

    @Test
    void theAllowListHoldsOnlyTensorRebuildingGlobals() {
        for (String g : TorchCheckpoint.allowedGlobals()) {
            assertTrue(g.startsWith("torch.") || g.equals("collections.OrderedDict"), g);
        }
        assertFalse(TorchCheckpoint.allowedGlobals().contains("torch.load"));
        assertFalse(TorchCheckpoint.allowedGlobals().contains("builtins.getattr"));
    }

    // ------------------------------------------------------------------------------------ hand-made archives

    /** Rewrites a fixture's records into a new zip (DEFLATED, as java.util.zip does) with edits. */
    private static Path rewrite(Path src, Path dst, Map<String, byte[]> replace, List<String> drop) throws IOException {
        try (ZipFile in = new ZipFile(src.toFile()); OutputStream os = Files.newOutputStream(dst);
             ZipOutputStream out = new ZipOutputStream(os)) {
            for (Enumeration<? extends ZipEntry> en = in.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                String suffix = e.getName().substring(e.getName().indexOf('/') + 1);
                if (drop.contains(suffix)) continue;
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(replace.containsKey(suffix) ? replace.get(suffix) : in.getInputStream(e).readAllBytes());
                out.closeEntry();
            }
        }
        return dst;
    }

    private static Path archive(Path dst, byte[] pickle, byte[]... storages) throws IOException {
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(dst))) {
            out.putNextEntry(new ZipEntry("archive/data.pkl"));
            out.write(pickle);
            for (int i = 0; i < storages.length; i++) {
                out.putNextEntry(new ZipEntry("archive/data/" + i));
                out.write(storages[i]);
            }
            out.putNextEntry(new ZipEntry("archive/version"));
            out.write("3\n".getBytes());
        }
        return dst;
    }

    @Test
    void deflatedRecordsReadTheSameAsStoredOnes(@TempDir Path dir) throws IOException {
        Path src = IoFixtures.resource("torch_small.bin");
        StateDict stored = TorchCheckpoint.read(src);
        StateDict deflated = TorchCheckpoint.read(rewrite(src, dir.resolve("deflated.bin"), Map.of(), List.of()));
        assertEquals(stored.names(), deflated.names());
        for (TensorData t : stored) assertTrue(t.contentEquals(deflated.require(t.name())), t.name());
    }

    @Test
    void missingStorageRecordIsNamed(@TempDir Path dir) throws IOException {
        Path p = rewrite(IoFixtures.resource("torch_small.bin"), dir.resolve("m.bin"), Map.of(), List.of("data/1"));
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(p));
        assertTrue(ex.getMessage().contains("encoder.dense.weight") && ex.getMessage().contains("data/1 is missing"),
                ex.getMessage());
    }

    @Test
    void truncatedOrForeignFilesFailClearly(@TempDir Path dir) throws IOException {
        byte[] full = Files.readAllBytes(IoFixtures.resource("torch_small.bin"));
        Path cut = Files.write(dir.resolve("cut.bin"), Arrays.copyOf(full, full.length / 2));
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(cut));
        assertTrue(ex.getMessage().contains("cut.bin") && ex.getMessage().contains("truncated"), ex.getMessage());

        Path noCentral = Files.write(dir.resolve("tail.bin"), Arrays.copyOf(full, full.length - 10));
        assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(noCentral));

        Path text = Files.writeString(dir.resolve("text.bin"), "hello world, not a checkpoint");
        ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(text));
        assertTrue(ex.getMessage().contains("not a torch.save checkpoint"), ex.getMessage());

        // the legacy layout: cut inside the magic-number pickle, and inside the raw storages
        Path legacy = Files.write(dir.resolve("legacy.bin"), new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10});
        ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(legacy));
        assertTrue(ex.getMessage().contains("legacy.bin") && ex.getMessage().contains("truncated"), ex.getMessage());
        byte[] legacyFull = Files.readAllBytes(IoFixtures.resource("torch_small_legacy.bin"));
        Path legacyCut = Files.write(dir.resolve("legacy_cut.bin"), Arrays.copyOf(legacyFull, legacyFull.length - 3));
        ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(legacyCut));
        assertTrue(ex.getMessage().contains("more than the file holds"), ex.getMessage());
        Path legacyEvil = Files.write(dir.resolve("legacy_evil.bin"), new IoFixtures.Pickle()
                .global("os", "system").str("id").op(0x85, 'R', '.').bytes());
        ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(legacyEvil));
        assertTrue(ex.getMessage().contains("forbidden global 'os.system'"), ex.getMessage());
    }

    @Test
    void malformedPicklesFailWithTheirProblem(@TempDir Path dir) throws IOException {
        byte[] storage = new byte[8];
        // a view reaching past the end of its storage (offset 1 + 2 elements in a 2-element storage)
        byte[] pastEnd = new IoFixtures.Pickle().op('}')
                .tensorItem("w", "FloatStorage", "0", 2, 1, new long[]{2}, new long[]{1}).op('.').bytes();
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("a.bin"), pastEnd, storage)));
        assertTrue(ex.getMessage().contains("tensor 'w'") && ex.getMessage().contains("reaches element 2"), ex.getMessage());

        // a view claiming 10^12 elements of a 2-element storage, and a stride-0 view of 10^12 elements: both
        // refused by arithmetic before anything is allocated
        byte[] trillion = new IoFixtures.Pickle().op('}')
                .tensorItem("w", "FloatStorage", "0", 2, 0, new long[]{1_000_000_000_000L}, new long[]{1}).op('.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("t.bin"), trillion, storage)));
        assertTrue(ex.getMessage().contains("reaches element 999999999999"), ex.getMessage());
        byte[] broadcast = new IoFixtures.Pickle().op('}')
                .tensorItem("w", "FloatStorage", "0", 2, 0, new long[]{1_000_000_000_000L}, new long[]{0}).op('.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("u.bin"), broadcast, storage)));
        assertTrue(ex.getMessage().contains("exceeds 2 GiB"), ex.getMessage());

        // a complex storage type is refused as unsupported (not called "forbidden")
        byte[] complex = new IoFixtures.Pickle().op('}')
                .tensorItem("w", "ComplexFloatStorage", "0", 1, 0, new long[]{1}, new long[]{1}).op('.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("v.bin"), complex, storage)));
        assertTrue(ex.getMessage().contains("unsupported tensor storage type 'torch.ComplexFloatStorage'"), ex.getMessage());

        // a storage shorter than its pickle declares
        byte[] tooShort = new IoFixtures.Pickle().op('}')
                .tensorItem("w", "DoubleStorage", "0", 2, 0, new long[]{2}, new long[]{1}).op('.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("b.bin"), tooShort, storage)));
        assertTrue(ex.getMessage().contains("holds 8 bytes"), ex.getMessage());

        // no STOP: truncated
        byte[] noStop = new IoFixtures.Pickle().op('}').str("w").bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("c.bin"), noStop)));
        assertTrue(ex.getMessage().contains("truncated"), ex.getMessage());

        // INST (protocol 0 object building) is not supported
        byte[] inst = new IoFixtures.Pickle().op('(').op('i').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("d.bin"), inst)));
        assertTrue(ex.getMessage().contains("unsupported opcode 0x69"), ex.getMessage());

        // an allowed global used the wrong way: calling a storage class
        byte[] callStorage = new IoFixtures.Pickle().global("torch", "FloatStorage").op(')', 'R', '.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("e.bin"), callStorage)));
        assertTrue(ex.getMessage().contains("torch.FloatStorage cannot be called"), ex.getMessage());

        // a top-level list instead of a dict
        byte[] list = new IoFixtures.Pickle().op(']', '.').bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("f.bin"), list)));
        assertTrue(ex.getMessage().contains("not a dict of tensors"), ex.getMessage());

        // a huge declared string length must fail before allocating
        byte[] huge = new IoFixtures.Pickle().op('X', 0xff, 0xff, 0xff, 0x7f).bytes();
        ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.read(archive(dir.resolve("g.bin"), huge)));
        assertTrue(ex.getMessage().contains("truncated"), ex.getMessage());
    }

    @Test
    void nestedDictsAreFlattenedWithDots(@TempDir Path dir) throws IOException {
        byte[] pkl = new IoFixtures.Pickle().op('}').str("model").op('}')
                .tensorItem("w", "FloatStorage", "0", 2, 0, new long[]{2}, new long[]{1})
                .op('s').str("epoch").integer(3).op('s', '.').bytes();
        byte[] storage = ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).array();
        StateDict sd = TorchCheckpoint.read(archive(dir.resolve("n.bin"), pkl, storage));
        assertEquals(List.of("model.w"), new ArrayList<>(sd.names()));
        assertArrayEquals(new float[]{1.5f, -2f}, sd.require("model.w").toFloats());
    }

    @Test
    void shardedCheckpointsFollowTheWeightMap(@TempDir Path dir) throws IOException {
        Files.copy(IoFixtures.resource("torch_small.bin"), dir.resolve("pytorch_model-00001-of-00002.bin"));
        Files.copy(IoFixtures.resource("torch_small_proto4.bin"), dir.resolve("pytorch_model-00002-of-00002.bin"));
        Files.writeString(dir.resolve(TorchCheckpoint.INDEX_FILE), """
                {"metadata": {"total_size": 1}, "weight_map": {
                  "encoder.dense.weight": "pytorch_model-00002-of-00002.bin",
                  "embeddings.word_embeddings.weight": "pytorch_model-00001-of-00002.bin"}}""");
        StateDict sd = TorchCheckpoint.load(dir);
        assertEquals(List.of("encoder.dense.weight", "embeddings.word_embeddings.weight"), new ArrayList<>(sd.names()));
        Files.writeString(dir.resolve("bad.json"), "{\"weight_map\": {\"x\": \"../escape.bin\"}}");
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TorchCheckpoint.readSharded(dir.resolve("bad.json")));
        assertTrue(ex.getMessage().contains("tensor 'x'") && ex.getMessage().contains("is not a file in"), ex.getMessage());
    }
}
