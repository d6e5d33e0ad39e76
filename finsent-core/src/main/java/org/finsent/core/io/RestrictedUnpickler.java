package org.finsent.core.io;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A pickle virtual machine for torch.save state dicts that can build nothing but plain data: dicts, lists,
 * tuples, strings, numbers, and inert descriptions of tensors and storages. Every GLOBAL / STACK_GLOBAL is
 * checked against a fixed allow-list the moment it is read, so a pickle naming anything else (os.system,
 * builtins.eval, a pickled nn.Module class, ...) fails before any later opcode runs. No Java class is ever
 * looked up by name and no method is ever invoked on behalf of the pickle.
 */
final class RestrictedUnpickler {

    /** An allowed global, by module and name. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /**
     * A pickled tuple. Immutable once built, so its hash is computed once; equality tries identity first. Only
     * tuples that passed {@link #hashable} (bounded depth and size) are ever hashed or compared, so neither can
     * recurse deeply or walk a shared (DAG) structure exponentially often.
     */
    static final class Tuple {
        private final List<Object> items;
        private int hash;
        private boolean hashed;

        Tuple(List<Object> items) {
            this.items = items;
        }

        List<Object> items() {
            return items;
        }

        @Override
        public int hashCode() {
            if (!hashed) {
                hash = items.hashCode();
                hashed = true;
            }
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o == this || (o instanceof Tuple t && t.hashCode() == hashCode() && t.items.equals(items));
        }

        @Override
        public String toString() {
            return "a tuple of " + items.size();
        }
    }

    /** Deepest tuple a dict key may be (state-dict keys are strings; Python's own pickles never come close). */
    static final int MAX_KEY_DEPTH = 16;
    /** Most elements a tuple dict key may hold, counting shared sub-tuples once per occurrence. */
    static final int MAX_KEY_ELEMENTS = 1024;

    /** A persistent-id reference to {@code <archive>/data/<key>}. */
    record StorageRef(String key, DType dtype, String location, long numel) {
    }

    /** What torch._utils._rebuild_tensor_v2 would build: a strided view of a storage (in elements). */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    private static final Object MARK_SENTINEL = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    static final Map<String, DType> STORAGE_TYPES = Map.ofEntries(
            Map.entry("torch.DoubleStorage", DType.F64),
            Map.entry("torch.FloatStorage", DType.F32),
            Map.entry("torch.HalfStorage", DType.F16),
            Map.entry("torch.BFloat16Storage", DType.BF16),
            Map.entry("torch.LongStorage", DType.I64),
            Map.entry("torch.IntStorage", DType.I32),
            Map.entry("torch.ShortStorage", DType.I16),
            Map.entry("torch.CharStorage", DType.I8),
            Map.entry("torch.ByteStorage", DType.U8),
            Map.entry("torch.BoolStorage", DType.BOOL),
            Map.entry("torch.UntypedStorage", DType.U8));

    static final Set<String> DTYPE_GLOBALS = Set.of("torch.float64", "torch.float32", "torch.float16",
            "torch.bfloat16", "torch.int64", "torch.int32", "torch.int16", "torch.int8", "torch.uint8", "torch.bool");

    static final Set<String> CALLABLES = Set.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state", "torch.serialization._get_layout");

    /** Every global a state-dict pickle may name. */
    static final Set<String> ALLOWED;

    static {
        java.util.TreeSet<String> all = new java.util.TreeSet<>(STORAGE_TYPES.keySet());
        all.addAll(DTYPE_GLOBALS);
        all.addAll(CALLABLES);
        all.add("torch.strided");
        ALLOWED = java.util.Collections.unmodifiableSet(all);
    }

    private final ByteBuffer in;
    private final String file;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final ArrayList<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    private final Map<String, StorageRef> storages = new LinkedHashMap<>();

    RestrictedUnpickler(byte[] pickle, String file) {
        this(ByteBuffer.wrap(pickle), file);
    }

    /** Unpickles from the buffer's position; after {@link #load()} the position is just past STOP. */
    RestrictedUnpickler(ByteBuffer pickle, String file) {
        this.in = pickle.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.file = file;
    }

    /** Bytes consumed so far. */
    int position() {
        return in.position();
    }

    /** The storages the pickle referenced, by key, in first-reference order. */
    Map<String, StorageRef> storages() {
        return storages;
    }

    private WeightFormatException bad(String msg) {
        return new WeightFormatException(file, null, "pickle: " + msg);
    }

    private void need(long n) throws WeightFormatException {
        if (n < 0 || n > in.remaining()) {
            throw bad("truncated: needs " + n + " more bytes at offset " + in.position() + ", " + in.remaining() + " left");
        }
    }

    private int u8() throws WeightFormatException {
        need(1);
        return in.get() & 0xff;
    }

    private long u32() throws WeightFormatException {
        need(4);
        return in.getInt() & 0xffffffffL;
    }

    private byte[] bytes(long n) throws WeightFormatException {
        need(n);
        byte[] b = new byte[(int) n];
        in.get(b);
        return b;
    }

    private String utf8(long n) throws WeightFormatException {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String line() throws WeightFormatException {
        int start = in.position();
        for (int i = start; i < in.limit(); i++) {
            if (in.get(i) == '\n') {
                byte[] b = new byte[i - start];
                in.get(b);
                in.get();
                return new String(b, StandardCharsets.UTF_8);
            }
        }
        throw bad("truncated: unterminated text argument at offset " + start);
    }

    private Object pop() throws WeightFormatException {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
            throw bad("stack underflow at offset " + in.position());
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() throws WeightFormatException {
        if (stack.isEmpty()) throw bad("stack underflow at offset " + in.position());
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() throws WeightFormatException {
        if (marks.isEmpty()) throw bad("no MARK on the stack at offset " + in.position());
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Global global(String module, String name) throws WeightFormatException {
        String q = module + "." + name;
        if (!ALLOWED.contains(q) && module.equals("torch") && name.endsWith("Storage")) {
            throw new WeightFormatException(file, null, "pickle: unsupported tensor storage type '" + abbreviate(q) + "'");
        }
        if (!ALLOWED.contains(q)) {
            throw new WeightFormatException(file, null, "pickle references forbidden global '" + abbreviate(q)
                    + "' (only tensor-rebuilding torch globals are allowed; refusing to load)");
        }
        return new Global(module, name);
    }

    Object load() throws WeightFormatException {
        while (true) {
            int pos = in.position();
            int op = u8();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) throw bad("unsupported pickle protocol " + proto);
                }
                case 0x95 -> bytes(8); // FRAME: an 8-byte frame length; framing does not matter here
                case '.' -> { // STOP
                    Object result = pop();
                    if (!stack.isEmpty()) {
                        // tolerated by Python too, but a torch.save pickle never leaves anything behind
                        throw bad("stack not empty at STOP");
                    }
                    return result;
                }
                case '}' -> push(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case '(' -> marks.add(stack.size()); // MARK
                case 'X' -> push(utf8(u32())); // BINUNICODE
                case 0x8c -> push(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> { // BINUNICODE8
                    need(8);
                    push(utf8(in.getLong()));
                }
                case 'T' -> push(utf8(u32())); // BINSTRING (Python 2 str)
                case 'U' -> push(utf8(u8())); // SHORT_BINSTRING
                case 'B' -> push(bytes(u32())); // BINBYTES
                case 'C' -> push(bytes(u8())); // SHORT_BINBYTES
                case 'J' -> { // BININT
                    need(4);
                    push((long) in.getInt());
                }
                case 'K' -> push((long) u8()); // BININT1
                case 'M' -> { // BININT2
                    need(2);
                    push((long) (in.getShort() & 0xffff));
                }
                case 0x8a -> push(longFrom(bytes(u8()))); // LONG1
                case 0x8b -> push(longFrom(bytes(u32()))); // LONG4
                case 'I' -> { // INT (text; I01/I00 are booleans)
                    String s = line();
                    if (s.equals("01")) push(Boolean.TRUE);
                    else if (s.equals("00")) push(Boolean.FALSE);
                    else push(parseLong(s));
                }
                case 'L' -> push(parseLong(line().replace("L", ""))); // LONG (text)
                case 'G' -> { // BINFLOAT: big-endian double
                    need(8);
                    push(Double.longBitsToDouble(Long.reverseBytes(in.getLong())));
                }
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case 0x85 -> push(new Tuple(Arrays.asList(pop()))); // TUPLE1
                case 0x86 -> { // TUPLE2
                    Object b = pop(), a = pop();
                    push(new Tuple(Arrays.asList(a, b)));
                }
                case 0x87 -> { // TUPLE3
                    Object c = pop(), b = pop(), a = pop();
                    push(new Tuple(Arrays.asList(a, b, c)));
                }
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    push(toDict(new LinkedHashMap<>(), items));
                }
                case 's' -> { // SETITEM
                    Object v = pop(), k = pop();
                    dictOf(peek()).put(hashable(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    toDict(dictOf(peek()), items);
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    listOf(peek()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    listOf(peek()).addAll(items);
                }
                case 'q' -> memo.put((long) u8(), peek()); // BINPUT
                case 'r' -> { // LONG_BINPUT
                    need(4);
                    memo.put(in.getInt() & 0xffffffffL, peek());
                }
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'p' -> memo.put(parseLong(line()), peek()); // PUT (text)
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> { // LONG_BINGET
                    need(4);
                    push(memoGet(in.getInt() & 0xffffffffL));
                }
                case 'g' -> push(memoGet(parseLong(line()))); // GET (text)
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop(), module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw bad("STACK_GLOBAL needs two strings at offset " + pos);
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop(), callable = pop();
                    push(reduce(callable, args, pos));
                }
                case 0x81 -> { // NEWOBJ: only OrderedDict
                    Object args = pop(), cls = pop();
                    push(reduce(cls, args, pos));
                }
                case 'b' -> { // BUILD: state for an object we built; the only one torch.save emits is the
                    // OrderedDict's `_metadata` attribute, which a loader does not need
                    Object state = pop();
                    Object target = peek();
                    if (!(target instanceof Map) && !(target instanceof TensorRef)) {
                        throw bad("BUILD on " + describe(target) + " at offset " + pos);
                    }
                    if (state == null) throw bad("BUILD with no state at offset " + pos);
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop();
                    push(persistentLoad(pid, pos));
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                default -> throw bad(String.format("unsupported opcode 0x%02x at offset %d", op, pos));
            }
        }
    }

    private long parseLong(String s) throws WeightFormatException {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw bad("bad integer literal '" + abbreviate(s) + "'");
        }
    }

    private static Object longFrom(byte[] le) {
        if (le.length == 0) return 0L;
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) be[i] = le[le.length - 1 - i];
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private Object memoGet(long key) throws WeightFormatException {
        if (!memo.containsKey(key)) throw bad("memo key " + key + " was never stored");
        return memo.get(key);
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictOf(Object o) throws WeightFormatException {
        if (o instanceof Map) return (Map<Object, Object>) o;
        throw bad("SETITEM(S) on " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private List<Object> listOf(Object o) throws WeightFormatException {
        if (o instanceof ArrayList) return (List<Object>) o;
        throw bad("APPEND(S) on " + describe(o));
    }

    private Map<Object, Object> toDict(Map<Object, Object> d, List<Object> items) throws WeightFormatException {
        if (items.size() % 2 != 0) throw bad("odd number of items for a dict");
        for (int i = 0; i < items.size(); i += 2) d.put(hashable(items.get(i)), items.get(i + 1));
        return d;
    }

    /**
     * A dict key must be hashable as in Python (no dicts or lists, also not inside a tuple) and, unlike in Python,
     * small: hashing and comparing a key walks it, so a deeply nested tuple (stack overflow) or one that shares
     * sub-tuples along many paths (exponential work) is refused here, before it is ever hashed.
     */
    private Object hashable(Object key) throws WeightFormatException {
        checkKey(key, 0, new int[]{0});
        return key;
    }

    private void checkKey(Object key, int depth, int[] elements) throws WeightFormatException {
        if (key instanceof Map || key instanceof List) throw bad("unhashable dict key " + describe(key));
        if (key instanceof Tuple t) {
            if (depth >= MAX_KEY_DEPTH) throw bad("dict key is a tuple nested more than " + MAX_KEY_DEPTH + " deep");
            elements[0] += t.items().size();
            if (elements[0] > MAX_KEY_ELEMENTS) throw bad("dict key is a tuple of more than " + MAX_KEY_ELEMENTS + " elements");
            for (Object o : t.items()) checkKey(o, depth + 1, elements);
        }
    }

    /** A short description for error messages: never walks a structure, never prints a huge value whole. */
    static String describe(Object o) {
        if (o == null) return "None";
        if (o instanceof Global g) return "global " + g.qualified();
        if (o instanceof Map<?, ?> m) return "a dict of " + m.size();
        if (o instanceof List<?> l) return "a list of " + l.size();
        if (o instanceof Tuple t) return "a tuple of " + t.items().size();
        if (o instanceof TensorRef) return "a tensor";
        if (o instanceof StorageRef) return "a storage";
        if (o instanceof BigInteger b) return "an integer of " + b.bitLength() + " bits";
        if (o instanceof byte[] b) return "bytes of length " + b.length;
        if (o instanceof String s) return "'" + abbreviate(s) + "'";
        return o.getClass().getSimpleName() + " " + o;
    }

    static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private Object persistentLoad(Object pid, int pos) throws WeightFormatException {
        if (!(pid instanceof Tuple t) || (t.items().size() != 5 && t.items().size() != 6)
                || !"storage".equals(t.items().get(0))) {
            throw bad("persistent id at offset " + pos + " is " + describe(pid)
                    + ", expected ('storage', storage_type, key, location, numel)");
        }
        List<Object> p = t.items();
        if (!(p.get(1) instanceof Global g) || !STORAGE_TYPES.containsKey(g.qualified())) {
            throw bad("persistent id names storage type " + describe(p.get(1)));
        }
        if (!(p.get(2) instanceof String key) || !(p.get(3) instanceof String location) || !(p.get(4) instanceof Long numel)
                || numel < 0) {
            throw bad("malformed persistent id at offset " + pos + " (expected strings for key and location, a count)");
        }
        if (p.size() == 6 && p.get(5) != null) {
            throw bad("persistent id at offset " + pos + " describes a storage view (legacy format); not supported");
        }
        StorageRef ref = new StorageRef(key, STORAGE_TYPES.get(g.qualified()), location, numel);
        StorageRef prev = storages.putIfAbsent(key, ref);
        if (prev != null && prev.dtype() != ref.dtype()) {
            throw bad("storage " + abbreviate(key) + " is referenced as both " + prev.dtype() + " and " + ref.dtype());
        }
        return ref;
    }

    private Object reduce(Object callable, Object argsObj, int pos) throws WeightFormatException {
        if (!(callable instanceof Global g)) throw bad("REDUCE on " + describe(callable) + " at offset " + pos);
        if (!(argsObj instanceof Tuple argsTuple)) throw bad("REDUCE arguments are " + describe(argsObj));
        List<Object> a = argsTuple.items();
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                LinkedHashMap<Object, Object> d = new LinkedHashMap<>();
                if (a.size() == 1 && a.get(0) instanceof List<?> pairs) {
                    for (Object pair : pairs) {
                        if (!(pair instanceof Tuple pt) || pt.items().size() != 2) {
                            throw bad("OrderedDict argument is not a list of pairs");
                        }
                        d.put(hashable(pt.items().get(0)), pt.items().get(1));
                    }
                } else if (!a.isEmpty()) {
                    throw bad("unexpected OrderedDict arguments at offset " + pos);
                }
                return d;
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                if (a.size() < 4 || !(a.get(0) instanceof StorageRef s) || !(a.get(1) instanceof Long offset)
                        || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride)) {
                    throw bad(g.name() + " called with unexpected arguments at offset " + pos);
                }
                long[] sz = longs(size, "size");
                long[] st = longs(stride, "stride");
                if (sz.length != st.length) throw bad("tensor size " + Arrays.toString(sz) + " and stride "
                        + Arrays.toString(st) + " differ in rank");
                return new TensorRef(s, offset, sz, st);
            }
            case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                if (a.isEmpty() || !(a.get(0) instanceof TensorRef t)) {
                    throw bad(g.name() + " called without a tensor at offset " + pos);
                }
                return t;
            }
            case "torch.serialization._get_layout" -> {
                return "layout:" + (a.isEmpty() ? "" : describe(a.get(0)));
            }
            default -> throw bad("global " + g.qualified() + " cannot be called (offset " + pos + ")");
        }
    }

    private long[] longs(Tuple t, String what) throws WeightFormatException {
        long[] out = new long[t.items().size()];
        for (int i = 0; i < out.length; i++) {
            if (!(t.items().get(i) instanceof Long v)) throw bad("tensor " + what + " holds " + describe(t.items().get(i)));
            out[i] = v;
        }
        return out;
    }
}
