package com.lumen.catalog;

/** A product as listed by the API. Prices are in euro cents. */
public record Product(long id, String name, long priceCents) {
}
