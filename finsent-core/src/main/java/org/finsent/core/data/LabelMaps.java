package org.finsent.core.data;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** Label-name to class-id maps shared by the generic readers. */
final class LabelMaps {
    private LabelMaps() {
    }

    /** {@code negative→0, neutral→1, positive→2}: the default, so a file labelled with the study's names needs no setup. */
    static Map<String, Integer> sentimentNames() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (Sentiment s : Sentiment.values()) m.put(s.label(), s.id());
        return m;
    }

    /** Defensive copy that rejects null keys/values and negative ids, so a bad map fails at build time, not per row. */
    static Map<String, Integer> checked(Map<String, Integer> labels) {
        Objects.requireNonNull(labels, "labels");
        if (labels.isEmpty()) throw new IllegalArgumentException("label map is empty");
        Map<String, Integer> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : labels.entrySet()) {
            String k = Objects.requireNonNull(e.getKey(), "label name");
            Integer v = Objects.requireNonNull(e.getValue(), "label id for '" + k + "'");
            if (v < 0) throw new IllegalArgumentException("negative id " + v + " for label '" + k + "'");
            if (!k.equals(k.strip())) throw new IllegalArgumentException("label name '" + k + "' has surrounding spaces (values are trimmed before lookup)");
            copy.put(k, v);
        }
        return Map.copyOf(copy);
    }

    static String describe(Map<String, Integer> labels) {
        return labels.keySet().stream().sorted().toList().toString();
    }
}
