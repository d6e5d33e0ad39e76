package org.finsent.core.io;

import java.util.List;

/**
 * The result of renaming a foreign checkpoint to Hugging Face names.
 *
 * @param weights   the tensors under their Hugging Face names, in the layout PyTorch uses ([out, in] for Linear)
 * @param leftovers names of source entries that were not mapped (heads, optimizer slots, buffers), in source order
 */
public record WeightMapping(StateDict weights, List<String> leftovers) {
    public WeightMapping {
        leftovers = List.copyOf(leftovers);
    }
}
