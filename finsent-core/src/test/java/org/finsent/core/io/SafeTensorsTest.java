package org.finsent.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {

    @TempDir
    Path dir;

    private static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return b.putLong(h.length).put(h).put(data).array();
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    // ------------------------------------------------------------------------ byte-exact with the reference

    /** The serialisations the Rust library's own unit tests assert (safetensors/src/tensor.rs). */
    @Test
    void writesTheSameBytesAsTheReferenceLibrary() {
        StateDict one = new StateDict();
        one.put(TensorData.of("attn.0", new float[]{0, 1, 2, 3, 4, 5}, 1, 2, 3));
        assertArrayEquals(file("{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}",
                floats(0, 1, 2, 3, 4, 5)), SafeTensors.toBytes(one, null), "test_serialization (64-byte header)");

        StateDict aligned = new StateDict();
        aligned.put(TensorData.of("attn0", new float[]{0, 1, 2, 3, 4, 5}, 1, 1, 2, 3));
        assertArrayEquals(file("{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ",
                floats(0, 1, 2, 3, 4, 5)), SafeTensors.toBytes(aligned, null), "test_serialization_forced_alignement");

        assertArrayEquals(file("{}      ", new byte[0]), SafeTensors.toBytes(new StateDict(), null), "test_empty");
        assertArrayEquals(file("{\"__metadata__\":{\"framework\":\"pt\"}}     ", new byte[0]),
                SafeTensors.toBytes(new StateDict(), Map.of("framework", "pt")), "test_empty with metadata");
    }

    @Test
    void headerListsTensorsByDescendingDtypeThenName() {
        StateDict sd = new StateDict();
        sd.put(TensorData.ofFloats("z.h", DType.F16, new float[]{1}, 1));
        sd.put(TensorData.of("b.f", new float[]{1}, 1));
        sd.put(TensorData.of("a.f", new float[]{1}, 1));
        sd.put(TensorData.of("ids", new long[]{1}, 1));
        sd.put(TensorData.of("d", new double[]{1}, 1));
        sd.put(TensorData.ofFloats("bf", DType.BF16, new float[]{1}, 1));
        byte[] bytes = SafeTensors.toBytes(sd, Map.of("format", "pt", "a\"b", "\n"));
        int n = (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, n, StandardCharsets.UTF_8);
        String expected = "{\"__metadata__\":{\"a\\\"b\":\"\\n\",\"format\":\"pt\"},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]},"
                + "\"a.f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"b.f\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[20,24]},"
                + "\"bf\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[24,26]},"
                + "\"z.h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[26,28]}}";
        assertEquals(expected + " ".repeat(n - expected.length()), header);
        assertTrue(n - expected.length() < 8);
    }

    // ------------------------------------------------------------------------ round trips

    @Test
    void roundTripIsBitIdenticalForEveryDtype() throws IOException {
        StateDict sd = new StateDict();
        sd.put(TensorData.of("f32", new float[]{1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE, Float.NaN,
                Float.NEGATIVE_INFINITY}, 2, 3));
        sd.put(TensorData.of("f64", new double[]{Math.PI, Double.MIN_VALUE, -1e300}, 3));
        ByteBuffer half = ByteBuffer.allocate(14).order(ByteOrder.LITTLE_ENDIAN);
        for (int bits : new int[]{0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfe01, 0x8000}) half.putShort((short) bits);
        sd.put(new TensorData("f16", DType.F16, new long[]{7}, half.flip()));
        ByteBuffer bf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (int bits : new int[]{0x0001, 0x7f7f, 0xff80, 0x7fc1}) bf.putShort((short) bits);
        sd.put(new TensorData("bf16", DType.BF16, new long[]{2, 2}, bf.flip()));
        sd.put(TensorData.of("i64", new long[]{Long.MIN_VALUE, Long.MAX_VALUE}, 2));
        sd.put(new TensorData("i32", DType.I32, new long[]{1}, ByteBuffer.wrap(new byte[]{1, 2, 3, 4})));
        sd.put(new TensorData("i16", DType.I16, new long[]{1}, ByteBuffer.wrap(new byte[]{5, 6})));
        sd.put(new TensorData("i8", DType.I8, new long[]{2}, ByteBuffer.wrap(new byte[]{-128, 127})));
        sd.put(new TensorData("u8", DType.U8, new long[]{1}, ByteBuffer.wrap(new byte[]{(byte) 255})));
        sd.put(new TensorData("bool", DType.BOOL, new long[]{2}, ByteBuffer.wrap(new byte[]{1, 0})));
        sd.put(TensorData.of("scalar", new float[]{3f}));
        sd.put(TensorData.of("empty", new float[0], 0, 4));
        sd.putMetadata("format", "pt");

        Path p = dir.resolve("model.safetensors");
        SafeTensors.write(p, sd);
        StateDict back = SafeTensors.read(p);
        assertEquals(sd.size(), back.size());
        for (TensorData t : sd) {
            TensorData u = back.require(t.name());
            assertTrue(t.contentEquals(u), t.name());
        }
        assertEquals(Map.of("format", "pt"), back.metadata());
        assertEquals(Map.of("format", "pt"), SafeTensors.readMetadata(p));
        assertEquals(sd.totalParameters(), back.totalParameters());
        assertEquals(6, SafeTensors.countNonFinite(back.require("f16")) + SafeTensors.countNonFinite(back.require("f32"))
                + SafeTensors.countNonFinite(back.require("bf16")), "f16: inf, NaN; f32: NaN, -inf; bf16: -inf, NaN");
        // writing what was read reproduces the file byte for byte
        Path again = dir.resolve("again.safetensors");
        SafeTensors.write(again, back);
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(again));
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "header padded to 8 bytes");
        assertEquals(back.names(), SafeTensors.load(dir).names(), "load(directory) finds model.safetensors");
    }

    @Test
    void largeFilesAreMappedInWindows() throws IOException {
        Path p = dir.resolve("windows.bin");
        byte[] bytes = new byte[1 << 20];
        for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (i * 31 + (i >>> 8));
        Files.write(p, bytes);
        long[] starts = {0, 100_000, 250_000, 250_000, 900_000};
        long[] lengths = {100_000, 150_000, 0, 300_000, 148_576};
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ByteBuffer[] views = MappedRegions.map(ch, p.toString(), new String[]{"a", "b", "c", "d", "e"}, starts, lengths,
                    320_000, 0);
            for (int i = 0; i < starts.length; i++) {
                assertEquals(lengths[i], views[i].remaining());
                for (int k = 0; k < lengths[i]; k += 997) assertEquals(bytes[(int) (starts[i] + k)], views[i].get(k));
            }
            assertThrows(WeightFormatException.class, () -> MappedRegions.map(ch, p.toString(), new String[]{"big"},
                    new long[]{0}, new long[]{400_000}, 320_000, 0));
        }
    }

    @Test
    void shardedCheckpointsAreReadThroughTheIndex() throws IOException {
        StateDict a = new StateDict();
        a.put(TensorData.of("x", new float[]{1, 2}, 2));
        StateDict b = new StateDict();
        b.put(TensorData.of("y", new float[]{3}, 1));
        b.put(TensorData.of("z", new float[]{4}, 1));
        SafeTensors.write(dir.resolve("model-00001-of-00002.safetensors"), a);
        SafeTensors.write(dir.resolve("model-00002-of-00002.safetensors"), b);
        Files.writeString(dir.resolve(SafeTensors.INDEX_FILE), """
                {"metadata": {"total_size": 16}, "weight_map": {
                  "z": "model-00002-of-00002.safetensors", "x": "model-00001-of-00002.safetensors",
                  "y": "model-00002-of-00002.safetensors"}}""");
        StateDict sd = SafeTensors.load(dir);
        assertEquals(List.of("z", "x", "y"), new ArrayList<>(sd.names()));
        assertArrayEquals(new float[]{1, 2}, sd.require("x").toFloats());
        assertEquals("16", sd.metadata().get("total_size"));

        Files.writeString(dir.resolve("missing.json"), "{\"weight_map\": {\"q\": \"model-00002-of-00002.safetensors\"}}");
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> SafeTensors.readSharded(dir.resolve("missing.json")));
        assertTrue(ex.getMessage().contains("tensor 'q'") && ex.getMessage().contains("does not hold it"), ex.getMessage());
        Files.writeString(dir.resolve("escape.json"), "{\"weight_map\": {\"q\": \"../../etc/passwd\"}}");
        ex = assertThrows(WeightFormatException.class, () -> SafeTensors.readSharded(dir.resolve("escape.json")));
        assertTrue(ex.getMessage().contains("is not a file in"), ex.getMessage());
        Files.writeString(dir.resolve("absent.json"), "{\"weight_map\": {\"q\": \"nope.safetensors\"}}");
        ex = assertThrows(WeightFormatException.class, () -> SafeTensors.readSharded(dir.resolve("absent.json")));
        assertTrue(ex.getMessage().contains("does not exist"), ex.getMessage());
    }

    // ------------------------------------------------------------------------ bad input

    private WeightFormatException fails(String name, byte[] content, String... expected) throws IOException {
        Path p = Files.write(dir.resolve(name), content);
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> SafeTensors.read(p));
        assertTrue(ex.getMessage().startsWith(p.toString() + ": "), ex.getMessage());
        for (String e : expected) assertTrue(ex.getMessage().contains(e), "expected '" + e + "' in: " + ex.getMessage());
        return ex;
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void malformedHeadersAreRefusedNamingTheFileAndTensor() throws IOException {
        fails("short.safetensors", new byte[]{1, 2, 3}, "too short");
        byte[] good = file("{" + entry("w", "F32", "[2]", 0, 8) + "}", floats(1, 2));
        fails("truncated.safetensors", java.util.Arrays.copyOf(good, 20), "header length", "larger than the file");
        byte[] huge = good.clone();
        huge[5] = 1; // header length 2^40
        fails("huge.safetensors", huge, "exceeds the limit");
        fails("json.safetensors", file("{\"w\": {\"dtype\": \"F32\",", new byte[0]), "not valid JSON");
        fails("array.safetensors", file("[]", new byte[0]), "not a JSON object");
        fails("entry.safetensors", file("{\"w\":1}", new byte[0]), "tensor 'w'", "not an object");
        byte[] badUtf8 = file("{\"ab\":{}}", new byte[0]);
        badUtf8[10] = (byte) 0xc3;
        badUtf8[11] = (byte) 0x28;
        fails("utf8b.safetensors", badUtf8, "not valid UTF-8");
        fails("dup.safetensors", file("{" + entry("w", "F32", "[1]", 0, 4) + "," + entry("w", "F32", "[1]", 0, 4) + "}",
                floats(1)), "Duplicate field 'w'");
        fails("dtype.safetensors", file("{" + entry("w", "F128", "[1]", 0, 4) + "}", floats(1)),
                "tensor 'w'", "unknown dtype 'F128'");
        fails("u16.safetensors", file("{" + entry("w", "U16", "[2]", 0, 4) + "}", floats(1)),
                "tensor 'w'", "unsupported dtype 'U16'");
        fails("negative.safetensors", file("{" + entry("w", "F32", "[1]", -4, 0) + "}", floats(1)),
                "tensor 'w'", "negative value -4");
        fails("backwards.safetensors", file("{" + entry("w", "F32", "[0]", 4, 0) + "}", floats(1)),
                "tensor 'w'", "end before they begin");
        fails("overlap.safetensors", file("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}",
                floats(1, 2, 3)), "tensor 'b'", "overlap tensor 'a'");
        fails("gap.safetensors", file("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}",
                floats(1, 2, 3)), "tensor 'b'", "gap of 4 bytes", "contiguous");
        fails("range.safetensors", file("{" + entry("w", "F32", "[3]", 0, 12) + "}", floats(1, 2)),
                "tensor 'w'", "out of range", "holds 8 bytes");
        fails("length.safetensors", file("{" + entry("w", "F32", "[3]", 0, 8) + "}", floats(1, 2)),
                "tensor 'w'", "byte length 8 != numel 3 * F32 size 4");
        fails("trailing.safetensors", file("{" + entry("w", "F32", "[1]", 0, 4) + "}", floats(1, 2)),
                "4 trailing bytes");
        fails("overflow.safetensors", file("{" + entry("w", "F32", "[1099511627776,1099511627776]", 0, 4) + "}", floats(1)),
                "tensor 'w'", "overflows");
        fails("meta.safetensors", file("{\"__metadata__\":{\"n\":1}}", new byte[0]), "not a string");
        fails("shape.safetensors", file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", floats(1)),
                "tensor 'w'", "not a 64-bit integer");
    }

    /** A header claiming a 10^12-element tensor must be refused by arithmetic, before anything is allocated. */
    @Test
    void aHeaderClaimingATrillionElementsFailsWithoutAllocating() throws IOException {
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        fails("trillion.safetensors", file("{" + entry("w", "F32", "[1000000000000]", 0, 4_000_000_000_000L) + "}",
                floats(1, 2, 3, 4)), "tensor 'w'", "out of range");
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 256L << 20, "no large allocation");
    }
}
