package org.finsent.core.io;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Fuzz targets for the weight readers. The contract of each: any input ends in a result or a
 * {@link WeightFormatException}, within the per-input time limit ({@link org.finsent.core.io.FuzzLimits#MAX_SECONDS} s) and the fuzzing JVM's small heap (-Pfuzz);
 * any other throwable (a RuntimeException, StackOverflowError, OutOfMemoryError, a plain IOException) is a finding.
 * Plain {@code mvn test} replays src/test/resources/org/finsent/core/io/WeightReadersFuzzTestInputs/<method>/
 * (seeds written by tools/fuzz/make_fuzz_seeds.py, plus every finding).
 */
class WeightReadersFuzzTest {

    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("finsent-fuzz-io");
            DIR.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path file(String name, byte[] bytes) {
        try {
            Path p = DIR.resolve(name);
            Files.write(p, bytes);
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a reader; a WeightFormatException is a valid outcome, anything else escapes as a finding. */
    private interface Reader {
        void run() throws IOException;
    }

    private static void expectOnlyFormatErrors(Reader r) {
        long start = System.nanoTime();
        try {
            r.run();
        } catch (WeightFormatException expected) {
            if (expected.getMessage() == null || expected.getMessage().isBlank()) throw new AssertionError("empty message", expected);
        } catch (IOException e) {
            throw new AssertionError("an I/O exception that is not a WeightFormatException", e);
        } finally {
            FuzzLimits.checkTime(start);
        }
    }

    @FuzzTest
    void safetensors(byte[] input) {
        Path p = file("model.safetensors", input);
        expectOnlyFormatErrors(() -> {
            SafeTensors.readMetadata(p);
            for (TensorData t : SafeTensors.read(p, true)) t.data();
        });
    }

    /** The whole checkpoint file: zip (central directory, local headers, deflate) and legacy streams. */
    @FuzzTest
    void torchFile(byte[] input) {
        Path p = file("pytorch_model.bin", input);
        expectOnlyFormatErrors(() -> TorchCheckpoint.read(p));
    }

    /**
     * The pickle and its flattening: the input becomes archive/data.pkl of a well-formed zip with two storages
     * (so the fuzzer needs not rediscover the zip format and its CRCs to reach the unpickler).
     */
    @FuzzTest
    void torchPickle(byte[] input) {
        Path p = file("pickle.bin", zip(input));
        expectOnlyFormatErrors(() -> TorchCheckpoint.read(p));
    }

    /**
     * The legacy format after its fixed preamble (magic, protocol, sys_info): the input is the object pickle,
     * the storage-key pickle and the raw storages.
     */
    @FuzzTest
    void torchLegacy(byte[] input) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(LEGACY_PREAMBLE);
        out.writeBytes(input);
        Path p = file("legacy.bin", out.toByteArray());
        expectOnlyFormatErrors(() -> TorchCheckpoint.read(p));
    }

    /** A TensorFlow .index file as it comes (SSTable footer, blocks, CRCs) with a 4 KiB data shard. */
    @FuzzTest
    void tfBundleIndex(byte[] input) {
        Path data = file("variables.data-00000-of-00001", DATA_SHARD);
        expectOnlyFormatErrors(() -> {
            TfTensorBundle b = TfTensorBundle.open(new java.io.ByteArrayInputStream(input), "variables.index", data);
            b.toStateDict();
            b.verifyChecksums();
        });
    }

    /**
     * The entries of a TensorFlow .index: the input is one SSTable data block (entries, restart array); the
     * harness adds what a fuzzer cannot forge (block trailers with CRC-32C, the index block, the footer).
     */
    @FuzzTest
    void tfBundleBlock(byte[] input) {
        Path data = file("variables.data-00000-of-00001", DATA_SHARD);
        byte[] index = sstable(input);
        expectOnlyFormatErrors(() -> {
            TfTensorBundle b = TfTensorBundle.open(new java.io.ByteArrayInputStream(index), "variables.index", data);
            b.toStateDict();
            b.verifyChecksums();
        });
    }

    /** An ONNX model file (protobuf ModelProto). */
    @FuzzTest
    void onnx(byte[] input) {
        Path p = file("model.onnx", input);
        expectOnlyFormatErrors(() -> {
            OnnxInitializers m = OnnxInitializers.read(p);
            m.toHuggingFaceBert();
        });
    }

    // ------------------------------------------------------------------------------------------ harness helpers

    static final byte[] DATA_SHARD = new byte[4096];

    static {
        for (int i = 0; i < DATA_SHARD.length; i++) DATA_SHARD[i] = (byte) (i * 31);
    }

    /** Pickles of 0x1950a86a20f9469cfc6c (LONG1), 1001 and {'protocol_version': 1001, 'little_endian': True}. */
    static final byte[] LEGACY_PREAMBLE;

    static {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9, 0x20,
                0x6a, (byte) 0xa8, 0x50, 0x19, '.'});
        o.writeBytes(new byte[]{(byte) 0x80, 2, 'M', (byte) 0xe9, 0x03, '.'});
        o.writeBytes(new byte[]{(byte) 0x80, 2, '}', 'q', 0, '('});
        pickleString(o, "protocol_version");
        o.writeBytes(new byte[]{'M', (byte) 0xe9, 0x03});
        pickleString(o, "little_endian");
        o.writeBytes(new byte[]{(byte) 0x88, 'u', '.'});
        LEGACY_PREAMBLE = o.toByteArray();
    }

    private static void pickleString(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.write('X');
        o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        o.writeBytes(b);
    }

    /** A STORED zip as torch.save writes it: archive/data.pkl, archive/data/0 and archive/data/1 (64 bytes each). */
    static byte[] zip(byte[] pickle) {
        byte[] storage = new byte[64];
        for (int i = 0; i < storage.length; i++) storage[i] = (byte) i;
        String[] names = {"archive/data.pkl", "archive/data/0", "archive/data/1", "archive/version"};
        byte[][] bodies = {pickle, storage, storage, "3\n".getBytes(StandardCharsets.US_ASCII)};
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream cd = new ByteArrayOutputStream();
        for (int i = 0; i < names.length; i++) {
            byte[] name = names[i].getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(bodies[i]);
            int offset = out.size();
            ByteBuffer h = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt((int) crc.getValue()).putInt(bodies[i].length).putInt(bodies[i].length)
                    .putShort((short) name.length).putShort((short) 0);
            out.writeBytes(h.array());
            out.writeBytes(name);
            out.writeBytes(bodies[i]);
            ByteBuffer c = ByteBuffer.allocate(46).order(ByteOrder.LITTLE_ENDIAN);
            c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt((int) crc.getValue()).putInt(bodies[i].length)
                    .putInt(bodies[i].length).putShort((short) name.length).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(offset);
            cd.writeBytes(c.array());
            cd.writeBytes(name);
        }
        int cdOffset = out.size();
        out.writeBytes(cd.toByteArray());
        ByteBuffer e = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) names.length)
                .putShort((short) names.length).putInt(cd.size()).putInt(cdOffset).putShort((short) 0);
        out.writeBytes(e.array());
        return out.toByteArray();
    }

    /** An uncompressed LevelDB table: {@code dataBlock}, an index block pointing at it, the footer. */
    static byte[] sstable(byte[] dataBlock) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writeBlock(out, dataBlock);
        int indexOffset = out.size();
        // index block: one entry, key "\u00ff", value = the data block's handle; one restart point at 0
        ByteArrayOutputStream handle = new ByteArrayOutputStream();
        varint(handle, 0);
        varint(handle, dataBlock.length);
        ByteArrayOutputStream index = new ByteArrayOutputStream();
        varint(index, 0);
        varint(index, 1);
        varint(index, handle.size());
        index.write(0xff);
        index.writeBytes(handle.toByteArray());
        index.writeBytes(new byte[]{0, 0, 0, 0, 1, 0, 0, 0});
        byte[] indexBlock = index.toByteArray();
        writeBlock(out, indexBlock);
        ByteArrayOutputStream footer = new ByteArrayOutputStream();
        varint(footer, 0);
        varint(footer, 0);
        varint(footer, indexOffset);
        varint(footer, indexBlock.length);
        while (footer.size() < 40) footer.write(0);
        out.writeBytes(footer.toByteArray());
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0xdb4775248b80fb57L).array());
        return out.toByteArray();
    }

    private static void writeBlock(ByteArrayOutputStream out, byte[] block) {
        out.writeBytes(block);
        out.write(0);
        CRC32C crc = new CRC32C();
        crc.update(block);
        crc.update(0);
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(TfTensorBundle.mask((int) crc.getValue())).array());
    }

    private static void varint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
