package org.finsent.core.data;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A text far longer than any sentence is a bad row with its line, in every reader (issue 22). */
class OversizedInputTest {

    private static final String HUGE = "x".repeat(RowSink.MAX_TEXT_CHARS + 1);

    @Test
    void financialPhraseBank() throws DatasetException {
        byte[] file = ("Profit rose .@positive\n" + HUGE + "@negative\n").getBytes(StandardCharsets.ISO_8859_1);
        DatasetException ex = assertThrows(DatasetException.class,
                () -> FinancialPhraseBank.parse(file, "fpb.txt", FinancialPhraseBank.Charset.ISO_8859_1, BadRowPolicy.FAIL));
        assertTrue(ex.getMessage().startsWith("fpb.txt:2: text of 1000001 characters is longer than 1000000"), ex.getMessage());
        Dataset d = FinancialPhraseBank.parse(file, "fpb.txt", FinancialPhraseBank.Charset.ISO_8859_1, BadRowPolicy.SKIP);
        assertEquals(1, d.size());
        assertEquals(1, d.skipped());
    }

    @Test
    void csv() {
        byte[] file = ("text,label\nfine,positive\n\"" + HUGE + "\",negative\n").getBytes(StandardCharsets.UTF_8);
        DatasetException ex = assertThrows(DatasetException.class, () -> CsvDataset.builder().build().read(file, "d.csv"));
        assertTrue(ex.getMessage().startsWith("d.csv:3: text of 1000001 characters"), ex.getMessage());
    }

    @Test
    void jsonl() {
        byte[] file = ("{\"text\": \"ok\", \"label\": \"neutral\"}\n{\"text\": \"" + HUGE + "\", \"label\": \"neutral\"}\n")
                .getBytes(StandardCharsets.UTF_8);
        DatasetException ex = assertThrows(DatasetException.class, () -> JsonlDataset.builder().build().read(file, "d.jsonl"));
        assertTrue(ex.getMessage().startsWith("d.jsonl:2: "), ex.getMessage());
    }
}
