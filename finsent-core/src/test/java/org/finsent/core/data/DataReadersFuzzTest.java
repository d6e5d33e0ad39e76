package org.finsent.core.data;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Map;

/**
 * Fuzz targets for the data readers: any input ends in a {@link Dataset} or a {@link DatasetException} (with a
 * {@code file:line:} message), within the per-input time limit ({@link org.finsent.core.io.FuzzLimits#MAX_SECONDS} s); anything else is a finding. Both bad-row
 * policies run, so the skipping paths are fuzzed too. Plain {@code mvn test} replays
 * src/test/resources/org/finsent/core/data/DataReadersFuzzTestInputs/<method>/.
 */
class DataReadersFuzzTest {

    private static final CsvDataset CSV = CsvDataset.builder().build();
    private static final CsvDataset CSV_SKIP = CsvDataset.builder().badRowPolicy(BadRowPolicy.SKIP).build();
    private static final CsvDataset TWEETS = TwitterFinancialNews.reader(BadRowPolicy.SKIP);
    private static final JsonlDataset JSONL = JsonlDataset.builder().build();
    private static final JsonlDataset JSONL_SKIP = JsonlDataset.builder().badRowPolicy(BadRowPolicy.SKIP)
            .labels(Map.of("0", 0, "1", 1, "2", 2, "negative", 0, "neutral", 1, "positive", 2)).build();

    private interface Reader {
        Dataset run() throws DatasetException;
    }

    private static void expectOnlyDatasetErrors(Reader r) {
        long start = System.nanoTime();
        try {
            Dataset d = r.run();
            for (Example e : d.examples()) {
                if (e.text() == null || e.text().isBlank()) throw new AssertionError("an example with an empty text: " + e);
            }
        } catch (DatasetException expected) {
            if (!expected.getMessage().startsWith("fuzz")) throw new AssertionError("message without the file: " + expected.getMessage());        } finally {
            org.finsent.core.io.FuzzLimits.checkTime(start);
        }
    }

    @FuzzTest
    void financialPhraseBank(byte[] input) {
        for (FinancialPhraseBank.Charset cs : FinancialPhraseBank.Charset.values()) {
            expectOnlyDatasetErrors(() -> FinancialPhraseBank.parse(input, "fuzz.txt", cs, BadRowPolicy.FAIL));
            expectOnlyDatasetErrors(() -> FinancialPhraseBank.parse(input, "fuzz.txt", cs, BadRowPolicy.SKIP));
        }
    }

    @FuzzTest
    void csv(byte[] input) {
        expectOnlyDatasetErrors(() -> CSV.read(input, "fuzz.csv"));
        expectOnlyDatasetErrors(() -> CSV_SKIP.read(input, "fuzz.csv"));
        expectOnlyDatasetErrors(() -> TWEETS.read(input, "fuzz.csv"));
    }

    @FuzzTest
    void jsonl(byte[] input) {
        expectOnlyDatasetErrors(() -> JSONL.read(input, "fuzz.jsonl"));
        expectOnlyDatasetErrors(() -> JSONL_SKIP.read(input, "fuzz.jsonl"));
    }
}
