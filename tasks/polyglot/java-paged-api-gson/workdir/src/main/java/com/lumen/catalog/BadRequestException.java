package com.lumen.catalog;

/** A request the client must fix: answered with HTTP 400 and the message. */
public final class BadRequestException extends RuntimeException {
    public BadRequestException(String message) {
        super(message);
    }
}
