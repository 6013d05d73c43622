package com.lumen.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scoring tests for API-1207; copied into the work dir only when grading. */
class PaginationHiddenTest {
    private static ProductsEndpoint endpointWith(int count) {
        ProductRepository repo = new ProductRepository();
        for (int id = 1; id <= count; id++) {
            repo.add(new Product(id, "Item " + id, 250L * id));
        }
        return new ProductsEndpoint(repo);
    }

    private static JsonObject ok(Response response) {
        assertEquals(200, response.status(), response.body());
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    private static long id(JsonArray data, int index) {
        return data.get(index).getAsJsonObject().get("id").getAsLong();
    }

    @Test
    void partialLastPageIsCounted() {
        JsonObject body = ok(endpointWith(45).handle(Map.of("page", "2")));
        assertEquals(3, body.getAsJsonObject("meta").get("total_pages").getAsInt());
        assertEquals("/products?page=3&per_page=20",
                body.getAsJsonObject("links").get("next").getAsString());
    }

    @Test
    void partialLastPageHoldsTheRemainder() {
        JsonObject body = ok(endpointWith(45).handle(Map.of("page", "3")));
        JsonArray data = body.getAsJsonArray("data");
        assertEquals(5, data.size());
        assertEquals(41, id(data, 0));
        assertEquals(45, id(data, 4));
        JsonObject meta = body.getAsJsonObject("meta");
        assertEquals(3, meta.get("page").getAsInt());
        assertEquals(3, meta.get("total_pages").getAsInt());
        JsonObject links = body.getAsJsonObject("links");
        assertTrue(links.get("next").isJsonNull());
        assertEquals("/products?page=2&per_page=20", links.get("prev").getAsString());
    }

    @Test
    void fewerItemsThanAPageIsOnePage() {
        JsonObject body = ok(endpointWith(1).handle(Map.of()));
        assertEquals(1, body.getAsJsonArray("data").size());
        assertEquals(1, body.getAsJsonObject("meta").get("total_pages").getAsInt());
        assertTrue(body.getAsJsonObject("links").get("next").isJsonNull());
    }

    @Test
    void pageAfterTheLastIsEmptyNotAnError() {
        for (String page : List.of("4", "1000")) {
            JsonObject body = ok(endpointWith(45).handle(Map.of("page", page)));
            assertEquals(0, body.getAsJsonArray("data").size(), page);
            JsonObject meta = body.getAsJsonObject("meta");
            assertEquals(Integer.parseInt(page), meta.get("page").getAsInt());
            assertEquals(45, meta.get("total").getAsInt());
            assertEquals(3, meta.get("total_pages").getAsInt());
            assertTrue(body.getAsJsonObject("links").get("next").isJsonNull(), page);
        }
    }

    @Test
    void filteredListingWithARemainder() {
        ProductRepository repo = new ProductRepository()
                .add(new Product(9, "Reading lamp", 2490))
                .add(new Product(2, "Desk lamp", 3990))
                .add(new Product(4, "Lampshade", 1500))
                .add(new Product(6, "Stool", 4500));
        ProductsEndpoint endpoint = new ProductsEndpoint(repo);
        JsonObject first = ok(endpoint.handle(Map.of("q", "LAMP", "per_page", "2")));
        assertEquals(2, first.getAsJsonObject("meta").get("total_pages").getAsInt());
        assertEquals("/products?q=LAMP&page=2&per_page=2",
                first.getAsJsonObject("links").get("next").getAsString());
        JsonObject second = ok(endpoint.handle(Map.of("q", "LAMP", "per_page", "2", "page", "2")));
        JsonArray data = second.getAsJsonArray("data");
        assertEquals(1, data.size());
        assertEquals(9, id(data, 0));
    }

    @Test
    void paginatorCountsPagesWithARemainder() {
        List<Integer> seven = List.of(1, 2, 3, 4, 5, 6, 7);
        Page<Integer> middle = Paginator.paginate(seven, new PageRequest(2, 3));
        assertEquals(3, middle.totalPages());
        assertTrue(middle.hasNext());
        Page<Integer> last = Paginator.paginate(seven, new PageRequest(3, 3));
        assertEquals(List.of(7), last.items());
        assertFalse(last.hasNext());
        Page<Integer> beyond = Paginator.paginate(seven, new PageRequest(5, 3));
        assertEquals(List.of(), beyond.items());
        assertEquals(7, beyond.totalItems());
        assertFalse(beyond.hasNext());
    }
}
