package org.finsent.core.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;

/** Test helpers: fixture paths and a tiny pickle writer for hand-made torch.save payloads. */
final class IoFixtures {

    private IoFixtures() {
    }

    /** The path of a committed fixture under src/test/resources/io/. */
    static Path resource(String name) {
        URL url = IoFixtures.class.getResource("/io/" + name);
        if (url == null) throw new IllegalStateException("missing test resource io/" + name);
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    /** Writes pickle opcodes (protocol 2 subset), enough to hand-craft torch.save payloads. */
    static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickle() {
            out.write(0x80);
            out.write(2);
        }

        Pickle op(int... bytes) {
            for (int b : bytes) out.write(b);
            return this;
        }

        Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X', b.length & 0xff, (b.length >>> 8) & 0xff, (b.length >>> 16) & 0xff, b.length >>> 24);
            out.writeBytes(b);
            return this;
        }

        Pickle global(String module, String name) {
            out.write('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Pickle integer(long v) {
            if (v >= 0 && v < 256) return op('K', (int) v);
            if (v != (int) v) { // LONG1: 8 bytes, two's complement little-endian
                op(0x8a, 8);
                for (int i = 0; i < 8; i++) out.write((int) (v >>> (8 * i)) & 0xff);
                return this;
            }
            op('J');
            for (int i = 0; i < 4; i++) out.write((int) (v >>> (8 * i)) & 0xff);
            return this;
        }

        Pickle tuple(long... values) {
            op('(');
            for (long v : values) integer(v);
            return op('t');
        }

        /** key -> _rebuild_tensor_v2(persistent storage, offset, size, stride, False, {}) then SETITEM. */
        Pickle tensorItem(String key, String storageType, String storageKey, long storageNumel, long offset,
                          long[] size, long[] stride) {
            str(key);
            global("torch._utils", "_rebuild_tensor_v2");
            op('(');
            op('(').str("storage").global("torch", storageType).str(storageKey).str("cpu").integer(storageNumel).op('t');
            op('Q');
            integer(offset);
            tuple(size);
            tuple(stride);
            op(0x89, '}', 't', 'R');
            return op('s');
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    static byte[] readAll(java.io.InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }
}
