package org.finsent.core.data;

import java.io.IOException;

/**
 * A data file has a row (or a structure) the readers cannot accept. It is an {@link IOException} so that callers
 * handle it where they already handle unreadable files, and its message always starts with {@code file:line:}
 * so that the offending line can be opened directly in an editor.
 */
public class DatasetException extends IOException {

    private final String file;
    private final long line;
    private final String problem;

    /**
     * @param file    the file as the caller named it (for a zip entry, {@code archive.zip!/entry})
     * @param line    1-based line number; 0 when the problem is not tied to one line
     * @param problem what is wrong, in words
     */
    public DatasetException(String file, long line, String problem) {
        this(file, line, problem, null);
    }

    public DatasetException(String file, long line, String problem, Throwable cause) {
        super(location(file, line) + ": " + problem, cause);
        this.file = file;
        this.line = line;
        this.problem = problem;
    }

    /** The file at fault, as the caller named it. */
    public String file() {
        return file;
    }

    /** The 1-based line at fault, or 0 when the problem concerns the whole file. */
    public long line() {
        return line;
    }

    /** The problem without the location prefix. */
    public String problem() {
        return problem;
    }

    static String location(String file, long line) {
        return line > 0 ? file + ":" + line : file;
    }
}
