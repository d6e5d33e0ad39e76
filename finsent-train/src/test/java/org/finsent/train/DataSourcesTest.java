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
}
