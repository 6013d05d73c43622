package com.lumen.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PageRequestTest {
    @Test
    void defaults() {
        assertEquals(new PageRequest(1, 20), PageRequest.fromQuery(Map.of()));
        assertEquals(new PageRequest(1, 20), PageRequest.fromQuery(Map.of("page", " ")));
    }

    @Test
    void parsesAndCaps() {
        assertEquals(new PageRequest(3, 50), PageRequest.fromQuery(Map.of("page", "3", "per_page", "50")));
        assertEquals(new PageRequest(1, 100), PageRequest.fromQuery(Map.of("per_page", "101")));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(BadRequestException.class, () -> PageRequest.fromQuery(Map.of("page", "-1")));
        assertThrows(BadRequestException.class, () -> PageRequest.fromQuery(Map.of("per_page", "0")));
        assertThrows(BadRequestException.class, () -> PageRequest.fromQuery(Map.of("page", "1.5")));
    }

    @Test
    void paginatorSlicesFullPages() {
        Page<Integer> page = Paginator.paginate(java.util.List.of(1, 2, 3, 4, 5, 6), new PageRequest(2, 3));
        assertEquals(java.util.List.of(4, 5, 6), page.items());
        assertEquals(2, page.totalPages());
        assertEquals(false, page.hasNext());
        assertEquals(true, page.hasPrevious());
    }
}
