package org.finsent.core.data;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonlDatasetTest {

    @Test
    void readsConfiguredFieldsWithStringOrIntegerLabels() throws IOException {
        String jsonl = "{\"sentence\": \"Profit rose \\u00e4\", \"y\": 2, \"idx\": 0}\r\n"
                + "\n"
                + "{\"y\": \"0\", \"sentence\": \"Loss widened, \\\"badly\\\"\"}\n";
        JsonlDataset r = JsonlDataset.builder().textField("sentence").labelField("y")
                .labels(TwitterFinancialNews.LABELS).build();
        Dataset d = r.read(jsonl.getBytes(UTF_8), "hf.jsonl");
        assertEquals(List.of(
                new Example("Profit rose \u00e4", Sentiment.NEUTRAL.id(), "hf.jsonl:1"),
                new Example("Loss widened, \"badly\"", Sentiment.NEGATIVE.id(), "hf.jsonl:3")), d.examples());
    }

    @Test
    void badRowsAreReportedWithLineNumbers() throws IOException {
        String[] bad = {
            "{\"text\": \"x\", \"label\": \"positive\"",            // 1 invalid JSON
            "[\"x\", \"positive\"]",                                // 2 not an object
            "{\"label\": \"positive\"}",                            // 3 missing text
            "{\"text\": 5, \"label\": \"positive\"}",               // 4 text not a string
            "{\"text\": \"x\", \"label\": null}",                   // 5 null label
            "{\"text\": \"x\", \"label\": 1.5}",                    // 6 non-integer label
            "{\"text\": \"x\", \"label\": \"bullish\"}",            // 7 unknown label
            "{\"text\": \" \", \"label\": \"neutral\"}",            // 8 empty text
            "{\"text\": \"x\", \"label\": \"neutral\"} trailing",   // 9 trailing data
            "{\"text\": \"x\", \"text\": \"y\", \"label\": \"neutral\"}", // 10 duplicate key
        };
        String[] problems = {"invalid JSON", "not a JSON object", "missing field 'text'", "not a string", "missing field 'label'",
            "neither a string nor an integer", "unknown label 'bullish'", "empty text", "invalid JSON", "invalid JSON"};
        JsonlDataset fail = JsonlDataset.builder().build();
        for (int i = 0; i < bad.length; i++) {
            String file = "{\"text\": \"ok\", \"label\": \"neutral\"}\n".repeat(i) + bad[i] + "\n";
            int line = i + 1;
            DatasetException e = assertThrows(DatasetException.class, () -> fail.read(file.getBytes(UTF_8), "b.jsonl"), bad[i]);
            assertEquals(line, e.line(), e.getMessage());
            assertTrue(e.getMessage().startsWith("b.jsonl:" + line + ": "), e.getMessage());
            assertTrue(e.problem().contains(problems[i]), e.getMessage());
        }
        Dataset d = JsonlDataset.builder().badRowPolicy(BadRowPolicy.SKIP).build()
                .read((String.join("\n", bad) + "\n{\"text\": \"ok\", \"label\": \"positive\"}\n").getBytes(UTF_8), "b.jsonl");
        assertEquals(List.of(new Example("ok", 2, "b.jsonl:11")), d.examples());
        assertEquals(bad.length, d.skipped());
    }

    @Test
    void invalidUtf8LineIsABadRow() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes("{\"text\": \"ok\", \"label\": \"neutral\"}\n{\"text\": \"".getBytes(UTF_8));
        b.write(0xFF);
        b.writeBytes("\", \"label\": \"neutral\"}\n".getBytes(UTF_8));
        DatasetException e = assertThrows(DatasetException.class, () -> JsonlDataset.builder().build().read(b.toByteArray(), "u.jsonl"));
        assertEquals(2, e.line());
        assertTrue(e.problem().contains("UTF-8"), e.getMessage());
        assertEquals(1, JsonlDataset.builder().badRowPolicy(BadRowPolicy.SKIP).labels(Map.of("neutral", 1)).build()
                .read(b.toByteArray(), "u.jsonl").size());
    }
}
