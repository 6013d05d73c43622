package com.lumen.catalog;

import java.util.List;

/** One page of a result list, with what a client needs to walk to the others. */
public record Page<T>(List<T> items, int page, int size, int totalItems, int totalPages) {
    public boolean hasNext() {
        return page < totalPages;
    }

    public boolean hasPrevious() {
        return page > 1;
    }
}
