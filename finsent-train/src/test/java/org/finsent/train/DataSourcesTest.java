package org.finsent.train;

import org.finsent.core.data.BadRowPolicy;
import org.finsent.core.data.Example;
import org.finsent.core.data.FinancialPhraseBank;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data specs resolve to the right file and labels; missing files say what to download. */
class DataSourcesTest {
    @TempDir
    Path tmp;

    private static List<Integer> labels(DataSources.Loaded d) {
        return d.dataset().examples().stream().map(Example::label).toList();
    }

    @Test
    void fpbFromTheZipPicksTheAgreementLevel() throws Exception {
        Path zip = tmp.resolve(DataSources.FPB_ZIP);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("FinancialPhraseBank-v1.0/Sentences_50Agree.txt"));
            z.write("Profit rose .@positive\r\nSales fell .@negative\r\nThe meeting is today .@neutral\r\n".getBytes(StandardCharsets.ISO_8859_1));
            z.putNextEntry(new ZipEntry("FinancialPhraseBank-v1.0/Sentences_AllAgree.txt"));
            z.write("Profit rose .@positive\r\n".getBytes(StandardCharsets.ISO_8859_1));
            z.closeEntry();
        }
        var o = DataSources.Options.defaults();
        assertEquals(List.of(2, 0, 1), labels(DataSources.load("fpb:" + zip, o)));
        assertEquals(List.of(2), labels(DataSources.load("fpb:" + zip, o.withAgreement(DataSources.agreement("all")))));
        // a folder holding the zip is found too
        assertEquals(3, DataSources.load("fpb:" + tmp, o).dataset().examples().size());
        assertThrows(IllegalArgumentException.class, () -> DataSources.agreement("90"));
    }

    @Test
    void fpbFolderPrefersTheTextFileAndAcceptsTheDevVariant() throws Exception {
        Files.writeString(tmp.resolve("Sentences_66Agree.dev.txt"), "Profit rose .@positive\n", StandardCharsets.ISO_8859_1);
        var o = DataSources.Options.defaults().withAgreement(FinancialPhraseBank.Agreement.AGREE_66);
        DataSources.Loaded d = DataSources.load("fpb:" + tmp, o);
        assertTrue(d.source().endsWith("Sentences_66Agree.dev.txt"), d.source());
        var e = assertThrows(NoSuchFileException.class, () -> DataSources.load("fpb:" + tmp, DataSources.Options.defaults()));
        assertTrue(e.getMessage().contains("Sentences_50Agree.txt") && e.getMessage().contains("https://huggingface.co/datasets/takala/financial_phrasebank"),
                e.getMessage());
    }

    @Test
    void tweetsFolderAndCsvWithLabelValues() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("tw"));
        Files.writeString(dir.resolve(DataSources.TWEETS_CSV), "text,label\n\"Stock down, badly\",0\nStock up,1\nEarnings call today,2\n");
        // the Twitter set's ids: 0 bearish -> negative, 1 bullish -> positive, 2 neutral -> neutral
        assertEquals(List.of(0, 2, 1), labels(DataSources.load("tweets:" + dir, DataSources.Options.defaults())));

        Path csv = tmp.resolve("x.csv");
        Files.writeString(csv, "sentence,sentiment\nGood,pos\nBad,neg\nMeh,neu\nOdd,???\n");
        var o = new DataSources.Options(FinancialPhraseBank.Agreement.AGREE_50, "sentence", "sentiment",
                List.of("negative", "neutral", "positive"), List.of("neg", "neu", "pos"), BadRowPolicy.SKIP);
        DataSources.Loaded d = DataSources.load("csv:" + csv, o);
        assertEquals(List.of(2, 0, 1), labels(d));
        assertEquals(1, d.dataset().skipped());
        assertEquals(List.of("negative", "neutral", "positive"), d.labelNames());

        Path jsonl = tmp.resolve("x.jsonl");
        Files.writeString(jsonl, "{\"text\":\"Good\",\"label\":\"positive\"}\n{\"text\":\"Bad\",\"label\":\"negative\"}\n");
        assertEquals(List.of(2, 0), labels(DataSources.load("jsonl:" + jsonl, DataSources.Options.defaults())));
        assertThrows(IllegalArgumentException.class, () -> DataSources.load("csv", DataSources.Options.defaults()));
    }

    /** Runs {@code body} with the given environment variables (via {@link Env}'s properties), capturing stderr. */
    static String withEnv(java.util.Map<String, String> env, org.junit.jupiter.api.function.Executable body) throws Throwable {
        java.io.PrintStream old = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            env.forEach((k, v) -> System.setProperty(Env.PROPERTY_PREFIX + k, v));
            body.execute();
        } finally {
            env.keySet().forEach(k -> System.clearProperty(Env.PROPERTY_PREFIX + k));
            System.setErr(old);
        }
        old.print(err.toString(StandardCharsets.UTF_8));
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void defaultSpecsResolvePathThenFinsentDataThenHubCacheThenSharedAndLogTheSource() throws Throwable {
        // four copies of different sizes tell the sources apart
        Path explicit = tmp.resolve("explicit.txt"), data = tmp.resolve("data"), cache = tmp.resolve("hub"),
                shared = tmp.resolve("shared"), empty = Files.createDirectories(tmp.resolve("empty"));
        Files.writeString(explicit, "Profit rose .@positive\r\n", StandardCharsets.ISO_8859_1);
        Files.createDirectories(data.resolve(DataSources.FPB_DIR));
        Files.writeString(data.resolve(DataSources.FPB_DIR).resolve("Sentences_50Agree.txt"),
                "Profit rose .@positive\r\nSales fell .@negative\r\n", StandardCharsets.ISO_8859_1);
        Files.createDirectories(data.resolve(DataSources.TWEETS_DIR));
        Files.writeString(data.resolve(DataSources.TWEETS_DIR).resolve(DataSources.TWEETS_CSV), "text,label\nStock up,1\n");
        // Python's hub cache layout: refs/main names the commit, snapshots/<commit>/<file>
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path repo = cache.resolve("datasets--takala--financial_phrasebank");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), commit);
        Path zip = Files.createDirectories(repo.resolve("snapshots").resolve(commit).resolve("data")).resolve(DataSources.FPB_ZIP);
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("FinancialPhraseBank-v1.0/Sentences_50Agree.txt"));
            z.write("A .@positive\r\nB .@negative\r\nC .@neutral\r\n".getBytes(StandardCharsets.ISO_8859_1));
            z.closeEntry();
        }
        Path sharedFpb = Files.createDirectories(shared.resolve("data").resolve(DataSources.FPB_DIR));
        Files.writeString(sharedFpb.resolve("Sentences_50Agree.dev.txt"), "A .@positive\r\nB .@negative\r\nC .@neutral\r\nD .@neutral\r\n",
                StandardCharsets.ISO_8859_1);
        var o = DataSources.Options.defaults();
        var env = new java.util.HashMap<>(java.util.Map.of("FINSENT_DATA", data.toString(), "HF_HUB_CACHE", cache.toString(),
                "FINSENT_SHARED", shared.toString()));
        int[] n = new int[1];
        String log = withEnv(env, () -> n[0] = DataSources.load("fpb:" + explicit, o).dataset().examples().size());
        assertEquals(1, n[0]);
        assertTrue(log.contains("data 'fpb:" + explicit + "': " + explicit + " from the path given"), log);

        log = withEnv(env, () -> n[0] = DataSources.load("fpb", o).dataset().examples().size());
        assertEquals(2, n[0]);
        assertTrue(log.contains("from $FINSENT_DATA"), log);
        log = withEnv(env, () -> n[0] = DataSources.load("tweets", o).dataset().examples().size());
        assertEquals(1, n[0]);
        assertTrue(log.contains("from $FINSENT_DATA"), log);

        env.put("FINSENT_DATA", "");     // empty: unset
        log = withEnv(env, () -> n[0] = DataSources.load("fpb", o).dataset().examples().size());
        assertEquals(3, n[0]);
        assertTrue(log.contains(zip + " from the Hugging Face cache"), log);

        // nothing left (the shared development folder is not a data source): finsent-train's tests do not have
        // finsent-data (the embedded copy) on the class path
        env.put("HF_HUB_CACHE", empty.toString());
        withEnv(env, () -> {
            var e = assertThrows(NoSuchFileException.class, () -> DataSources.load("fpb", o));
            assertTrue(e.getMessage().contains("finsent download --dataset hf:takala/financial_phrasebank")
                    && e.getMessage().contains("finsent-data") && e.getMessage().contains("fpb:PATH"), e.getMessage());
            var t = assertThrows(NoSuchFileException.class, () -> DataSources.load("tweets", o));
            assertTrue(t.getMessage().contains("hf:zeroshot/twitter-financial-news-sentiment"), t.getMessage());
        });
    }
}
