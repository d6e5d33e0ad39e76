package org.finsent.core.data;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

/**
 * A labelled CSV file with a header row: one column holds the text, another the label, and a map turns label
 * values into class ids. Configurable because every public sentiment set names and encodes these differently
 * ({@code text,label} with {@code 0/1/2}, {@code sentence,sentiment} with words, ...).
 *
 * <p>Parsing is RFC 4180 via commons-csv: quoted fields may contain the delimiter, doubled quotes and line breaks
 * (tweets do). The file is UTF-8; a BOM is dropped. Line numbers in {@link Example#source()} and in errors are
 * the <em>physical</em> line on which the record starts (counting the line breaks inside earlier quoted fields),
 * so they match what an editor shows, not the record index.
 *
 * <p>Bad rows (handled by the {@link BadRowPolicy}): a field count different from the header's (a missing column,
 * or an unquoted delimiter inside the text that shifted the columns), an empty text, a label that is not in the
 * map, bytes that are not valid UTF-8. Lines that are empty or only whitespace are ignored. Problems that make
 * the rest of the file unreadable always throw, whatever the policy: a header without the configured columns,
 * duplicate header names, or a quote that is never closed (the parser cannot find where the next record starts).
 *
 * <p>The file is read into memory whole; labelled sentiment sets are megabytes, and a line index over the text is
 * what makes exact line numbers cheap.
 */
public final class CsvDataset {

    private final String textColumn;
    private final String labelColumn;
    private final Map<String, Integer> labels;
    private final char delimiter;
    private final BadRowPolicy policy;

    private CsvDataset(Builder b) {
        this.textColumn = b.textColumn;
        this.labelColumn = b.labelColumn;
        this.labels = LabelMaps.checked(b.labels);
        this.delimiter = b.delimiter;
        this.policy = b.policy;
        if (textColumn.equals(labelColumn)) throw new IllegalArgumentException("text and label column are both '" + textColumn + "'");
    }

    /** Defaults: columns {@code text} and {@code label}, labels {@code negative/neutral/positive}, comma, FAIL. */
    public static Builder builder() {
        return new Builder();
    }

    /** Reads a UTF-8 CSV file. */
    public Dataset read(Path file) throws IOException {
        return read(RowSink.readFile(file), file.toString());
    }

    /** Reads UTF-8 bytes; {@code sourceName} names the data in {@link Example#source()} and errors. */
    public Dataset read(byte[] utf8, String sourceName) throws DatasetException {
        return parse(DecodedText.utf8(utf8), sourceName);
    }

    private Dataset parse(DecodedText decoded, String file) throws DatasetException {
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(delimiter)
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true)
                .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
                .setAllowMissingColumnNames(true)
                .get();
        String text = decoded.text;
        int[] lineStarts = decoded.lineStarts();
        RowSink sink = new RowSink(file, policy);
        CSVParser parser;
        try {
            parser = CSVParser.parse(new StringReader(text), format);
        } catch (IOException | IllegalArgumentException | UncheckedIOException e) {
            throw new DatasetException(file, 1, "unreadable CSV header: " + e.getMessage(), e);
        }
        try (parser) {
            Map<String, Integer> header = parser.getHeaderMap();
            if (header == null || header.isEmpty()) throw new DatasetException(file, 0, "empty file (no header row)");
            Integer textIdx = header.get(textColumn);
            Integer labelIdx = header.get(labelColumn);
            if (textIdx == null || labelIdx == null) {
                throw new DatasetException(file, 1, "header " + parser.getHeaderNames() + " lacks column '"
                        + (textIdx == null ? textColumn : labelColumn) + "'");
            }
            int width = parser.getHeaderNames().size();
            long lastEndLine = 1;
            Iterator<CSVRecord> it = parser.iterator();
            while (true) {
                CSVRecord rec;
                try {
                    if (!it.hasNext()) break;
                    rec = it.next();
                } catch (UncheckedIOException | IllegalStateException e) {
                    throw new DatasetException(file, lastEndLine + 1, "malformed CSV after this line: "
                            + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
                }
                int startLine = DecodedText.lineOf(lineStarts, skipLineBreaks(text, rec.getCharacterPosition()));
                int endLine = startLine;
                for (String v : rec) endLine += lineBreaks(v);
                lastEndLine = endLine;
                if (rec.size() == 1 && rec.get(0).isBlank()) continue; // a whitespace-only line
                int badLine = decoded.badLines.nextSetBit(startLine);
                if (badLine >= 0 && badLine <= endLine) {
                    sink.bad(startLine, "bytes that are not valid UTF-8" + (badLine != startLine ? " (on line " + badLine + ")" : ""));
                    continue;
                }
                if (rec.size() != width) {
                    sink.bad(startLine, "record has " + rec.size() + " field(s), header has " + width
                            + (rec.size() < width ? " (missing column)" : " (unquoted delimiter in a field?)"));
                    continue;
                }
                String t = rec.get(textIdx);
                String l = rec.get(labelIdx).strip();
                Integer id = labels.get(l);
                if (id == null) {
                    sink.bad(startLine, "unknown label '" + FinancialPhraseBank.abbreviate(l) + "' in column '" + labelColumn
                            + "' (expected one of " + LabelMaps.describe(labels) + ")");
                    continue;
                }
                if (t.isBlank()) {
                    sink.bad(startLine, "empty text in column '" + textColumn + "'");
                    continue;
                }
                sink.add(t, id, startLine);
            }
        } catch (IOException e) {
            if (e instanceof DatasetException de) throw de;
            throw new DatasetException(file, 0, e.getMessage(), e);
        }
        return sink.finish();
    }

    /** commons-csv reports a record's position before the empty lines it skipped; move past them. */
    private static long skipLineBreaks(String text, long pos) {
        int p = (int) pos;
        while (p < text.length() && (text.charAt(p) == '\n' || text.charAt(p) == '\r')) p++;
        return p;
    }

    private static int lineBreaks(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 >= s.length() || s.charAt(i + 1) != '\n'))) n++;
        }
        return n;
    }

    /** Options of a {@link CsvDataset}. */
    public static final class Builder {
        private String textColumn = "text";
        private String labelColumn = "label";
        private Map<String, Integer> labels = LabelMaps.sentimentNames();
        private char delimiter = ',';
        private BadRowPolicy policy = BadRowPolicy.FAIL;

        private Builder() {
        }

        /** Header name of the text column (exact match). */
        public Builder textColumn(String name) {
            this.textColumn = Objects.requireNonNull(name, "textColumn");
            return this;
        }

        /** Header name of the label column (exact match). */
        public Builder labelColumn(String name) {
            this.labelColumn = Objects.requireNonNull(name, "labelColumn");
            return this;
        }

        /** Label value (after trimming, case-sensitive) to class id. */
        public Builder labels(Map<String, Integer> labels) {
            this.labels = Objects.requireNonNull(labels, "labels");
            return this;
        }

        public Builder delimiter(char delimiter) {
            this.delimiter = delimiter;
            return this;
        }

        public Builder badRowPolicy(BadRowPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        public CsvDataset build() {
            return new CsvDataset(this);
        }
    }
}
