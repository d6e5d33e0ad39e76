package org.finsent.core.nn;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A place in a model that holds a {@link Projection}, under its Hugging Face module name
 * ({@code bert.encoder.layer.0.attention.self.query}, {@code transformer.h.0.attn.c_attn}): PEFT methods find their
 * targets by these names and replace the projection with a wrapper.
 */
public record ProjectionSlot(String module, Supplier<Projection> get, Consumer<Projection> set) {
}
