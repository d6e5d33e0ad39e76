package org.finsent.core.io;

import java.io.IOException;

/**
 * A weight file is malformed, unsupported or unsafe. The message names the file and, where there is one,
 * the tensor (or pickle global, or record) at fault.
 */
public class WeightFormatException extends IOException {

    private final String file;
    private final String tensor;

    public WeightFormatException(String file, String tensor, String message) {
        this(file, tensor, message, null);
    }

    public WeightFormatException(String file, String tensor, String message, Throwable cause) {
        super(format(file, tensor, message), cause);
        this.file = file;
        this.tensor = tensor;
    }

    /** The file at fault (as given to the reader). */
    public String file() {
        return file;
    }

    /** The tensor at fault, or null when the problem is not tied to one tensor. */
    public String tensor() {
        return tensor;
    }

    private static String format(String file, String tensor, String message) {
        StringBuilder sb = new StringBuilder();
        sb.append(file == null ? "<unknown file>" : file).append(": ");
        if (tensor != null) sb.append("tensor '").append(tensor).append("': ");
        return sb.append(message).toString();
    }
}
