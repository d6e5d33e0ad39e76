package org.finsent.core.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A JSON Lines file (one JSON object per line, UTF-8), the format Hugging Face {@code datasets} exports with
 * {@code to_json(..., lines=True)}: a text field, a label field (a string, or an integer that is looked up by its
 * decimal form, so {@code 1} and {@code "1"} both match the map key {@code "1"}), and a map to class ids.
 *
 * <p>Bad rows (handled by the {@link BadRowPolicy}, with the line number): invalid JSON, anything but an object,
 * trailing data after the object, a duplicated key (which value did the author mean?), a missing or non-string
 * text, a missing, null or non-scalar label, a label not in the map, an empty text, bytes that are not valid UTF-8.
 * Blank lines are ignored.
 */
public final class JsonlDataset {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private final String textField;
    private final String labelField;
    private final Map<String, Integer> labels;
    private final BadRowPolicy policy;

    private JsonlDataset(Builder b) {
        this.textField = b.textField;
        this.labelField = b.labelField;
        this.labels = LabelMaps.checked(b.labels);
        this.policy = b.policy;
    }

    /** Defaults: fields {@code text} and {@code label}, labels {@code negative/neutral/positive}, FAIL. */
    public static Builder builder() {
        return new Builder();
    }

    public Dataset read(Path file) throws IOException {
        return read(RowSink.readFile(file), file.toString());
    }

    public Dataset read(byte[] utf8, String sourceName) throws DatasetException {
        DecodedText decoded = DecodedText.utf8(utf8);
        RowSink sink = new RowSink(sourceName, policy);
        List<String> lines = decoded.lines();
        for (int i = 0; i < lines.size(); i++) {
            int lineNo = i + 1;
            String line = lines.get(i);
            if (decoded.badLines.get(lineNo)) {
                sink.bad(lineNo, "bytes that are not valid UTF-8");
                continue;
            }
            if (line.isBlank()) continue;
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                sink.bad(lineNo, "invalid JSON: " + e.getOriginalMessage());
                continue;
            }
            if (node == null || !node.isObject()) {
                sink.bad(lineNo, "not a JSON object");
                continue;
            }
            JsonNode t = node.get(textField);
            if (t == null || t.isNull()) {
                sink.bad(lineNo, "missing field '" + textField + "'");
                continue;
            }
            if (!t.isTextual()) {
                sink.bad(lineNo, "field '" + textField + "' is not a string");
                continue;
            }
            JsonNode l = node.get(labelField);
            if (l == null || l.isNull()) {
                sink.bad(lineNo, "missing field '" + labelField + "'");
                continue;
            }
            String key;
            if (l.isTextual()) key = l.textValue().strip();
            else if (l.isIntegralNumber()) key = l.bigIntegerValue().toString();
            else {
                sink.bad(lineNo, "field '" + labelField + "' is neither a string nor an integer: " + FinancialPhraseBank.abbreviate(l.toString()));
                continue;
            }
            Integer id = labels.get(key);
            if (id == null) {
                sink.bad(lineNo, "unknown label '" + FinancialPhraseBank.abbreviate(key) + "' (expected one of " + LabelMaps.describe(labels) + ")");
                continue;
            }
            if (t.textValue().isBlank()) {
                sink.bad(lineNo, "empty text in field '" + textField + "'");
                continue;
            }
            sink.add(t.textValue(), id, lineNo);
        }
        return sink.finish();
    }

    /** Options of a {@link JsonlDataset}. */
    public static final class Builder {
        private String textField = "text";
        private String labelField = "label";
        private Map<String, Integer> labels = LabelMaps.sentimentNames();
        private BadRowPolicy policy = BadRowPolicy.FAIL;

        private Builder() {
        }

        public Builder textField(String name) {
            this.textField = Objects.requireNonNull(name, "textField");
            return this;
        }

        public Builder labelField(String name) {
            this.labelField = Objects.requireNonNull(name, "labelField");
            return this;
        }

        /** Label value (string after trimming, or an integer's decimal form) to class id. */
        public Builder labels(Map<String, Integer> labels) {
            this.labels = Objects.requireNonNull(labels, "labels");
            return this;
        }

        public Builder badRowPolicy(BadRowPolicy policy) {
            this.policy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        public JsonlDataset build() {
            if (textField.equals(labelField)) throw new IllegalArgumentException("text and label field are both '" + textField + "'");
            return new JsonlDataset(this);
        }
    }
}
