package com.lumen.catalog;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** {@code GET /products}: a filtered, paginated product listing (see README). */
public final class ProductsEndpoint {
    static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .serializeNulls()
            .disableHtmlEscaping()
            .create();

    private final ProductRepository repository;

    public ProductsEndpoint(ProductRepository repository) {
        this.repository = repository;
    }

    public Response handle(Map<String, String> query) {
        try {
            PageRequest request = PageRequest.fromQuery(query);
            String q = query.get("q");
            Page<Product> page = Paginator.paginate(repository.search(q), request);
            return new Response(200, GSON.toJson(body(page, q)));
        } catch (BadRequestException e) {
            return new Response(400, GSON.toJson(new Error(e.getMessage())));
        } catch (RuntimeException e) {
            return new Response(500, GSON.toJson(new Error("internal error")));
        }
    }

    private static Body body(Page<Product> page, String q) {
        Meta meta = new Meta(page.page(), page.size(), page.totalItems(), page.totalPages());
        String next = page.hasNext() ? link(q, page.page() + 1, page.size()) : null;
        String prev = page.hasPrevious() ? link(q, page.page() - 1, page.size()) : null;
        return new Body(page.items(), meta, new Links(next, prev));
    }

    private static String link(String q, int page, int size) {
        StringBuilder url = new StringBuilder("/products?");
        if (q != null && !q.isBlank()) {
            url.append("q=").append(URLEncoder.encode(q, StandardCharsets.UTF_8)).append('&');
        }
        return url.append("page=").append(page).append("&per_page=").append(size).toString();
    }

    private record Body(List<Product> data, Meta meta, Links links) {
    }

    private record Meta(int page, int perPage, int total, int totalPages) {
    }

    private record Links(String next, String prev) {
    }

    private record Error(String error) {
    }
}
