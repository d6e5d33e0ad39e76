package org.finsent.core.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A minimal zip reader (central directory, zip64) that memory-maps STORED entries instead of copying them, as
 * torch.save writes every record uncompressed and 64-byte aligned. DEFLATED entries are inflated onto the heap.
 */
final class ZipArchive implements Closeable {

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final long U32 = 0xffffffffL;
    /** Deflate cannot expand by more than about 1032:1 (258-byte matches coded in 2 bits). */
    private static final long MAX_DEFLATE_RATIO = 1032;

    record Entry(String name, int method, long compressedSize, long size, long localHeaderOffset, int crc) {
    }

    private final String file;
    private final FileChannel ch;
    private final long fileSize;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private ZipArchive(String file, FileChannel ch) throws IOException {
        this.file = file;
        this.ch = ch;
        this.fileSize = ch.size();
        readCentralDirectory();
    }

    static ZipArchive open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
        try {
            return new ZipArchive(path.toString(), ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    /** The archive's size in bytes. */
    long fileSize() {
        return fileSize;
    }

    List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    Entry entry(String name) {
        return entries.get(name);
    }

    private WeightFormatException bad(String msg) {
        return new WeightFormatException(file, null, "not a valid zip archive: " + msg);
    }

    private ByteBuffer readAt(long pos, int len) throws IOException {
        if (pos < 0 || len < 0 || pos > fileSize - len) throw bad("record at " + pos + " runs past the end of the file (truncated?)");
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, pos + b.position()) < 0) throw bad("unexpected end of file");
        }
        return b.flip();
    }

    private void readCentralDirectory() throws IOException {
        if (fileSize < 22) throw bad("file of " + fileSize + " bytes is too short");
        int tailLen = (int) Math.min(fileSize, 22 + 65535 + 20 + 56);
        long tailStart = fileSize - tailLen;
        ByteBuffer tail = readAt(tailStart, tailLen);
        int eocd = -1;
        for (int i = tailLen - 22; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIG && i + 22 + (tail.getShort(i + 20) & 0xffff) == tailLen) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) throw bad("no end-of-central-directory record (truncated or not a zip file)");
        long count = tail.getShort(eocd + 10) & 0xffff;
        long cdSize = tail.getInt(eocd + 12) & U32;
        long cdOffset = tail.getInt(eocd + 16) & U32;
        int loc = eocd - 20;
        if (loc >= 0 && tail.getInt(loc) == ZIP64_LOCATOR_SIG) {
            long z64 = tail.getLong(loc + 8);
            ByteBuffer r = readAt(z64, 56);
            if (r.getInt(0) != ZIP64_EOCD_SIG) throw bad("zip64 locator points at no zip64 end record");
            count = r.getLong(32);
            cdSize = r.getLong(40);
            cdOffset = r.getLong(48);
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > fileSize || cdSize > Integer.MAX_VALUE) {
            throw bad("central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file");
        }
        if (count < 0 || count > cdSize / 46) throw bad("central directory cannot hold " + count + " entries");
        ByteBuffer cd = readAt(cdOffset, (int) cdSize);
        int p = 0;
        for (long k = 0; k < count; k++) {
            if (p + 46 > cd.limit() || cd.getInt(p) != CENTRAL_SIG) throw bad("corrupt central directory entry " + k);
            int method = cd.getShort(p + 10) & 0xffff;
            int crc = cd.getInt(p + 16);
            long comp = cd.getInt(p + 20) & U32;
            long size = cd.getInt(p + 24) & U32;
            int nameLen = cd.getShort(p + 28) & 0xffff;
            int extraLen = cd.getShort(p + 30) & 0xffff;
            int commentLen = cd.getShort(p + 32) & 0xffff;
            long local = cd.getInt(p + 42) & U32;
            if (p + 46 + nameLen + extraLen + commentLen > cd.limit()) throw bad("corrupt central directory entry " + k);
            byte[] nameBytes = new byte[nameLen];
            cd.get(p + 46, nameBytes);
            String name = new String(nameBytes, StandardCharsets.UTF_8);
            int e = p + 46 + nameLen;
            int eEnd = e + extraLen;
            while (e + 4 <= eEnd) {
                int id = cd.getShort(e) & 0xffff;
                int len = cd.getShort(e + 2) & 0xffff;
                if (id == 0x0001) {
                    int q = e + 4;
                    if (size == U32 && q + 8 <= e + 4 + len) { size = cd.getLong(q); q += 8; }
                    if (comp == U32 && q + 8 <= e + 4 + len) { comp = cd.getLong(q); q += 8; }
                    if (local == U32 && q + 8 <= e + 4 + len) { local = cd.getLong(q); }
                }
                e += 4 + len;
            }
            entries.put(name, new Entry(name, method, comp, size, local, crc));
            p += 46 + nameLen + extraLen + commentLen;
        }
    }

    /** Offset of the entry's data in the file (after its local header). */
    private long dataOffset(Entry e) throws IOException {
        ByteBuffer h = readAt(e.localHeaderOffset(), 30);
        if (h.getInt(0) != LOCAL_SIG) throw bad("entry '" + e.name() + "' has no local header at " + e.localHeaderOffset());
        long off = e.localHeaderOffset() + 30 + (h.getShort(26) & 0xffff) + (h.getShort(28) & 0xffff);
        if (off + e.compressedSize() > fileSize || off + e.compressedSize() < off) {
            throw bad("entry '" + e.name() + "' runs past the end of the file (truncated?)");
        }
        return off;
    }

    /**
     * The entry's bytes, little-endian: a read-only mapping for STORED entries (heap copy when small), an inflated
     * heap buffer for DEFLATED ones.
     */
    ByteBuffer read(Entry e) throws IOException {
        long off = dataOffset(e);
        if (e.method() == 0) {
            if (e.compressedSize() != e.size()) throw bad("stored entry '" + e.name() + "' has two different sizes");
            if (e.size() < 0) throw bad("entry '" + e.name() + "' has a negative size");
            if (e.size() > MappedRegions.MAX_WINDOW) {
                throw new WeightFormatException(file, e.name(), "record of " + e.size() + " bytes exceeds 2 GiB");
            }
            if (e.size() < MappedRegions.READ_BELOW) return readAt(off, (int) e.size());
            return ch.map(FileChannel.MapMode.READ_ONLY, off, e.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (e.method() == 8) {
            // The declared size is only a claim: it is checked against what deflate can produce from the bytes
            // that are there, and the output grows with what really inflates (never allocated up front).
            if (e.size() < 0 || e.size() > Integer.MAX_VALUE - 8 || e.compressedSize() > Integer.MAX_VALUE - 8) {
                throw new WeightFormatException(file, e.name(), "compressed record too large: " + e.size() + " bytes");
            }
            if (e.size() > e.compressedSize() * MAX_DEFLATE_RATIO + 1024) {
                throw bad("entry '" + e.name() + "' claims " + e.size() + " bytes from " + e.compressedSize()
                        + " compressed ones, more than deflate can produce");
            }
            ByteBuffer in = e.compressedSize() < MappedRegions.READ_BELOW
                    ? readAt(off, (int) e.compressedSize())
                    : ch.map(FileChannel.MapMode.READ_ONLY, off, e.compressedSize());
            int declared = (int) e.size();
            byte[] out = new byte[Math.min(declared, 1 << 16)];
            int n = 0;
            Inflater inf = new Inflater(true);
            try {
                inf.setInput(in);
                while (n < declared) {
                    if (n == out.length) out = Arrays.copyOf(out, (int) Math.min(declared, 2L * out.length));
                    int r = inf.inflate(out, n, out.length - n);
                    if (r == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                    n += r;
                }
                if (n != declared) throw bad("entry '" + e.name() + "' inflates to " + n + " bytes, not " + declared);
            } catch (DataFormatException ex) {
                throw new WeightFormatException(file, e.name(), "corrupt deflate data: " + ex.getMessage(), ex);
            } finally {
                inf.end();
            }
            return ByteBuffer.wrap(out, 0, n).slice().order(ByteOrder.LITTLE_ENDIAN);
        }
        throw new WeightFormatException(file, e.name(), "unsupported zip compression method " + e.method());
    }

    /** The entry's bytes checked against its CRC-32 (for small records such as the pickle). */
    byte[] readChecked(Entry e) throws IOException {
        ByteBuffer b = read(e);
        byte[] out = new byte[b.remaining()];
        b.get(out);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(out);
        if ((int) crc.getValue() != e.crc()) throw bad("CRC mismatch in entry '" + e.name() + "'");
        return out;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
