package org.finsent.tokenizers;

import java.io.IOException;
import java.nio.file.Path;

/** A tokenizer file is missing, truncated or malformed. The message names the file and, for text files, the line. */
public class TokenizerLoadException extends IOException {

    public TokenizerLoadException(String message) {
        super(message);
    }

    public TokenizerLoadException(String message, Throwable cause) {
        super(message, cause);
    }

    public static TokenizerLoadException at(Path file, int line, String what) {
        return new TokenizerLoadException(file + ":" + line + ": " + what);
    }

    public static TokenizerLoadException in(Path file, String what) {
        return new TokenizerLoadException(file + ": " + what);
    }
}
