package com.lumen.catalog;

/** What the HTTP server sends back: a status code and a JSON body. */
public record Response(int status, String body) {
}
