package com.lumen.catalog;

import java.util.Map;

/** Which page the client asked for: {@code page} starts at 1, {@code size} is 1..MAX_SIZE. */
public record PageRequest(int page, int size) {
    public static final int DEFAULT_SIZE = 20;
    public static final int MAX_SIZE = 100;

    public PageRequest {
        if (page < 1) {
            throw new BadRequestException("page must be at least 1");
        }
        if (size < 1) {
            throw new BadRequestException("per_page must be at least 1");
        }
    }

    /** Reads {@code page} and {@code per_page} from a query string; a larger per_page is capped. */
    public static PageRequest fromQuery(Map<String, String> query) {
        int page = intParam(query, "page", 1);
        int size = intParam(query, "per_page", DEFAULT_SIZE);
        return new PageRequest(page, Math.min(size, MAX_SIZE));
    }

    private static int intParam(Map<String, String> query, String name, int fallback) {
        String raw = query.get(name);
        if (raw == null || raw.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(raw.strip());
        } catch (NumberFormatException e) {
            throw new BadRequestException(name + " must be a number, got '" + raw + "'");
        }
    }
}
