package org.finsent.serve;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code GET /model} tells about the served model (JSON in snake_case).
 *
 * @param name         short name shown in every answer's {@code model} field (e.g. the model directory's name)
 * @param baseModel    the pretrained model it was fine-tuned from (e.g. {@code ProsusAI/finbert}), or null
 * @param technique    how it was fine-tuned (e.g. {@code lora}, {@code full}), or null
 * @param labels       class names by id
 * @param maxSeqLength tokens per input (longer inputs are truncated)
 * @param metrics      training/evaluation metrics (e.g. {@code eval_accuracy}); may be empty
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record ModelInfo(String name, String baseModel, String technique, List<String> labels, int maxSeqLength,
                        Map<String, Object> metrics) {
    public ModelInfo {
        Objects.requireNonNull(name, "name");
        labels = List.copyOf(labels);
        if (labels.isEmpty()) throw new IllegalArgumentException("a model needs at least one label");
        if (maxSeqLength < 1) throw new IllegalArgumentException("maxSeqLength must be >= 1: " + maxSeqLength);
        metrics = metrics == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
    }
}
