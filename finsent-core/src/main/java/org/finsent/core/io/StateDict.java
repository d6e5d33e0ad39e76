package org.finsent.core.io;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;

/**
 * An ordered map from tensor name to {@link TensorData} (insertion order, like a PyTorch state dict), plus the
 * file's string metadata (safetensors {@code __metadata__}). Not thread-safe while being modified.
 */
public final class StateDict implements Iterable<TensorData> {

    private final LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public StateDict() {
    }

    /** A state dict holding {@code tensors} in iteration order (later duplicates replace earlier ones). */
    public static StateDict of(Collection<TensorData> tensors) {
        StateDict d = new StateDict();
        for (TensorData t : tensors) d.put(t);
        return d;
    }

    /** Adds or replaces the tensor under its own name; returns the tensor it replaced, or null. */
    public TensorData put(TensorData tensor) {
        return tensors.put(tensor.name(), tensor);
    }

    /** The tensor called {@code name}, or null. */
    public TensorData get(String name) {
        return tensors.get(name);
    }

    /** The tensor called {@code name}; throws NoSuchElementException naming it when absent. */
    public TensorData require(String name) {
        TensorData t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException("no tensor '" + name + "' among " + tensors.size() + " tensors");
        }
        return t;
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Removes and returns the tensor called {@code name}, or null. */
    public TensorData remove(String name) {
        return tensors.remove(name);
    }

    /** The names, in order (an unmodifiable view). */
    public Set<String> names() {
        return Collections.unmodifiableSet(tensors.keySet());
    }

    /** The tensors, in order (an unmodifiable view). */
    public Collection<TensorData> tensors() {
        return Collections.unmodifiableCollection(tensors.values());
    }

    /** A snapshot list of the tensors, in order. */
    public List<TensorData> toList() {
        return new ArrayList<>(tensors.values());
    }

    public int size() {
        return tensors.size();
    }

    public boolean isEmpty() {
        return tensors.isEmpty();
    }

    /** The sum of the element counts of all tensors. */
    public long totalParameters() {
        long n = 0;
        for (TensorData t : tensors.values()) n += t.numel();
        return n;
    }

    /** String metadata (sorted by key; an unmodifiable view). */
    public Map<String, String> metadata() {
        return Collections.unmodifiableMap(metadata);
    }

    public void putMetadata(String key, String value) {
        metadata.put(key, value);
    }

    @Override
    public Iterator<TensorData> iterator() {
        return tensors().iterator();
    }

    @Override
    public String toString() {
        return "StateDict(" + tensors.size() + " tensors, " + totalParameters() + " parameters)";
    }
}
