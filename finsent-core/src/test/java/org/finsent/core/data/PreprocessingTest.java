package org.finsent.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PreprocessingTest {

    private static final String SENTENCE = "Operating profit did <b>not</b> rise to EUR 13.1 mn from EUR 8.7 mn in Espoo-based Yhti\u00e4 .";

    @Test
    void offByDefault() {
        Preprocessing none = Preprocessing.none();
        assertTrue(none.isIdentity());
        assertSame(SENTENCE, none.apply(SENTENCE));
        List<Example> ex = List.of(new Example(SENTENCE, 1, "f:1"));
        assertEquals(ex, none.apply(ex));
        assertTrue(Preprocessing.of().isIdentity());
    }

    @Test
    void stripHtmlRemovesTagsButNotComparisons() {
        assertEquals("Profit rose to  EUR 5 mn  .", Preprocessing.stripHtml().apply("Profit<br/>rose to <a href=\"x\">EUR 5 mn</a> ."));
        assertEquals("EPS < 0.5 > guidance ;   ok", Preprocessing.stripHtml().apply("EPS < 0.5 > guidance ; <!-- c\nd --> ok"));
    }

    @Test
    void lettersOnlyKeepsAnyScriptAndCollapsesSpaces() {
        assertEquals("Espoo based Yhti\u00e4 rose to EUR mn", Preprocessing.lettersOnly().apply("  Espoo-based Yhti\u00e4 rose to EUR 13.1 mn . "));
    }

    @Test
    void lowerCaseIgnoresTheDefaultLocale() {
        Locale saved = Locale.getDefault();
        try {
            Locale.setDefault(Locale.forLanguageTag("tr-TR"));
            assertEquals("profit in istanbul", Preprocessing.lowerCase().apply("PROFIT IN ISTANBUL"));
        } finally {
            Locale.setDefault(saved);
        }
    }

    @Test
    void nltkEnglishStopWordList() {
        Set<String> s = Preprocessing.nltkEnglishStopWords();
        assertEquals(179, s.size());
        assertEquals("i", s.iterator().next(), "NLTK's order starts with 'i'");
        for (String w : List.of("not", "no", "nor", "don't", "didn't", "won't", "wouldn't", "should've", "that'll", "ma", "y", "any")) {
            assertTrue(s.contains(w), w);
        }
        for (String w : List.of("profit", "eur", "mn", "zero", "would", "could", "#")) assertFalse(s.contains(w), w);
        assertTrue(s.stream().allMatch(w -> w.equals(w.toLowerCase(Locale.ROOT)) && !w.isBlank() && !w.contains(" ")));
        assertThrows(UnsupportedOperationException.class, () -> s.add("x"));
    }

    /** The documented reason the pipeline is off for transformers: negation and figures disappear. */
    @Test
    void classicPipelineDestroysNegationAndNumbers() {
        Preprocessing classic = Preprocessing.of(Preprocessing.stripHtml(), Preprocessing.lettersOnly(),
                Preprocessing.lowerCase(), Preprocessing.removeStopWords());
        assertFalse(classic.isIdentity());
        assertEquals("operating profit rise eur mn eur mn espoo based yhti\u00e4", classic.apply(SENTENCE));
        List<Example> out = classic.apply(List.of(new Example(SENTENCE, 0, "f:9")));
        assertEquals(new Example("operating profit rise eur mn eur mn espoo based yhti\u00e4", 0, "f:9"), out.get(0));
    }

    @Test
    void stepsRunInOrderAndPipelinesAreImmutable() {
        Preprocessing base = Preprocessing.none().then(Preprocessing.removeStopWords());
        Preprocessing more = base.then(Preprocessing.lowerCase());
        // stop words are matched per token after lower-casing the token, so "The" goes, but "not," (with comma) stays
        assertEquals("Sales not, rose", base.apply("The Sales did not, rose"));
        assertEquals("sales not, rose", more.apply("The Sales did not, rose"));
        assertEquals("Sales not, rose", base.apply("The Sales did not, rose"), "base unchanged by then()");
        assertEquals("x y", Preprocessing.removeStopWords(Set.of("a")).apply("  A x   a y "));
    }
}
