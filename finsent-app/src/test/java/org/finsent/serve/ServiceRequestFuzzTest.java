package org.finsent.serve;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Fuzz targets for the service's request parsing: any body of {@code POST /analyze} or {@code POST /analyze/batch}
 * ends in accepted texts or an {@link ApiException} with a 4xx status and a message; any other exception, a 5xx, or an
 * input slower than 5 s is a finding. Plain {@code mvn test} replays
 * src/test/resources/org/finsent/serve/ServiceRequestFuzzTestInputs/&lt;method&gt;/ (docs/FUZZING.md).
 */
class ServiceRequestFuzzTest {
    private static final SentimentService.Limits LIMITS = SentimentService.Limits.DEFAULTS;

    private interface Parse {
        void run();
    }

    private static void expectOnlyClientErrors(Parse p) {
        long start = System.nanoTime();
        try {
            p.run();
        } catch (ApiException e) {
            if (e.status() < 400 || e.status() > 499) throw new AssertionError("status " + e.status() + " for a bad body: " + e.getMessage());
            if (e.getMessage() == null || e.getMessage().isBlank()) throw new AssertionError("a 4xx without a message");
        } finally {
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (ms > 5000) throw new AssertionError("one body took " + ms + " ms");
        }
    }

    @FuzzTest
    void analyzeBody(byte[] body) {
        expectOnlyClientErrors(() -> {
            JsonNode json = SentimentServer.parseJson(body);
            SentimentService.checkText(SentimentServer.textField(json), "'text'", LIMITS.maxChars());
        });
    }

    @FuzzTest
    void batchBody(byte[] body) {
        expectOnlyClientErrors(() -> {
            List<String> texts = SentimentServer.textsField(SentimentServer.parseJson(body));
            if (texts.isEmpty() || texts.size() > LIMITS.maxBatchTexts()) return; // refused by count before any text is read
            for (int i = 0; i < texts.size(); i++) SentimentService.checkText(texts.get(i), "texts[" + i + "]", LIMITS.maxChars());
        });
    }
}
