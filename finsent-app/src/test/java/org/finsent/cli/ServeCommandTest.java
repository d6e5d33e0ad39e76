package org.finsent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.finsent.core.model.BertConfig;
import org.finsent.core.model.BertForSequenceClassification;
import org.finsent.core.model.Pretrained;
import org.finsent.serve.SentimentServer;
import org.finsent.train.FineTunedModel;
import org.finsent.train.ModelSources;
import org.finsent.train.Predictor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code finsent serve --model DIR}: a directory written by FineTunedModel is served as the library predicts it. */
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> LABELS = List.of("negative", "neutral", "positive");

    @TempDir
    Path tmp;

    @Test
    void servesAFineTunedModelDirectoryAsTheLibraryPredicts() throws Exception {
        Path base = tmp.resolve("tiny-base"), dir = tmp.resolve("my-model");
        Pretrained.save(new BertForSequenceClassification(new BertConfig(30522, 16, 2, 2, 32, 64, 2, 1e-12, "gelu", 0, 0, 3),
                DataType.FLOAT, 5), base);
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, base.resolve("tokenizer.json"));
        }
        var src = ModelSources.directory(base.toString(), base, 3, 1);
        FineTunedModel.of(src, src.model(), LABELS, 24, Map.of("eval_accuracy", 0.625)).save(dir);

        ServeCommand cmd = new ServeCommand();
        new CommandLine(cmd).parseArgs("--model", dir.toString(), "--port", "0", "--micro-batch", "8", "--batch-policy", "FIXED",
                "--cors-origin", "http://localhost:3000,http://127.0.0.1:5173");
        assertEquals(List.of("http://localhost:3000", "http://127.0.0.1:5173"), cmd.corsOrigins);
        assertEquals("127.0.0.1", cmd.host, "loopback by default");
        try (SentimentServer server = cmd.start()) {
            URI uri = server.uri();
            assertEquals("127.0.0.1", uri.getHost());
            HttpClient http = HttpClient.newHttpClient();
            JsonNode model = JSON.readTree(http.send(HttpRequest.newBuilder(uri.resolve("model")).build(),
                    HttpResponse.BodyHandlers.ofString()).body());
            assertEquals("my-model", model.get("name").asText());
            assertEquals(base.toString(), model.get("base_model").asText());
            assertEquals("full", model.get("technique").asText());
            assertEquals(LABELS, JSON.convertValue(model.get("labels"), List.class));
            assertEquals(24, model.get("max_seq_length").asInt());
            assertEquals(0.625, model.get("metrics").get("eval_accuracy").asDouble(), 0.0);
            assertEquals(8, model.get("limits").get("micro_batch").asInt());
            assertEquals("fixed", model.get("limits").get("micro_batch_policy").asText());

            String text = "Nokia said its net sales rose by 5 % .";
            Predictor.Prediction expected = FineTunedModel.load(dir).predictor().predict(text);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri.resolve("analyze")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("text", text)))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            JsonNode a = JSON.readTree(r.body());
            assertEquals(expected.label(), a.get("label").asText());
            for (int k = 0; k < LABELS.size(); k++) {
                assertEquals(expected.probabilities()[k], a.get("scores").get(LABELS.get(k)).asDouble(), 0.0, LABELS.get(k));
            }
            assertFalse(a.get("truncated").asBoolean());
        }
    }

    @Test
    void aDirectoryThatIsNotAModelIsAUserError() throws Exception {
        CommandsTest.Result r = CommandsTest.cli(null, "serve", "--model", tmp.toString(), "--port", "0");
        assertEquals(FinSentCli.USER_ERROR, r.code());
        assertTrue(r.err().contains(tmp.resolve("finsent.json").toString()) && !r.err().contains("\tat "), r.err());
        assertEquals(FinSentCli.USAGE, CommandsTest.cli(null, "serve").code(), "--model is required");
        CommandsTest.Result p = CommandsTest.cli(null, "serve", "--model", tmp.toString(), "--batch-policy", "sometimes");
        assertEquals(FinSentCli.USAGE, p.code(), p.err());
        assertTrue(p.err().contains("batch wait policy must be adaptive or fixed: sometimes"), p.err());
    }
}
