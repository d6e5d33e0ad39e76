package org.finsent.core.data;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.finsent.core.data.FinancialPhraseBank.Agreement;
import org.finsent.core.data.FinancialPhraseBank.Charset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FinancialPhraseBankTest {

    private static final String A_UMLAUT = "\u00e4";

    private static byte[] latin1(String s) {
        return s.getBytes(ISO_8859_1);
    }

    private static Dataset parse(byte[] b, Charset cs, BadRowPolicy p) throws DatasetException {
        return FinancialPhraseBank.parse(b, "fpb.txt", cs, p);
    }

    @Test
    void lastAtSeparatesLabelAndLineEndsMayMix() throws IOException {
        String file = "Operating profit rose to EUR 13.1 mn .@positive\r\n"
                + "Mail us @ info@example.com for details .@neutral\n"
                + "\r\n"
                + "Sales fell 5 % .@negative"; // no final line end
        Dataset d = parse(latin1(file), Charset.ISO_8859_1, BadRowPolicy.FAIL);
        assertEquals(List.of(
                new Example("Operating profit rose to EUR 13.1 mn .", Sentiment.POSITIVE.id(), "fpb.txt:1"),
                new Example("Mail us @ info@example.com for details .", Sentiment.NEUTRAL.id(), "fpb.txt:2"),
                new Example("Sales fell 5 % .", Sentiment.NEGATIVE.id(), "fpb.txt:4")), d.examples());
        assertEquals(0, d.skipped());
    }

    @Test
    void latin1IsTheDefaultAndAutoDetectsIt() throws IOException {
        byte[] b = latin1("Kone Oyj of Espoo (" + A_UMLAUT + ") reports .@neutral\r\n");
        assertEquals("Kone Oyj of Espoo (" + A_UMLAUT + ") reports .", parse(b, Charset.ISO_8859_1, BadRowPolicy.FAIL).examples().get(0).text());
        assertEquals("Kone Oyj of Espoo (" + A_UMLAUT + ") reports .", parse(b, Charset.AUTO, BadRowPolicy.FAIL).examples().get(0).text());
    }

    @Test
    void utf8OnRequestAutoDetectedAndForcedByBom() throws IOException {
        String line = "Yhti" + A_UMLAUT + " \u20ac profit .@positive\n";
        byte[] utf8 = line.getBytes(UTF_8);
        String expected = "Yhti" + A_UMLAUT + " \u20ac profit .";
        assertEquals(expected, parse(utf8, Charset.UTF_8, BadRowPolicy.FAIL).examples().get(0).text());
        assertEquals(expected, parse(utf8, Charset.AUTO, BadRowPolicy.FAIL).examples().get(0).text());
        // read as Latin-1, the two UTF-8 bytes of ä become two characters: the reason AUTO exists
        assertEquals("Yhti\u00c3\u00a4", parse(utf8, Charset.ISO_8859_1, BadRowPolicy.FAIL).examples().get(0).text().substring(0, 6));

        byte[] withBom = concat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8);
        for (Charset cs : Charset.values()) {
            Dataset d = parse(withBom, cs, BadRowPolicy.FAIL);
            assertEquals(expected, d.examples().get(0).text(), "BOM must force UTF-8 and be dropped under " + cs);
        }
    }

    @Test
    void strictUtf8ReportsTheLineOfAnUndecodableByte() throws IOException {
        byte[] b = concat("Good line .@neutral\r\nAlso good .@positive\r\n".getBytes(UTF_8),
                latin1("Espoo-based Kone (" + A_UMLAUT + ") .@neutral\r\nLast .@negative\r\n"));
        DatasetException e = assertThrows(DatasetException.class, () -> parse(b, Charset.UTF_8, BadRowPolicy.FAIL));
        assertEquals("fpb.txt", e.file());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith("fpb.txt:3: "), e.getMessage());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());

        Dataset d = parse(b, Charset.UTF_8, BadRowPolicy.SKIP);
        assertEquals(3, d.size());
        assertEquals(1, d.skipped());
        assertTrue(d.skippedReasons().get(0).startsWith("fpb.txt:3: "), d.skippedReasons().toString());
        assertEquals("fpb.txt:4", d.examples().get(2).source());
        // AUTO falls back to Latin-1 for the whole file instead
        assertEquals(4, parse(b, Charset.AUTO, BadRowPolicy.FAIL).size());
    }

    /** Old Mac line ends (lone CR) count as line breaks both for splitting and for locating a bad byte. */
    @Test
    void loneCarriageReturnsEndLines() throws IOException {
        byte[] b = concat("One .@neutral\rTwo .@positive\r".getBytes(UTF_8), latin1("Thr" + A_UMLAUT + "e .@negative\rFour .@neutral"));
        DatasetException e = assertThrows(DatasetException.class, () -> parse(b, Charset.UTF_8, BadRowPolicy.FAIL));
        assertEquals(3, e.line(), e.getMessage());
        Dataset d = parse(b, Charset.ISO_8859_1, BadRowPolicy.FAIL);
        assertEquals(List.of("fpb.txt:1", "fpb.txt:2", "fpb.txt:3", "fpb.txt:4"), d.examples().stream().map(Example::source).toList());
    }

    @Test
    void badRowsFailWithFileAndLine() {
        assertBad("no separator here .\r\n", 1, "no '@'");
        assertBad("ok .@neutral\r\nThe price rose .@bullish\r\n", 2, "unknown label 'bullish'");
        assertBad("ok .@neutral\nok .@neutral\n  @positive\n", 3, "empty sentence");
        assertBad("ok .@Positive\n", 1, "unknown label 'Positive'");
        assertBad("ok .@\n", 1, "unknown label ''");
    }

    private static void assertBad(String file, int line, String problem) {
        DatasetException e = assertThrows(DatasetException.class, () -> parse(latin1(file), Charset.ISO_8859_1, BadRowPolicy.FAIL));
        assertEquals(line, e.line(), e.getMessage());
        assertTrue(e.getMessage().startsWith("fpb.txt:" + line + ": "), e.getMessage());
        assertTrue(e.problem().contains(problem), e.getMessage());
    }

    @Test
    void skipPolicyCountsAndKeepsReasons() throws IOException {
        StringBuilder sb = new StringBuilder("good .@neutral\n");
        for (int i = 0; i < 25; i++) sb.append("bad line ").append(i).append('\n');
        sb.append("also good .@positive\n@negative\n");
        Dataset d = parse(latin1(sb.toString()), Charset.ISO_8859_1, BadRowPolicy.SKIP);
        assertEquals(2, d.size());
        assertEquals(26, d.skipped());
        assertEquals(Dataset.MAX_REASONS, d.skippedReasons().size());
        assertEquals("fpb.txt:2: no '@' separating sentence and label: bad line 0", d.skippedReasons().get(0));
        assertEquals("fpb.txt:27", d.examples().get(1).source());
    }

    @Test
    void readsEachAgreementLevelFromTheDownloadedZip(@TempDir Path dir) throws IOException {
        Path zip = dir.resolve("FinancialPhraseBank-v1.0.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            put(z, "FinancialPhraseBank-v1.0/", null);
            put(z, "FinancialPhraseBank-v1.0/License.txt", latin1("CC BY-NC-SA 3.0"));
            // macOS resource forks as in the distributed zip: must never be picked
            put(z, "__MACOSX/FinancialPhraseBank-v1.0/._Sentences_50Agree.txt", new byte[] {0, 5, 22, 7, 0, 2});
            put(z, "FinancialPhraseBank-v1.0/Sentences_50Agree.txt", latin1("A 50 " + A_UMLAUT + " .@neutral\r\nB 50 .@negative\r\n"));
            put(z, "FinancialPhraseBank-v1.0/Sentences_66Agree.txt", latin1("A 66 .@positive\r\n"));
            put(z, "FinancialPhraseBank-v1.0/Sentences_75Agree.txt", latin1("A 75 .@negative\r\n"));
            put(z, "FinancialPhraseBank-v1.0/Sentences_AllAgree.txt", latin1("A all .@neutral\r\n"));
        }
        Dataset d50 = FinancialPhraseBank.readZip(zip, Agreement.AGREE_50);
        assertEquals(List.of("A 50 " + A_UMLAUT + " .", "B 50 ."), d50.examples().stream().map(Example::text).toList());
        assertEquals(zip + "!/FinancialPhraseBank-v1.0/Sentences_50Agree.txt:2", d50.examples().get(1).source());
        assertEquals("A 66 .", FinancialPhraseBank.readZip(zip, Agreement.AGREE_66).examples().get(0).text());
        assertEquals(Sentiment.NEGATIVE.id(), FinancialPhraseBank.readZip(zip, Agreement.AGREE_75).examples().get(0).label());
        assertEquals("A all .", FinancialPhraseBank.readZip(zip, Agreement.ALL).examples().get(0).text());
    }

    @Test
    void zipRepackedAtAnotherDepthOrMissingTheEntry(@TempDir Path dir) throws IOException {
        Path repacked = dir.resolve("mine.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(repacked))) {
            put(z, "data/Sentences_AllAgree.txt", latin1("x .@positive\n"));
        }
        assertEquals(1, FinancialPhraseBank.readZip(repacked, Agreement.ALL).size());
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FinancialPhraseBank.readZip(repacked, Agreement.AGREE_66));
        assertTrue(e.getMessage().contains("FinancialPhraseBank-v1.0/Sentences_66Agree.txt"), e.getMessage());
        assertTrue(e.getMessage().contains("data/Sentences_AllAgree.txt"), "lists what the zip has: " + e.getMessage());
    }

    @Test
    void aCorruptZipIsADatasetError(@TempDir Path dir) throws IOException {
        Path notZip = Files.write(dir.resolve("fpb.zip"), latin1("x .@positive\n"));
        DatasetException e = assertThrows(DatasetException.class, () -> FinancialPhraseBank.readZip(notZip, Agreement.ALL));
        assertTrue(e.getMessage().startsWith(notZip + ": not a readable zip archive"), e.getMessage());

        Path zip = dir.resolve("cut.zip");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(zip))) {
            put(z, "FinancialPhraseBank-v1.0/Sentences_AllAgree.txt", latin1("x .@positive\n".repeat(2000)));
        }
        byte[] bytes = Files.readAllBytes(zip);
        // the deflated data starts after the 30-byte local header and the 48-byte name: 0xFF bytes there declare
        // the invalid block type 3
        java.util.Arrays.fill(bytes, 78, 98, (byte) 0xff);
        Files.write(zip, bytes);
        e = assertThrows(DatasetException.class, () -> FinancialPhraseBank.readZip(zip, Agreement.ALL));
        assertTrue(e.getMessage().contains("cut.zip!/FinancialPhraseBank-v1.0/Sentences_AllAgree.txt"), e.getMessage());
    }

    private static void put(ZipOutputStream z, String name, byte[] data) throws IOException {
        z.putNextEntry(new ZipEntry(name));
        if (data != null) z.write(data);
        z.closeEntry();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }

    /** The real development file: 3,875 lines, 488 negative / 2,301 neutral / 1,086 positive (shared/README.md). */
    @Test
    void realFile() throws IOException {
        Path p = SharedData.require(SharedData.FPB_50_DEV);
        Dataset d = FinancialPhraseBank.read(p);
        assertEquals(3875, d.size());
        assertEquals(0, d.skipped());
        assertArrayEquals(new int[] {488, 2301, 1086}, d.labelCounts(3));
        assertEquals(p + ":1", d.examples().get(0).source());
        assertEquals(p + ":3875", d.examples().get(3874).source());
        for (Example e : d.examples()) {
            assertFalse(e.text().contains("\r") || e.text().contains("\n") || e.text().contains("\uFFFD"), e.source());
            assertFalse(e.text().endsWith("@"), e.source());
        }
        long nonAscii = d.examples().stream().filter(e -> e.text().chars().anyMatch(c -> c > 127)).count();
        assertTrue(nonAscii > 0, "the file has Latin-1 letters; decoded as ISO-8859-1 they must survive");
        assertTrue(d.examples().stream().anyMatch(e -> e.text().contains(A_UMLAUT)));

        // AUTO must pick ISO-8859-1 for the real file (it is not valid UTF-8) and give the same examples
        assertEquals(d.examples(), FinancialPhraseBank.read(p, Charset.AUTO, BadRowPolicy.FAIL).examples());

        // strict UTF-8 must fail on a line that really holds a non-ASCII byte, and name it
        DatasetException e = assertThrows(DatasetException.class, () -> FinancialPhraseBank.read(p, Charset.UTF_8, BadRowPolicy.FAIL));
        Matcher m = Pattern.compile(Pattern.quote(p.toString()) + ":(\\d+): ").matcher(e.getMessage());
        assertTrue(m.lookingAt(), e.getMessage());
        List<String> rawLines = Files.readAllLines(p, ISO_8859_1);
        String named = rawLines.get(Integer.parseInt(m.group(1)) - 1);
        assertTrue(named.chars().anyMatch(c -> c > 127), "line " + m.group(1) + " has no non-ASCII byte: " + named);
        for (int i = 0; i < Integer.parseInt(m.group(1)) - 1; i++) {
            assertTrue(rawLines.get(i).chars().allMatch(c -> c < 128), "an earlier line (" + (i + 1) + ") already had a non-ASCII byte");
        }
    }
}
