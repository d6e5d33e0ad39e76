package org.finsent.train;

import org.finsent.core.hub.FakeHub;
import org.finsent.core.hub.HfHub;
import org.finsent.core.model.Batch;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code hf:org/name[@rev]} model specs end to end through a local stand-in of the hub ({@link FakeHub}, the hub
 * client's own test server): the files land in Python's cache layout and the model loaded from the snapshot is the
 * model that was published.
 */
class ModelSourcesHubTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void hubModelIsFetchedIntoThePythonCacheAndLoadsTheSameWeights(@TempDir Path tmp) throws IOException {
        // a small BERT classifier published as a Hugging Face directory: config.json + model.safetensors + tokenizer.json
        BertForSequenceClassification published = Fixtures.tinyBert(DataType.FLOAT, 17);
        Path dir = tmp.resolve("published");
        Pretrained.save(published, dir);
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        try (FakeHub fake = new FakeHub()) {
            fake.branch("acme/tiny-bert", "main", COMMIT)
                    .file("acme/tiny-bert", COMMIT, "config.json", Files.readAllBytes(dir.resolve("config.json")))
                    .lfsFile("acme/tiny-bert", COMMIT, "model.safetensors", Files.readAllBytes(dir.resolve("model.safetensors")))
                    .file("acme/tiny-bert", COMMIT, "tokenizer.json", Files.readAllBytes(dir.resolve("tokenizer.json")));
            HfHub hub = new HfHub(fake.endpoint(), tmp.resolve("cache"), false, null);

            ModelSources.Source src = ModelSources.load("hf:acme/tiny-bert", 3, 1, hub);

            Path snapshot = tmp.resolve("cache/models--acme--tiny-bert/snapshots/" + COMMIT);
            assertTrue(Files.isRegularFile(snapshot.resolve("model.safetensors")), "snapshot in Python's layout");
            assertEquals(COMMIT, Files.readString(tmp.resolve("cache/models--acme--tiny-bert/refs/main")));
            assertEquals("bert", src.architecture());
            Batch batch = Batch.of(src.tokenizer().withOptions(org.finsent.tokenizers.TokenizerOptions.DEFAULTS.withTruncation(64).withPadding(org.finsent.tokenizers.TokenizerOptions.Padding.LONGEST)).encodeBatch(java.util.List.of("Operating profit rose.", "Sales fell by 5 %.")));
            published.train(false);
            src.model().train(false);
            assertArrayEquals(published.forward(batch).dup().data().asFloat(), src.model().forward(batch).dup().data().asFloat(),
                    "the head is kept (3 labels) and every weight came through the hub");

            // a second load is served from the cache: offline now, and no new request
            fake.clearSeen();
            HfHub offline = new HfHub(fake.endpoint(), tmp.resolve("cache"), true, null);
            ModelSources.load("hf:acme/tiny-bert@" + COMMIT, 3, 1, offline);
            assertEquals(0, fake.seen().size());

            // a repository without weights says so
            fake.branch("acme/no-weights", "main", COMMIT)
                    .file("acme/no-weights", COMMIT, "config.json", Files.readAllBytes(dir.resolve("config.json")));
            FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> ModelSources.load("hf:acme/no-weights", 3, 1, hub));
            assertTrue(e.getMessage().contains("neither model.safetensors nor pytorch_model.bin"), e.getMessage());
        }
    }
}
