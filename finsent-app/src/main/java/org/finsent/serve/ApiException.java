package org.finsent.serve;

/** A request the service refuses: the HTTP status and the message of the JSON error body. */
public final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
