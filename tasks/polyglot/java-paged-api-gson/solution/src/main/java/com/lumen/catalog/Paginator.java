package com.lumen.catalog;

import java.util.List;

/** Cuts a full result list into the page a {@link PageRequest} asks for. */
public final class Paginator {
    private Paginator() {
    }

    public static <T> Page<T> paginate(List<T> all, PageRequest request) {
        int total = all.size();
        int totalPages = (int) (((long) total + request.size() - 1) / request.size());
        // A page after the last one is empty, not an error (long: page * size may overflow int).
        int from = (int) Math.min((long) (request.page() - 1) * request.size(), total);
        int to = (int) Math.min((long) from + request.size(), total);
        return new Page<>(List.copyOf(all.subList(from, to)), request.page(), request.size(), total,
                totalPages);
    }
}
