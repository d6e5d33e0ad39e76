package org.finsent.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FinSentCliTest {

    static String capture(Runnable r) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void tokenizeShowsBertTokensWithSpans() {
        String out = capture(() -> assertEquals(0, FinSentCli.run("tokenize", "--pair", "second", "Profit rose")));
        assertTrue(out.contains("BERT WordPiece"), out);
        assertTrue(out.contains("[CLS]") && out.contains("[SEP]"), out);
        assertTrue(out.contains("\"Profit\""), out);
        assertTrue(out.contains("decoded: profit rose second"), out);
    }

    @Test
    void badTokenizerPathFailsWithAMessage() {
        java.io.PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertNotEquals(0, FinSentCli.run("tokenize", "--bert", "/nonexistent/dir", "x"));
        } finally {
            System.setErr(old);
        }
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains("/nonexistent/dir") && !msg.contains("\tat "), msg);
    }
}
