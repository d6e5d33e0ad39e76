package org.finsent.core.io;

import java.util.LinkedHashMap;
import java.util.Map;

/** The Hugging Face BertModel parameter names and shapes for a configuration (test oracle, written from the HF layout). */
final class BertShapes {

    private BertShapes() {
    }

    static Map<String, long[]> expected(String prefix, int layers, int hidden, int intermediate, int vocab,
                                        int maxPositions, int typeVocab, boolean pooler) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(prefix + "embeddings.word_embeddings.weight", new long[]{vocab, hidden});
        m.put(prefix + "embeddings.position_embeddings.weight", new long[]{maxPositions, hidden});
        m.put(prefix + "embeddings.token_type_embeddings.weight", new long[]{typeVocab, hidden});
        m.put(prefix + "embeddings.LayerNorm.weight", new long[]{hidden});
        m.put(prefix + "embeddings.LayerNorm.bias", new long[]{hidden});
        for (int i = 0; i < layers; i++) {
            String l = prefix + "encoder.layer." + i + ".";
            for (String qkv : new String[]{"query", "key", "value"}) {
                m.put(l + "attention.self." + qkv + ".weight", new long[]{hidden, hidden});
                m.put(l + "attention.self." + qkv + ".bias", new long[]{hidden});
            }
            m.put(l + "attention.output.dense.weight", new long[]{hidden, hidden});
            m.put(l + "attention.output.dense.bias", new long[]{hidden});
            m.put(l + "attention.output.LayerNorm.weight", new long[]{hidden});
            m.put(l + "attention.output.LayerNorm.bias", new long[]{hidden});
            m.put(l + "intermediate.dense.weight", new long[]{intermediate, hidden});
            m.put(l + "intermediate.dense.bias", new long[]{intermediate});
            m.put(l + "output.dense.weight", new long[]{hidden, intermediate});
            m.put(l + "output.dense.bias", new long[]{hidden});
            m.put(l + "output.LayerNorm.weight", new long[]{hidden});
            m.put(l + "output.LayerNorm.bias", new long[]{hidden});
        }
        if (pooler) {
            m.put(prefix + "pooler.dense.weight", new long[]{hidden, hidden});
            m.put(prefix + "pooler.dense.bias", new long[]{hidden});
        }
        return m;
    }

    static long parameters(Map<String, long[]> shapes) {
        long n = 0;
        for (long[] s : shapes.values()) n += TensorData.numel(s);
        return n;
    }
}
