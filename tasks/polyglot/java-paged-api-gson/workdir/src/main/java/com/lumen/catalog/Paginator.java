package com.lumen.catalog;

import java.util.List;

/** Cuts a full result list into the page a {@link PageRequest} asks for. */
public final class Paginator {
    private Paginator() {
    }

    public static <T> Page<T> paginate(List<T> all, PageRequest request) {
        int total = all.size();
        int totalPages = total / request.size();
        int from = (request.page() - 1) * request.size();
        int to = Math.min(from + request.size(), total);
        return new Page<>(List.copyOf(all.subList(from, to)), request.page(), request.size(), total,
                totalPages);
    }
}
