package com.lumen.catalog;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** The product catalogue. In production this is a database table; here it is a list. */
public final class ProductRepository {
    private final List<Product> products = new ArrayList<>();

    public ProductRepository add(Product product) {
        products.add(product);
        return this;
    }

    /** Products whose name contains {@code query} ignoring case (all when null or blank), by id. */
    public List<Product> search(String query) {
        String needle = query == null ? "" : query.strip().toLowerCase(Locale.ROOT);
        return products.stream()
                .filter(p -> p.name().toLowerCase(Locale.ROOT).contains(needle))
                .sorted(Comparator.comparingLong(Product::id))
                .toList();
    }
}
