package com.lumen.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProductsEndpointTest {
    private static ProductsEndpoint endpointWith(int count) {
        ProductRepository repo = new ProductRepository();
        for (int id = count; id >= 1; id--) {
            repo.add(new Product(id, "Product " + id, 100L * id));
        }
        return new ProductsEndpoint(repo);
    }

    private static JsonObject ok(Response response) {
        assertEquals(200, response.status(), response.body());
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }

    @Test
    void firstPageUsesDefaults() {
        JsonObject body = ok(endpointWith(45).handle(Map.of()));
        JsonArray data = body.getAsJsonArray("data");
        assertEquals(20, data.size());
        assertEquals(1, data.get(0).getAsJsonObject().get("id").getAsLong());
        assertEquals(20, data.get(19).getAsJsonObject().get("id").getAsLong());
        assertEquals(2000, data.get(19).getAsJsonObject().get("price_cents").getAsLong());
        JsonObject meta = body.getAsJsonObject("meta");
        assertEquals(1, meta.get("page").getAsInt());
        assertEquals(20, meta.get("per_page").getAsInt());
        assertEquals(45, meta.get("total").getAsInt());
        JsonObject links = body.getAsJsonObject("links");
        assertEquals("/products?page=2&per_page=20", links.get("next").getAsString());
        assertTrue(links.get("prev").isJsonNull());
    }

    @Test
    void lastPageOfAnEvenListing() {
        JsonObject body = ok(endpointWith(40).handle(Map.of("page", "2")));
        JsonArray data = body.getAsJsonArray("data");
        assertEquals(20, data.size());
        assertEquals(21, data.get(0).getAsJsonObject().get("id").getAsLong());
        assertEquals(2, body.getAsJsonObject("meta").get("total_pages").getAsInt());
        JsonObject links = body.getAsJsonObject("links");
        assertTrue(links.get("next").isJsonNull());
        assertEquals("/products?page=1&per_page=20", links.get("prev").getAsString());
    }

    @Test
    void perPageIsCapped() {
        JsonObject body = ok(endpointWith(150).handle(Map.of("per_page", "500")));
        assertEquals(100, body.getAsJsonArray("data").size());
        assertEquals(100, body.getAsJsonObject("meta").get("per_page").getAsInt());
    }

    @Test
    void searchFiltersAndLinksKeepTheQuery() {
        ProductRepository repo = new ProductRepository()
                .add(new Product(7, "Desk lamp", 3990))
                .add(new Product(3, "Office chair", 12900))
                .add(new Product(5, "Floor Lamp", 7450));
        JsonObject body = ok(new ProductsEndpoint(repo).handle(Map.of("q", "lamp", "per_page", "1")));
        assertEquals(5, body.getAsJsonArray("data").get(0).getAsJsonObject().get("id").getAsLong());
        assertEquals("Floor Lamp", body.getAsJsonArray("data").get(0).getAsJsonObject().get("name").getAsString());
        assertEquals(2, body.getAsJsonObject("meta").get("total").getAsInt());
        assertEquals("/products?q=lamp&page=2&per_page=1",
                body.getAsJsonObject("links").get("next").getAsString());
    }

    @Test
    void noMatchIsAnEmptyListing() {
        JsonObject body = ok(endpointWith(5).handle(Map.of("q", "teapot")));
        assertEquals(0, body.getAsJsonArray("data").size());
        assertEquals(0, body.getAsJsonObject("meta").get("total").getAsInt());
        assertEquals(0, body.getAsJsonObject("meta").get("total_pages").getAsInt());
        assertTrue(body.getAsJsonObject("links").get("next").isJsonNull());
    }

    @Test
    void malformedPagingIsABadRequest() {
        ProductsEndpoint endpoint = endpointWith(5);
        for (Map<String, String> query : new Map[] {Map.of("page", "0"), Map.of("page", "two"),
                Map.of("per_page", "-5")}) {
            Response response = endpoint.handle(query);
            assertEquals(400, response.status(), query.toString());
            assertTrue(JsonParser.parseString(response.body()).getAsJsonObject().has("error"));
        }
    }
}
