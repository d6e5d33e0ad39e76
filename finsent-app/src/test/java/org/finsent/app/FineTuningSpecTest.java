package org.finsent.app;

import org.finsent.train.*;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.data.Example;
import org.finsent.core.data.Splits;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The split seed: fixed apart from the training seed, recorded in run_spec.json, absent (as before) when it follows. */
class FineTuningSpecTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Example> EXAMPLES = Fixtures.synthetic(90, 5);

    private static FineTuning.Spec spec(long seed, Long splitSeed) {
        TrainingArguments args = TrainingArguments.builder(Path.of("run")).seed(seed).build();
        return new FineTuning.Spec("m", "csv:x", DataSources.Options.defaults(), Techniques.study(List.of("lora")), args,
                0.8, 0.1, splitSeed);
    }

    private static List<String> texts(List<Example> ex) {
        return ex.stream().map(Example::text).toList();
    }

    @Test
    void aFixedSplitSeedKeepsTheSplitWhateverTheTrainingSeed() throws Exception {
        List<String> test42 = texts(Splits.stratified(EXAMPLES, 0.8, 0.1, 42).test());
        List<String> test7 = texts(Splits.stratified(EXAMPLES, 0.8, 0.1, 7).test());
        assertNotEquals(test42, test7, "the fixture must split differently under the two seeds");

        FineTuning.Spec fixed = spec(7, 42L);
        assertEquals(42, fixed.effectiveSplitSeed());
        assertEquals(test42, texts(fixed.split(EXAMPLES).test()));
        assertEquals(texts(Splits.stratified(EXAMPLES, 0.8, 0.1, 42).validation()), texts(fixed.split(EXAMPLES).validation()));
        JsonNode written = JSON.readTree(JSON.writeValueAsString(fixed.toJson()));
        assertEquals(42, written.path("split_seed").asLong());
        assertEquals(7, written.path("training_arguments").path("seed").asLong());
        assertEquals(42, FineTuning.splitSeed(written), "evaluate --split re-makes the split with this seed");

        FineTuning.Spec follows = spec(7, null);
        assertEquals(7, follows.effectiveSplitSeed());
        assertEquals(test7, texts(follows.split(EXAMPLES).test()));
        JsonNode old = JSON.readTree(JSON.writeValueAsString(follows.toJson()));
        assertFalse(old.has("split_seed"), "a spec without a split seed writes what earlier versions wrote (resume, skip)");
        assertEquals(7, FineTuning.splitSeed(old));
        assertTrue(spec(7, 7L).toJson().has("split_seed"));
    }
}
