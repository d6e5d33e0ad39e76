package org.finsent.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SentimentTest {

    @Test
    void studyIdsAndNames() {
        assertEquals(0, Sentiment.NEGATIVE.id());
        assertEquals(1, Sentiment.NEUTRAL.id());
        assertEquals(2, Sentiment.POSITIVE.id());
        assertArrayEquals(new String[] {"negative", "neutral", "positive"}, Sentiment.labels());
        assertEquals(3, Sentiment.COUNT);
        for (Sentiment s : Sentiment.values()) {
            assertEquals(s, Sentiment.fromId(s.id()));
            assertEquals(Optional.of(s), Sentiment.fromLabel(s.label()));
            assertEquals(Optional.of(s), Sentiment.fromLabel(" " + s.label() + "\t"));
        }
    }

    @Test
    void unknownNamesAndIds() {
        assertTrue(Sentiment.fromLabel("Positive").isEmpty(), "labels are case-sensitive: the files only use lower case");
        assertTrue(Sentiment.fromLabel("").isEmpty());
        assertTrue(Sentiment.fromLabel(null).isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Sentiment.fromId(3));
        assertThrows(IllegalArgumentException.class, () -> Sentiment.fromId(-1));
    }
}
