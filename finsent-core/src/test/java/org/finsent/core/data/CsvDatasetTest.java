package org.finsent.core.data;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvDatasetTest {

    @Test
    void configurableColumnsLabelsAndDelimiter(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("fiqa.csv");
        Files.writeString(f, "id;sentiment;sentence\n7; pos ;Profit up; again\n8;neg;\"Loss; wider\"\n", UTF_8);
        CsvDataset reader = CsvDataset.builder()
                .textColumn("sentence").labelColumn("sentiment")
                .labels(Map.of("neg", 0, "pos", 2))
                .delimiter(';')
                .badRowPolicy(BadRowPolicy.SKIP)
                .build();
        Dataset d = reader.read(f);
        // line 2 has an unquoted ';' in the text: four fields for a three-column header, so it is skipped
        assertEquals(List.of(new Example("Loss; wider", 0, f + ":3")), d.examples());
        assertEquals(1, d.skipped());
        assertTrue(d.skippedReasons().get(0).contains(f + ":2: record has 4 field(s), header has 3"), d.skippedReasons().toString());
    }

    @Test
    void defaultLabelsAreSentimentNamesAndBomIsDropped() throws IOException {
        byte[] body = "text,label\nRevenue grew,positive\nRevenue fell, negative\n".getBytes(UTF_8);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
        b.writeBytes(body);
        Dataset d = CsvDataset.builder().build().read(b.toByteArray(), "x.csv");
        assertEquals(List.of(new Example("Revenue grew", 2, "x.csv:2"), new Example("Revenue fell", 0, "x.csv:3")), d.examples());
    }

    /** An undecodable byte inside the third line of a multi-line record marks that record, reported at its first line. */
    @Test
    void invalidUtf8InsideAMultiLineRecord() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("text,label\nfine,neutral\n\"first\nsecond\nthird ".getBytes(UTF_8));
        b.write(0xE4); // Latin-1 ä: not UTF-8
        b.writeBytes(" end\",positive\nafter,negative\n".getBytes(UTF_8));
        CsvDataset fail = CsvDataset.builder().build();
        DatasetException e = assertThrows(DatasetException.class, () -> fail.read(b.toByteArray(), "m.csv"));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("not valid UTF-8 (on line 5)"), e.getMessage());

        Dataset d = CsvDataset.builder().badRowPolicy(BadRowPolicy.SKIP).build().read(b.toByteArray(), "m.csv");
        assertEquals(List.of(new Example("fine", 1, "m.csv:2"), new Example("after", 0, "m.csv:6")), d.examples());
        assertEquals(1, d.skipped());
    }

    @Test
    void rejectsBadConfiguration() {
        assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder().textColumn("x").labelColumn("x").build());
        assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder().labels(Map.of()).build());
        assertThrows(IllegalArgumentException.class, () -> CsvDataset.builder().labels(Map.of("a", -1)).build());
        DatasetException e = assertThrows(DatasetException.class,
                () -> CsvDataset.builder().build().read("text,text,label\na,b,positive\n".getBytes(UTF_8), "dup.csv"));
        assertTrue(e.getMessage().startsWith("dup.csv:1: "), e.getMessage());
        assertThrows(DatasetException.class, () -> CsvDataset.builder().build().read(new byte[0], "empty.csv"));
    }
}
