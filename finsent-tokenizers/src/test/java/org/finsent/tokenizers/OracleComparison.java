package org.finsent.tokenizers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/** Runs two functions over a corpus and fails listing the first mismatches (input, ours, oracle). */
final class OracleComparison {
    private OracleComparison() {
    }

    static <T> int compare(String what, List<String> texts, Function<String, T> ours, Function<String, T> oracle) {
        List<String> report = new ArrayList<>();
        int mismatches = 0;
        for (String t : texts) {
            T a = ours.apply(t), b = oracle.apply(t);
            if (!deepEquals(a, b)) {
                if (mismatches++ < 10) {
                    report.add("  input " + escape(t) + "\n    ours:   " + show(a) + "\n    oracle: " + show(b));
                }
            }
        }
        if (mismatches > 0) {
            fail(what + ": " + mismatches + " of " + texts.size() + " inputs differ from the oracle; first ones:\n"
                    + String.join("\n", report));
        }
        return texts.size();
    }

    private static boolean deepEquals(Object a, Object b) {
        return Arrays.deepEquals(new Object[]{a}, new Object[]{b});
    }

    private static String show(Object o) {
        String s = Arrays.deepToString(new Object[]{o});
        s = s.substring(1, s.length() - 1);
        return s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder("\"");
        s.codePoints().limit(120).forEach(c -> {
            if (c >= 0x20 && c < 0x7F) b.appendCodePoint(c);
            else b.append(String.format("\\u{%X}", c));
        });
        if (s.codePointCount(0, s.length()) > 120) b.append("...");
        return b.append('"').toString();
    }
}
