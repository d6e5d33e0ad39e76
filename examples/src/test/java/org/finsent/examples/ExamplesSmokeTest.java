package org.finsent.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** Each example main runs, shortened, and prints what it promises. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExamplesSmokeTest {
    @TempDir
    static Path tmp;

    /** Runs a main with System.out captured; returns what it printed. */
    private static String run(ThrowingMain main) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(original);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        original.print(out);
        return out;
    }

    interface ThrowingMain {
        void run() throws Exception;
    }

    @Test
    @Order(1)
    void fineTuneLoraPrintsMetricsAndSavesAModelDirectory() throws Exception {
        Path dir = tmp.resolve("lora");
        String out = run(() -> FineTuneLora.main(new String[] {"4", dir.toString()}));
        assertTrue(out.contains("trainable params:"), out);
        Matcher m = Pattern.compile("test {7}accuracy (\\d\\.\\d{4})").matcher(out);
        assertTrue(m.find(), out);
        double acc = Double.parseDouble(m.group(1));
        assertTrue(acc >= 0 && acc <= 1, out);
        assertTrue(out.contains("macro avg"), "classification report printed");
        assertTrue(Files.isRegularFile(dir.resolve(FineTunedModel.INFO_FILE)));
        assertTrue(Files.isRegularFile(dir.resolve("adapter_model.safetensors")));
    }

    @Test
    @Order(2)
    void classifyFilePrintsWhatTheSavedModelPredicts() throws Exception {
        Path dir = tmp.resolve("lora");
        assumeTrue(Files.isRegularFile(dir.resolve(FineTunedModel.INFO_FILE)), "needs the model directory of the first test");
        List<String> texts = List.of("Net sales fell by 5 % .", "Operating profit rose to EUR 13.1 mn .");
        Path file = tmp.resolve("texts.txt");
        Files.write(file, texts);
        String out = run(() -> ClassifyFile.main(new String[] {dir.toString(), file.toString()}));
        List<Predictor.Prediction> expected = FineTunedModel.load(dir).predictor().predict(texts);
        String[] lines = out.strip().split("\n");
        assertEquals(texts.size(), lines.length, out);
        for (int i = 0; i < texts.size(); i++) {
            assertTrue(lines[i].startsWith(expected.get(i).label()), lines[i]);
            assertTrue(lines[i].endsWith(texts.get(i)), lines[i]);
        }
    }

    @Test
    void compareTechniquesPrintsOneRowPerTechnique() throws Exception {
        String out = run(() -> CompareTechniques.main(new String[] {"150", "2", tmp.resolve("compare").toString()}));
        for (String t : List.of("full", "lora", "adapter", "prefix")) {
            assertTrue(Pattern.compile("(?m)^" + t + " +\\d+ +\\d\\.\\d{4} ").matcher(out).find(), t + " row in\n" + out);
        }
    }

    @Test
    void gpt2PrefixTuningRunsOnARandomTinyGpt2() throws Exception {
        Path vocab = ModelSources.sharedDir().resolve("models/gpt2");
        assumeTrue(Files.isRegularFile(vocab.resolve("vocab.json")), () -> "GPT-2 vocabulary not found in " + vocab
                + " (set FINSENT_SHARED or put shared/ beside the repository)");
        String out = run(() -> Gpt2PrefixTuning.main(new String[] {ModelSources.RANDOM_GPT2 + ":" + vocab, "2",
                tmp.resolve("gpt2").toString()}));
        assertTrue(out.contains("test accuracy"), out);
        assertTrue(out.contains("The company cut its forecast."), out);
    }

    @Test
    void tokenizerTourEncodesWithOffsetsAndDecodes() throws Exception {
        Path dir = tmp.resolve("minilm-tokenizer");
        Files.createDirectories(dir);
        try (InputStream in = ExamplesSmokeTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            assumeTrue(in != null, "the MiniLM artifact is on the test class path");
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        String out = run(() -> TokenizerTour.main(new String[] {dir.toString()}));
        assertTrue(out.contains("'profit'"), out);
        Matcher decoded = Pattern.compile("decoded: (.*)").matcher(out);
        assertTrue(decoded.find(), out);
        // an uncased WordPiece round trip keeps the characters (lower-cased); only spacing may change
        assertEquals("Operating profit rose to EUR 13.1 mn from EUR 8.7 mn .".toLowerCase().replace(" ", ""),
                decoded.group(1).replace(" ", ""));
        assertTrue(out.contains("batch row:"), out);
    }
}
