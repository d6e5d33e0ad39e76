package org.finsent.tokenizers;

import org.finsent.tokenizers.bpe.Gpt2PreTokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hand-written GPT-2 pre-tokenizer against the regex it replaces (java.util.regex, Unicode \s). */
class Gpt2PreTokenizerTest {
    static final Pattern REGEX = Pattern.compile(Gpt2PreTokenizer.PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    static List<String> byRegex(String s) {
        List<String> out = new ArrayList<>();
        Matcher m = REGEX.matcher(s);
        while (m.find()) out.add(m.group());
        return out;
    }

    static List<String> byScanner(String s) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < s.length(); ) {
            int j = Gpt2PreTokenizer.nextEnd(s, i, s.length());
            out.add(s.substring(i, j));
            i = j;
        }
        return out;
    }

    @Test
    void huggingFaceExamples() {
        // from tokenizers' byte_level.rs tests: the last space of a run goes to the next word
        assertEquals(List.of("Hello", " there", "      ", " dear"), byScanner("Hello there       dear"));
    }

    @Test
    void matchesTheRegexOnTheStressCorpusAndRealText() {
        List<String> corpus = new ArrayList<>(StressCorpus.generate(20_000, 11));
        if (Files.isDirectory(TestData.sharedDir())) {
            corpus.addAll(TestData.fpbSentences());
            corpus.addAll(TestData.tweets());
        }
        OracleComparison.compare("GPT-2 pre-tokenizer vs regex", corpus, Gpt2PreTokenizerTest::byScanner,
                Gpt2PreTokenizerTest::byRegex);
    }
}
