package org.finsent.core.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Objects;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads FinancialPhraseBank v1.0 (Malo et al. 2014) in its original distribution format, so that users can point
 * the project at the files they downloaded without any conversion step that could change the data.
 *
 * <p>Format: one {@code sentence@label} per line, label {@code negative | neutral | positive}. Details that
 * matter and that a naive reader gets wrong:
 * <ul>
 *   <li><b>the last {@code @} separates the label</b>: sentences may themselves contain {@code @};</li>
 *   <li>the original files are <b>ISO-8859-1</b> (Latin-1) with CR LF line ends. Reading them as UTF-8 turns
 *       every {@code ä}/{@code ö} into U+FFFD or an exception, which is why {@link Charset#ISO_8859_1} is the
 *       default. Re-saved copies are often UTF-8, hence {@link Charset#UTF_8} and {@link Charset#AUTO};</li>
 *   <li>a UTF-8 byte-order mark always means UTF-8, whatever {@link Charset} was asked for: the three BOM bytes
 *       read as Latin-1 would otherwise become {@code "ï»¿"} glued to the first sentence;</li>
 *   <li>blank lines carry no example and are ignored (not counted as bad rows);</li>
 *   <li>the sentence is kept exactly as written (including the space before the final full stop that the
 *       original tokenisation left), because the project's tokenizers must see what the published baselines saw.</li>
 * </ul>
 * A line with no {@code @}, an unknown label, an empty sentence or (in strict UTF-8 mode) undecodable bytes is a
 * bad row, handled by the {@link BadRowPolicy}.
 *
 * <p>The data set is licensed CC BY-NC-SA 3.0 (non-commercial), which is why this project ships no copy and
 * reads the user's.
 */
public final class FinancialPhraseBank {

    private FinancialPhraseBank() {
    }

    /** How the bytes of a file are decoded. */
    public enum Charset {
        /** The original distribution's encoding; every byte sequence is valid, so no line can be undecodable. */
        ISO_8859_1,
        /** Strict UTF-8: a line with a malformed byte sequence is a bad row (never a silent U+FFFD). */
        UTF_8,
        /**
         * UTF-8 if the whole file decodes strictly as UTF-8, otherwise ISO-8859-1. Safe because Latin-1 text with
         * accented letters is practically never valid UTF-8 by accident, while pure ASCII reads the same either way.
         */
        AUTO
    }

    /**
     * The four annotator-agreement levels of the distribution, each a file in the zip. {@link #AGREE_50} (majority
     * of annotators agree) is the usual benchmark set; the higher levels are subsets with cleaner labels.
     */
    public enum Agreement {
        AGREE_50("Sentences_50Agree.txt"),
        AGREE_66("Sentences_66Agree.txt"),
        AGREE_75("Sentences_75Agree.txt"),
        ALL("Sentences_AllAgree.txt");

        private final String fileName;

        Agreement(String fileName) {
            this.fileName = fileName;
        }

        /** The file name inside the distribution, e.g. {@code Sentences_50Agree.txt}. */
        public String fileName() {
            return fileName;
        }

        /** The entry name in {@code FinancialPhraseBank-v1.0.zip}, e.g. {@code FinancialPhraseBank-v1.0/Sentences_50Agree.txt}. */
        public String zipEntry() {
            return ZIP_FOLDER + fileName;
        }
    }

    /** Folder inside the downloaded zip that holds the sentence files. */
    public static final String ZIP_FOLDER = "FinancialPhraseBank-v1.0/";

    /** Reads a sentence file with the original encoding (ISO-8859-1), failing on the first bad row. */
    public static Dataset read(Path file) throws IOException {
        return read(file, Charset.ISO_8859_1, BadRowPolicy.FAIL);
    }

    public static Dataset read(Path file, Charset charset, BadRowPolicy policy) throws IOException {
        return parse(RowSink.readFile(file), file.toString(), charset, policy);
    }

    /** Reads from a stream (not closed); {@code sourceName} is used in {@link Example#source()} and errors. */
    public static Dataset read(InputStream in, String sourceName, Charset charset, BadRowPolicy policy) throws IOException {
        return parse(RowSink.readStream(in, sourceName), sourceName, charset, policy);
    }

    /** Reads one agreement level straight from the downloaded {@code FinancialPhraseBank-v1.0.zip}. */
    public static Dataset readZip(Path zip, Agreement agreement) throws IOException {
        return readZip(zip, agreement, Charset.ISO_8859_1, BadRowPolicy.FAIL);
    }

    /**
     * Reads one agreement level from the zip. The entry {@code FinancialPhraseBank-v1.0/<file>} is preferred; a
     * zip the user re-packed with the file at another depth is accepted if exactly one entry has that file name.
     * macOS resource-fork entries ({@code __MACOSX/...}), which the distributed zip contains, are never taken.
     *
     * @throws NoSuchFileException when the zip has no such entry (the message lists the entries it has)
     */
    public static Dataset readZip(Path zip, Agreement agreement, Charset charset, BadRowPolicy policy) throws IOException {
        Objects.requireNonNull(agreement, "agreement");
        ZipFile zf;
        try {
            zf = new ZipFile(zip.toFile());
        } catch (java.util.zip.ZipException e) {
            throw new DatasetException(zip.toString(), 0, "not a readable zip archive (" + e.getMessage() + ")", e);
        }
        try (zf) {
            ZipEntry entry = findEntry(zf, zip, agreement);
            String name = zip + "!/" + entry.getName();
            try (InputStream in = zf.getInputStream(entry)) {
                return read(in, name, charset, policy);
            } catch (java.util.zip.ZipException e) {
                throw new DatasetException(name, 0, "corrupt zip entry (" + e.getMessage() + ")", e);
            }
        }
    }

    private static ZipEntry findEntry(ZipFile zf, Path zip, Agreement agreement) throws IOException {
        ZipEntry exact = zf.getEntry(agreement.zipEntry());
        if (exact != null && !exact.isDirectory()) return exact;
        List<ZipEntry> candidates = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
            ZipEntry e = en.nextElement();
            names.add(e.getName());
            if (e.isDirectory() || e.getName().startsWith("__MACOSX/")) continue;
            String n = e.getName();
            String base = n.substring(n.lastIndexOf('/') + 1);
            if (base.equals(agreement.fileName())) candidates.add(e);
        }
        if (candidates.size() == 1) return candidates.get(0);
        String why = candidates.isEmpty() ? "no entry " + agreement.zipEntry() : "several entries named " + agreement.fileName();
        throw new NoSuchFileException(zip + "!/" + agreement.zipEntry(), null, why + "; entries: " + names);
    }

    /** Parses the bytes of one sentence file; public so callers holding the bytes (tests, other archives) need no file. */
    public static Dataset parse(byte[] bytes, String sourceName, Charset charset, BadRowPolicy policy) throws DatasetException {
        Objects.requireNonNull(charset, "charset");
        DecodedText decoded = decode(bytes, charset);
        RowSink sink = new RowSink(sourceName, policy);
        List<String> lines = decoded.lines();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i);
            if (decoded.badLines.get(lineNo)) {
                sink.bad(lineNo, "bytes that are not valid UTF-8 (is the file ISO-8859-1? use Charset.ISO_8859_1 or AUTO)");
                continue;
            }
            if (line.isBlank()) continue;
            int at = line.lastIndexOf('@');
            if (at < 0) {
                sink.bad(lineNo, "no '@' separating sentence and label: " + abbreviate(line));
                continue;
            }
            String text = line.substring(0, at);
            String labelText = line.substring(at + 1);
            var label = Sentiment.fromLabel(labelText);
            if (label.isEmpty()) {
                sink.bad(lineNo, "unknown label '" + abbreviate(labelText) + "' (expected negative, neutral or positive)");
                continue;
            }
            if (text.isBlank()) {
                sink.bad(lineNo, "empty sentence before '@" + labelText.strip() + "'");
                continue;
            }
            sink.add(text, label.get().id(), lineNo);
        }
        return sink.finish();
    }

    /** Decodes per the {@link Charset} rules above (BOM wins; AUTO tries strict UTF-8 first). */
    static DecodedText decode(byte[] bytes, Charset charset) {
        if (DecodedText.startsWithUtf8Bom(bytes)) return DecodedText.utf8(bytes);
        switch (charset) {
            case UTF_8:
                return DecodedText.utf8(bytes);
            case AUTO: {
                DecodedText utf8 = DecodedText.utf8(bytes);
                return utf8.badLines.isEmpty() ? utf8 : DecodedText.latin1(bytes);
            }
            default:
                return DecodedText.latin1(bytes);
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
