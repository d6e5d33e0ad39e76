package org.finsent.train;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint that cannot be resumed from: unreadable, inconsistent with itself, or written for another run. The
 * message starts with the offending file and says what disagrees.
 */
public final class CheckpointException extends IOException {
    private final Path file;

    public CheckpointException(Path file, String message) {
        super(file + ": " + message);
        this.file = file;
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
        this.file = file;
    }

    /** The file the message is about. */
    public Path file() {
        return file;
    }
}
