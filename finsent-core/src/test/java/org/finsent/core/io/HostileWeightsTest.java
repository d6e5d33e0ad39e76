package org.finsent.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One test per attack class of issue 22 against the weight readers: each input is small, and each must end in a
 * {@link WeightFormatException} saying what is wrong, fast, instead of hanging, overflowing the stack or
 * allocating what the file claims.
 */
class HostileWeightsTest {

    // ------------------------------------------------------------------------------------------ pickle builders

    private static IoFixtures.Pickle tensor(IoFixtures.Pickle p, String storageKey, long numel, long[] size, long[] stride) {
        p.global("torch._utils", "_rebuild_tensor_v2").op('(');
        p.op('(').str("storage").global("torch", "FloatStorage").str(storageKey).str("cpu").integer(numel).op('t', 'Q');
        p.integer(0).tuple(size).tuple(stride);
        return p.op(0x89, '}', 't', 'R');
    }

    /** d0 = {"w": tensor}; d(i+1) = {"a": di, "b": di}: 2^levels tensor names. */
    static byte[] dagBomb(int levels) {
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}', '(').str("w");
        tensor(p, "0", 16, new long[]{4}, new long[]{1}).op('u', 'q', 0, '0'); // memoised, popped
        for (int i = 0; i < levels; i++) {
            p.op('}', '(').op(0x8c, 1, 'a', 'h', i).op(0x8c, 1, 'b', 'h', i).op('u', 'q', i + 1);
            if (i + 1 < levels) p.op('0');
        }
        return p.op('.').bytes();
    }

    private static WeightFormatException refused(byte[] file, Path dir) throws IOException {
        Path p = Files.write(dir.resolve("pytorch_model.bin"), file);
        long start = System.nanoTime();
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> TorchCheckpoint.read(p));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms < 1000, "took " + ms + " ms");
        assertTrue(ex.getMessage().startsWith(p.toString()), ex.getMessage());
        return ex;
    }

    // ------------------------------------------------------------------------------------------ pathological pickles

    @Test
    void dagBombIsRefusedWellUnderASecond(@TempDir Path dir) throws IOException {
        byte[] zip = WeightReadersFuzzTest.zip(dagBomb(40));
        assertTrue(zip.length < 2048, "a file of about a kilobyte: " + zip.length);
        WeightFormatException ex = refused(zip, dir);
        assertTrue(ex.getMessage().contains("shared along many paths"), ex.getMessage());
    }

    @Test
    void aStateDictSavedTwiceStillLoadsUnderBothNames(@TempDir Path dir) throws IOException {
        // {"model": sd, "ema": sd}: sharing that a real torch.save can produce is within the bounds
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}', '(').str("w");
        tensor(p, "0", 16, new long[]{4, 4}, new long[]{1, 4}).str("b");
        tensor(p, "1", 16, new long[]{16}, new long[]{1}).op('u', 'q', 0, '0');
        p.op('}', '(').str("model").op('h', 0).str("ema").op('h', 0).op('u', '.');
        Path f = Files.write(dir.resolve("pytorch_model.bin"), WeightReadersFuzzTest.zip(p.bytes()));
        StateDict sd = TorchCheckpoint.read(f);
        assertEquals(java.util.List.of("model.w", "model.b", "ema.w", "ema.b"), new java.util.ArrayList<>(sd.names()));
        assertArrayEquals(sd.require("model.w").toFloats(), sd.require("ema.w").toFloats());
        // the transposed view was gathered: element [0][1] is storage element 4 (bytes 16..19 = 16,17,18,19)
        assertEquals(ByteBuffer.wrap(new byte[]{16, 17, 18, 19}).order(ByteOrder.LITTLE_ENDIAN).getFloat(),
                sd.require("ema.w").toFloats()[1]);
    }

    @Test
    void selfReferentialDictIsACycleNotAStackOverflow(@TempDir Path dir) throws IOException {
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}', 'q', 0, '(').str("self").op('h', 0).str("w");
        tensor(p, "0", 16, new long[]{4}, new long[]{1}).op('u', '.');
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.bytes()), dir);
        assertTrue(ex.getMessage().contains("contains itself"), ex.getMessage());
    }

    @Test
    void deeplyNestedDictsAreRefused(@TempDir Path dir) throws IOException {
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}');
        for (int i = 0; i < 10_000; i++) p.str("d").op('}');
        for (int i = 0; i < 10_000; i++) p.op('s');
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.op('.').bytes()), dir);
        assertTrue(ex.getMessage().contains("nested more than " + TorchCheckpoint.MAX_DICT_DEPTH), ex.getMessage());
    }

    @Test
    void deeplyNestedTupleKeyIsRefusedBeforeItIsHashed(@TempDir Path dir) throws IOException {
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}', ')');
        for (int i = 0; i < 100_000; i++) p.op(0x85); // TUPLE1
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.integer(1).op('s', '.').bytes()), dir);
        assertTrue(ex.getMessage().contains("nested more than"), ex.getMessage());
    }

    @Test
    void tupleKeySharingSubTuplesIsRefused(@TempDir Path dir) throws IOException {
        // t0 = (1,); t(i+1) = (ti, ti): hashing it would walk 2^60 elements
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}').integer(1).op(0x85, 'q', 0, '0');
        for (int i = 0; i < 60; i++) p.op('h', i, 'h', i, 0x86, 'q', i + 1, '0');
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.op('h', 60).integer(1).op('s', '.').bytes()), dir);
        assertTrue(ex.getMessage().contains("dict key is a tuple"), ex.getMessage());
    }

    @Test
    void stridedViewsMayNotCopyFarMoreThanTheFile(@TempDir Path dir) throws IOException {
        // a stride-0 view of 2^26 elements of a 16-element storage: 256 MiB from a 1 KB file
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}').str("w");
        tensor(p, "0", 16, new long[]{1L << 26}, new long[]{0}).op('s', '.');
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.bytes()), dir);
        assertTrue(ex.getMessage().contains("copy more than twice the file"), ex.getMessage());
    }

    @Test
    void viewArithmeticThatOverflowsIsRefused(@TempDir Path dir) throws IOException {
        IoFixtures.Pickle p = new IoFixtures.Pickle().op('}').str("w");
        tensor(p, "0", 16, new long[]{3, 2}, new long[]{1L << 62, 1}).op('s', '.');
        WeightFormatException ex = refused(WeightReadersFuzzTest.zip(p.bytes()), dir);
        assertTrue(ex.getMessage().contains("beyond 2^63"), ex.getMessage());
    }

    @Test
    void legacyStorageCountThatOverflowsIsRefused(@TempDir Path dir) throws IOException {
        IoFixtures.Pickle obj = new IoFixtures.Pickle().op('}').str("w");
        obj.global("torch._utils", "_rebuild_tensor_v2").op('(');
        obj.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).op('N', 't', 'Q');
        obj.integer(0).tuple(4).tuple(1).op(0x89, '}', 't', 'R', 's', '.');
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes(WeightReadersFuzzTest.LEGACY_PREAMBLE);
        f.writeBytes(obj.bytes());
        f.writeBytes(new IoFixtures.Pickle().op(']', '(').str("0").op('e', '.').bytes());
        f.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 62).array()); // * 4 wraps to 0
        f.writeBytes(new byte[16]);
        WeightFormatException ex = refused(f.toByteArray(), dir);
        assertTrue(ex.getMessage().contains("more than the file holds"), ex.getMessage());
    }

    // ------------------------------------------------------------------------------------------ lying sizes

    /** One DEFLATED data.pkl whose central directory and local header claim {@code claimed} bytes. */
    static byte[] lyingZip(byte[] body, long claimed) {
        Deflater d = new Deflater(9, true);
        d.setInput(body);
        d.finish();
        byte[] buf = new byte[body.length + 64];
        int n = d.deflate(buf);
        d.end();
        CRC32 crc = new CRC32();
        crc.update(body);
        byte[] name = "archive/data.pkl".getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(30 + name.length + n + 46 + name.length + 22).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 8).putInt(0)
                .putInt((int) crc.getValue()).putInt(n).putInt((int) claimed).putShort((short) name.length).putShort((short) 0)
                .put(name).put(buf, 0, n);
        int cd = b.position();
        b.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 8).putInt(0)
                .putInt((int) crc.getValue()).putInt(n).putInt((int) claimed).putShort((short) name.length)
                .putShort((short) 0).putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0).putInt(0).put(name);
        int cdSize = b.position() - cd;
        b.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1)
                .putInt(cdSize).putInt(cd).putShort((short) 0);
        return b.array();
    }

    @Test
    void zipEntryClaimingTwoGibibytesIsRefusedBeforeAllocating(@TempDir Path dir) throws IOException {
        byte[] random = new byte[400_000];
        new java.util.Random(22).nextBytes(random); // incompressible: a 400 KB file, as in the report
        byte[] zip = lyingZip(random, 0x7ffffff0L);
        WeightFormatException ex = refused(zip, dir);
        assertTrue(ex.getMessage().contains("more than deflate can produce"), ex.getMessage());
    }

    @Test
    void zipEntryClaimingMoreThanItInflatesToIsRefused(@TempDir Path dir) throws IOException {
        // within deflate's ratio, so only inflating tells: the output grows with the data, not with the claim
        byte[] random = new byte[100_000];
        new java.util.Random(22).nextBytes(random);
        byte[] zip = lyingZip(random, 50_000_000);
        WeightFormatException ex = refused(zip, dir);
        assertTrue(ex.getMessage().contains("inflates to 100000 bytes, not 50000000"), ex.getMessage());
    }

    @Test
    void onnxDimsWithoutDataAreRefusedBeforeAllocating(@TempDir Path dir) throws IOException {
        // TensorProto{dims: 16384, 16384; data_type: FLOAT; name: "big"}: 1 GiB claimed, 0 values present
        byte[] tensor = {0x08, (byte) 0x80, (byte) 0x80, 0x01, 0x08, (byte) 0x80, (byte) 0x80, 0x01, 0x10, 0x01, 0x42, 3, 'b', 'i', 'g'};
        ByteArrayOutputStream graph = new ByteArrayOutputStream();
        graph.write(0x2a);
        graph.write(tensor.length);
        graph.writeBytes(tensor);
        ByteArrayOutputStream model = new ByteArrayOutputStream();
        model.write(0x3a);
        model.write(graph.size());
        model.writeBytes(graph.toByteArray());
        Path p = Files.write(dir.resolve("model.onnx"), model.toByteArray());
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> OnnxInitializers.read(p));
        assertTrue(ex.getMessage().contains("holds 0 F32 values") && ex.getMessage().contains("big"), ex.getMessage());
    }

    @Test
    void onnxFieldLongerThanTheFileIsRefused(@TempDir Path dir) throws IOException {
        // ModelProto field 2 (producer_name) claiming 2^40 bytes in a 7-byte file
        byte[] model = {0x12, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x20};
        Path p = Files.write(dir.resolve("model.onnx"), model);
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> OnnxInitializers.read(p));
        assertTrue(ex.getMessage().contains("claims 1099511627776 bytes"), ex.getMessage());
    }

    @Test
    void safetensorsHeaderLengthLongerThanTheFileIsRefused(@TempDir Path dir) throws IOException {
        byte[] f = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putLong(50_000_000).array();
        Path p = Files.write(dir.resolve("model.safetensors"), f);
        WeightFormatException ex = assertThrows(WeightFormatException.class, () -> SafeTensors.read(p));
        assertTrue(ex.getMessage().contains("larger than the file"), ex.getMessage());
    }

    @Test
    void tfIndexBlockHandlesThatOverflowAreRefused(@TempDir Path dir) throws IOException {
        // a footer whose index handle is (2^62, 2^62): their sum wraps negative
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes(new byte[]{0, 0});
        for (int k = 0; k < 2; k++) f.writeBytes(new byte[]{(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40});
        while (f.size() < 40) f.write(0);
        f.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0xdb4775248b80fb57L).array());
        Path data = Files.write(dir.resolve("v.data-00000-of-00001"), new byte[16]);
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TfTensorBundle.open(new java.io.ByteArrayInputStream(f.toByteArray()), "v.index", data));
        assertTrue(ex.getMessage().contains("lies outside the table"), ex.getMessage());
    }

    @Test
    void tfPrefixCompressedKeysMayNotExplode(@TempDir Path dir) throws IOException {
        // every entry shares the whole previous key and adds 1 byte: n entries of 4 bytes expand to n^2/2 bytes
        ByteArrayOutputStream blk = new ByteArrayOutputStream();
        int n = 20_000;
        for (int i = 0; i < n; i++) {
            int shared = i;
            while (shared >= 0x80) {
                blk.write((shared & 0x7f) | 0x80);
                shared >>>= 7;
            }
            blk.write(shared);
            blk.writeBytes(new byte[]{1, 0, 'k'});
        }
        blk.writeBytes(new byte[]{0, 0, 0, 0, 1, 0, 0, 0});
        Path data = Files.write(dir.resolve("v.data-00000-of-00001"), new byte[16]);
        byte[] index = WeightReadersFuzzTest.sstable(blk.toByteArray());
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TfTensorBundle.open(new java.io.ByteArrayInputStream(index), "v.index", data));
        assertTrue(ex.getMessage().contains("prefix-compression bomb"), ex.getMessage());
    }
}
