package org.finsent.core.nn;

import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Where parameter-efficient fine-tuning methods attach to a model, described by the model itself, so that a PEFT
 * implementation never needs to know the architecture: the projections a LoRA wraps ({@link #projections()}), the
 * blocks whose output an adapter hooks ({@link #blocks()}), the attention layers' key/value prefix
 * ({@link #keyValuePrefix()}) and the input embeddings' virtual tokens ({@link #virtualTokens()}), each with the
 * Hugging Face names and sizes that PEFT's and the adapters library's files use. A new architecture implements this
 * and gets every method.
 */
public interface InsertionPoints {
    /** Hugging Face's {@code model_type} ({@code "bert"}, {@code "gpt2"}). */
    String modelType();

    /** The Hugging Face class of the model ({@code "BertForSequenceClassification"}): the adapters library saves it. */
    String modelClass();

    /**
     * The Hugging Face module prefix of the encoder or decoder inside the model ({@code "bert."},
     * {@code "transformer."}); every name below starts with it.
     */
    String modulePrefix();

    /** Every projection of the encoder/decoder (not the head), by Hugging Face module name. */
    List<ProjectionSlot> projections();

    /** The blocks (layers), first to last, with their output hooks. */
    List<Block> blocks();

    /** The attention layers' shared key/value prefix (prefix tuning). */
    PrefixSlot keyValuePrefix();

    /** The input embeddings' virtual-token rows (prompt tuning). */
    PromptSlot virtualTokens();

    /** An implementation that lists its points (what a model builds from its parts). */
    record Listing(String modelType, String modelClass, String modulePrefix, List<ProjectionSlot> projections,
                   List<Block> blocks, PrefixSlot keyValuePrefix, PromptSlot virtualTokens) implements InsertionPoints {
        public Listing {
            projections = List.copyOf(projections);
            blocks = List.copyOf(blocks);
        }
    }

    /** Sizes of the attention layers: {@code hidden = heads · headDim}. */
    record Geometry(int layers, int heads, int headDim) {
        public int hidden() {
            return heads * headDim;
        }
    }

    /**
     * One block: its Hugging Face module name ({@code bert.encoder.layer.3.}), the module under which the adapters
     * library names an output adapter ({@code bert.encoder.layer.3.output.adapters.}, GPT-2
     * {@code transformer.h.3.output_adapters.adapters.}; the adapter's name and a dot follow), and its output hook.
     */
    record Block(String module, String outputAdapterModule, Supplier<OutputHook> hook, Consumer<OutputHook> setHook) {
    }

    /** The key/value prefix every attention layer reads (null: none), and the geometry it must have. */
    record PrefixSlot(Geometry geometry, Supplier<KeyValuePrefix> get, Consumer<KeyValuePrefix> set) {
    }

    /**
     * The virtual tokens prepended to the input embeddings (null: none). {@code wordEmbeddings} is the word
     * embedding matrix {@code [vocab, C]} (text initialisation copies its rows).
     */
    record PromptSlot(Parameter wordEmbeddings, Supplier<VirtualTokens> get, Consumer<VirtualTokens> set) {
    }
}
