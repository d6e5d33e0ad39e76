package org.finsent.train;

import org.finsent.peft.AdapterConfig;
import org.finsent.peft.LoraConfig;
import org.finsent.peft.Peft;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Every saved model directory has a Hugging Face model card; its files are readable as the umask allows. */
class ModelCardTest {
    @TempDir
    Path tmp;

    /** The card's YAML front matter as key → value (a string) or key → list of strings ("- item" lines). */
    static Map<String, Object> frontMatter(String md) {
        assertTrue(md.startsWith("---\n"), md);
        int end = md.indexOf("\n---\n", 4);
        assertTrue(end > 0, "front matter closed");
        Map<String, Object> m = new LinkedHashMap<>();
        String listKey = null;
        for (String line : md.substring(4, end).split("\n")) {
            if (line.startsWith("- ") && listKey != null) {
                @SuppressWarnings("unchecked") List<String> l = (List<String>) m.get(listKey);
                l.add(unquote(line.substring(2)));
                continue;
            }
            int c = line.indexOf(": ");
            if (line.endsWith(":")) {
                listKey = line.substring(0, line.length() - 1);
                m.put(listKey, new ArrayList<String>());
            } else {
                assertTrue(c > 0, "a key: value line: " + line);
                m.put(line.substring(0, c), unquote(line.substring(c + 2)));
                listKey = null;
            }
        }
        return m;
    }

    private static String unquote(String s) {
        return s.startsWith("\"") ? s.substring(1, s.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\") : s;
    }

    private static ModelSources.Source source(String spec) {
        return new ModelSources.Source(spec, "bert", Fixtures.tinyBert(DataType.FLOAT, 1), Fixtures.tokenizer(),
                Map.of("tokenizer.json", () -> ModelCardTest.class.getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")));
    }

    @Test
    void loraDirectoryCardNamesBaseDataMetricsAndHowToLoadIt() throws Exception {
        var src = source(ModelSources.MINILM);
        var peft = Peft.apply(src.model(), LoraConfig.bert(4, 8).withTargets("query", "value"));
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("learning_rate", 0.003);
        args.put("num_train_epochs", 3);
        Path dir = tmp.resolve("lora");
        FineTunedModel.of(src, peft, Fixtures.LABELS, 64, Map.of("eval_accuracy", 0.8125, "eval_f1_macro", 0.75, "test_accuracy", 0.79,
                        "test_samples", 388))
                .withTraining(new ModelCard.Training("fpb", "classpath:org/finsent/data/Sentences_50Agree.dev.txt", args)).save(dir);
        String md = Files.readString(dir.resolve("README.md"));
        Map<String, Object> fm = frontMatter(md);
        assertEquals("sentence-transformers/all-MiniLM-L6-v2", fm.get("base_model"));
        assertEquals("finsent", fm.get("library_name"));
        assertEquals("text-classification", fm.get("pipeline_tag"));
        assertTrue(((List<?>) fm.get("tags")).containsAll(List.of("peft", "lora", "finsent")), fm.toString());
        assertEquals(List.of("takala/financial_phrasebank"), fm.get("datasets"));
        assertEquals(List.of("accuracy", "f1"), fm.get("metrics"));
        assertTrue(md.contains("| validation | 0.8125 |"), md);
        assertTrue(md.contains("| test | 0.7900 |"), md);
        assertTrue(md.contains("| learning_rate | 0.003 |") && md.contains("| num_train_epochs | 3 |"), md);
        assertTrue(md.contains("base = AutoModelForSequenceClassification.from_pretrained(\"sentence-transformers/all-MiniLM-L6-v2\", "
                + "num_labels=3, id2label=id2label, label2id=label2id)") && md.contains("model = PeftModel.from_pretrained(base, \"DIR\")"), md);
        assertTrue(md.contains("FineTunedModel.load(") && md.contains(".predictor()") && md.contains("finsent predict --model DIR"), md);
        assertTrue(md.contains("3,875 of 4,846 sentences, a subset"), md);

        // every file of the directory has the permissions a new file gets under the umask (no 0600 temp-file leftovers)
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path probe = Files.createFile(tmp.resolve("probe"));
        Set<PosixFilePermission> expected = Files.getPosixFilePermissions(probe);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) assertEquals(expected, Files.getPosixFilePermissions(f), f.toString());
        }
        assumeTrue(expected.contains(PosixFilePermission.OTHERS_READ), "umask 022 or wider");
        assertTrue(Files.getPosixFilePermissions(dir.resolve("adapter_model.safetensors")).contains(PosixFilePermission.OTHERS_READ));
    }

    @Test
    void fullAndAdapterCardsSayHowTheyLoad() {
        var full = new FineTunedModel.Info("hf:ProsusAI/finbert@main", "bert", List.of("full"), Fixtures.LABELS, 128, 10, 10,
                Map.of(), "x");
        String f = ModelCard.markdown(full, new ModelCard.Training("tweets", null, Map.of()));
        Map<String, Object> fm = frontMatter(f);
        assertEquals("ProsusAI/finbert", fm.get("base_model"));
        assertFalse(((List<?>) fm.get("tags")).contains("peft"));
        assertEquals(List.of("zeroshot/twitter-financial-news-sentiment"), fm.get("datasets"));
        assertTrue(f.contains("AutoModelForSequenceClassification.from_pretrained(\"DIR\")") && !f.contains("PeftModel"), f);

        var adapter = new FineTunedModel.Info("/models/my bert: v2", "bert", List.of("adapter"), Fixtures.LABELS, 128, 1, 10,
                Map.of(), "x");
        String a = ModelCard.markdown(adapter, null);
        assertEquals("/models/my bert: v2", frontMatter(a).get("base_model"), "quoted so YAML reads it back");
        assertTrue(a.contains("`adapters`") && a.contains("load_adapter(") && !a.contains("PeftModel"), a);
        assertTrue(a.contains("Not recorded"), a);
    }
}
