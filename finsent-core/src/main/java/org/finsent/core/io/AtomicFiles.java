package org.finsent.core.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;

/**
 * Writing a file through a temporary sibling that is renamed into place, so readers never see half a file. Unlike
 * {@link Files#createTempFile}, which creates owner-only (0600) files, the temporary file is created with the
 * default permissions, so the result has what the user's umask gives (0644 under umask 022), like any other file the
 * run writes: a model directory can be served from another account or container.
 */
public final class AtomicFiles {
    private static final SecureRandom RANDOM = new SecureRandom();

    private AtomicFiles() {
    }

    /** Writes the content of a file given its (temporary) path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    /**
     * A new, empty file {@code .<prefix>.<random><suffix>} in {@code dir}, with default permissions (umask applies).
     */
    public static Path createTempFile(Path dir, String prefix, String suffix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve("." + prefix + "." + Long.toUnsignedString(RANDOM.nextLong(), 36) + suffix);
            try {
                return Files.createFile(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    /**
     * A new, empty directory {@code <prefix><random>} in {@code dir}, with default permissions (umask applies; unlike
     * {@link Files#createTempDirectory}, which makes it owner-only).
     */
    public static Path createTempDirectory(Path dir, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = dir.resolve(prefix + Long.toUnsignedString(RANDOM.nextLong(), 36));
            try {
                return Files.createDirectory(p);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    /** Renames {@code tmp} onto {@code target}, atomically where the file system can, replacing it. */
    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Writes {@code file} through a temporary sibling moved into place; the temporary file never outlives the call. */
    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            content.writeTo(tmp);
            moveIntoPlace(tmp, file);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
