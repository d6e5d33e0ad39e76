package org.finsent.core.data;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TwitterFinancialNewsTest {

    private static Dataset read(String csv, BadRowPolicy policy) throws DatasetException {
        return TwitterFinancialNews.reader(policy).read(csv.getBytes(UTF_8), "tweets.csv");
    }

    @Test
    void remapsBearishBullishNeutralToStudyIds() throws IOException {
        Dataset d = read("text,label\nshares slump,0\nshares soar,1\nshares flat,2\n", BadRowPolicy.FAIL);
        assertEquals(List.of(
                new Example("shares slump", Sentiment.NEGATIVE.id(), "tweets.csv:2"),
                new Example("shares soar", Sentiment.POSITIVE.id(), "tweets.csv:3"),
                new Example("shares flat", Sentiment.NEUTRAL.id(), "tweets.csv:4")), d.examples());
    }

    /** Quoted commas, doubled quotes, LF and CRLF inside quotes; the source is the physical line where a record starts. */
    @Test
    void quotedFieldsAndPhysicalLineNumbers() throws IOException {
        String csv = "text,label\r\n"
                + "\"$CX - Cemex cut at Credit Suisse, J.P. Morgan\",0\r\n"   // line 2
                + "\"line one\nline two\r\nline three\",1\r\n"            // lines 3-5
                + "\"He said \"\"buy\"\", twice\",2\r\n"                  // line 6
                + "\r\n"                                                  // line 7, blank
                + "plain,1\r\n";                                          // line 8
        Dataset d = read(csv, BadRowPolicy.FAIL);
        assertEquals(List.of(
                new Example("$CX - Cemex cut at Credit Suisse, J.P. Morgan", Sentiment.NEGATIVE.id(), "tweets.csv:2"),
                new Example("line one\nline two\r\nline three", Sentiment.POSITIVE.id(), "tweets.csv:3"),
                new Example("He said \"buy\", twice", Sentiment.NEUTRAL.id(), "tweets.csv:6"),
                new Example("plain", Sentiment.POSITIVE.id(), "tweets.csv:8")), d.examples());
    }

    @Test
    void badRowsNameFileAndLine() {
        String multi = "text,label\n\"a\nb\",0\n";
        assertBad(multi + "only text\n", 4, "missing column");
        assertBad(multi + "text,3\n", 4, "unknown label '3'");
        assertBad(multi + "\"  \",1\n", 4, "empty text");
        assertBad(multi + "a,b,1\n", 4, "record has 3 field(s)");
        assertBad(multi + "ok,Bullish\n", 4, "unknown label 'Bullish'");
    }

    private static void assertBad(String csv, int line, String problem) {
        DatasetException e = assertThrows(DatasetException.class, () -> read(csv, BadRowPolicy.FAIL));
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith("tweets.csv:" + line + ": "), e.getMessage());
        assertTrue(e.problem().contains(problem), e.getMessage());
    }

    @Test
    void skipPolicyCounts() throws IOException {
        Dataset d = read("text,label\ngood,0\nno label\nbad,7\n,1\n\"also\ngood\",2\n", BadRowPolicy.SKIP);
        assertEquals(2, d.size());
        assertEquals(3, d.skipped());
        assertEquals(List.of("tweets.csv:3", "tweets.csv:4", "tweets.csv:5"),
                d.skippedReasons().stream().map(r -> r.substring(0, r.indexOf(": "))).toList());
        assertEquals("tweets.csv:6", d.examples().get(1).source());
    }

    @Test
    void structuralProblemsAlwaysThrow() {
        DatasetException e = assertThrows(DatasetException.class, () -> read("tweet,sentiment\nx,0\n", BadRowPolicy.SKIP));
        assertTrue(e.getMessage().contains("lacks column 'text'"), e.getMessage());
        e = assertThrows(DatasetException.class, () -> read("text,label\nok,0\n\"never closed,1\nmore,2\n", BadRowPolicy.SKIP));
        assertTrue(e.getMessage().startsWith("tweets.csv:3: malformed CSV"), e.getMessage());
    }

    /**
     * The real training file against an independent RFC 4180 parser written here: same number of records, same
     * texts, same (remapped) labels, same start lines. The class counts are taken from the file, not hard-coded.
     */
    @Test
    void realFileMatchesIndependentParse() throws IOException {
        Path p = SharedData.require(SharedData.TWITTER_TRAIN);
        Dataset d = TwitterFinancialNews.read(p);
        List<String[]> rows = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        naiveCsv(Files.readString(p, UTF_8), rows, lines);
        assertArrayEquals(new String[] {"text", "label"}, rows.get(0));
        assertEquals(9543, rows.size() - 1, "shared/README.md: 9,543 tweets");
        assertEquals(rows.size() - 1, d.size());
        assertEquals(0, d.skipped());

        int[] fileCounts = new int[3]; // by the file's own ids: 0 bearish, 1 bullish, 2 neutral
        int multiLine = 0;
        for (int i = 1; i < rows.size(); i++) {
            String[] r = rows.get(i);
            int fileLabel = Integer.parseInt(r[1]);
            fileCounts[fileLabel]++;
            if (r[0].contains("\n")) multiLine++;
            Example e = d.examples().get(i - 1);
            assertEquals(r[0], e.text());
            int expected = fileLabel == 0 ? Sentiment.NEGATIVE.id() : fileLabel == 1 ? Sentiment.POSITIVE.id() : Sentiment.NEUTRAL.id();
            assertEquals(expected, e.label(), e.source());
            assertEquals(p + ":" + lines.get(i), e.source());
        }
        int[] counts = d.labelCounts(3);
        assertEquals(fileCounts[0], counts[Sentiment.NEGATIVE.id()]);
        assertEquals(fileCounts[1], counts[Sentiment.POSITIVE.id()]);
        assertEquals(fileCounts[2], counts[Sentiment.NEUTRAL.id()]);
        assertTrue(fileCounts[2] > fileCounts[1] && fileCounts[1] > fileCounts[0], "neutral > bullish > bearish");
        assertTrue(multiLine > 0, "the file has tweets with line breaks inside quotes");
        System.out.printf("sent_train.csv: %d tweets, bearish %d, bullish %d, neutral %d, %d spanning several lines%n",
                d.size(), fileCounts[0], fileCounts[1], fileCounts[2], multiLine);
    }

    /** Minimal RFC 4180 reader (quotes, doubled quotes, CR LF / LF), recording each record's first physical line. */
    static void naiveCsv(String s, List<String[]> rows, List<Integer> startLines) {
        List<String> fields = new ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        int line = 1;
        int start = 1;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    if (c == '\n') line++;
                    f.append(c);
                }
            } else if (c == '"') {
                quoted = true;
                any = true;
            } else if (c == ',') {
                fields.add(f.toString());
                f.setLength(0);
                any = true;
            } else if (c == '\r' || c == '\n') {
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
                if (any || f.length() > 0) {
                    fields.add(f.toString());
                    rows.add(fields.toArray(new String[0]));
                    startLines.add(start);
                }
                fields.clear();
                f.setLength(0);
                any = false;
                line++;
                start = line;
            } else {
                f.append(c);
                any = true;
            }
        }
        if (any || f.length() > 0) {
            fields.add(f.toString());
            rows.add(fields.toArray(new String[0]));
            startLines.add(start);
        }
    }
}
